"""The mapping step of `/data/upload`: which kind the file is read as, and where each of the
kind's columns comes from; and the check that reads the file again with the detection and mapping
controls of the page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from components.state import ui_settings
from components.upload_view import cell, data_table, kind_label, status_view
from datasets.schemas import KINDS
from i18n import t
from server.auth import current_analyst
from server.upload_jobs import JobError

from .detect import overrides_from
from .room import Room, chosen_city, error_line, job_or_refusal, refusal_text

NOT_MAPPED = ""


def source_value(source: dict | None) -> str:
    """A mapping source as a dropdown value: `c:<column>`, `p:<parts JSON>`, or not mapped."""
    if not source:
        return NOT_MAPPED
    if source.get("column") is not None:
        return "c:" + source["column"]
    if source.get("parts"):
        return "p:" + json.dumps(source["parts"], ensure_ascii=False, sort_keys=True)
    return NOT_MAPPED


def parse_source(value: str | None, unit: str | None = None, constant: str | None = None):
    """The mapping entry for a dropdown value (and the unit and constant typed beside it)."""
    out: dict = {}
    if value and value.startswith("c:"):
        out["column"] = value[2:]
    elif value and value.startswith("p:"):
        try:
            parts = json.loads(value[2:])
        except ValueError:
            parts = None
        if isinstance(parts, dict):
            out["parts"] = {str(k): str(v) for k, v in parts.items()}
    elif constant not in (None, ""):
        out["constant"] = constant
    if not out:
        return None
    if unit:
        out["unit"] = unit
    return out


def _kind_dropdown(kind_id: str, candidates: dict, lang: str):
    def kind_option(k: str) -> dict:
        ok = candidates.get(k, {}).get("complete")
        return {"label": kind_label(k, lang) + (" ✓" if ok else ""), "value": k}

    kinds = [k for k in KINDS if k != "generic"]
    return dcc.Dropdown(
        id="upload-kind",
        options=[kind_option(k) for k in kinds]
        + [{"label": kind_label("generic", lang), "value": "generic"}],
        value=kind_id,
        clearable=False,
        className="upload-dropdown upload-kind",
    )


def _generic_body(mapping: dict, columns: list, lang: str):
    chosen = list((mapping.get("columns") or {}).keys())
    return html.Div(
        [
            html.P(t("upload.generic_intro", lang), className="muted"),
            dcc.Checklist(
                id={"type": "up-generic", "k": 0},
                options=[{"label": cell(c["name"]), "value": c["name"]} for c in columns],
                value=[c["name"] for c in columns if c["name"] in chosen],
                inline=True,
                className="upload-generic",
            ),
        ]
    )


def _target_row(col, source: dict | None, options: list[dict], lang: str):
    """One column of the kind: whether it is required, its unit, and where it comes from."""
    value = source_value(source)
    required = t("upload.required", lang) if col.required else t("upload.optional", lang)
    return html.Tr(
        [
            html.Td(
                [
                    html.Span(col.name, className="col-name"),
                    html.Span(
                        required, className="muted small" + (" required" if col.required else "")
                    ),
                ]
            ),
            html.Td(col.unit or "", className="muted"),
            html.Td(
                dcc.Dropdown(
                    id={"type": "up-map", "t": col.name},
                    options=options,
                    value=value,
                    clearable=False,
                    className="upload-dropdown",
                )
            ),
            html.Td(
                dcc.Input(
                    id={"type": "up-map-unit", "t": col.name},
                    value=(source or {}).get("unit") or "",
                    type="text",
                    placeholder=col.unit or "",
                    className="upload-input upload-unit",
                )
            ),
            html.Td(
                dcc.Input(
                    id={"type": "up-map-const", "t": col.name},
                    value=cell((source or {}).get("constant")),
                    type="text",
                    className="upload-input",
                )
            ),
        ],
        className="mapped" if value else "unmapped",
    )


def _kind_body(kind_id: str, mapping: dict, inspection: dict, lang: str) -> list:
    """The kind's columns, each with its source: a column of the file, parts of one (a date
    and an hour column read as one timestamp), a constant, or nothing."""
    body = []
    kind = KINDS[kind_id]
    columns = inspection.get("columns") or []
    sources = mapping.get("columns") or {}
    missing = [c.name for c in kind.columns if c.required and not sources.get(c.name)]
    if missing:
        body.append(
            html.P(
                t("upload.kind_missing", lang, columns=", ".join(missing)),
                className="upload-warning",
            )
        )
    base_options = [{"label": t("upload.not_mapped", lang), "value": NOT_MAPPED}] + [
        {"label": cell(c["name"]), "value": "c:" + c["name"]} for c in columns
    ]
    split = inspection.get("split")
    rows = []
    for col in kind.columns:
        source = sources.get(col.name)
        options = list(base_options)
        extra_parts = [source.get("parts")] if source and source.get("parts") else []
        if split and col.name == kind.time_column and split not in extra_parts:
            extra_parts.append(split)
        for parts in extra_parts:
            label = " + ".join(cell(v) for v in parts.values())
            options.append({"label": label, "value": source_value({"parts": parts})})
        rows.append(_target_row(col, source, options, lang))
    head = ["target", "unit", "source", "source_unit", "constant"]
    body.append(data_table([t(f"upload.map.{k}", lang) for k in head], rows, "upload-mapping"))
    return body


def mapping_view(state: dict, lang: str):
    inspection = state.get("inspection") or {}
    mapping = state.get("mapping") or inspection.get("suggestion") or {}
    kind_id = mapping.get("kind") or "generic"
    candidates = {c["kind"]: c for c in inspection.get("candidates") or []}
    body: list = [
        html.Div(
            [
                html.Label(t("upload.kind", lang), className="filter-label"),
                _kind_dropdown(kind_id, candidates, lang),
            ],
            className="upload-setting wide",
        )
    ]
    if kind_id == "generic":
        body.append(_generic_body(mapping, inspection.get("columns") or [], lang))
    else:
        body += _kind_body(kind_id, mapping, inspection, lang)
    body.append(
        html.Button(t("upload.check", lang), id="upload-check", className="btn", n_clicks=0)
    )
    return html.Section(
        [
            html.H2(t("upload.mapping", lang), className="section-title"),
            html.P(t("upload.mapping_intro", lang), className="muted"),
            *body,
        ],
        className="card upload-section upload-mapping-section",
    )


def mapping_from(
    state: dict,
    kind: str,
    sources: dict[str, str],
    source_units: dict[str, str],
    constants: dict[str, str],
    generic: list[str] | None,
) -> dict:
    """The mapping the controls describe. It names sources only: each column's type, date
    formats and unit come from the overrides form (the inspection), so a change there applies;
    a generic table keeps its entries (a date and an hour column read as one timestamp)."""
    previous = (state.get("mapping") or {}).get("columns") or {}
    columns: dict[str, dict] = {}
    if kind == "generic":
        names = [c["name"] for c in (state.get("inspection") or {}).get("columns") or []]
        for name in names:
            if generic is not None and name not in generic:
                continue
            columns[name] = previous.get(name) or {"column": name}
        return {"kind": "generic", "columns": columns}
    for target, value in sources.items():
        entry = parse_source(value, source_units.get(target), constants.get(target))
        if entry is not None:
            columns[target] = entry
    return {"kind": kind, "columns": columns}


# -- checking the file again with the page's controls ------------------------------------------


@dataclass(frozen=True)
class CheckForm:
    """The detection and mapping controls of the page, each by what it is."""

    settings: dict[str, object] = field(default_factory=dict)  # {setting name: value}
    types: dict[int, str] = field(default_factory=dict)  # {column index: type}
    formats: dict[int, str] = field(default_factory=dict)
    units: dict[int, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # {target column: source value}
    source_units: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    generic: list[str] | None = None  # the columns a generic table keeps


def check(
    room: Room,
    analyst: str | None,
    *,
    trigger: object,
    reread: int | None,
    checked: int | None,
    kind: str | None,
    form: CheckForm,
    city: object,
    data: dict | None,
    ui: dict | None,
) -> tuple[object, object]:
    """(status, poll disabled) once the job is checked again with the page's controls: a click
    on "read again" or "check", or another kind chosen. Nothing to do raises PreventUpdate."""
    lang = ui_settings(ui)["lang"]
    job, refusal = job_or_refusal(room, analyst, data, lang)
    if refusal is not None:
        return refusal, True
    state = job.read()
    current_kind = (state.get("mapping") or {}).get("kind")
    # Dash also calls this when the panel is drawn again: only a click, or a kind other than
    # the one in effect, is a request.
    clicked = {"upload-reread": reread, "upload-check": checked}
    if trigger in clicked and not clicked[trigger]:
        raise PreventUpdate
    if trigger == "upload-kind" and (not kind or kind == current_kind):
        raise PreventUpdate
    if trigger not in {"upload-reread", "upload-check", "upload-kind"}:
        raise PreventUpdate
    overrides = overrides_from(state, form.settings, form.types, form.formats, form.units)
    if trigger == "upload-kind":
        mapping, chosen_kind = None, kind
    else:
        chosen_kind = kind or current_kind
        mapping = mapping_from(
            state, chosen_kind, form.sources, form.source_units, form.constants, form.generic
        )
    try:
        room.jobs.check(job, overrides, mapping, chosen_kind, chosen_city(room, city, ui))
    except JobError as exc:
        return error_line(refusal_text(exc, lang)), no_update
    return status_view(job.read(), lang), False


def _by_id(items: object, key: str) -> dict:
    """{id[key]: value} of a pattern-matching State's controls (an `args_grouping` entry)."""
    if not isinstance(items, list):
        return {}
    return {item["id"][key]: item.get("value") for item in items if isinstance(item, dict)}


