"""`/compare`: the same indicators for several cities side by side (the Smart Cities Study).

Cities are compared only on what each computes the same way from datasets of the same kind
(`datasets.indicators`): same units, each city's own reporting period (the latest complete
year; when the years differ the page says so), rates per resident where the indicator is one.
The chosen cities live in the URL (`?cities=hangzhou-2017,beijing`), so a comparison is a link.
"""

from __future__ import annotations

import functools

import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from components.annex import period_text, status_text, value_text
from components.charts import Chart, ChartContext, card, data_flag, sdg_badges
from components.charts import register as declare_chart
from components.figures import sdg as figures
from components.kpi import kpi_block, page_header, register_kpis
from components.page import Page, PageContext
from components.state import ViewState
from datasets.cities import CityProfile
from datasets.indicators import INDICATORS, Evaluation, evaluate, fetch_air_city_daily, unit_label
from datasets.query import MissingDataset
from datasets.workspace import Workspace
from i18n import fmt_number, t

from .services import Services

MAX_DEFAULT = 4  # cities shown when the URL names none
NONE = "-"  # `?cities=-`: every box unticked
_STATE: dict = {}  # the workspace, set by register() (charts get only the query engine)


def known_cities(ctx: ChartContext) -> dict[str, CityProfile]:
    workspace = _STATE.get("workspace")
    if workspace is not None and workspace.data_dir == ctx.engine.catalog.data_dir:
        return (
            workspace.cities
        )  # (the engine may be a view of the workspace's, see datasets_choice)
    return {ctx.city.id: ctx.city}


def selected(options: dict, known: dict[str, CityProfile], current: str) -> list[str]:
    """The known cities named in `?cities=` (`-`: none ticked), in that order; without the
    parameter, the current city and the next known ones."""
    if "cities" in options:
        asked = [c for c in (options.get("cities") or "").split(",") if c in known]
        return list(dict.fromkeys(asked))
    rest = [c for c in known if c != current]
    return ([current] if current in known else []) + rest[: MAX_DEFAULT - 1]


def _evaluations(ctx: ChartContext) -> list[Evaluation]:
    known = known_cities(ctx)
    ids = selected(ctx.page_options or {}, known, ctx.city.id)
    return [evaluate(ctx.engine, known[c]) for c in ids]


def _label(evaluation: Evaluation, indicator_id: str, lang: str) -> str | None:
    result = evaluation.result(indicator_id)
    if result is None:
        return None
    return f"{evaluation.city.label(lang)} · {period_text(result, lang)}"


# -- charts ------------------------------------------------------------------------------------


def monthly_profile(ctx: ChartContext, indicator_id: str) -> pd.DataFrame:
    """Columns city, label, month (1-12), value: each city's reporting period by month."""
    frames = []
    for evaluation in _evaluations(ctx):
        result = evaluation.result(indicator_id)
        if result is None:
            continue
        months = result.months.dropna(subset=["value"])
        frames.append(
            pd.DataFrame(
                {
                    "city": evaluation.city.id,
                    "label": _label(evaluation, indicator_id, ctx.lang),
                    "month": months["period"].dt.month,
                    "value": months["value"],
                }
            )
        )
    if not frames:
        _raise_if_no_air(ctx)
        return pd.DataFrame(columns=["city", "label", "month", "value"])
    return pd.concat(frames, ignore_index=True)


def daily_pm25(ctx: ChartContext) -> pd.DataFrame:
    """Columns city, label, value: city daily PM2.5 over each city's reporting period."""
    frames = []
    for evaluation in _evaluations(ctx):
        result = evaluation.result("pm25_annual")
        if result is None:
            continue
        daily = fetch_air_city_daily(ctx.engine, evaluation.city)
        start, end = (pd.Timestamp(d) for d in result.period)
        rows = daily[(daily["date"] >= start) & (daily["date"] <= end)].dropna(subset=["pm25"])
        frames.append(
            pd.DataFrame(
                {
                    "city": evaluation.city.id,
                    "label": _label(evaluation, "pm25_annual", ctx.lang),
                    "value": rows["pm25"].astype("float64"),
                }
            )
        )
    if not frames:
        _raise_if_no_air(ctx)
        return pd.DataFrame(columns=["city", "label", "value"])
    return pd.concat(frames, ignore_index=True)


def _raise_if_no_air(ctx: ChartContext) -> None:
    known = known_cities(ctx)
    ids = selected(ctx.page_options or {}, known, ctx.city.id)
    if ids and not any(ctx.engine.catalog.find(c, "air_quality_hourly") for c in ids):
        raise MissingDataset("no compared city has an air_quality_hourly dataset")


