"""KPI cards: a headline figure, its trend against the previous period, its SDG and source."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import flask
from dash import MATCH, Input, Output, State, html

from i18n import fmt_figure, fmt_number, fmt_percent, t

from .charts import sdg_badges


@dataclass(frozen=True)
class Kpi:
    id: str
    label: str  # message key
    value: float | None
    unit: str = ""  # shown after the value (already translated or a symbol)
    previous: float | None = None
    digits: int = 0
    better: str = "up"  # which direction is good: up | down
    sdg: tuple[str, ...] = ()
    source: str = ""  # already translated
    percent: bool = False  # value is a fraction shown as %

    @property
    def change(self) -> float | None:
        """Relative change; for shares (`percent`), the difference in percentage points."""
        if self.value is None or self.previous is None:
            return None
        if self.percent:
            return self.value - self.previous
        if self.previous == 0:
            return None
        return (self.value - self.previous) / abs(self.previous)


def trend_class(kpi: Kpi) -> str:
    change = kpi.change
    if change is None or abs(change) < 0.005:
        return "flat"
    improving = (change > 0) == (kpi.better == "up")
    return "good" if improving else "bad"


def kpi_card(
    kpi: Kpi, lang: str, period_note: str = "", no_data: str = "", no_trend: str | None = None
):
    """A card; `period_note` names what the trend compares with, `no_data` what a card without
    a value says, `no_trend` what one without a trend says ("" when the block says it once)."""
    value = fmt_figure(kpi.value, lang, kpi.digits, kpi.percent)
    change = kpi.change
    if kpi.value is None:
        trend = html.Span(no_data or t("kpi.no_data", lang), className="kpi-trend flat")
    elif change is None:
        missing = t("kpi.no_trend", lang) if no_trend is None else no_trend
        trend = html.Span(missing, className="kpi-trend flat")
    else:
        arrow = "▲" if change > 0 else "▼" if change < 0 else "▶"
        amount = (
            t("kpi.points", lang, value=fmt_number(abs(change) * 100, lang, 1))
            if kpi.percent
            else fmt_percent(abs(change), lang, 1)
        )
        trend = html.Span(
            [
                html.Span(arrow, **{"aria-hidden": "true"}),
                html.Span(t("kpi.up" if change > 0 else "kpi.down", lang), className="sr-only"),
                " ",
                amount,
                " ",
                html.Span(period_note or t("kpi.vs_previous", lang), className="muted"),
            ],
            className=f"kpi-trend {trend_class(kpi)}",
        )
    return html.Article(
        [
            html.H3(t(kpi.label, lang), className="kpi-label"),
            html.P(
                [
                    html.Span(value, className="kpi-number"),
                    html.Span(kpi.unit, className="kpi-unit"),
                ],
                className="kpi-value",
            ),
            trend,
            html.Div([sdg_badges(kpi.sdg, lang), html.Span(kpi.source, className="kpi-source")]),
        ],
        className="card kpi-card",
        id=f"kpi-{kpi.id}",
    )


def page_header(title: str, subtitle: str = "", intro: str = ""):
    return html.Header(
        [
            html.H1(title),
            html.P(subtitle, className="page-subtitle") if subtitle else None,
            html.P(intro, className="page-intro") if intro else None,
        ],
        className="page-header",
    )


KpiBuilder = Callable[..., list]
KPI_BLOCKS: dict[str, KpiBuilder] = {}
KPI_KINDS: dict[str, tuple[str, ...]] = {}  # the dataset kinds a block's figures come from


def register_kpis(block_id: str, build: KpiBuilder, kinds: tuple[str, ...] = ()) -> KpiBuilder:
    """Declare a block of KPI cards; `build(chart_context)` returns its children, computed
    from datasets of `kinds` (named in the source line of a page showing the block alone)."""
    KPI_BLOCKS[block_id] = build
    KPI_KINDS[block_id] = kinds
    return build


def kpi_block(block_id: str, label: str = "", cards: int = 4):
    """A block of KPI cards. The page is sent with placeholders the size of the cards, and the
    shared callback fills the block in a request of its own, alongside the page's charts, so a
    page switch does not wait for the KPI queries."""
    placeholders = html.Div(
        [html.Div(className="card kpi-placeholder") for _ in range(cards)], className="kpi-row"
    )
    return html.Section(
        placeholders,
        id={"type": "kpi-block", "id": block_id},
        className="kpi-block",
        **({"aria-label": label} if label else {}),
    )


def refreshed_block(make_context: Callable, filters: object, ui: object, block: object) -> list:
    """The cards of the KPI block `block` names, in the view of the `filters` and `ui` stores;
    a block no page has is answered 404."""
    block_id = block.get("id") if isinstance(block, dict) else None
    build = KPI_BLOCKS.get(block_id) if isinstance(block_id, str) else None
    if build is None:
        flask.abort(404)
    return build(make_context(filters, ui, None))


def register_kpi_callbacks(app, make_context: Callable) -> None:
    """One request per block, when its page is shown and whenever the filters change."""
    app.callback(
        Output({"type": "kpi-block", "id": MATCH}, "children"),
        Input("filters", "data"),
        State("ui", "data"),
        State({"type": "kpi-block", "id": MATCH}, "id"),
    )(functools.partial(refreshed_block, make_context))
