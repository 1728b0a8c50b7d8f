"""`/evaluate`: did an intervention work, and how sure are we?

The city's interventions are listed (the demo's signal pilot first, `listing`); one chosen in
the URL (`?intervention=<id>`, matched against the city's own list) is evaluated in a callback
under a loading indicator (`result`): difference in differences with its 95 % interval, the
event study, placebo starts, synthetic control. Analysts record new interventions and remove
theirs (`form`, the fields read back in `fields`); every callback that changes anything checks
the session on the server.
"""

from __future__ import annotations

from functools import partial

from dash import Dash, Input, Output, State, dcc, html

from components.charts import source_line
from components.kpi import page_header
from components.page import Page, PageContext
from datasets.evidence.model import Intervention
from i18n import t
from server.auth import analyst_bar

from ..services import Services
from . import form, result
from .fields import FormValues
from .listing import href, intervention_table
from .room import PARAM, PATH, Room, clean_id, error_line, interventions, record_pilots

METHOD_PARTS = ("did", "event_study", "placebo", "synthetic", "ci")


def method_note(lang: str) -> html.Details:
    """How the numbers are computed, for a reader who asks."""
    return html.Details(
        [
            html.Summary(t("evaluate.method.title", lang)),
            *[html.P(t(f"evaluate.method.{part}_text", lang)) for part in METHOD_PARTS],
        ],
        className="card evaluate-method",
        id="evaluate-method",
    )


def source(ctx: PageContext, iv: Intervention) -> html.Div:
    """The dataset the outcome is read from (title, version, synthetic or real), and a note
    when it is the demo's synthetic data."""
    engine = ctx.workspace.engine
    dataset = engine.find(ctx.city.id, iv.kind)
    demo = dataset is not None and dataset.meta.synthetic
    return html.Div(
        [
            source_line(engine, ctx.city, (iv.kind,), ctx.lang),
            html.P(
                t("evaluate.demo_note", ctx.lang),
                className="evaluate-demo-note",
                id="evaluate-demo",
            )
            if demo
            else None,
        ],
        className="evaluate-source",
    )


def chosen_section(ctx: PageContext, iv: Intervention) -> html.Section:
    lang = ctx.lang
    return html.Section(
        [
            dcc.Store(id="evaluate-chosen", data=iv.id),
            dcc.Loading(
                html.Div(
                    html.P(t("evaluate.loading", lang), className="muted"),
                    id="evaluate-result",
                    className="evaluate-result",
                    **{"aria-live": "polite"},
                ),
                type="circle",
                delay_show=150,
            ),
            form.remove_button(iv, lang),
            method_note(lang),
            source(ctx, iv),
        ],
        className="evaluate-chosen",
    )


def layout(ctx: PageContext) -> html.Div:
    lang = ctx.lang
    raw = ctx.state.options.get(PARAM)
    items = interventions(ctx.workspace, ctx.city)
    wanted = clean_id(raw)
    chosen = next((iv for iv in items if iv.id == wanted), None)
    parts = [
        page_header(
            t("evaluate.title", lang), t("evaluate.subtitle", lang), t("evaluate.intro", lang)
        ),
        analyst_bar(lang, href(ctx.state, chosen.id) if chosen else PATH),
        html.Section(
            [
                html.H2(t("evaluate.list", lang), className="section-title"),
                intervention_table(items, ctx.state, chosen.id if chosen else None, lang),
            ],
            className="evaluate-listing",
        ),
    ]
    if raw is not None and chosen is None:
        parts.append(error_line(t("evaluate.unknown", lang)))
    elif chosen is None and items:
        parts.append(html.P(t("evaluate.choose", lang), className="muted"))
    if chosen is not None:
        parts.append(chosen_section(ctx, chosen))
    parts += [form.create_form(ctx, lang), dcc.Location(id="evaluate-go", refresh=True)]
    return html.Div(parts, className="evaluate-page")


PAGE = Page(path=PATH, nav="nav.evaluate", title="evaluate.title", layout=layout, filters=False)
PAGES = (PAGE,)

FIELDS = dict(
    name=State("evaluate-name", "value"),
    start=State("evaluate-start", "value"),
    end=State("evaluate-end", "value"),
    unit=State("evaluate-unit", "value"),
    outcome=State("evaluate-outcome", "value"),
    treated=State("evaluate-treated", "value"),
    control=State("evaluate-control", "value"),
    hours=State("evaluate-hours", "value"),
    weekdays=State("evaluate-weekdays", "value"),
)


def _create_request(room: Room, clicks, ui, **fields):
    return form.create(room, clicks, FormValues(**fields), ui)


def _suggest_request(room: Room, clicks, ui, **fields):
    return form.suggest(room, clicks, FormValues(**fields), ui)


def register(app: Dash, services: Services) -> None:
    """The page's callbacks: the result, the unit lists, suggest, create and remove."""
    room = Room(workspace=services.workspace, default_city=services.cfg.city)
    record_pilots(services.workspace)
    app.callback(
        Output("evaluate-result", "children"),
        Input("evaluate-chosen", "data"),
        State("ui", "data"),
    )(partial(result.show, room))
    app.callback(
        Output("evaluate-treated", "options"),
        Output("evaluate-treated", "value"),
        Output("evaluate-control", "options"),
        Output("evaluate-control", "value", allow_duplicate=True),
        Input("evaluate-unit", "value"),
        Input("evaluate-outcome", "value"),
        State("evaluate-treated", "value"),
        State("evaluate-control", "value"),
        State("ui", "data"),
        prevent_initial_call="initial_duplicate",
    )(partial(form.unit_lists, room))
    app.callback(
        Output("evaluate-control", "value", allow_duplicate=True),
        Output("evaluate-form-status", "children", allow_duplicate=True),
        inputs=dict(clicks=Input("evaluate-suggest", "n_clicks")),
        state=dict(ui=State("ui", "data"), **FIELDS),
        prevent_initial_call=True,
    )(partial(_suggest_request, room))
    app.callback(
        Output("evaluate-form-status", "children", allow_duplicate=True),
        Output("evaluate-go", "href", allow_duplicate=True),
        inputs=dict(clicks=Input("evaluate-create", "n_clicks")),
        state=dict(ui=State("ui", "data"), **FIELDS),
        prevent_initial_call=True,
    )(partial(_create_request, room))
    app.callback(
        Output("evaluate-remove-status", "children"),
        Output("evaluate-go", "href", allow_duplicate=True),
        Input("evaluate-remove", "n_clicks"),
        State("evaluate-chosen", "data"),
        State("ui", "data"),
        prevent_initial_call=True,
    )(partial(form.remove, room))
