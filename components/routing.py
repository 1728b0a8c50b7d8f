"""The callbacks of the shell: URL ⇄ controls ⇄ stores, the page router and the chrome texts.

The URL is the source of truth. One callback owns it and every control that mirrors it (Dash
allows a property to be input and output of the same callback), so a link, the back button, a
control and a click on a district map all go through `next_state()`.
"""

from __future__ import annotations

import datetime as dt

import flask
from dash import ALL, Input, Output, State, ctx, html, no_update

from datasets.query import Filters
from i18n import DEFAULT_LANGUAGE, LANGUAGES, t

from .charts import REGISTRY
from .state import ViewState

NAV_IDS = {
    "/": "nav-overview",
    "/traffic": "nav-traffic",
    "/ecology": "nav-ecology",
    "/data": "nav-data",
}


def browser_language() -> str:
    try:
        best = flask.request.accept_languages.best_match(LANGUAGES)
    except RuntimeError:  # outside a request
        best = None
    return best or DEFAULT_LANGUAGE


def clicked_district(click: dict | None) -> int | None:
    """The district code in a map click (choroplethmap `location`, or customdata's first item)."""
    if not click or not click.get("points"):
        return None
    point = click["points"][0]
    raw = point.get("location")
    if raw is None:
        custom = point.get("customdata")
        raw = custom[0] if isinstance(custom, list) and custom else None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def nav_query(state: ViewState) -> str:
    """The query a navigation link carries: the view's filters and language, not page options."""
    return state.with_changes(options={}).to_query()


def toggle(codes: tuple[int, ...], code: int) -> tuple[int, ...]:
    return tuple(c for c in codes if c != code) if code in codes else (*codes, code)


def filters_data(state: ViewState) -> dict:
    return {
        "from": state.start.isoformat() if state.start else None,
        "to": state.end.isoformat() if state.end else None,
        "district": list(state.districts),
        "options": dict(sorted(state.options.items())),
    }


def filters_from_data(data: dict) -> Filters:
    return Filters(
        start=dt.date.fromisoformat(data["from"]) if data.get("from") else None,
        end=dt.date.fromisoformat(data["to"]) if data.get("to") else None,
        districts=tuple(int(c) for c in data.get("district") or ()),
    )


