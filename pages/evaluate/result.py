"""What `/evaluate` shows for one intervention: the summary sentence, the effect as a large
number with its 95 % interval and p-value, the pre-trend and placebo p-values, the caveats, and
the charts the estimate rests on (effect, event study, placebo starts, synthetic control).

The evaluation can take seconds the first time (then it is cached), so the page draws it in a
callback, under a loading indicator, rather than holding the whole page back.
"""

from __future__ import annotations

import logging

from dash import dcc, html
from dash.exceptions import PreventUpdate

from components.charts import FigureContext, graph_config
from components.evidence import p_relation, p_text, signed_percent
from components.figures import evidence as figures
from components.state import ui_settings
from datasets.evidence.evaluate import evaluate
from datasets.evidence.model import Evaluation, Intervention
from datasets.evidence.summary import caveats, summary_text
from i18n import fmt_number, t

from .room import Room, city_of, display_name, error_line, find, notice

log = logging.getLogger(__name__)


def _unit(value: float, ev: Evaluation, lang: str) -> str:
    return f"{figures.signed(value, lang, 2)} {ev.unit_label}".strip()


def headline(ev: Evaluation, lang: str) -> html.Div:
    """The effect as a large number, its interval and p-value, in percent and in the unit."""
    lo, hi = ev.ci95_pct
    ulo, uhi = ev.ci95
    return html.Div(
        [
            html.P(t("evaluate.effect", lang), className="kpi-label"),
            html.P(
                signed_percent(ev.estimate_pct, lang),
                className="evaluate-number",
                id="evaluate-effect",
            ),
            html.P(
                t("evaluate.ci", lang, lo=signed_percent(lo, lang), hi=signed_percent(hi, lang)),
                className="evaluate-ci",
                id="evaluate-ci",
            ),
            html.P(
                t(
                    "evaluate.in_unit",
                    lang,
                    value=_unit(ev.estimate, ev, lang),
                    lo=_unit(ulo, ev, lang),
                    hi=_unit(uhi, ev, lang),
                ),
                className="evaluate-unit-line",
            ),
            html.P(t("evaluate.p_value", lang, p=p_relation(ev.p_value, lang)), id="evaluate-p"),
        ],
        className="card evaluate-headline",
    )


def _fact(label: str, value: str, fact_id: str) -> html.Div:
    return html.Div([html.Dt(label), html.Dd(value, id=fact_id)], className="fact")


def facts(ev: Evaluation, lang: str) -> html.Dl:
    """The checks beside the effect: pre-trends, placebos, synthetic control, sample sizes."""
    sc = ev.synthetic_control if isinstance(ev.synthetic_control, dict) else {}
    rows = [
        (t("evaluate.pre_trend", lang), p_text(ev.pre_trend_p, lang), "evaluate-pre-trend"),
        (t("evaluate.placebo", lang), p_text(ev.placebo_p, lang), "evaluate-placebo"),
    ]
    if isinstance(sc.get("estimate_pct"), int | float):
        rows.append(
            (
                t("evaluate.synthetic", lang),
                signed_percent(sc["estimate_pct"], lang),
                "evaluate-synthetic",
            )
        )
    rows += [
        (t("evaluate.n_treated", lang), fmt_number(ev.n_treated, lang), "evaluate-n-treated"),
        (t("evaluate.n_control", lang), fmt_number(ev.n_control, lang), "evaluate-n-control"),
        (t("evaluate.n_obs", lang), fmt_number(ev.n_observations, lang), "evaluate-n-obs"),
    ]
    return html.Dl(
        [_fact(label, value, fact_id) for label, value, fact_id in rows],
        className="card facts evaluate-facts",
    )


def chart_card(
    chart_id: str, title_key: str, note_key: str, fig: dict, lang: str, wide: bool = False
) -> html.Section:
    """A card like the other pages' (title, note, graph), holding a figure drawn here."""
    height = fig.get("layout", {}).get("height") or 340
    return html.Section(
        [
            html.Header(html.H3(t(title_key, lang)), className="chart-header"),
            html.P(t(note_key, lang), className="chart-note"),
            html.Div(
                dcc.Graph(
                    id=chart_id,
                    figure=fig,
                    config=graph_config(lang, chart_id),
                    style={"height": f"{height}px"},
                    className="chart-graph",
                ),
                className="chart-body",
            ),
        ],
        className="card chart-card" + (" wide" if wide else ""),
        id=f"card-{chart_id}",
    )


def charts(ev: Evaluation, iv: Intervention, ctx: FigureContext) -> html.Div:
    lang = ctx.lang
    cards = [
        chart_card(
            "evaluate-event-study",
            "evaluate.chart.event_study",
            "evaluate.note.event_study",
            figures.event_study_figure(ev, ctx),
            lang,
            wide=True,
        ),
        chart_card(
            "evaluate-placebo-chart",
            "evaluate.chart.placebo",
            "evaluate.note.placebo",
            figures.placebo_figure(ev, iv, ctx),
            lang,
        ),
    ]
    if len(figures.synthetic_series(ev.synthetic_control)):
        cards.append(
            chart_card(
                "evaluate-synthetic-chart",
                "evaluate.chart.synthetic",
                "evaluate.note.synthetic",
                figures.synthetic_figure(ev, iv, ctx),
                lang,
            )
        )
    return html.Div(cards, className="chart-grid evaluate-charts")


def result_view(ev: Evaluation, iv: Intervention, ctx: FigureContext) -> html.Div:
    lang = ctx.lang
    notes = caveats(ev, iv, lang)
    return html.Div(
        [
            html.H2(display_name(iv, lang), className="section-title", id="evaluate-title"),
            html.P(summary_text(ev, iv, lang), className="evaluate-summary", id="evaluate-summary"),
            html.Div(
                [
                    headline(ev, lang),
                    facts(ev, lang),
                    chart_card(
                        "evaluate-effect-chart",
                        "evaluate.chart.effect",
                        "evaluate.note.effect",
                        figures.effect_figure(ev, ctx),
                        lang,
                    ),
                ],
                className="evaluate-top",
            ),
            html.Section(
                [
                    html.H3(t("evaluate.caveats", lang)),
                    html.Ul([html.Li(text) for text in notes]),
                ],
                className="card evaluate-caveats",
                id="evaluate-caveats",
            )
            if notes
            else None,
            charts(ev, iv, ctx),
        ],
        className="evaluate-result-body",
    )


def show(room: Room, chosen: object, ui: object) -> html.Div | html.P:
    """The result for the intervention the page holds (the id from its URL): evaluated, or why
    it cannot be."""
    if chosen is None:
        raise PreventUpdate
    settings = ui_settings(ui)
    lang = settings["lang"]
    city = city_of(room, ui)
    iv = find(room.workspace, city, chosen)
    if iv is None:
        return notice(t("evaluate.unknown", lang), role="alert")
    try:
        ev = evaluate(room.workspace, iv)
    except Exception as exc:  # any intervention an analyst recorded: the page says why, logged
        log.exception("evaluating intervention %s failed", iv.id)
        return error_line(t("evaluate.failed", lang, reason=str(exc)[:300]))
    ctx = FigureContext(lang=lang, theme=settings["theme"], city=city)
    return result_view(ev, iv, ctx)
