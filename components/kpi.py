"""KPI cards: a headline figure, its trend against the previous period, its SDG and source."""

from __future__ import annotations

from dataclasses import dataclass

from dash import html

from i18n import fmt_number, fmt_percent, t

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
        if self.value is None or self.previous in (None, 0):
            return None
        return (self.value - self.previous) / abs(self.previous)


def trend_class(kpi: Kpi) -> str:
    change = kpi.change
    if change is None or abs(change) < 0.005:
        return "flat"
    improving = (change > 0) == (kpi.better == "up")
    return "good" if improving else "bad"


def kpi_card(kpi: Kpi, lang: str, period_note: str = ""):
    value = (
        fmt_percent(kpi.value, lang, kpi.digits)
        if kpi.percent
        else fmt_number(kpi.value, lang, kpi.digits)
    )
    change = kpi.change
    if change is None:
        trend = html.Span(t("kpi.no_trend", lang), className="kpi-trend flat")
    else:
        arrow = "▲" if change > 0 else "▼" if change < 0 else "▶"
        trend = html.Span(
            [
                html.Span(arrow, **{"aria-hidden": "true"}),
                " ",
                fmt_percent(change, lang, 1),
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
