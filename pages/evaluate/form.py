"""Recording and removing interventions on `/evaluate` (analysts only): the form, the unit lists
that follow its unit kind and outcome, the suggested controls, and the create and remove
callbacks. The analyst is a value (`who`, the request's session by default), checked on the
server in each callback, so a forged request meets the same refusal as a click.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dash import dcc, html, no_update
from dash.exceptions import PreventUpdate

from components.evidence import details_href
from components.page import PageContext
from components.state import ViewState, ui_settings
from datasets.evidence.interventions import UNIT_KINDS, InterventionError
from datasets.evidence.model import Intervention
from datasets.evidence.panel import check_intervention, suggest_controls
from i18n import t
from server.auth import current_analyst, visitor_notice

from .fields import (
    DEFAULT_HOURS,
    DEFAULT_OUTCOME,
    MAX_HOURS_TEXT,
    MAX_NAME,
    REFUSED,
    FormValues,
    outcome_choices,
    parse_day,
    problem_list,
    problem_text,
    read_form,
    unit_options,
)
from .room import PATH, Room, city_of, error_line, find, is_pilot, notice

Who = Callable[[], str | None]
SUGGESTED = 10  # controls suggested at a time


def _field(label_key: str, control, lang: str, wide: bool = False):
    return html.Div(
        [html.Label(t(label_key, lang), className="filter-label"), control],
        className="evaluate-field wide" if wide else "evaluate-field",
    )


def _text(field_id: str, max_length: int, **props):
    return dcc.Input(
        id=field_id, type="text", maxLength=max_length, className="evaluate-input", **props
    )


def _units_field(kind: str, lang: str):
    return dcc.Dropdown(
        id=f"evaluate-{kind}",
        options=[],
        value=[],
        multi=True,
        placeholder=t(f"evaluate.form.{kind}_hint", lang),
        className="evaluate-dropdown",
    )


def _form_fields(ctx: PageContext, lang: str) -> list:
    outcomes = outcome_choices(ctx.workspace.engine, ctx.city, lang)
    default = next((o["value"] for o in outcomes if o["value"] == DEFAULT_OUTCOME), None)
    units = [{"label": t(f"evaluate.unit.{u}", lang), "value": u} for u in UNIT_KINDS]
    suggest = html.Button(
        t("evaluate.form.suggest", lang),
        id="evaluate-suggest",
        className="btn evaluate-suggest",
        n_clicks=0,
    )
    return [
        _field("evaluate.form.name", _text("evaluate-name", MAX_NAME), lang, wide=True),
        _field("evaluate.form.start", _text("evaluate-start", 10, placeholder="YYYY-MM-DD"), lang),
        _field("evaluate.form.end", _text("evaluate-end", 10, placeholder="YYYY-MM-DD"), lang),
        _field(
            "evaluate.form.unit",
            dcc.RadioItems(id="evaluate-unit", options=units, value="detector", inline=True),
            lang,
        ),
        _field(
            "evaluate.form.outcome",
            dcc.Dropdown(
                id="evaluate-outcome",
                options=outcomes,
                value=default,
                clearable=False,
                className="evaluate-dropdown",
            ),
            lang,
        ),
        _field("evaluate.form.treated", _units_field("treated", lang), lang, wide=True),
        _field(
            "evaluate.form.control",
            html.Div([_units_field("control", lang), suggest], className="evaluate-control"),
            lang,
            wide=True,
        ),
        _field(
            "evaluate.form.hours",
            _text("evaluate-hours", MAX_HOURS_TEXT, value=DEFAULT_HOURS),
            lang,
        ),
        _field(
            "evaluate.form.window",
            dcc.Checklist(
                id="evaluate-weekdays",
                options=[{"label": t("evaluate.form.weekdays", lang), "value": "weekdays"}],
                value=["weekdays"],
            ),
            lang,
        ),
    ]


def create_form(ctx: PageContext, lang: str) -> html.Section | html.Div:
    """The form for an analyst, or what a visitor sees instead."""
    if current_analyst() is None:
        return visitor_notice(lang, PATH, "evaluate.visitor")
    return html.Section(
        [
            html.H2(t("evaluate.form.title", lang), className="section-title"),
            html.P(t("evaluate.form.intro", lang), className="muted"),
            html.Div(_form_fields(ctx, lang), className="evaluate-fields"),
            html.Button(
                t("evaluate.form.create", lang),
                id="evaluate-create",
                className="btn btn-primary",
                n_clicks=0,
            ),
            dcc.Loading(
                html.Div(id="evaluate-form-status", **{"aria-live": "polite"}),
                type="dot",
                delay_show=150,
            ),
        ],
        className="card evaluate-form",
        id="evaluate-form",
    )


def remove_button(iv: Intervention | None, lang: str) -> html.Div | None:
    """Remove, for an analyst looking at a stored intervention (the pilot comes back with the
    demo, so it has none)."""
    if iv is None or is_pilot(iv) or current_analyst() is None:
        return None
    return html.Div(
        [
            html.Button(
                t("evaluate.remove", lang), id="evaluate-remove", className="btn", n_clicks=0
            ),
            html.Div(id="evaluate-remove-status", **{"aria-live": "polite"}),
        ],
        className="evaluate-remove",
    )


# -- callbacks ---------------------------------------------------------------------------------


def unit_lists(
    room: Room, unit_kind: object, outcome: object, treated: object, control: object, ui: object
) -> tuple[list, list, list, list]:
    """(treated options, treated kept, control options, control kept) for the chosen unit kind
    and outcome: the units that hold the outcome's data, the choices still among them kept."""
    if not isinstance(unit_kind, str) or unit_kind not in UNIT_KINDS:
        return [], [], [], []
    if not isinstance(outcome, str) or "." not in outcome or len(outcome) > 200:
        return [], [], [], []
    city = city_of(room, ui)
    kind = outcome.split(".", 1)[0]
    options = unit_options(room.workspace.engine, city, unit_kind, kind, ui_settings(ui)["lang"])
    known = {o["value"] for o in options}

    def kept(chosen: object) -> list:
        return [u for u in chosen if u in known] if isinstance(chosen, list) else []

    return options, kept(treated), options, kept(control)


