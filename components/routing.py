"""The callbacks of the shell: URL ⇄ controls ⇄ stores, the page router and the chrome texts.

The URL is the source of truth. One callback owns it and every control that mirrors it (Dash
allows a property to be input and output of the same callback), so a link, the back button, a
control and a click on a district map all go through `sync()`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import flask
import orjson
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.development.base_component import Component

from datasets.query import Filters
from i18n import DEFAULT_LANGUAGE, LANGUAGES, t

from .charts import REGISTRY
from .page import Page
from .period import COMPARISON_PARAM, register_period_line, with_default_period
from .state import THEMES, ViewState, parse_codes, parse_date, ui_settings


def wire_ready(tree):
    """A component tree as the plain JSON Dash sends for it. Dash writes a reply with orjson
    when it can and otherwise walks it in Python, component by component (3-4 ms for a page's
    ~220); orjson converts the components itself this way, in under half that."""
    data = orjson.dumps(tree, default=_component_json, option=orjson.OPT_NON_STR_KEYS)
    return orjson.loads(data)


def _component_json(value):
    if isinstance(value, Component):
        return value.to_plotly_json()
    raise TypeError(f"not JSON: {type(value).__name__}")


@dataclass(frozen=True)
class Site:
    """What the shell needs from the app: its pages and a few lookups per city."""

    pages: list[Page]
    render_page: Callable  # (page, state, ui, path) -> (content, page options)
    # (city id, path, page options) -> the span of the data that page draws
    coverage: Callable[[str, str, dict], tuple[dt.date | None, dt.date | None]]
    district_options: Callable[[str, str], list[dict]]  # (city id, lang) -> dropdown options
    city_options: Callable[[str], list[dict]]  # lang -> dropdown options
    default_city: str

    @property
    def nav_pages(self) -> list:
        return [p for p in self.pages if p.in_nav]

    def find(self, pathname: object) -> Page | None:
        return find_page(self.pages, pathname)


def find_page(pages: list[Page], pathname: object) -> Page | None:
    """The page at `pathname`: the one with that exact path, else one serving paths below its
    own (`Page.prefix`)."""
    path = "/" + (pathname if isinstance(pathname, str) else "/").strip("/")
    exact = next((p for p in pages if p.path == path), None)
    if exact is not None:
        return exact
    return next((p for p in pages if p.prefix and path.startswith(p.path.rstrip("/") + "/")), None)


def nav_id(page) -> str:
    return "nav-" + (page.path.strip("/").replace("/", "-") or "overview")


def browser_language() -> str:
    try:
        best = flask.request.accept_languages.best_match(LANGUAGES)
    except RuntimeError:  # outside a request
        best = None
    return best or DEFAULT_LANGUAGE


def clicked_district(click: dict | None) -> int | None:
    """The district code in a map click (a choropleth's `location`, or customdata's first item)."""
    points = click.get("points") if isinstance(click, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    point = points[0]
    raw = point.get("location")
    if raw is None:
        custom = point.get("customdata")
        raw = custom[0] if isinstance(custom, list) and custom else None
    codes = parse_codes([raw])
    return codes[0] if codes else None


def nav_query(state: ViewState) -> str:
    """The query a navigation link carries: the view's filters, comparison, city and language,
    not page options."""
    return state.with_changes(
        options={k: v for k, v in state.options.items() if k == COMPARISON_PARAM}
    ).to_query()


def toggle(codes: tuple[int, ...], code: int) -> tuple[int, ...]:
    return tuple(c for c in codes if c != code) if code in codes else (*codes, code)


def filters_data(state: ViewState) -> dict:
    return {
        "from": state.start.isoformat() if state.start else None,
        "to": state.end.isoformat() if state.end else None,
        "district": list(state.districts),
        "options": dict(sorted(state.options.items())),
    }


def filters_from_data(data: object, codes: Iterable[int] | None = None) -> Filters:
    """The `filters` store as the queries take it, whatever a request put in it; given the
    city's district codes, only those."""
    state = ViewState.from_filters(data).within(None, None, codes)
    return Filters(start=state.start, end=state.end, districts=state.districts)


def next_state(state: ViewState, trigger, values: dict) -> ViewState:
    """The view after one control changed; `values` holds the controls' current values, as
    the request sent them: a value the control cannot hold leaves the view as it was."""
    start, end = parse_date(values["start"]), parse_date(values["end"])
    if trigger == "filter-dates" and start and end:
        return state.with_changes(start=min(start, end), end=max(start, end))
    if trigger == "filter-districts":
        return state.with_changes(districts=parse_codes(values["districts"] or []))
    if trigger == "lang-select" and values["lang"] in LANGUAGES:
        return state.with_changes(lang=values["lang"])
    if trigger == "theme-select" and values["theme"] in THEMES:
        return state.with_changes(theme=values["theme"])
    if trigger == "city-select" and values["city"] and isinstance(values["city"], str):
        return ViewState(lang=state.lang, theme=state.theme, city=values["city"])
    if trigger == "filter-reset":
        return ViewState(lang=state.lang, theme=state.theme, city=state.city)
    if isinstance(trigger, dict) and trigger.get("type") == "page-option":
        name, value = trigger.get("name"), values["options"].get(trigger.get("name"))
        if isinstance(name, str) and isinstance(value, str):
            return state.with_changes(options={**state.options, name: value})
    if isinstance(trigger, dict) and trigger.get("type") == "chart-graph":
        chart = REGISTRY.get(trigger["id"])
        code = clicked_district(values["click"]) if chart and chart.filters_district else None
        if code is not None:
            return state.with_changes(districts=toggle(state.districts, code))
    return state


