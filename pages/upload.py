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
    city_chooser,
    panel_view,
    parse_source,
    place_view,
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
ANSWERS = ("mdy", "dmy")  # the answers to a date question: month first, day first


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
            city_chooser(ctx.workspace.cities, ctx.city.id, lang),
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


def date_order_overrides(state: dict, index: object, order: object) -> dict | None:
    """The overrides that answer the report's date question `index` with `order` (`mdy` or
    `dmy`): that column's formats read so; None when no such question is open."""
    questions = (state.get("report") or {}).get("questions") or []
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(questions):
        return None
    formats = (questions[index].get("formats") or {}).get(order) if order in ANSWERS else None
    if not formats:
        return None
    out = {k: v for k, v in (state.get("overrides") or {}).items() if k != "kind"}
    out["formats"] = {**(out.get("formats") or {}), questions[index]["source"]: list(formats)}
    return out


def _by_id(items: list[dict], key: str) -> dict:
    """{id[key]: value} from a pattern-matching State list (`ctx.states_list` entries)."""
    return {item["id"][key]: item.get("value") for item in items}


def _patterns(states_list: list) -> dict[str, list[dict]]:
    """The pattern-matching State lists of a callback (`ctx.states_list`) by their ids' "type",
    so a control is found by what it is rather than by where it sits among the States."""
    found: dict[str, list[dict]] = {}
    for items in states_list:
        if isinstance(items, list) and items and isinstance(items[0], dict):
            ident = items[0].get("id")
            if isinstance(ident, dict) and isinstance(ident.get("type"), str):
                found[ident["type"]] = items
    return found


# -- callbacks ------------------------------------------------------------------------------------


def register_callbacks(app, workspace: Workspace, jobs: Jobs) -> None:
    def city_of(ui: dict | None) -> str:
        city = ui_settings(ui)["city"]
        if city in workspace.cities:
            return city
        return app.server.config["CITYLENS"].city

    def chosen_city(value: object, ui: dict | None) -> str:
        """The city chosen on the page, if it is one the workspace knows; else the viewed one."""
        return value if isinstance(value, str) and value in workspace.cities else city_of(ui)

    def owned_job(data: dict | None):
        """The analyst and the job of the page, checked on the server."""
        analyst = current_analyst()
        if analyst is None:
            return None, None
        token = data.get("token") if isinstance(data, dict) else None
        return analyst, jobs.get(token if isinstance(token, str) else None, analyst)

    def job_or_refusal(data: dict | None, lang: str):
        """(the page's job, None), or (None, what the status shows instead: a visitor's log-in
        notice, or the job is gone)."""
        analyst, job = owned_job(data)
        if analyst is None:
            return None, visitor_notice(lang, PATH, "upload.visitor")
        if job is None:
            return None, html.P(t("upload.gone", lang), className="muted")
        return job, None

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
        State("upload-city", "value"),
        State("upload-job", "data"),
        State("ui", "data"),
        prevent_initial_call=True,
    )
    def _check(_reread, _check_clicks, kind, _settings, _types, _formats, _units, _sources,
               _source_units, _constants, _generic, city, data, ui):  # fmt: skip
        lang = ui_settings(ui)["lang"]
        job, refusal = job_or_refusal(data, lang)
        if refusal is not None:
            return refusal, True
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
        form = _patterns(ctx.states_list)

        def given(kind_of_control: str, key: str) -> dict:
            return _by_id(form.get(kind_of_control, []), key)

        overrides = overrides_from(
            state,
            given("up-set", "name"),
            given("up-type", "i"),
            given("up-fmt", "i"),
            given("up-unit", "i"),
        )
        if trigger == "upload-kind":
            mapping, chosen_kind = None, kind
        else:
            chosen_kind = kind or current_kind
            generic = given("up-generic", "k")
            mapping = mapping_from(
                state,
                chosen_kind,
                given("up-map", "t"),
                given("up-map-unit", "t"),
                given("up-map-const", "t"),
                next(iter(generic.values())) if generic else None,
            )
        try:
            jobs.check(job, overrides, mapping, chosen_kind, chosen_city(city, ui))
        except JobError as exc:
            return html.P(str(exc), className="upload-error", role="alert"), no_update
        return status_view(job.read(), lang), False

    @app.callback(
        Output("upload-place", "children"),
        Input("upload-city", "value"),
        Input("upload-rendered", "data"),
        State("upload-job", "data"),
        State("ui", "data"),
    )
    def _place(city, _rendered, data, ui):
        analyst, job = owned_job(data)
        if analyst is None or job is None:
            return []
        profile = workspace.cities[chosen_city(city, ui)]
        return place_view(jobs.place_warnings(job, profile), profile, ui_settings(ui)["lang"])

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
        State("upload-city", "value"),
        State("upload-job", "data"),
        State("ui", "data"),
        prevent_initial_call=True,
    )
    def _commit(clicks, mode, target, title, description, source, source_url, licence,
                round_table, sdg, drop_bad, city, data, ui):  # fmt: skip
        if not clicks:
            raise PreventUpdate
        lang = ui_settings(ui)["lang"]
        job, refusal = job_or_refusal(data, lang)
        if refusal is not None:
            return refusal, True
        mode = mode if mode in {"new", "append", "replace"} else "new"
        if mode != "new" and not target:
            return html.P(
                t("upload.need_target", lang), className="upload-error", role="alert"
            ), True
        meta = UploadMeta(
            title=(title or "").strip()[:200],
            description=(description or "").strip()[:2000],
            source=(source or "").strip()[:300] or f"upload by {current_analyst()}",
            source_url=(source_url or "").strip()[:500],
            licence=(licence or "").strip()[:100],
            city=chosen_city(city, ui),
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
        Output("upload-status", "children", allow_duplicate=True),
        Output("upload-poll", "disabled", allow_duplicate=True),
        Input({"type": "up-date-order", "q": ALL, "order": ALL}, "n_clicks"),
        State("upload-city", "value"),
        State("upload-job", "data"),
        State("ui", "data"),
        prevent_initial_call=True,
    )
    def _date_order(_clicks, city, data, ui):
        trigger = ctx.triggered_id
        # drawn buttons call this too, with no click: only a click on one is an answer
        if not isinstance(trigger, dict) or not (ctx.triggered and ctx.triggered[0].get("value")):
            raise PreventUpdate
        lang = ui_settings(ui)["lang"]
        job, refusal = job_or_refusal(data, lang)
        if refusal is not None:
            return refusal, True
        state = job.read()
        overrides = date_order_overrides(state, trigger.get("q"), trigger.get("order"))
        if overrides is None:
            raise PreventUpdate
        mapping = state.get("mapping") or None
        try:
            jobs.check(job, overrides, mapping, (mapping or {}).get("kind"), chosen_city(city, ui))
        except JobError as exc:
            return html.P(str(exc), className="upload-error", role="alert"), no_update
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