def form_of(grouping: dict) -> CheckForm:
    """The controls of a check request from its `ctx.args_grouping`: each pattern-matching State
    by its name, each control with its id."""
    generic = _by_id(grouping.get("generic"), "k")
    return CheckForm(
        settings=_by_id(grouping.get("settings"), "name"),
        types=_by_id(grouping.get("types"), "i"),
        formats=_by_id(grouping.get("formats"), "i"),
        units=_by_id(grouping.get("units"), "i"),
        sources=_by_id(grouping.get("sources"), "t"),
        source_units=_by_id(grouping.get("source_units"), "t"),
        constants=_by_id(grouping.get("constants"), "t"),
        generic=next(iter(generic.values())) if generic else None,
    )


def _check_request(room: Room, reread, checked, kind, city, data, ui, **_controls):
    # the controls' values come with their ids in `ctx.args_grouping`
    return check(
        room,
        current_analyst(),
        trigger=ctx.triggered_id,
        reread=reread,
        checked=checked,
        kind=kind,
        form=form_of(ctx.args_grouping),
        city=city,
        data=data,
        ui=ui,
    )


def register(app, room: Room) -> None:
    app.callback(
        Output("upload-status", "children", allow_duplicate=True),
        Output("upload-poll", "disabled", allow_duplicate=True),
        inputs=dict(
            reread=Input("upload-reread", "n_clicks"),
            checked=Input("upload-check", "n_clicks"),
            kind=Input("upload-kind", "value"),
        ),
        state=dict(
            settings=State({"type": "up-set", "name": ALL}, "value"),
            types=State({"type": "up-type", "i": ALL}, "value"),
            formats=State({"type": "up-fmt", "i": ALL}, "value"),
            units=State({"type": "up-unit", "i": ALL}, "value"),
            sources=State({"type": "up-map", "t": ALL}, "value"),
            source_units=State({"type": "up-map-unit", "t": ALL}, "value"),
            constants=State({"type": "up-map-const", "t": ALL}, "value"),
            generic=State({"type": "up-generic", "k": ALL}, "value"),
            city=State("upload-city", "value"),
            data=State("upload-job", "data"),
            ui=State("ui", "data"),
        ),
        prevent_initial_call=True,
    )(partial(_check_request, room))
