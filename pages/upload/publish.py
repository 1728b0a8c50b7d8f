"""The publishing step of `/data/upload`: as a new dataset or a new version of one (appended or
replacing), with its title, provenance, round table and SDG targets; then what was published,
with the ways to it. Or the job is cancelled."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from components.state import ui_settings
from components.upload_view import sdg_targets, status_view
from datasets.catalog import Dataset
from datasets.ingest import UploadMeta
from datasets.schemas import KINDS
from i18n import fmt_number, t
from server.auth import current_analyst
from server.upload_jobs import JobError

from .room import Room, chosen_city, error_line, job_or_refusal, owned_job, refusal_text, visitor

ROUND_TABLES = ("traffic", "ecology", "other")


def _field(label_key: str, control, lang: str):
    return html.Div(
        [html.Label(t(label_key, lang), className="filter-label"), control],
        className="upload-setting",
    )


def _target_fields(same_kind: list[Dataset], lang: str) -> list:
    """New dataset, or a new version (appended or replacing) of one of the same kind."""
    has_targets = bool(same_kind)
    mode_options = [
        {"label": t("upload.mode.new", lang), "value": "new"},
        {"label": t("upload.mode.append", lang), "value": "append", "disabled": not has_targets},
        {"label": t("upload.mode.replace", lang), "value": "replace", "disabled": not has_targets},
    ]
    return [
        _field(
            "upload.mode",
            dcc.RadioItems(id="upload-mode", options=mode_options, value="new", inline=True),
            lang,
        ),
        _field(
            "upload.target",
            dcc.Dropdown(
                id="upload-target",
                options=[
                    {"label": f"{d.title(lang)} ({d.id}, v{d.current_version})", "value": d.id}
                    for d in same_kind
                ],
                value=None,
                disabled=True,
                placeholder=t("upload.target_hint", lang),
                className="upload-dropdown",
            ),
            lang,
        ),
    ]


def _text_fields(title: str, kept: dict, lang: str) -> list:
    """Title, source, its address and licence: typed by the analyst, kept across redraws."""
    inputs = (
        ("upload.title_field", {"id": "upload-title", "value": title, "maxLength": 200}),
        ("upload.source", {"id": "upload-source", "maxLength": 300}),
        ("upload.source_url", {"id": "upload-source-url", "type": "url", "maxLength": 500}),
        (
            "upload.licence",
            {"id": "upload-licence", "maxLength": 100, "placeholder": "CC-BY-4.0"},
        ),
    )
    return [
        _field(
            key, dcc.Input(**{"type": "text", **props, "className": "upload-input", **kept}), lang
        )
        for key, props in inputs
    ]


def _catalog_fields(kind, lang: str) -> list:
    """The round table and the SDG targets the dataset is listed under."""
    return [
        _field(
            "upload.round_table",
            dcc.Dropdown(
                id="upload-round-table",
                options=[
                    {"label": t(f"data.round_table.{r}", lang), "value": r} for r in ROUND_TABLES
                ],
                value=kind.round_table,
                clearable=False,
                className="upload-dropdown",
            ),
            lang,
        ),
        _field(
            "upload.sdg",
            dcc.Dropdown(
                id="upload-sdg",
                options=[
                    {"label": f"SDG {s} · {t(f'sdg.{s}', lang)}", "value": s} for s in sdg_targets()
                ],
                value=[s for s in kind.sdg if s in sdg_targets()],
                multi=True,
                className="upload-dropdown",
            ),
            lang,
        ),
    ]


def _buttons(state: dict, lang: str):
    return html.Div(
        [
            html.Button(
                t("upload.commit", lang),
                id="upload-commit",
                className="btn btn-primary",
                n_clicks=0,
                disabled=not state.get("report"),
            ),
            html.Button(t("upload.cancel", lang), id="upload-cancel", className="btn", n_clicks=0),
        ],
        className="upload-buttons",
    )


def publish_view(state: dict, lang: str, same_kind: list[Dataset]):
    report = state.get("report") or {}
    kind_id = report.get("kind") or (state.get("mapping") or {}).get("kind") or "generic"
    kind = KINDS.get(kind_id, KINDS["generic"])
    title = Path(state.get("file") or "upload").stem
    bad = report.get("rows_bad") or 0
    # The panel is drawn again whenever a check ends: what the analyst typed meanwhile is kept
    # (Dash persistence, for this job only: another upload starts from its own defaults).
    kept = {"persistence": state.get("token") or True, "persistence_type": "session"}
    fields = [
        *_target_fields(same_kind, lang),
        *_text_fields(title, kept, lang),
        *_catalog_fields(kind, lang),
    ]
    return html.Section(
        [
            html.H2(t("upload.publish", lang), className="section-title"),
            html.Div(fields, className="upload-settings upload-publish-fields"),
            html.Div(
                [
                    html.Label(t("upload.description", lang), className="filter-label"),
                    dcc.Textarea(
                        id="upload-description",
                        maxLength=2000,
                        className="upload-input upload-textarea",
                        **kept,
                    ),
                ],
                className="upload-setting wide",
            ),
            dcc.Checklist(
                id="upload-drop-bad",
                options=[
                    {
                        "label": t("upload.drop_bad", lang, n=fmt_number(bad, lang)),
                        "value": "drop",
                        "disabled": not bad,
                    }
                ],
                value=[],
                className="upload-drop-bad",
                style=None if bad else {"display": "none"},
            ),
            _buttons(state, lang),
        ],
        className="card upload-section upload-publish",
    )


def result_view(state: dict, lang: str, round_table_href: str | None):
    result = state.get("result") or {}
    dataset_id = result.get("dataset_id", "")
    title = (result.get("title") or {}).get(lang) or (result.get("title") or {}).get("en") or ""
    links = [
        html.A(
            t("upload.open_explorer", lang),
            href=f"/data/{dataset_id}",
            className="btn btn-primary",
            id="upload-explorer-link",
        ),
        html.A(t("upload.open_catalog", lang), href=f"/data#{dataset_id}", className="btn"),
    ]
    if round_table_href:
        links.insert(
            1,
            html.A(
                t("upload.open_round_table", lang),
                href=round_table_href,
                className="btn",
                id="upload-round-table-link",
            ),
        )
    return html.Section(
        [
            html.H2(t("upload.published", lang), className="section-title"),
            html.P(
                t(
                    f"upload.published_{result.get('mode', 'new')}",
                    lang,
                    title=title,
                    id=dataset_id,
                    version=result.get("version", ""),
                    rows=fmt_number(result.get("rows") or 0, lang),
                ),
                id="upload-result",
            ),
            html.Div(links, className="upload-buttons"),
            html.Button(t("upload.again", lang), id="upload-again", className="btn", n_clicks=0),
        ],
        className="card upload-section upload-done",
        role="status",
    )


# -- publishing, cancelling, starting again ------------------------------------------------------


def commit(
    room: Room,
    analyst: str | None,
    *,
    clicks: int | None,
    mode: object,
    target: object,
    title: str | None,
    description: str | None,
    source: str | None,
    source_url: str | None,
    licence: str | None,
    round_table: object,
    sdg: list | None,
    drop_bad: list | None,
    city: object,
    data: dict | None,
    ui: dict | None,
) -> tuple[object, bool]:
    """(status, poll disabled) once publishing has started: a new dataset, or a new version of
    `target`; every value is the browser's, so each is checked or bounded here."""
    if not clicks:
        raise PreventUpdate
    lang = ui_settings(ui)["lang"]
    job, refusal = job_or_refusal(room, analyst, data, lang)
    if refusal is not None:
        return refusal, True
    mode = mode if mode in {"new", "append", "replace"} else "new"
    if mode != "new" and not target:
        return error_line(t("upload.need_target", lang)), True
    meta = UploadMeta(
        title=(title or "").strip()[:200],
        description=(description or "").strip()[:2000],
        source=(source or "").strip()[:300] or f"upload by {analyst}",
        source_url=(source_url or "").strip()[:500],
        licence=(licence or "").strip()[:100],
        city=chosen_city(room, city, ui),
        round_table=round_table if round_table in ROUND_TABLES else None,
        sdg=tuple(s for s in (sdg or []) if s in sdg_targets()),
    )
    try:
        room.jobs.commit(
            job,
            meta,
            mode=mode,
            dataset_id=target if mode != "new" else None,
            drop_bad_rows="drop" in (drop_bad or []),
        )
    except JobError as exc:
        return error_line(refusal_text(exc, lang)), True
    return status_view(job.read(), lang), False


