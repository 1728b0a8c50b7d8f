"""`/data/upload`: analysts bring their own files.

The file goes from the browser to `POST /upload` as a raw streamed body (`assets/upload.js`:
XMLHttpRequest with a transfer progress bar; the file is never read into the page's memory).
The server reads it with the ingest pipeline in a background thread; this page polls the job
and shows, each overridable: the detection (encoding, delimiter, decimal, header row, missing
markers, and per column its type, date formats and unit), a preview of the parsed rows, the
mapping onto a kind, and the validation report. Then: publish as a new dataset or a new version
of one (append or replace), or cancel. Every callback that changes anything checks the session
on the server and that the job is the analyst's own.
"""

from __future__ import annotations

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from components.auth import analyst_bar, csrf_token, current_analyst, visitor_notice
from components.kpi import page_header
from components.state import ui_settings
from components.upload_jobs import JobError, Jobs
from components.upload_view import (
    THOUSANDS,
    panel_view,
    parse_source,
    sdg_targets,
    setting_control_values,
    status_view,
)
from datasets.catalog import CatalogError
from datasets.ingest import UploadMeta
from datasets.ingest.detect import ENCODINGS, TYPES
from datasets.workspace import Workspace
from i18n import fmt_number, t

from . import Page, PageContext

PATH = "/data/upload"
ACCEPT = ".csv,.tsv,.txt,.tab,.xlsx,.parquet,.json,.ndjson,.jsonl,.geojson"
POLL_MS = 500
STRUCTURE = ("encoding", "delimiter", "header_line", "sheet")  # change the columns themselves


def _messages(lang: str) -> dict[str, str]:
    keys = ("sending", "sent", "too_large", "failed", "network", "choose", "drop_here")
    return {f"data-msg-{k.replace('_', '-')}": t(f"upload.js.{k}", lang) for k in keys}


