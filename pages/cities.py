"""`/cities`: the cities the dashboard knows, and a form to add one from its district boundaries.

    POST /cities/districts?lang=xx   raw body (the GeoJSON), headers X-Filename, X-Name-Field,
                                     X-CSRF-Token → 201 {"token", "file", "message"}, or
                                     200 {"error"}: read, and refused (what is wrong, where);
                                     401/403 no session or token, 413 over 50 MB, 400 cut off,
                                     503 busy, 507 the disk is full, with {"error"} too

The district file does not travel in a Dash callback: `assets/cities.js` streams it to that
route (with progress), which keeps it checked and simplified as a pending file
(`datasets.pending_districts`) and answers a token; the form's callback sends the token when the
analyst adds the city. The route lives here, beside the form it serves, as the annex's does
beside the SDG page. Adding a city writes `<data_dir>/cities/<id>/` through
`datasets.city_admin.add_city` (every check of the GeoJSON, then one atomic rename); the
workspace sees the new folder at once, so the city switcher, `?city=<id>` and the upload page
know it without a restart.

Only analysts add cities: the form, the route and the callback each check the session
(`server.auth.current_analyst()`); a visitor sees a reason and a way to log in.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import unquote

import flask
from dash import Input, Output, State, dcc, html, no_update
from werkzeug.exceptions import ClientDisconnected

from components.kpi import page_header
from components.page import Page, PageContext
from components.state import ui_settings
from components.upload_view import transfer_row
from datasets.city_admin import (
    MAX_BYTES,
    CityError,
    DiskFull,
    NewCity,
    TooLarge,
    add_city,
    timezones,
)
from datasets.ingest import IngestError
from datasets.pending_districts import Busy, Pending, PendingDistricts
from i18n import LANGUAGES, fmt_number, normalize_language, t
from server.auth import csrf_token, current_analyst, require_analyst_json, visitor_notice
from server.http import allow_body

from .services import Services

DISTRICTS_ROUTE = "/cities/districts"
ACCEPT = ".geojson,.json,application/geo+json,application/json"
SCRIPT_MESSAGES = ("choose", "sending", "checking", "too_large", "failed", "network")


def analyst() -> str | None:
    """The analyst of this request, who alone may add a city (None: a visitor, no request)."""
    try:
        return current_analyst()
    except KeyError:  # an app built without the accounts extension: nobody is an analyst
        return None


def may_add_city() -> bool:
    return analyst() is not None


def refusal(lang: str):
    return visitor_notice(lang, "/cities", "cities.analysts_only")


def city_list(workspace, lang: str):
    items = []
    for city in workspace.cities.values():
        datasets = workspace.catalog.datasets(city=city.id)
        facts = [
            city.id,
            city.timezone,
            t("cities.districts", lang, n=len(city.districts)),
            t("cities.datasets", lang, n=len(datasets)),
        ]
        if city.population:
            facts.append(t("cities.residents", lang, n=fmt_number(city.population, lang)))
        items.append(
            html.Li(
                [
                    html.Strong(city.label(lang)),
                    html.Span(" · ".join(facts), className="muted"),
                    html.A(t("cities.open_sdg", lang), href=f"/sdg?city={city.id}"),
                    html.A(t("cities.open_data", lang), href=f"/data?city={city.id}"),
                ],
                className="city-item",
                **{"data-city": city.id},
            )
        )
    return html.Ul(items, className="city-list", id="city-list")


def _input(field_id: str, label_key: str, lang: str, **kwargs):
    return html.Div(
        [
            html.Label(t(label_key, lang), htmlFor=field_id, className="filter-label"),
            dcc.Input(id=field_id, className="city-input", debounce=False, **kwargs),
        ],
        className="city-field",
    )


def file_zone(lang: str):
    """Where the district file is dropped or chosen: `assets/cities.js` puts a file input in the
    slot, streams the file to `DISTRICTS_ROUTE` and shows the transfer and the check's answer."""
    messages = {
        f"data-msg-{key.replace('_', '-')}": t(f"cities.file.{key}", lang)
        for key in SCRIPT_MESSAGES
    }
    return html.Div(
        [
            html.P(t("cities.form.drop", lang), className="dropzone-title"),
            html.Span(id="city-file-slot", className="upload-input-slot"),
            transfer_row(
                "city-file-transfer", "city-file-bar", "city-file-fill", "city-file-progress"
            ),
            html.P(id="city-file-status", className="city-file-status", role="status"),
        ],
        id="city-file",
        className="dropzone city-upload",
        **{
            "data-url": f"{DISTRICTS_ROUTE}?lang={lang}",
            "data-csrf": csrf_token(),
            "data-max": str(MAX_BYTES),
            "data-accept": ACCEPT,
            **messages,
        },
    )