CHARTS: tuple[Chart, ...] = (
    declare_chart(
        Chart(
            id="compare-pm25-profile",
            title="compare.chart.pm25_profile",
            data=lambda c: monthly_profile(c, "pm25_annual"),
            figure=figures.compare_profile_figure,
            kinds=("air_quality_hourly",),
            sdg=("11.6.2",),
            note="compare.note.pm25_profile",
            height=360,
            wide=True,
        )
    ),
    declare_chart(
        Chart(
            id="compare-good-days",
            title="compare.chart.good_days",
            data=lambda c: monthly_profile(c, "good_air_days"),
            figure=figures.compare_good_days_figure,
            kinds=("air_quality_hourly",),
            sdg=("11.6.2", "3.9"),
            note="compare.note.good_days",
            height=360,
        )
    ),
    declare_chart(
        Chart(
            id="compare-pm25-distribution",
            title="compare.chart.distribution",
            data=daily_pm25,
            figure=figures.compare_distribution_figure,
            kinds=("air_quality_hourly",),
            sdg=("11.6.2", "3.9"),
            note="compare.note.distribution",
            height=360,
        )
    ),
)


# -- the table ---------------------------------------------------------------------------------


def _cell(evaluation: Evaluation, indicator_id: str, lang: str):
    result = evaluation.result(indicator_id)
    if result is None:
        return html.Td(t("compare.no_value", lang), className="muted compare-missing")
    return html.Td(
        [
            html.Span(value_text(result, lang), className="compare-number"),
            html.Span(period_text(result, lang), className="compare-period muted"),
            html.Span(
                status_text(result, lang), className=f"sdg-status status-{result.status_class}"
            ),
        ],
        className="compare-value",
        **{"data-city": evaluation.city.id},
    )


def _table(evaluations: list[Evaluation], ids: list[str], lang: str, table_id: str):
    head = html.Tr(
        [html.Th(t("sdg.col.indicator", lang))]
        + [html.Th(e.city.label(lang), scope="col") for e in evaluations]
    )
    rows = []
    for indicator_id in ids:
        indicator = next(i for i in INDICATORS if i.id == indicator_id)
        unit = unit_label(indicator, lang)
        rows.append(
            html.Tr(
                [
                    html.Th(
                        [
                            sdg_badges((indicator.target,), lang),
                            " ",
                            t(f"sdg.ind.{indicator_id}.name", lang),
                            html.Span(f" ({unit})" if unit else "", className="muted"),
                        ],
                        scope="row",
                    ),
                    *[_cell(e, indicator_id, lang) for e in evaluations],
                ],
                **{"data-indicator": indicator_id},
            )
        )
    return html.Div(
        html.Table([html.Thead(head), html.Tbody(rows)], className="data-table compare-table"),
        className="table-wrap",
        id=table_id,
    )


def _sources(evaluations: list[Evaluation], lang: str):
    items = []
    for e in evaluations:
        for d in e.datasets:
            items.append(
                html.Li(
                    [
                        html.Strong(e.city.label(lang) + ": "),
                        d.title(lang),
                        f" · {d.meta.source} · v{d.current_version} · {d.updated_at[:10]} · ",
                        data_flag(d, lang),
                    ]
                )
            )
    return html.Details(
        [html.Summary(t("sdg.col.source", lang)), html.Ul(items)], className="compare-sources"
    )


def compare_block(ctx: ChartContext) -> list:
    lang = ctx.lang
    evaluations = _evaluations(ctx)
    if len(evaluations) < 2:
        return [html.P(t("compare.choose_two", lang), className="notice")]
    computed = {e.city.id: {r.id for r in e.results} for e in evaluations}
    order = [i.id for i in INDICATORS]
    shared = [i for i in order if all(i in computed[e.city.id] for e in evaluations)]
    some = [i for i in order if i not in shared and any(i in c for c in computed.values())]

    notes = []
    periods = {}
    for e in evaluations:
        for r in e.results:
            if r.id in shared:
                periods.setdefault(e.city.id, set()).add(period_text(r, lang))
    listed = "; ".join(
        f"{e.city.label(lang)}: {', '.join(sorted(periods.get(e.city.id, [])))}"
        for e in evaluations
        if periods.get(e.city.id)
    )
    distinct = {p for ps in periods.values() for p in ps}
    if len(distinct) > 1:
        notes.append(t("compare.periods_differ", lang, periods=listed))
    elif distinct:
        notes.append(t("compare.same_period", lang, period=next(iter(distinct))))
    stations = [
        f"{e.city.label(lang)} {r.stations}"
        for e in evaluations
        if (r := e.result("pm25_annual")) is not None and r.stations
    ]
    if stations:
        notes.append(t("compare.stations_note", lang, stations=", ".join(stations)))
    per_resident = [i.id for i in INDICATORS if i.per_resident and i.id in shared + some]
    if per_resident:
        people = []
        for e in evaluations:
            population = _population(e.city)
            people.append(
                t(
                    "compare.population",
                    lang,
                    city=e.city.label(lang),
                    population=fmt_number(population, lang),
                )
                if population
                else t("compare.population_unknown", lang, city=e.city.label(lang))
            )
        notes.append(t("compare.per_resident", lang, populations="; ".join(people)))

    out = [html.P(note, className="compare-note") for note in notes]
    out.append(html.H2(t("compare.table.title", lang), className="section-title"))
    if shared:
        out.append(html.P(t("compare.table.caption", lang), className="muted small"))
        out.append(_table(evaluations, shared, lang, "compare-shared"))
    else:
        out.append(html.P(t("compare.none_shared", lang), className="notice", id="compare-none"))
    if some:
        out.append(html.H2(t("compare.only_some", lang), className="section-title"))
        out.append(_table(evaluations, some, lang, "compare-some"))
    out.append(_sources(evaluations, lang))
    return out