def register_routing(app, pages, render_page, coverage, district_options) -> None:
    """Wire the shell. `render_page(page, state, lang, theme)` builds a page, `coverage()` gives
    the (first, last) day of the city's data, `district_options(lang)` the district choices."""

    @app.callback(
        Output("url", "search"),
        Output("filter-dates", "start_date"),
        Output("filter-dates", "end_date"),
        Output("filter-districts", "options"),
        Output("filter-districts", "value"),
        Output("lang-select", "value"),
        Output("theme-select", "value"),
        Output({"type": "page-option", "name": ALL}, "value"),
        Output("filters", "data"),
        Output("ui", "data"),
        Output("ui-saved", "data"),
        *[Output(element_id, "href") for element_id in NAV_IDS.values()],
        Input("url", "search"),
        Input("filter-dates", "start_date"),
        Input("filter-dates", "end_date"),
        Input("filter-districts", "value"),
        Input("lang-select", "value"),
        Input("theme-select", "value"),
        Input("filter-reset", "n_clicks"),
        Input({"type": "page-option", "name": ALL}, "value"),
        Input({"type": "chart-graph", "id": ALL}, "clickData"),
        State("ui-saved", "data"),
        State("filters", "data"),
        State("ui", "data"),
    )
    def sync(
        search,
        start,
        end,
        districts,
        lang,
        theme,
        _reset,
        option_values,
        _clicks,
        saved,
        old_filters,
        old_ui,
    ):
        option_names = [item["id"]["name"] for item in ctx.inputs_list[7]]
        url_state = ViewState.from_query(search)
        trigger = ctx.triggered_id
        state = url_state
        if trigger == "filter-dates" and start and end:
            state = state.with_changes(
                start=dt.date.fromisoformat(start[:10]), end=dt.date.fromisoformat(end[:10])
            )
        elif trigger == "filter-districts":
            state = state.with_changes(districts=tuple(int(c) for c in districts or ()))
        elif trigger == "lang-select" and lang:
            state = state.with_changes(lang=lang)
        elif trigger == "theme-select" and theme:
            state = state.with_changes(theme=theme)
        elif trigger == "filter-reset":
            state = ViewState(lang=state.lang, theme=state.theme)
        elif isinstance(trigger, dict) and trigger.get("type") == "page-option":
            values = dict(zip(option_names, option_values, strict=True))
            state = state.with_changes(
                options={**state.options, trigger["name"]: values[trigger["name"]]}
            )
        elif isinstance(trigger, dict) and trigger.get("type") == "chart-graph":
            chart = REGISTRY.get(trigger["id"])
            click = ctx.triggered[0]["value"] if chart and chart.filters_district else None
            code = clicked_district(click)
            if code is not None:
                state = state.with_changes(districts=toggle(state.districts, code))

        saved = saved or {}
        ui = {
            "lang": state.lang or saved.get("lang") or browser_language(),
            "theme": state.theme or saved.get("theme") or "light",
        }
        first, last = coverage()
        new_filters = filters_data(state)
        new_search = state.to_query()
        return (
            new_search if new_search != (search or "") else no_update,
            (state.start or first).isoformat() if (state.start or first) else None,
            (state.end or last).isoformat() if (state.end or last) else None,
            district_options(ui["lang"]),
            list(state.districts),
            ui["lang"],
            ui["theme"],
            [
                state.options.get(name, value)
                for name, value in zip(option_names, option_values, strict=True)
            ],
            new_filters if new_filters != old_filters else no_update,
            ui if ui != old_ui else no_update,
            {**saved, **{k: v for k, v in (("lang", state.lang), ("theme", state.theme)) if v}},
            *[path + nav_query(state) for path in NAV_IDS],
        )

    @app.callback(
        Output("page", "children"),
        Output("page-options", "children"),
        Output("filter-bar", "hidden"),
        *[Output(element_id, "className") for element_id in NAV_IDS.values()],
        Input("url", "pathname"),
        Input("ui", "data"),
        State("url", "search"),
    )
    def route(pathname, ui, search):
        if not ui:
            return [no_update] * (3 + len(NAV_IDS))
        path = "/" + (pathname or "/").strip("/")
        page = next((p for p in pages if p.path == path), None)
        nav_classes = [
            "nav-link active" if page is not None and page.path == nav_path else "nav-link"
            for nav_path in NAV_IDS
        ]
        state = ViewState.from_query(search)
        if page is None:
            return (
                html.Div(
                    [
                        html.H1(t("page.not_found", ui["lang"])),
                        html.A(t("page.back_home", ui["lang"]), href="/"),
                    ],
                    className="not-found",
                ),
                [],
                True,
                *nav_classes,
            )
        content, options = render_page(page, state, ui["lang"], ui["theme"])
        return content, options, not page.filters, *nav_classes

    @app.callback(
        *[Output(element_id, "children") for element_id in NAV_IDS.values()],
        Output("brand-tagline", "children"),
        Output("skip-link", "children"),
        Output("lang-label", "children"),
        Output("filter-dates-label", "children"),
        Output("filter-districts-label", "children"),
        Output("filter-districts", "placeholder"),
        Output("filter-reset", "children"),
        Output("footer-synthetic", "children"),
        Output("footer-about", "children"),
        Output("theme-select", "options"),
        Output("filter-dates", "start_date_placeholder_text"),
        Output("filter-dates", "end_date_placeholder_text"),
        Input("ui", "data"),
    )
    def chrome(ui):
        if not ui:
            return [no_update] * (len(NAV_IDS) + 12)
        lang = ui["lang"]
        return (
            *[t(f"nav.{element_id.removeprefix('nav-')}", lang) for element_id in NAV_IDS.values()],
            t("app.tagline", lang),
            t("ui.skip", lang),
            t("ui.language", lang),
            t("filter.dates", lang),
            t("filter.districts", lang),
            t("filter.all_districts", lang),
            t("filter.reset", lang),
            t("footer.synthetic", lang),
            t("footer.about", lang),
            [{"label": t(f"ui.theme_{name}", lang), "value": name} for name in ("light", "dark")],
            t("filter.start", lang),
            t("filter.end", lang),
        )

    app.clientside_callback(
        """
        function(ui) {
            if (!ui) { return window.dash_clientside.no_update; }
            document.documentElement.lang = ui.lang === 'zh' ? 'zh-Hans' : ui.lang;
            document.body.classList.toggle('theme-dark', ui.theme === 'dark');
            document.body.classList.toggle('theme-light', ui.theme !== 'dark');
            return ui.theme;
        }
        """,
        Output("theme-holder", "className"),
        Input("ui", "data"),
    )
