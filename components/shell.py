"""The app shell: header with navigation, language and theme; the filter bar; the footer.

The shell is static so that the URL-state callback always finds its controls; the texts in it
are filled by a callback when the language changes.
"""

from __future__ import annotations

from dash import dcc, html

from i18n import LANGUAGE_NAMES, LANGUAGES

from .state import THEMES


def header(nav_links: list[tuple[str, str]], cities: list[dict], city: str):
    """`nav_links` are (path, element id) pairs; their texts come from the chrome callback.
    The city menu starts with its options and the default city: a value without its option
    would be cleared by the dropdown, which costs the first load one more URL-sync request."""
    city_block = html.Div(
        [
            html.Label(id="city-label", htmlFor="city-select", className="sr-only"),
            dcc.Dropdown(
                id="city-select",
                options=cities,
                value=city,
                clearable=False,
                searchable=False,
                className="city-select",
            ),
        ],
        id="city-block",
        hidden=True,
    )
    return html.Header(
        [
            html.A("", id="skip-link", href="#main", className="skip-link"),
            html.Div(
                [
                    html.A(
                        [
                            html.Img(src="/assets/logo.svg", alt="", className="logo"),
                            html.Span("CityLens", id="brand-name"),
                        ],
                        href="/",
                        className="brand",
                    ),
                    html.Span(id="brand-tagline", className="tagline"),
                ],
                className="brand-block",
            ),
            html.Nav(
                [
                    dcc.Link("", href=path, id=element_id, className="nav-link")
                    for path, element_id in nav_links
                ],
                id="main-nav",
                className="main-nav",
            ),
            html.Div(
                [
                    city_block,
                    html.Label(id="lang-label", htmlFor="lang-select", className="sr-only"),
                    dcc.Dropdown(
                        id="lang-select",
                        options=[
                            {"label": LANGUAGE_NAMES[code], "value": code} for code in LANGUAGES
                        ],
                        value=None,
                        clearable=False,
                        searchable=False,
                        className="lang-select",
                    ),
                    dcc.RadioItems(
                        id="theme-select",
                        options=[{"label": name, "value": name} for name in THEMES],
                        value=None,
                        inline=True,
                        className="theme-select",
                    ),
                ],
                className="header-tools",
            ),
        ],
        className="site-header",
    )


def filter_bar():
    return html.Section(
        [
            html.Div(
                [
                    html.Label(id="filter-dates-label", className="filter-label"),
                    dcc.DatePickerRange(
                        id="filter-dates",
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                        clearable=False,
                        updatemode="bothdates",
                        start_date_id="filter-start",
                        end_date_id="filter-end",
                    ),
                ],
                className="filter-group",
            ),
            html.Div(
                [
                    html.Label(
                        id="filter-districts-label",
                        htmlFor="filter-districts",
                        className="filter-label",
                    ),
                    dcc.Dropdown(id="filter-districts", multi=True, className="district-select"),
                ],
                className="filter-group grow",
            ),
            html.Div(id="page-options", className="filter-group"),
            html.Button(id="filter-reset", className="btn btn-ghost", n_clicks=0),
            # the period every figure of the page shows, its presets and comparison
            html.Div(id="filter-period", className="filter-period", **{"aria-live": "polite"}),
        ],
        id="filter-bar",
        className="filter-bar",
        **{"aria-labelledby": "filter-dates-label"},
    )


def footer():
    return html.Footer(
        [
            html.P(id="footer-synthetic", className="notice"),
            html.P(id="footer-about", className="muted"),
            html.P(id="footer-boundaries", className="muted small"),
        ],
        className="site-footer",
    )
