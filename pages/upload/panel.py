"""The panel of `/data/upload` that follows a job: polled while the file is read or checked,
drawn again only when the job's state changed (its revision), each step in its module."""

from __future__ import annotations

from functools import partial

from dash import Input, Output, State, html, no_update

from components.state import ui_settings
from components.upload_view import cell, status_view
from datasets.catalog import CatalogError, Dataset
from server.auth import current_analyst

from ..explorer import round_table_link
from .detect import detection_view, preview_view
from .mapping import mapping_view
from .publish import publish_view, result_view
from .report import report_view
from .room import Room, city_of, gone, owned_job, visitor


def panel_view(state: dict, lang: str, same_kind: list[Dataset], round_table_href: str | None):
    if not state or state.get("status") == "discarded":
        return []
    if state.get("status") == "committed":
        return [result_view(state, lang, round_table_href)]
    if not state.get("inspection"):
        return []
    return [
        html.H2(cell(state.get("file")), className="upload-file-name"),
        detection_view(state, lang),
        preview_view(state, lang),
        mapping_view(state, lang),
        report_view(state, lang),
        publish_view(state, lang, same_kind),
    ]


def panel_for(room: Room, state: dict, lang: str, ui: dict | None):
    """The panel of a job's state: with the datasets a new version may go to, and once
    published, the link to the round table that shows it."""
    report_kind = (state.get("report") or {}).get("kind")
    kind = report_kind or (state.get("mapping") or {}).get("kind")
    catalog = room.workspace.catalog
    same_kind = catalog.datasets(city=city_of(room, ui), kind=kind) if kind else []
    href = None
    result = state.get("result")
    if result:
        try:
            link = round_table_link(catalog.get(result["dataset_id"]))
        except CatalogError:
            link = None
        href = link[1] if link else None
    return panel_view(state, lang, same_kind, href)


def poll(
    room: Room, analyst: str | None, *, data: dict | None, rendered: str | None, ui: dict | None
) -> tuple[object, object, bool, str | None]:
    """(status, panel, poll disabled, rendered key): the job's progress, and its panel when its
    state changed since the one drawn (`rendered`)."""
    lang = ui_settings(ui)["lang"]
    if analyst is None:
        return visitor(lang), [], True, None
    job = owned_job(room, analyst, data)
    if job is None:
        lost = isinstance(data, dict) and bool(data.get("token"))
        return (gone(lang) if lost else []), ([] if rendered else no_update), True, None
    state = job.read()
    running = state.get("status") in {"running", "received"}
    key = f"{job.token}:{state.get('revision', 0)}:{state.get('status') == 'committed'}"
    panel = no_update if key == rendered else panel_for(room, state, lang, ui)
    return status_view(state, lang), panel, not running, key


def _poll_request(room: Room, n, data, rendered, ui):
    return poll(room, current_analyst(), data=data, rendered=rendered, ui=ui)


def register(app, room: Room) -> None:
    app.callback(
        Output("upload-status", "children"),
        Output("upload-panel", "children"),
        Output("upload-poll", "disabled"),
        Output("upload-rendered", "data"),
        inputs=dict(n=Input("upload-poll", "n_intervals"), data=Input("upload-job", "data")),
        state=dict(rendered=State("upload-rendered", "data"), ui=State("ui", "data")),
    )(partial(_poll_request, room))