def target_disabled(mode: object) -> bool:
    """The dataset to add a version to is chosen only for a new version."""
    return mode == "new"


def cancel(
    room: Room, analyst: str | None, *, clicks: int | None, data: dict | None, ui: dict | None
) -> tuple[object, object, object, None]:
    """(job store, panel, status, rendered key) once the job is discarded."""
    if not clicks:
        raise PreventUpdate
    lang = ui_settings(ui)["lang"]
    if analyst is None:
        return no_update, [], visitor(lang), None
    job = owned_job(room, analyst, data)
    if job is not None:
        room.jobs.discard(job)
    note = html.P(t("upload.cancelled", lang), className="muted", role="status")
    return None, [], note, None


def again(clicks: int | None) -> tuple[None, list, list, None]:
    """(job store, panel, status, rendered key) emptied for another file."""
    if not clicks:
        raise PreventUpdate
    return None, [], [], None


def _commit_request(room: Room, **values):
    return commit(room, current_analyst(), **values)


def _cancel_request(room: Room, **values):
    return cancel(room, current_analyst(), **values)


FRESH = (
    Output("upload-job", "data", allow_duplicate=True),
    Output("upload-panel", "children", allow_duplicate=True),
    Output("upload-status", "children", allow_duplicate=True),
    Output("upload-rendered", "data", allow_duplicate=True),
)


def register(app, room: Room) -> None:
    app.callback(
        Output("upload-status", "children", allow_duplicate=True),
        Output("upload-poll", "disabled", allow_duplicate=True),
        inputs=dict(clicks=Input("upload-commit", "n_clicks")),
        state=dict(
            mode=State("upload-mode", "value"),
            target=State("upload-target", "value"),
            title=State("upload-title", "value"),
            description=State("upload-description", "value"),
            source=State("upload-source", "value"),
            source_url=State("upload-source-url", "value"),
            licence=State("upload-licence", "value"),
            round_table=State("upload-round-table", "value"),
            sdg=State("upload-sdg", "value"),
            drop_bad=State("upload-drop-bad", "value"),
            city=State("upload-city", "value"),
            data=State("upload-job", "data"),
            ui=State("ui", "data"),
        ),
        prevent_initial_call=True,
    )(partial(_commit_request, room))
    app.callback(
        Output("upload-target", "disabled"),
        Input("upload-mode", "value"),
        prevent_initial_call=True,
    )(target_disabled)
    app.callback(
        *FRESH,
        inputs=dict(clicks=Input("upload-cancel", "n_clicks")),
        state=dict(data=State("upload-job", "data"), ui=State("ui", "data")),
        prevent_initial_call=True,
    )(partial(_cancel_request, room))
    app.callback(*FRESH, Input("upload-again", "n_clicks"), prevent_initial_call=True)(again)