def _population(city: CityProfile) -> int | None:
    from datasets.indicators import city_inputs

    return city_inputs(city).population


register_kpis("compare", compare_block)


# -- page --------------------------------------------------------------------------------------


def cities_source_line(workspace, kinds: tuple[str, ...], lang: str):
    """The source line of a comparison chart: each city's dataset, not only the current one's."""
    parts = []
    for city in workspace.cities.values():
        for kind in kinds:
            found = workspace.catalog.find(city.id, kind)
            if found is None:
                continue
            parts.append(
                html.Span(
                    [
                        html.Strong(city.label(lang) + ": "),
                        html.A(found.title(lang), href=f"/data?city={city.id}#{found.id}"),
                        f" · {found.meta.source} · v{found.current_version}"
                        f" · {found.updated_at[:10]} · ",
                        data_flag(found, lang),
                    ],
                    className="source-item",
                )
            )
    return html.Div(
        [html.Span(t("chart.source", lang) + " ", className="muted"), *parts],
        className="chart-source",
    )


def compare_card(chart: Chart, workspace, city: CityProfile, lang: str):
    section = card(chart, workspace.engine, city, lang)
    section.children = [
        cities_source_line(workspace, chart.kinds, lang)
        if getattr(child, "className", None) == "chart-source"
        else child
        for child in section.children
    ]
    return section


def layout(ctx: PageContext):
    lang = ctx.lang
    known = ctx.workspace.cities
    header = page_header(
        t("compare.title", lang), t("compare.subtitle", lang), t("compare.intro", lang)
    )
    if len(known) < 2:
        return html.Div(
            [
                header,
                html.P(t("compare.need_two", lang), className="notice", id="compare-need-two"),
                dcc.Link(
                    t("sdg.add_city", lang) + " →", href="/cities", className="btn btn-primary"
                ),
            ],
            className="page-compare",
        )
    ids = selected(ctx.state.options, known, ctx.city.id)
    return html.Div(
        [
            header,
            html.Div(
                [
                    html.Span(
                        t("compare.cities", lang),
                        className="filter-label",
                        id="compare-cities-label",
                    ),
                    dcc.Checklist(
                        id="compare-cities",
                        options=[{"label": c.label(lang), "value": c.id} for c in known.values()],
                        value=ids,
                        inline=True,
                        className="compare-cities",
                    ),
                    dcc.Link(t("sdg.add_city", lang) + " →", href="/cities", className="small"),
                ],
                className="compare-picker",
                role="group",
                **{"aria-labelledby": "compare-cities-label"},
            ),
            kpi_block("compare", t("compare.table.title", lang), cards=1),
            html.Div(
                [compare_card(chart, ctx.workspace, ctx.city, lang) for chart in CHARTS],
                className="chart-grid",
            ),
        ],
        className="page-compare",
    )


PAGE = Page(path="/compare", nav="nav.compare", title="compare.title", layout=layout, filters=False)


PAGES = (PAGE,)


def choose_cities(workspace: Workspace, values: object, search: str | None):
    """The link with the ticked known cities in `?cities=` (`-` when none is ticked)."""
    state = ViewState.from_query(search)
    values = values if isinstance(values, list) else []
    chosen = [v for v in values if isinstance(v, str) and v in workspace.cities]
    options = {**state.options, "cities": ",".join(chosen) or NONE}
    new = state.with_changes(options=options).to_query()
    return new if new != (search or "") else no_update


def register(app, services: Services) -> None:
    """The city checkboxes write the link; the charts learn the known cities from the
    workspace (they are given only its query engine)."""
    _STATE["workspace"] = services.workspace
    app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("compare-cities", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )(functools.partial(choose_cities, services.workspace))
