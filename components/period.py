"""The period line of the filter bar: the period every chart and KPI of the page shows, stated
once, with presets and the comparison the KPI trends use (`?cmp=prev|yoy`).

The dates come from the `filters` store, which the shell fills with the data's default period
when the link has none (`with_default_period`), so the line, the picker, the charts and the KPI
cards always describe the same days. Presets and comparisons are links: the URL stays the state.
"""

from __future__ import annotations

import datetime as dt
import functools

from babel import dates as babel_dates
from dash import Input, Output, State, dcc, html, no_update

from datasets.period import (
    COMPARISONS,
    DEFAULT_COMPARISON,
    PRESETS,
    comparison_period,
    default_period,
    parse_comparison,
    preset_period,
)
from i18n import BABEL_LOCALES, t

from .state import ViewState, ui_settings

COMPARISON_PARAM = "cmp"  # the link's option naming the comparison


def with_default_period(state: ViewState, first: dt.date | None, last: dt.date | None):
    """The view with the data's default period when it names no dates."""
    if state.start or state.end:
        return state
    period = default_period(first, last)
    return state.with_changes(start=period[0], end=period[1]) if period else state


def fmt_period(start: dt.date, end: dt.date, lang: str) -> str:
    """ "1–30 Nov 2017", "1 nov. – 31 déc. 2017", "2017年11月1日至30日" as the language writes
    a span of days."""
    return babel_dates.format_interval(start, end, "yMMMd", locale=BABEL_LOCALES[lang])


def comparison_of(options: dict) -> str:
    """The comparison a view's options name (`?cmp=`), else the default."""
    return parse_comparison(options.get(COMPARISON_PARAM))


def kpi_trend_note(comparison: str, days: int, lang: str) -> str:
    """What a KPI card's trend is measured against, after its percentage."""
    if comparison == "yoy":
        return t("kpi.vs_last_year", lang)
    return t("kpi.vs_previous_days", lang, days=days)


def kpi_caption(start: dt.date, end: dt.date, comparison: str, has_earlier: bool, lang: str):
    """The KPI block's one line on its periods: the period and the one compared with, or,
    once for the whole block, that the data holds no earlier period."""
    period = fmt_period(start, end, lang)
    if not has_earlier:
        return t("kpi.caption_no_earlier", lang, period=period)
    before = comparison_period(start, end, comparison)
    return t("kpi.caption", lang, period=period, previous=fmt_period(*before, lang))


def no_data_note(districts: tuple[int, ...], lang: str) -> str:
    """What a KPI card without a value says: the district has no data, or the selection."""
    if not districts:
        return t("kpi.no_data", lang)
    return t("kpi.no_data_district" if len(districts) == 1 else "kpi.no_data_districts", lang)


def _link(label: str, href: str, active: bool, element_id: str):
    return dcc.Link(
        label,
        href=href,
        id=element_id,
        className="btn btn-ghost btn-small period-link" + (" active" if active else ""),
    )


def period_line(
    linked: ViewState,
    shown: tuple[dt.date, dt.date],
    coverage: tuple[dt.date | None, dt.date | None],
    lang: str,
    path: str,
) -> list:
    """The statement of the period `shown` and the comparison, the preset links and the
    comparison links; `linked` is the view the page's link holds, `coverage` the data's span."""
    first, last = coverage
    comparison = comparison_of(linked.options)
    days = (shown[1] - shown[0]).days + 1
    compared = (
        t("period.vs_last_year", lang)
        if comparison == "yoy"
        else t("period.vs_previous_days", lang, days=days)
    )
    statement = html.P(
        t("period.statement", lang, period=fmt_period(*shown, lang), comparison=compared),
        id="period-statement",
        className="period-statement",
    )
    presets = []
    for name in PRESETS:
        period = preset_period(name, first, last, shown)
        if period is None:
            continue
        href = path + linked.with_changes(start=period[0], end=period[1]).to_query()
        presets.append(
            _link(t(f"period.preset.{name}", lang), href, period == shown, f"preset-{name}")
        )
    comparisons = [html.Span(t("period.compare", lang), className="filter-label")]
    for name in COMPARISONS:
        options = {k: v for k, v in linked.options.items() if k != COMPARISON_PARAM}
        if name != DEFAULT_COMPARISON:
            options[COMPARISON_PARAM] = name
        href = path + linked.with_changes(options=options).to_query()
        comparisons.append(
            _link(t(f"period.cmp.{name}", lang), href, name == comparison, f"cmp-{name}")
        )
    return [
        statement,
        html.Div(
            presets, className="period-presets", role="group", title=t("period.presets", lang)
        ),
        html.Div(comparisons, className="period-compare", role="group"),
    ]


def redrawn_line(site, filters: object, ui: object, pathname: object, search: str | None) -> object:
    """The period line of the view in the `filters` store (`no_update` before the stores are
    set; nothing for a city without data)."""
    if not filters or not ui:
        return no_update
    ui = ui_settings(ui)
    shown = ViewState.from_filters(filters)
    if shown.start is None or shown.end is None:
        return []
    path = "/" + (pathname if isinstance(pathname, str) else "").strip("/")
    return period_line(
        ViewState.from_query(search),
        (shown.start, shown.end),
        site.coverage(ui["city"] or site.default_city, path, shown.options),
        ui["lang"],
        path,
    )


def register_period_line(app, site) -> None:
    """Redraw the period line whenever the filters or the language change."""
    app.callback(
        Output("filter-period", "children"),
        Input("filters", "data"),
        Input("ui", "data"),
        State("url", "pathname"),
        State("url", "search"),
    )(functools.partial(redrawn_line, site))
