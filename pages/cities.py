"""`/cities`: the cities the dashboard knows, and a form to add one from its district boundaries.

Adding a city writes `<data_dir>/cities/<id>/` through `datasets.city_admin.add_city` (every check
of the GeoJSON, then one atomic rename); the workspace sees the new folder at once, so the city
switcher, `?city=<id>` and the upload page know it without a restart.

Only analysts add cities: the form and its callback both check the session
(`components.auth.current_analyst()`); a visitor sees a reason and a way to log in.
"""

from __future__ import annotations

import base64
import binascii

from dash import Input, Output, State, dcc, html, no_update

from components.kpi import page_header
from datasets.city_admin import MAX_BYTES, CityError, NewCity, add_city, timezones
from i18n import LANGUAGES, fmt_number, t

from . import Page, PageContext


def may_add_city() -> bool:
    """Whether the current request may add a city: an analyst's session is required wherever
    the app has accounts (`components.auth`, registered with the upload pages)."""
    try:
        from components.auth import current_analyst
    except ImportError:  # no accounts module in this build: nobody to check against
        return True
    try:
        return current_analyst() is not None
    except KeyError:  # an app built without the accounts extension (no sessions exist)
        return True


def refusal(lang: str):
    try:
        from components.auth import visitor_notice
    except ImportError:
        return html.P(t("cities.analysts_only", lang), className="notice")
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
            dcc.Upload(
                html.Div(t("cities.form.drop", lang), id="city-file-label"),
                id="city-file",
                accept=".geojson,.json,application/geo+json,application/json",
                max_size=MAX_BYTES,
                multiple=False,
                className="city-upload",
            ),
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


def decode_upload(contents: str) -> bytes:
    """The bytes of a dcc.Upload data URL (`data:<type>;base64,<data>`)."""
    _, _, data = (contents or "").partition(",")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise CityError("the file could not be read (not base64 data)") from None


def submit(workspace, lang: str, values: dict) -> tuple[bool, str, str | None]:
    """(ok, message, city id) for one submission of the form; pure apart from the write."""
    if not may_add_city():
        return False, t("cities.analysts_only", lang), None
    name = (values.get("name") or "").strip()
    if not name:
        return False, t("cities.no_name", lang), None
    if not values.get("contents"):
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
        raw = decode_upload(values["contents"])
        city_id, _notes = add_city(
            workspace.data_dir,
            NewCity(
                name={"en": name, **{k: v for k, v in (values.get("names") or {}).items() if v}},
                districts_geojson=raw,
                filename=values.get("filename") or "districts.geojson",
                timezone=values.get("timezone") or "UTC",
                name_field=(values.get("name_field") or "").strip() or None,
                population=population,
                attribution=f"Boundaries: {values.get('filename') or 'uploaded file'}",
            ),
        )
    except CityError as exc:
        return False, t("cities.refused", lang, reason=str(exc)), None
    workspace.reload_cities()
    city = workspace.city(city_id)
    return True, t("cities.added", lang, city=city.label(lang), id=city_id), city_id


def register(app, workspace) -> None:
    @app.callback(
        Output("city-file-label", "children"),
        Input("city-file", "filename"),
        State("ui", "data"),
        prevent_initial_call=True,
    )
    def show_file(filename, ui):
        lang = (ui or {}).get("lang", "en")
        return t("cities.form.chosen", lang, name=filename) if filename else no_update

    @app.callback(
        Output("city-result", "children"),
        Output("city-result", "className"),
        Output("city-list", "children"),
        Output("city-select", "options", allow_duplicate=True),
        Output("city-block", "hidden", allow_duplicate=True),
        Input("city-submit", "n_clicks"),
        State("city-name", "value"),
        *[State(f"city-name-{code}", "value") for code in LANGUAGES if code != "en"],
        State("city-tz", "value"),
        State("city-population", "value"),
        State("city-name-field", "value"),
        State("city-file", "contents"),
        State("city-file", "filename"),
        State("ui", "data"),
        prevent_initial_call=True,
    )
    def add(n_clicks, name, name_fr, name_es, name_zh, tz, population, name_field, contents,
            filename, ui):  # fmt: skip
        if not n_clicks:
            return (no_update,) * 5
        lang = (ui or {}).get("lang", "en")
        ok, message, city_id = submit(
            workspace,
            lang,
            {
                "name": name,
                "names": {"fr": name_fr, "es": name_es, "zh": name_zh},
                "timezone": tz,
                "population": population,
                "name_field": name_field,
                "contents": contents,
                "filename": filename,
            },
        )
        children = [html.P(message, id="city-message")]
        if ok:
            children += [
                html.P(t("cities.next", lang, id=city_id), className="muted"),
                html.A(
                    t("cities.open_sdg", lang) + " →",
                    href=f"/sdg?city={city_id}",
                    className="btn btn-small",
                    id="city-open-sdg",
                ),
            ]
        options = [{"label": c.label(lang), "value": c.id} for c in workspace.cities.values()]
        return (
            children,
            "city-result " + ("ok" if ok else "error"),
            city_list(workspace, lang).children,
            options,
            len(options) < 2,
        )