def remembered_choice(remembered: dict, state: ViewState, trigger: object) -> dict:
    """What the browser keeps as its language and theme: a choice made with the header's
    selectors. A language or theme given in a link applies to that view only: a shared
    `?lang=zh` link must not become the default of every later visit."""
    chosen = dict(remembered)
    if trigger == "lang-select" and state.lang:
        chosen["lang"] = state.lang
    if trigger == "theme-select" and state.theme:
        chosen["theme"] = state.theme
    return {k: v for k, v in chosen.items() if v}


def pattern_ids(layout, kind: str = "chart-graph") -> list[str]:
    """The ids of the components {"type": kind, "id": ...} in a rendered page layout, in page
    order: the chart cards by default, "kpi-block" for the KPI blocks."""
    found = []
    for component in _components(layout):
        cid = getattr(component, "id", None)
        if isinstance(cid, dict) and cid.get("type") == kind:
            found.append(cid["id"])
    return found


def synthetic_shown(layout) -> list[str]:
    """The titles of the synthetic datasets a rendered page shows, in page order: those whose
    flag (`charts.data_flag`) it carries, in chart source lines, catalog entries and facts."""
    found: list[str] = []
    for component in _components(layout):
        classes = (getattr(component, "className", None) or "").split()
        title = getattr(component, "data-dataset-title", None)
        if "flag-synthetic" in classes and title and title not in found:
            found.append(title)
    return found


def _components(node) -> Iterator:
    if isinstance(node, list | tuple):
        for child in node:
            yield from _components(child)
        return
    if node is None or isinstance(node, str | int | float):
        return
    yield node
    yield from _components(getattr(node, "children", None))


def synced(site: Site, search: str | None, trigger: object, values: dict, saved: object,
           old_filters: object, old_ui: object, pathname: object) -> tuple:  # fmt: skip
    """The URL, the controls and the stores after `trigger` changed (`next_state`): `values`
    holds the controls' current values as the request sent them; `saved` is what the browser
    keeps in its local storage. Returns the outputs of `sync`, in order."""
    state = next_state(ViewState.from_query(search), trigger, values)
    known_cities = {o["value"] for o in site.city_options(DEFAULT_LANGUAGE)}
    if state.city == site.default_city or (state.city and state.city not in known_cities):
        state = state.with_changes(city=None)

    saved = saved if isinstance(saved, dict) else {}
    remembered = {
        "lang": saved.get("lang") if saved.get("lang") in LANGUAGES else None,
        "theme": saved.get("theme") if saved.get("theme") in THEMES else None,
    }
    ui = {
        "lang": state.lang or remembered["lang"] or browser_language(),
        "theme": state.theme or remembered["theme"] or "light",
        "city": state.city or site.default_city,
    }
    # Dates beyond the city's data are brought to its first and last day (the date picker,
    # the link and every chart then show the period actually drawn), districts to its own
    first, last = site.coverage(ui["city"], pathname, state.options)
    district_options = site.district_options(ui["city"], ui["lang"])
    state = state.within(first, last, [o["value"] for o in district_options])
    # Without dates in the link, the charts, the KPIs and the picker all show the data's
    # default period; the link stays without them, so it follows the data as it grows
    shown = with_default_period(state, first, last)
    new_filters = filters_data(shown)
    new_search = state.to_query()
    return (
        new_search if new_search != (search or "") else no_update,
        (shown.start or first).isoformat() if (shown.start or first) else None,
        (shown.end or last).isoformat() if (shown.end or last) else None,
        district_options,
        list(state.districts),
        ui["lang"],
        ui["theme"],
        ui["city"],
        [
            state.options.get(name, value if isinstance(value, str) else None)
            for name, value in values["options"].items()
        ],
        new_filters if new_filters != old_filters else no_update,
        ui if ui != old_ui else no_update,
        remembered_choice(remembered, state, trigger),
        *[page.path + nav_query(state) for page in site.nav_pages],
    )


def sync(site: Site, search, start, end, districts, lang, theme, city, _reset, option_values,
         _clicks, saved, old_filters, old_ui, pathname) -> tuple:  # fmt: skip
    """The Dash adapter of `synced`: the trigger, the page options and a map click are read
    from the callback context."""
    option_names = [item["id"]["name"] for item in ctx.inputs_list[8]]
    options = dict(zip(option_names, option_values, strict=True))
    click = ctx.triggered[0]["value"] if ctx.triggered else None
    values = {"start": start, "end": end, "districts": districts, "lang": lang,
              "theme": theme, "city": city, "options": options, "click": click}  # fmt: skip
    return synced(site, search, ctx.triggered_id, values, saved, old_filters, old_ui, pathname)


