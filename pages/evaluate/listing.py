"""The city's interventions as a table (name, start, outcome, treated and control counts), each
name a link to `/evaluate?intervention=<id>`, the chosen one marked."""

from __future__ import annotations

from dash import html

from components.state import ViewState
from datasets.evidence.model import Intervention
from datasets.schemas import KINDS
from i18n import fmt_date, fmt_number, messages, t

from .room import PARAM, PATH, display_name


def outcome_label(outcome: str, lang: str) -> str:
    """`traffic_readings.speed_kmh` as a reader says it: "Speed (km/h)"."""
    kind_id, _, column = outcome.partition(".")
    key = f"evaluate.column.{column}"
    name = t(key, lang) if key in messages() else column
    kind = KINDS.get(kind_id)
    unit = next((c.unit for c in kind.columns if c.name == column), "") if kind else ""
    return f"{name} ({unit})" if unit else name


def href(state: ViewState, intervention_id: str) -> str:
    """The page showing one intervention, in the view's city, language and theme."""
    plain = state.with_changes(start=None, end=None, districts=(), options={PARAM: intervention_id})
    return PATH + plain.to_query()


def _row(iv: Intervention, state: ViewState, chosen: str | None, lang: str):
    period = fmt_date(iv.start, lang) + (f" – {fmt_date(iv.end, lang)}" if iv.end else "")
    return html.Tr(
        [
            html.Td(
                html.A(  # a full load: the router draws a page again only for a new path
                    display_name(iv, lang),
                    href=href(state, iv.id),
                    className="evaluate-link",
                )
            ),
            html.Td(period),
            html.Td(outcome_label(iv.outcome, lang)),
            html.Td(t(f"evaluate.unit.{iv.unit}", lang)),
            html.Td(fmt_number(len(iv.treated), lang), className="num"),
            html.Td(fmt_number(len(iv.control), lang), className="num"),
        ],
        className="evaluate-row chosen" if iv.id == chosen else "evaluate-row",
        **({"aria-current": "true"} if iv.id == chosen else {}),
    )


def intervention_table(
    items: list[Intervention], state: ViewState, chosen: str | None, lang: str
) -> html.Div | html.P:
    if not items:
        return html.P(t("evaluate.none", lang), className="muted", id="evaluate-none")
    heads = ("name", "start", "outcome", "unit", "treated", "control")
    return html.Div(
        html.Table(
            [
                html.Thead(html.Tr([html.Th(t(f"evaluate.col.{h}", lang)) for h in heads])),
                html.Tbody([_row(iv, state, chosen, lang) for iv in items]),
            ],
            className="data-table evaluate-table",
            id="evaluate-list",
        ),
        className="table-wrap",
    )