def layout(ctx: PageContext):
    lang = ctx.lang
    header = page_header(t("upload.title", lang), t("upload.subtitle", lang))
    if current_analyst() is None:
        return html.Div(
            [header, analyst_bar(lang, PATH), visitor_notice(lang, PATH, "upload.visitor")],
            className="page-upload",
        )
    from components.upload import jobs

    max_bytes = jobs().limits.max_bytes
    drop = html.Div(
        [
            html.P(t("upload.drop_here", lang), className="dropzone-title"),
            html.Span(id="upload-input-slot", className="upload-input-slot"),
            html.P(
                t("upload.formats", lang, size=fmt_number(max_bytes // (1024 * 1024), lang)),
                className="muted small",
            ),
            html.Div(
                [
                    html.Span(t("upload.transfer", lang), className="progress-label"),
                    html.Div(
                        html.Div(id="upload-transfer-fill", className="progress-fill"),
                        className="progress",
                        role="progressbar",
                        id="upload-transfer-bar",
                        **{"aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0"},
                    ),
                    html.Span(id="upload-transfer-text", className="progress-value"),
                ],
                className="progress-row",
                id="upload-transfer",
                hidden=True,
            ),
            html.P(id="upload-transfer-error", className="upload-error", role="alert"),
        ],
        id="upload-drop",
        className="dropzone",
        **{
            "data-csrf": csrf_token(),
            "data-max": str(max_bytes),
            "data-accept": ACCEPT,
            **_messages(lang),
        },
    )
    return html.Div(
        [
            header,
            analyst_bar(lang, PATH),
            html.Section(drop, className="card upload-drop-card"),
            html.Div(id="upload-status", className="upload-status", **{"aria-live": "polite"}),
            html.Div(id="upload-panel", className="upload-panel"),
            dcc.Store(id="upload-job", storage_type="session"),
            dcc.Store(id="upload-rendered", storage_type="memory"),
            dcc.Interval(id="upload-poll", interval=POLL_MS, disabled=True),
        ],
        className="page-upload",
    )


PAGE = Page(
    path=PATH,
    nav="nav.data",
    title="upload.title",
    layout=layout,
    filters=False,
    in_nav=False,
)


# -- from the controls to the pipeline's arguments (pure) ------------------------------------------


def allowed(name: str, value, inspection: dict) -> bool:
    """Whether a setting sent by the page is one the controls offer (the request is the
    browser's: anything may arrive)."""
    if not isinstance(value, str):
        return False
    if name == "encoding":
        return value in ENCODINGS
    if name == "delimiter":
        return len(value) == 1 and value not in '\r\n"'
    if name == "decimal":
        return value in {".", ","}
    if name == "thousands":
        return value in THOUSANDS
    if name == "sheet":
        return value in ((inspection.get("settings") or {}).get("sheets") or [])
    return False


def overrides_from(
    state: dict,
    settings: dict[str, object],
    types: dict[int, str],
    formats: dict[int, str],
    units: dict[int, str],
) -> dict:
    """The overrides to read the file with: the analyst's earlier ones, plus every control
    that now differs from what was detected. A change of encoding, delimiter, header row or
    sheet changes the columns, so per-column overrides are then dropped."""
    inspection = state.get("inspection") or {}
    detected = setting_control_values(inspection.get("settings") or {})
    out = {k: v for k, v in (state.get("overrides") or {}).items() if k != "kind"}
    structure_changed = False
    for name, value in settings.items():
        if value is None or name not in detected:
            continue
        if name == "header_line":
            try:
                line = min(max(0, int(value)), 100_000)
            except (TypeError, ValueError):
                continue
            if line != detected["header_line"]:
                out["has_header"] = line > 0
                out["skip_lines"] = max(0, line - 1)
                structure_changed = True
        elif name == "missing":
            markers = [m.strip() for m in str(value).split(",") if m.strip()]
            if ", ".join(markers) != detected["missing"]:
                out["missing"] = markers
        elif value != detected[name] and allowed(name, value, inspection):
            out[name] = value
            structure_changed = structure_changed or name in STRUCTURE
    if structure_changed:
        for key in ("types", "formats", "units"):
            out.pop(key, None)
        return out
    by_index = {c["index"]: c for c in inspection.get("columns") or []}
    for key, given, current in (
        ("types", types, lambda c: c["type"]),
        ("formats", formats, lambda c: ", ".join(c.get("formats") or [])),
        ("units", units, lambda c: c.get("unit") or ""),
    ):
        merged = dict(out.get(key) or {})
        for index, value in given.items():
            column = by_index.get(index)
            if column is None or value is None or value == current(column):
                continue
            if key == "types" and value not in TYPES:
                continue
            if key == "formats":
                merged[column["name"]] = [f.strip() for f in str(value).split(",") if f.strip()]
            else:
                merged[column["name"]] = str(value).strip()
        if merged:
            out[key] = merged
    return out


def mapping_from(
    state: dict,
    kind: str,
    sources: dict[str, str],
    source_units: dict[str, str],
    constants: dict[str, str],
    generic: list[str] | None,
) -> dict:
    """The mapping the controls describe; date formats and types of an entry the analyst left
    as it was are kept from the mapping it came from."""
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
        if entry is None:
            continue
        before = previous.get(target) or {}
        same = entry.get("column") == before.get("column") and entry.get("parts") == before.get(
            "parts"
        )
        if same:
            for key in ("formats", "type"):
                if before.get(key):
                    entry[key] = before[key]
        columns[target] = entry
    return {"kind": kind, "columns": columns}


def _by_id(items: list[dict], key: str) -> dict:
    """{id[key]: value} from a pattern-matching State list (`ctx.states_list` entries)."""
    return {item["id"][key]: item.get("value") for item in items}


# -- callbacks ------------------------------------------------------------------------------------


def register_callbacks(app, workspace: Workspace, jobs: Jobs) -> None:
    def city_of(ui: dict | None) -> str:
        city = ui_settings(ui)["city"]
        if city in workspace.cities:
            return city
        return app.server.config["CITYLENS"].city

    def owned_job(data: dict | None):
        """The analyst and the job of the page, checked on the server."""
        analyst = current_analyst()
        if analyst is None:
            return None, None
        token = data.get("token") if isinstance(data, dict) else None
        return analyst, jobs.get(token if isinstance(token, str) else None, analyst)

    def panel_for(state: dict, lang: str, ui: dict | None):
        kind = ((state.get("report") or {}).get("kind")) or (
            (state.get("mapping") or {}).get("kind")
        )
        same_kind = workspace.catalog.datasets(city=city_of(ui), kind=kind) if kind else []
        href = None
        result = state.get("result")
        if result:
            from pages.explorer import round_table_link

            try:
                link = round_table_link(workspace.catalog.get(result["dataset_id"]))
            except CatalogError:
                link = None
            href = link[1] if link else None
        return panel_view(state, lang, same_kind, href)

    @app.callback(
        Output("upload-status", "children"),
        Output("upload-panel", "children"),
        Output("upload-poll", "disabled"),
        Output("upload-rendered", "data"),
        Input("upload-poll", "n_intervals"),
        Input("upload-job", "data"),
        State("upload-rendered", "data"),
        State("ui", "data"),
    )
    def _poll(_n, data, rendered, ui):
        lang = ui_settings(ui)["lang"]
        analyst, job = owned_job(data)
        if analyst is None:
            return visitor_notice(lang, PATH, "upload.visitor"), [], True, None
        if job is None:
            gone = isinstance(data, dict) and bool(data.get("token"))
            message = html.P(t("upload.gone", lang), className="muted") if gone else []
            return message, ([] if rendered else no_update), True, None
        state = job.read()
        running = state.get("status") in {"running", "received"}
        key = f"{job.token}:{state.get('revision', 0)}:{state.get('status') == 'committed'}"
        panel = no_update if key == rendered else panel_for(state, lang, ui)
        return status_view(state, lang), panel, not running, key

    @app.callback(
        Output("upload-status", "children", allow_duplicate=True),
        Output("upload-poll", "disabled", allow_duplicate=True),
        Input("upload-reread", "n_clicks"),
        Input("upload-check", "n_clicks"),
        Input("upload-kind", "value"),
        State({"type": "up-set", "name": ALL}, "value"),
        State({"type": "up-type", "i": ALL}, "value"),
        State({"type": "up-fmt", "i": ALL}, "value"),
        State({"type": "up-unit", "i": ALL}, "value"),
        State({"type": "up-map", "t": ALL}, "value"),
        State({"type": "up-map-unit", "t": ALL}, "value"),
        State({"type": "up-map-const", "t": ALL}, "value"),
        State({"type": "up-generic", "k": ALL}, "value"),
        State("upload-job", "data"),
        State("ui", "data"),
        prevent_initial_call=True,
    )
    def _check(_reread, _check_clicks, kind, *_states):
        data, ui = _states[-2], _states[-1]
        lang = ui_settings(ui)["lang"]
        analyst, job = owned_job(data)
        if analyst is None:
            return visitor_notice(lang, PATH, "upload.visitor"), True
        if job is None:
            return html.P(t("upload.gone", lang), className="muted"), True
        state = job.read()
        trigger = ctx.triggered_id
        current_kind = (state.get("mapping") or {}).get("kind")
        # Dash also calls this when the panel is drawn again: only a click, or a kind other than
        # the one in effect, is a request.
        clicked = {"upload-reread": _reread, "upload-check": _check_clicks}
        if trigger in clicked and not clicked[trigger]:
            raise PreventUpdate
        if trigger == "upload-kind" and (not kind or kind == current_kind):
            raise PreventUpdate
        if trigger not in {"upload-reread", "upload-check", "upload-kind"}:
            raise PreventUpdate
        states = ctx.states_list
        settings = _by_id(states[0], "name")
        overrides = overrides_from(
            state, settings, _by_id(states[1], "i"), _by_id(states[2], "i"), _by_id(states[3], "i")
        )
        if trigger == "upload-kind":
            mapping, chosen_kind = None, kind
        else:
            chosen_kind = kind or current_kind
            mapping = mapping_from(
                state,
                chosen_kind,
                _by_id(states[4], "t"),
                _by_id(states[5], "t"),
                _by_id(states[6], "t"),
                states[7][0].get("value") if states[7] else None,
            )
        try:
            jobs.check(job, overrides, mapping, chosen_kind)
        except JobError as exc:
            return html.P(str(exc), className="upload-error", role="alert"), no_update
        return status_view(job.read(), lang), False

    @app.callback(
        Output("upload-target", "disabled"),
        Input("upload-mode", "value"),
        prevent_initial_call=True,
    )
    def _mode(mode):
        return mode == "new"

    @app.callback(
        Output("upload-status", "children", allow_duplicate=True),
        Output("upload-poll", "disabled", allow_duplicate=True),
        Input("upload-commit", "n_clicks"),
        State("upload-mode", "value"),
        State("upload-target", "value"),
        State("upload-title", "value"),
        State("upload-description", "value"),
        State("upload-source", "value"),
        State("upload-source-url", "value"),
        State("upload-licence", "value"),
        State("upload-round-table", "value"),
        State("upload-sdg", "value"),
        State("upload-drop-bad", "value"),
        State("upload-job", "data"),
        State("ui", "data"),
        prevent_initial_call=True,
    )
    def _commit(clicks, mode, target, title, description, source, source_url, licence,
                round_table, sdg, drop_bad, data, ui):  # fmt: skip
        if not clicks:
            raise PreventUpdate
        lang = ui_settings(ui)["lang"]
        analyst, job = owned_job(data)
        if analyst is None:
            return visitor_notice(lang, PATH, "upload.visitor"), True
        if job is None:
            return html.P(t("upload.gone", lang), className="muted"), True
        mode = mode if mode in {"new", "append", "replace"} else "new"
        if mode != "new" and not target:
            return html.P(
                t("upload.need_target", lang), className="upload-error", role="alert"
            ), True
        meta = UploadMeta(
            title=(title or "").strip()[:200],
            description=(description or "").strip()[:2000],
            source=(source or "").strip()[:300] or f"upload by {analyst}",
            source_url=(source_url or "").strip()[:500],
            licence=(licence or "").strip()[:100],
            city=city_of(ui),
            round_table=round_table if round_table in {"traffic", "ecology", "other"} else None,
            sdg=tuple(s for s in (sdg or []) if s in sdg_targets()),
        )
        try:
            jobs.commit(
                job,
                meta,
                mode=mode,
                dataset_id=target if mode != "new" else None,
                drop_bad_rows="drop" in (drop_bad or []),
            )
        except JobError as exc:
            return html.P(str(exc), className="upload-error", role="alert"), True
        return status_view(job.read(), lang), False

    @app.callback(
        Output("upload-job", "data", allow_duplicate=True),
        Output("upload-panel", "children", allow_duplicate=True),
        Output("upload-status", "children", allow_duplicate=True),
        Output("upload-rendered", "data", allow_duplicate=True),
        Input("upload-cancel", "n_clicks"),
        State("upload-job", "data"),
        State("ui", "data"),
        prevent_initial_call=True,
    )
    def _cancel(clicks, data, ui):
        if not clicks:
            raise PreventUpdate
        lang = ui_settings(ui)["lang"]
        analyst, job = owned_job(data)
        if analyst is None:
            return no_update, [], visitor_notice(lang, PATH, "upload.visitor"), None
        if job is not None:
            jobs.discard(job)
        note = html.P(t("upload.cancelled", lang), className="muted", role="status")
        return None, [], note, None

    @app.callback(
        Output("upload-job", "data", allow_duplicate=True),
        Output("upload-panel", "children", allow_duplicate=True),
        Output("upload-status", "children", allow_duplicate=True),
        Output("upload-rendered", "data", allow_duplicate=True),
        Input("upload-again", "n_clicks"),
        prevent_initial_call=True,
    )
    def _again(clicks):
        if not clicks:
            raise PreventUpdate
        return None, [], [], None