def not_found(lang: str) -> html.Div:
    return html.Div(
        [html.H1(t("page.not_found", lang)), html.A(t("page.back_home", lang), href="/")],
        className="not-found",
    )


def route(site: Site, pathname: object, ui: object, search: str | None) -> tuple:
    """The page at `pathname` for the view in `search`, its options, whether the filter bar
    is hidden, the navigation links' classes and the footer's synthetic-data notice."""
    if not ui:
        return (no_update,) * (5 + len(site.nav_pages))
    ui = ui_settings(ui)
    page = site.find(pathname)
    nav_classes = [
        "nav-link active" if page is nav_page else "nav-link" for nav_page in site.nav_pages
    ]
    if page is None:
        return not_found(ui["lang"]), [], True, *nav_classes, "", True
    content, options = site.render_page(page, ViewState.from_query(search), ui, pathname)
    synthetic = synthetic_shown(content)
    notice = t("footer.synthetic", ui["lang"], datasets=", ".join(synthetic))
    return (
        wire_ready(content),
        wire_ready(options),
        not page.filters,
        *nav_classes,
        notice if synthetic else "",
        not synthetic,
    )


def chrome(site: Site, ui: object) -> tuple:
    """The texts of the header, filter bar and footer in the viewer's language."""
    if not ui:
        return (no_update,) * (len(site.nav_pages) + 14)
    lang = ui_settings(ui)["lang"]
    cities = site.city_options(lang)
    return (
        *[t(page.nav, lang) for page in site.nav_pages],
        t("app.tagline", lang),
        t("ui.skip", lang),
        t("ui.language", lang),
        t("filter.dates", lang),
        t("filter.districts", lang),
        t("filter.all_districts", lang),
        t("filter.reset", lang),
        t("footer.about", lang),
        [{"label": t(f"ui.theme_{name}", lang), "value": name} for name in ("light", "dark")],
        t("filter.start", lang),
        t("filter.end", lang),
        cities,
        len(cities) < 2,
        t("ui.city", lang),
    )


THEME_SWITCH = """
function(ui) {
    if (!ui) { return window.dash_clientside.no_update; }
    document.documentElement.lang = ui.lang === 'zh' ? 'zh-Hans' : ui.lang;
    document.body.classList.toggle('theme-dark', ui.theme === 'dark');
    document.body.classList.toggle('theme-light', ui.theme !== 'dark');
    return ui.theme;
}
"""


def register_routing(app, site: Site) -> None:
    """The shell's callbacks: `sync` owns the URL and every control mirroring it, `route`
    draws the page, `chrome` translates the shell, and the theme is switched in the browser."""
    nav_ids = [nav_id(p) for p in site.nav_pages]
    register_period_line(app, site)
    app.callback(
        Output("url", "search"),
        Output("filter-dates", "start_date"),
        Output("filter-dates", "end_date"),
        Output("filter-districts", "options"),
        Output("filter-districts", "value"),
        Output("lang-select", "value"),
        Output("theme-select", "value"),
        Output("city-select", "value"),
        Output({"type": "page-option", "name": ALL}, "value"),
        Output("filters", "data"),
        Output("ui", "data"),
        Output("ui-saved", "data"),
        *[Output(element_id, "href") for element_id in nav_ids],
        Input("url", "search"),
        Input("filter-dates", "start_date"),
        Input("filter-dates", "end_date"),
        Input("filter-districts", "value"),
        Input("lang-select", "value"),
        Input("theme-select", "value"),
        Input("city-select", "value"),
        Input("filter-reset", "n_clicks"),
        Input({"type": "page-option", "name": ALL}, "value"),
        Input({"type": "chart-graph", "id": ALL}, "clickData"),
        State("ui-saved", "data"),
        State("filters", "data"),
        State("ui", "data"),
        State("url", "pathname"),
    )(functools.partial(sync, site))
    app.callback(
        Output("page", "children"),
        Output("page-options", "children"),
        Output("filter-bar", "hidden"),
        *[Output(element_id, "className") for element_id in nav_ids],
        Output("footer-synthetic", "children"),
        Output("footer-synthetic", "hidden"),
        Input("url", "pathname"),
        Input("ui", "data"),
        State("url", "search"),
    )(functools.partial(route, site))
    app.callback(
        *[Output(element_id, "children") for element_id in nav_ids],
        Output("brand-tagline", "children"),
        Output("skip-link", "children"),
        Output("lang-label", "children"),
        Output("filter-dates-label", "children"),
        Output("filter-districts-label", "children"),
        Output("filter-districts", "placeholder"),
        Output("filter-reset", "children"),
        Output("footer-about", "children"),
        Output("theme-select", "options"),
        Output("filter-dates", "start_date_placeholder_text"),
        Output("filter-dates", "end_date_placeholder_text"),
        Output("city-select", "options"),
        Output("city-block", "hidden"),
        Output("city-label", "children"),
        Input("ui", "data"),
    )(functools.partial(chrome, site))
    app.clientside_callback(THEME_SWITCH, Output("theme-holder", "className"), Input("ui", "data"))