def form(ctx: PageContext):
    lang = ctx.lang
    return html.Section(
        [
            html.H2(t("cities.form.title", lang)),
            html.P(t("cities.form.intro", lang), className="muted"),
            html.Div(
                [
                    _input("city-name", "cities.form.name", lang, type="text", required=True),
                    *[
                        _input(f"city-name-{code}", f"cities.form.name_{code}", lang, type="text")
                        for code in LANGUAGES
                        if code != "en"
                    ],
                    html.Div(
                        [
                            html.Label(
                                t("cities.form.timezone", lang),
                                htmlFor="city-tz",
                                className="filter-label",
                            ),
                            dcc.Dropdown(
                                id="city-tz",
                                options=timezones(),
                                value=ctx.city.timezone,
                                clearable=False,
                            ),
                        ],
                        className="city-field",
                    ),
                    _input("city-population", "cities.form.population", lang, type="number", min=1),
                    _input("city-name-field", "cities.form.name_field", lang, type="text"),
                ],
                className="city-fields",
            ),
            html.Label(t("cities.form.file", lang), className="filter-label"),
            file_zone(lang),
            dcc.Store(id="city-districts", storage_type="memory"),
            html.Button(
                t("cities.form.submit", lang),
                id="city-submit",
                className="btn btn-primary",
                n_clicks=0,
            ),
            html.Div(id="city-result", role="status", className="city-result"),
        ],
        className="card city-form",
        id="city-form",
    )


def layout(ctx: PageContext):
    lang = ctx.lang
    return html.Div(
        [
            page_header(t("cities.title", lang), t("cities.subtitle", lang)),
            html.Section(
                [html.H2(t("cities.list.title", lang)), city_list(ctx.workspace, lang)],
                className="card city-known",
            ),
            form(ctx) if may_add_city() else refusal(lang),
        ],
        className="page-cities",
    )


PAGE = Page(
    path="/cities", nav="cities.title", title="cities.title", layout=layout, filters=False,
    in_nav=False,
)  # fmt: skip
PAGES = (PAGE,)


def _refusal(message: str, status: int):
    return flask.jsonify(error=message), status


def simplified(pending: Pending, lang: str) -> str:
    """The sentence saying how far the boundaries were simplified (empty: kept whole)."""
    summary = pending.summary
    if summary.vertices_kept >= summary.vertices_read:
        return ""
    return t(
        "cities.file.simplified",
        lang,
        read=fmt_number(summary.vertices_read, lang),
        kept=fmt_number(summary.vertices_kept, lang),
    )


def file_message(pending: Pending, lang: str) -> str:
    """What the check found: the districts, and the simplification if there was one."""
    n = fmt_number(pending.summary.districts, lang)
    ready = t("cities.file.ready", lang, name=pending.file, n=n)
    return f"{ready} {simplified(pending, lang)}".strip()


def receive_districts(store: PendingDistricts):
    """`POST /cities/districts`: the district file, checked and kept pending for its owner."""
    # The file's limit and a little room, rather than the server's few MB: a file declared
    # just over it gets the JSON answer of `store.receive`, which the page shows.
    allow_body(MAX_BYTES + 1024 * 1024)
    owner, refused = require_analyst_json()
    if refused:
        return refused
    # the language from the query only: `request.values` would parse a form body
    lang = normalize_language(flask.request.args.get("lang"))
    headers = flask.request.headers
    filename = unquote(headers.get("X-Filename", ""))[:1000]
    name_field = unquote(headers.get("X-Name-Field", "")).strip()[:200] or None
    try:
        pending = store.receive(
            owner, filename, flask.request.stream, flask.request.content_length, name_field
        )
    except TooLarge as exc:
        return _refusal(t("cities.refused", lang, reason=str(exc)), 413)
    except IngestError as exc:  # cut off: fewer bytes than declared
        return _refusal(t("cities.refused", lang, reason=str(exc)), 400)
    except ClientDisconnected:
        return _refusal(t("cities.file.cut_off", lang), 400)
    except DiskFull:
        return _refusal(t("cities.file.disk_full", lang), 507)
    except Busy:
        return _refusal(t("cities.file.busy", lang), 503)
    except CityError as exc:  # the request did its part: the verdict is on the file
        return _refusal(t("cities.refused", lang, reason=str(exc)), 200)
    message = file_message(pending, lang)
    return flask.jsonify(token=pending.token, file=pending.file, message=message), 201