def suggest(
    room: Room,
    clicks: object,
    values: FormValues,
    ui: object,
    *,
    who: Who = current_analyst,
) -> tuple[object, object]:
    """(control units, status): the units most like the treated ones before the start."""
    if not clicks:
        raise PreventUpdate
    lang = ui_settings(ui)["lang"]
    analyst = who()
    if analyst is None:
        return no_update, visitor_notice(lang, PATH, "evaluate.visitor")
    city = city_of(room, ui)
    engine = room.workspace.engine
    start = parse_day(values.start)
    probe = replace(values, name=values.name or "-", control=[])
    iv, problems = read_form(engine, city, probe, analyst)
    if iv is None or start is None:
        texts = [t(f"evaluate.invalid.{code}", lang) for code in problems or ["start"]]
        return no_update, problem_list(texts, lang)
    try:
        found = suggest_controls(engine, city, iv, k=SUGGESTED)
    except REFUSED as exc:
        return no_update, error_line(t("evaluate.failed", lang, reason=str(exc)[:300]))
    return list(found), notice(t("evaluate.suggested", lang, n=len(found)))


def create(
    room: Room,
    clicks: object,
    values: FormValues,
    ui: object,
    *,
    who: Who = current_analyst,
) -> tuple[object, object]:
    """(status, the address to open): the intervention stored and opened, or the problems
    found in the form or the data with nothing stored."""
    if not clicks:
        raise PreventUpdate
    lang = ui_settings(ui)["lang"]
    analyst = who()
    if analyst is None:
        return visitor_notice(lang, PATH, "evaluate.visitor"), no_update
    city = city_of(room, ui)
    engine = room.workspace.engine
    iv, codes = read_form(engine, city, values, analyst)
    if iv is None:
        return problem_list([t(f"evaluate.invalid.{c}", lang) for c in codes], lang), no_update
    try:
        if not iv.control:
            iv = replace(iv, control=tuple(suggest_controls(engine, city, iv, k=SUGGESTED)))
        problems = check_intervention(engine, city, iv)
    except REFUSED as exc:
        return error_line(t("evaluate.failed", lang, reason=str(exc)[:300])), no_update
    if problems:
        texts = [problem_text(p, lang) for p in problems]
        return problem_list(texts, lang), no_update
    try:
        stored = room.store().add(iv)
    except InterventionError as exc:
        return error_line(t("evaluate.failed", lang, reason=str(exc)[:300])), no_update
    link = details_href(stored, lang)
    done = html.P(
        [
            t("evaluate.created", lang, name=stored.name),
            " ",
            html.A(t("evaluate.open", lang), href=link),
        ],
        role="status",
        id="evaluate-created",
    )
    return done, link


def remove(
    room: Room, clicks: object, chosen: object, ui: object, *, who: Who = current_analyst
) -> tuple[object, object]:
    """(status, the address to open): the page's intervention removed, then the list."""
    if not clicks:
        raise PreventUpdate
    lang = ui_settings(ui)["lang"]
    if who() is None:
        return visitor_notice(lang, PATH, "evaluate.visitor"), no_update
    iv = find(room.workspace, city_of(room, ui), chosen)
    if iv is None or is_pilot(iv):
        return error_line(t("evaluate.unknown", lang)), no_update
    try:
        room.store().remove(iv.id)
    except KeyError:
        return error_line(t("evaluate.unknown", lang)), no_update
    return notice(t("evaluate.removed", lang, name=iv.name)), PATH + ViewState(lang=lang).to_query()