def submit(
    workspace, store: PendingDistricts, lang: str, owner: str | None, values: dict
) -> tuple[bool, str, str | None]:
    """(ok, message, city id) for one submission of the form by `owner` (None: a visitor);
    pure apart from the write."""
    if owner is None:
        return False, t("cities.analysts_only", lang), None
    name = (values.get("name") or "").strip()
    if not name:
        return False, t("cities.no_name", lang), None
    districts = values.get("districts")
    pending = store.get(districts.get("token") if isinstance(districts, dict) else None, owner)
    if pending is None:
        return False, t("cities.no_file", lang), None
    population = values.get("population")
    if population not in (None, ""):
        try:
            population = int(population)
        except (TypeError, ValueError):
            return False, t("cities.bad_population", lang), None
        if population <= 0:
            return False, t("cities.bad_population", lang), None
    else:
        population = None
    try:
        boundaries = pending.boundaries.read_bytes()
    except OSError:  # forgotten meanwhile (a day old)
        return False, t("cities.no_file", lang), None
    try:
        city_id, _notes = add_city(
            workspace.data_dir,
            NewCity(
                name={"en": name, **{k: v for k, v in (values.get("names") or {}).items() if v}},
                districts_geojson=boundaries,
                filename=pending.file,
                timezone=values.get("timezone") or "UTC",
                name_field=(values.get("name_field") or "").strip() or None,
                population=population,
                attribution=f"Boundaries: {pending.file}",
            ),
        )
    except DiskFull:
        return False, t("cities.disk_full", lang), None
    except CityError as exc:
        return False, t("cities.refused", lang, reason=str(exc)), None
    store.discard(pending)
    workspace.reload_cities()
    city = workspace.city(city_id)
    added = t("cities.added", lang, city=city.label(lang), id=city_id)
    return True, f"{added} {simplified(pending, lang)}".strip(), city_id


def _added(city_id: str, lang: str) -> list:
    """What comes next for a new city: its SDG page and its first upload."""
    return [
        html.P(t("cities.next", lang, id=city_id), className="muted"),
        html.A(
            t("cities.open_sdg", lang) + " →",
            href=f"/sdg?city={city_id}",
            className="btn btn-small",
            id="city-open-sdg",
        ),
        html.A(
            t("cities.open_upload", lang) + " →",
            href=f"/data/upload?city={city_id}",
            className="btn btn-small",
            id="city-open-upload",
        ),
    ]


def add(
    workspace,
    store: PendingDistricts,
    owner: str | None,
    *,
    n_clicks: int | None,
    ui: dict | None,
    **values,
) -> tuple:
    """(result, its class, the city list, the city switcher's options, whether the switcher is
    hidden, the pending file's token, the file's status line) once the form is submitted by
    `owner` (None: a visitor); `values` are the form's fields as `submit` reads them."""
    if not n_clicks:
        return (no_update,) * 7
    lang = ui_settings(ui)["lang"]
    ok, message, city_id = submit(workspace, store, lang, owner, values)
    children = [html.P(message, id="city-message")]
    if ok:
        children += _added(city_id, lang)
    options = [{"label": c.label(lang), "value": c.id} for c in workspace.cities.values()]
    return (
        children,
        "city-result " + ("ok" if ok else "error"),
        city_list(workspace, lang).children,
        options,
        len(options) < 2,
        None if ok else no_update,  # the pending file became the city
        "" if ok else no_update,
    )


def _add_request(workspace, store: PendingDistricts, **values):
    return add(workspace, store, analyst(), **values)


def register(app, services: Services) -> None:
    """The district file's route and the form's callback."""
    workspace = services.workspace
    store = PendingDistricts(workspace.data_dir)
    app.server.add_url_rule(
        DISTRICTS_ROUTE, "receive_districts", partial(receive_districts, store), methods=["POST"]
    )
    app.callback(
        Output("city-result", "children"),
        Output("city-result", "className"),
        Output("city-list", "children"),
        Output("city-select", "options", allow_duplicate=True),
        Output("city-block", "hidden", allow_duplicate=True),
        Output("city-districts", "data"),
        Output("city-file-status", "children"),
        inputs=dict(n_clicks=Input("city-submit", "n_clicks")),
        state=dict(
            name=State("city-name", "value"),
            names={code: State(f"city-name-{code}", "value") for code in LANGUAGES if code != "en"},
            timezone=State("city-tz", "value"),
            population=State("city-population", "value"),
            name_field=State("city-name-field", "value"),
            districts=State("city-districts", "data"),
            ui=State("ui", "data"),
        ),
        prevent_initial_call=True,
    )(partial(_add_request, workspace, store))
