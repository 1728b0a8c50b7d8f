"""`/data/<id>`: the explorer of one dataset, for anyone. Chart type, x, y, colour, aggregation,
a time range and a few column filters; every choice is a page option kept in the URL, so a view
is a link. The URL's options become a checked spec (`components.explorer_query`), read by one
query over the dataset's current Parquet files (`datasets.queries.explorer`) and drawn by a pure
figure builder (`components.explorer_figure`); `components.explorer_view` runs the two, for this
page and for a deck's slide of a view. The callbacks are module-level functions of the workspace
and the callback's values, bound by `register`.
"""

from __future__ import annotations

import functools
import json
from urllib.parse import quote

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update, set_props
from dash.exceptions import PreventUpdate

from components.charts import (
    FigureContext,
    blank_figure,
    chart_toolbar,
    graph_config,
    provenance,
)
from components.datasets_choice import kinds_of, option_name
from components.explorer_query import MAX_FILTERS, charts_for, spec_from_options
from components.explorer_view import (
    DATASET_OPTION,
    EXPLORER,
    GRAPH_HEIGHT,
    explorer_chart,
    preferred_time,
)
from components.kpi import page_header
from components.page import Page, PageContext
from components.state import ViewState, parse_date, ui_settings
from datasets.catalog import CatalogError, Dataset
from datasets.queries import explorer as queries
from datasets.queries.explorer import AGGREGATIONS, BUCKETS, Col, Spec, columns_of
from datasets.workspace import Workspace
from i18n import fmt_number, t

from .services import Services

PREFIX = "/data/"
ROUND_TABLE_PAGES = {"traffic": "/traffic", "ecology": "/ecology"}


def dataset_id_of(path: object) -> str:
    path = path.rstrip("/") if isinstance(path, str) else ""
    return path[len(PREFIX) :] if path.startswith(PREFIX) else ""


def round_table_link(dataset: Dataset) -> tuple[str, str] | None:
    """(round table, href) of the page whose charts read this dataset's kind, set to show
    this dataset (`?ds_<kind>=<id>`); None when no round-table page reads the kind."""
    from . import ecology, traffic

    charts = {"traffic": traffic.CHARTS, "ecology": ecology.CHARTS}
    for table, path in ROUND_TABLE_PAGES.items():
        if dataset.meta.kind in kinds_of(charts[table]):
            return table, f"{path}?{option_name(dataset.meta.kind)}={quote(dataset.id)}"
    return None


def _option(name: str):
    return {"type": "page-option", "name": name}


def _control(label: str, component, wide: bool = False):
    return html.Div(
        [html.Label(label, className="filter-label"), component],
        className="explorer-control" + (" wide" if wide else ""),
    )


def _column_options(cols: list[Col], roles: set[str] | None = None) -> list[dict]:
    return [
        {"label": f"{c.name} ({c.unit})" if c.unit else c.name, "value": c.name}
        for c in cols
        if roles is None or c.role in roles
    ]


def _measure_options(cols: list[Col]) -> list[dict]:
    """What y offers: quantities only, never an identifier or a code."""
    return _column_options([c for c in cols if c.measure])


def filter_values(workspace: Workspace, dataset: Dataset, column: str | None) -> list[dict]:
    """The values a column filter offers (its most frequent ones)."""
    names = {c.name for c in columns_of(dataset)}
    if not column or column not in names:
        return []
    frame = queries.filter_values(workspace.engine, dataset, column)
    return [
        {"label": f"{v} ({n:,})", "value": v} for v, n in zip(frame["v"], frame["n"], strict=True)
    ]


def _main_controls(cols: list[Col], spec: Spec, lang: str) -> list:
    """Chart, x, y, colour, aggregation and time bucket."""
    chart_options = [
        {"label": t(f"explorer.chart.{c}", lang), "value": c} for c in charts_for(cols)
    ]
    return [
        _control(
            t("explorer.chart", lang),
            dcc.Dropdown(
                id=_option("chart"), options=chart_options, value=spec.chart, clearable=False
            ),
        ),
        _control(
            t("explorer.x", lang),
            dcc.Dropdown(id=_option("x"), options=_column_options(cols), value=spec.x),
        ),
        _control(
            t("explorer.y", lang),
            dcc.Dropdown(id=_option("y"), options=_measure_options(cols), value=spec.y),
        ),
        _control(
            t("explorer.color", lang),
            dcc.Dropdown(
                id=_option("color"),
                options=_column_options(cols, {"text", "bool", "number"}),
                value=spec.color,
                placeholder=t("explorer.none", lang),
            ),
        ),
        _control(
            t("explorer.agg", lang),
            dcc.Dropdown(
                id=_option("agg"),
                options=[{"label": t(f"explorer.agg.{a}", lang), "value": a} for a in AGGREGATIONS],
                value=spec.agg,
                clearable=False,
            ),
        ),
        _control(
            t("explorer.bucket", lang),
            dcc.Dropdown(
                id=_option("bucket"),
                options=[{"label": t(f"explorer.bucket.{b}", lang), "value": b} for b in BUCKETS],
                value=spec.bucket,
                clearable=False,
                disabled=not spec.time,
            ),
        ),
    ]


def _time_control(dataset: Dataset, spec: Spec, options: dict, lang: str):
    """The date range of the time column, written to the hidden options `since` and `until`."""
    lo, hi = dataset.current.time_min, dataset.current.time_max
    return _control(
        t("explorer.time_range", lang, column=spec.time),
        html.Div(
            [
                dcc.DatePickerRange(
                    id="explorer-dates",
                    start_date=spec.since.isoformat() if spec.since else None,
                    end_date=spec.until.isoformat() if spec.until else None,
                    min_date_allowed=lo[:10] if lo else None,
                    max_date_allowed=hi[:10] if hi else None,
                    initial_visible_month=(spec.since.isoformat() if spec.since else lo),
                    display_format="YYYY-MM-DD",
                    first_day_of_week=1,
                    clearable=True,
                    start_date_placeholder_text=t("filter.start", lang),
                    end_date_placeholder_text=t("filter.end", lang),
                ),
                dcc.Input(id=_option("since"), type="hidden", value=options.get("since")),
                dcc.Input(id=_option("until"), type="hidden", value=options.get("until")),
            ]
        ),
        wide=True,
    )


def _filter_control(
    workspace: Workspace,
    dataset: Dataset,
    cols: list[Col],
    i: int,
    column: str | None,
    values: list[str],
    options: dict,
    lang: str,
):
    """Filter `i`: its column, the values picked, and the hidden option `v<i>` they go to."""
    return html.Div(
        [
            html.Label(t("explorer.filter", lang, n=i), className="filter-label"),
            html.Div(
                [
                    dcc.Dropdown(
                        id=_option(f"f{i}"),
                        options=_column_options(cols, {"text", "bool", "number"}),
                        value=column,
                        placeholder=t("explorer.filter_column", lang),
                        className="explorer-filter-column",
                    ),
                    dcc.Dropdown(
                        id={"type": "explorer-values", "i": i},
                        options=filter_values(workspace, dataset, column),
                        value=values,
                        multi=True,
                        placeholder=t("explorer.filter_values", lang),
                        disabled=column is None,
                        className="explorer-filter-values",
                    ),
                    dcc.Input(id=_option(f"v{i}"), type="hidden", value=options.get(f"v{i}")),
                ],
                className="explorer-filter-row",
            ),
        ],
        className="explorer-control wide",
    )


def controls(
    workspace: Workspace, dataset: Dataset, spec: Spec, options: dict, lang: str
) -> html.Section:
    cols = columns_of(dataset)
    rows = _main_controls(cols, spec, lang)
    if spec.time:
        rows.append(_time_control(dataset, spec, options, lang))
    chosen = dict(spec.filters)
    names = {c.name for c in cols}
    columns = [
        options.get(f"f{i}") if options.get(f"f{i}") in names else None
        for i in range(1, MAX_FILTERS + 1)
    ]
    for i, column in enumerate(columns, start=1):
        values = list(chosen.get(column, ())) if column else []
        rows.append(_filter_control(workspace, dataset, cols, i, column, values, options, lang))
    rows.append(dcc.Store(id="explorer-filter-columns", data=columns))
    return html.Section(
        [html.H2(t("explorer.controls", lang), className="sr-only"), *rows],
        className="card explorer-controls",
        **{"aria-label": t("explorer.controls", lang)},
    )


def facts(dataset: Dataset, lang: str) -> html.Dl:
    m, v = dataset.meta, dataset.current
    coverage = f"{v.time_min[:10]} → {v.time_max[:10]}" if v.time_min else t("data.no_time", lang)
    items = [
        ("data.kind", m.kind),
        ("data.rows", fmt_number(v.rows, lang)),
        ("data.version", f"v{v.version} · {dataset.updated_at[:10]}"),
        ("data.coverage", coverage),
        ("data.source", m.source),
        ("data.licence", m.licence or "–"),
    ]
    return html.Dl(
        [html.Div([html.Dt(t(k, lang)), html.Dd(value)], className="fact") for k, value in items],
        className="facts explorer-facts",
    )


def _actions(dataset: Dataset, lang: str):
    """Back, downloads, and the round-table page that reads this dataset's kind (if any)."""
    actions = [
        html.A(t("explorer.back", lang), href=f"/data#{dataset.id}", className="btn btn-small"),
        html.A(
            t("data.download_csv", lang),
            href=f"/download/{dataset.id}.csv?lang={lang}",
            className="btn btn-small",
        ),
        html.A(
            t("data.download_parquet", lang),
            href=f"/download/{dataset.id}.parquet",
            className="btn btn-small",
        ),
    ]
    link = round_table_link(dataset)
    if link:
        table, href = link
        actions.insert(
            1,
            html.A(
                t(f"explorer.on_page.{table}", lang),
                href=href,
                className="btn btn-small btn-primary",
                id="explorer-round-table",
            ),
        )
    return html.Div(actions, className="dataset-actions")


def _chart_card(dataset: Dataset, lang: str):
    return html.Section(
        [
            chart_toolbar(
                dataset.id,
                lang,
                [],
                [
                    html.Button(  # presenter mode (pages/present): to a deck
                        t("present.add_to_deck", lang),
                        id="explorer-add-to-deck",
                        className="btn btn-tool btn-primary",
                        title=t("present.add_to_deck_hint", lang),
                        **{"data-dataset": dataset.id},
                    ),
                ],
            ),
            dcc.Loading(
                dcc.Graph(
                    id="explorer-graph",
                    config=graph_config(lang, dataset.id),
                    style={"height": f"{GRAPH_HEIGHT}px"},
                ),
                type="circle",
                delay_show=150,
            ),
            html.P(id="explorer-note", className="chart-note", role="status"),
            html.Div(
                [
                    html.Span(t("chart.source", lang) + " ", className="muted"),
                    html.Span(provenance(dataset, lang), className="source-item"),
                ],
                className="chart-source",
                id="explorer-source",
            ),
        ],
        className="card chart-card explorer-chart",
        id="card-explorer",
    )


def layout(ctx: PageContext) -> html.Div:
    lang = ctx.lang
    dataset_id = dataset_id_of(ctx.path)
    try:
        dataset = ctx.workspace.catalog.get(dataset_id)
    except CatalogError:
        return html.Div(
            [
                page_header(t("explorer.missing", lang, id=dataset_id)),
                html.A(t("explorer.back", lang), href="/data", className="btn"),
            ],
            className="page-explorer",
        )
    spec = spec_from_options(ctx.state.options, columns_of(dataset), preferred_time(dataset))
    return html.Div(
        [
            page_header(
                dataset.title(lang), t("explorer.subtitle", lang), dataset.description(lang)
            ),
            facts(dataset, lang),
            _actions(dataset, lang),
            html.Div(
                [
                    controls(ctx.workspace, dataset, spec, ctx.state.options, lang),
                    _chart_card(dataset, lang),
                ],
                className="explorer-grid",
            ),
        ],
        className="page-explorer",
        **{"data-dataset": dataset.id},
    )


PAGE = Page(
    path=PREFIX,
    nav="nav.data",
    title="explorer.title",
    layout=layout,
    filters=False,
    in_nav=False,
    prefix=True,
)

PAGES = (PAGE,)


# -- callbacks -------------------------------------------------------------------------------------


def render(workspace: Workspace, filters: object, ui: object, pathname: object) -> tuple:
    """(figure, note) of the page's dataset for the options in the link; an error of the query
    is the note, under a blank figure."""
    ui = ui_settings(ui)
    lang = ui["lang"]
    try:
        dataset = workspace.catalog.get(dataset_id_of(pathname))
    except CatalogError:
        raise PreventUpdate from None
    city = workspace.cities.get(dataset.meta.city) or next(iter(workspace.cities.values()))
    fig_ctx = FigureContext(lang=lang, theme=ui["theme"], city=city)
    options = ViewState.from_filters(filters).options
    try:
        return explorer_chart(workspace.engine, dataset, options, fig_ctx)
    except ValueError as exc:  # queries.QueryFailed among them: DuckDB's message
        message = t("explorer.error", lang, error=str(exc).splitlines()[0][:200])
        return blank_figure(fig_ctx), message


def hidden_dates(start: object, end: object) -> dict[str, str]:
    """The hidden options `since` and `until` for the date picker's days ("" for none)."""
    days = {"since": parse_date(start), "until": parse_date(end)}
    return {name: day.isoformat() if day else "" for name, day in days.items()}


def write_dates(start: object, end: object) -> None:
    """The date picker writes the hidden options `since` and `until` (kept in the URL)."""
    for name, value in hidden_dates(start, end).items():
        set_props(_option(name), {"value": value})


def hidden_values(ids: list[dict], values: list) -> dict[int, str]:
    """Filter number -> its picked values as a JSON list ("" for none), for the hidden options
    `v<i>`; `ids` are the value dropdowns' ids, in the order of `values`."""
    return {
        item["id"]["i"]: json.dumps(picked) if picked else ""
        for item, picked in zip(ids, values, strict=True)
    }


def write_values(values: list) -> None:
    """Each filter's picked values go to its hidden option `v<i>` as a JSON list."""
    for i, value in hidden_values(ctx.inputs_list[0], values).items():
        set_props(_option(f"v{i}"), {"value": value})


def filter_columns(
    workspace: Workspace,
    f1: object,
    f2: object,
    f3: object,
    before: object,
    values: list,
    current_options: list,
    pathname: object,
) -> tuple:
    """A filter's column changed: offer that column's values, and forget the old picks.
    (Also fired each time the URL callback re-sets the options: then nothing changed.)"""
    columns = [c if isinstance(c, str) else None for c in (f1, f2, f3)]
    before = before if isinstance(before, list) else [None] * MAX_FILTERS
    if columns == before or {len(before), len(values), len(current_options)} != {MAX_FILTERS}:
        raise PreventUpdate  # nothing changed, or lists no explorer page sends
    try:
        dataset = workspace.catalog.get(dataset_id_of(pathname))
    except CatalogError:
        raise PreventUpdate from None
    out_options, out_values = [], []
    for column, old in zip(columns, before, strict=True):
        changed = column != old
        out_options.append(filter_values(workspace, dataset, column) if changed else no_update)
        out_values.append([] if changed else no_update)
    return out_options, out_values, [c is None for c in columns], columns


# "add to deck": the view's query and the dataset go to the browser's draft deck, as a chart
# card's view does; the slide redraws it with `explorer_chart` (components.slides)
ADD_TO_DECK_JS = f"""function(n, search, pathname, label) {{
    if (!n || !window.CityLensPresent) {{ return window.dash_clientside.no_update; }}
    const params = new URLSearchParams(search || "");
    const prefix = {json.dumps(PREFIX)};
    params.set({json.dumps(DATASET_OPTION)},
        decodeURIComponent(pathname.slice(prefix.length).split("/")[0]));
    return window.CityLensPresent.addToDraft(
        {json.dumps(EXPLORER)}, null, "?" + params.toString(), label);
}}"""


def register(app: Dash, services: Services) -> None:
    """The chart, the date picker, the filters and "add to deck" of the explorer page."""
    _register(app, services.workspace)


def register_callbacks(app: Dash, workspace: Workspace) -> None:
    """`register` for a caller that holds only the workspace."""
    _register(app, workspace)


def _register(app: Dash, workspace: Workspace) -> None:
    app.callback(
        Output("explorer-graph", "figure"),
        Output("explorer-note", "children"),
        Input("filters", "data"),
        Input("ui", "data"),
        State("url", "pathname"),
    )(functools.partial(render, workspace))
    app.clientside_callback(
        ADD_TO_DECK_JS,
        Output("explorer-add-to-deck", "children"),
        Input("explorer-add-to-deck", "n_clicks"),
        State("url", "search"),
        State("url", "pathname"),
        State("explorer-add-to-deck", "children"),
        prevent_initial_call=True,
    )
    app.callback(
        Input("explorer-dates", "start_date"),
        Input("explorer-dates", "end_date"),
        prevent_initial_call=True,
    )(write_dates)
    app.callback(
        Input({"type": "explorer-values", "i": ALL}, "value"),
        prevent_initial_call=True,
    )(write_values)
    app.callback(
        Output({"type": "explorer-values", "i": ALL}, "options"),
        Output({"type": "explorer-values", "i": ALL}, "value"),
        Output({"type": "explorer-values", "i": ALL}, "disabled"),
        Output("explorer-filter-columns", "data"),
        Input(_option("f1"), "value"),
        Input(_option("f2"), "value"),
        Input(_option("f3"), "value"),
        State("explorer-filter-columns", "data"),
        State({"type": "explorer-values", "i": ALL}, "value"),
        State({"type": "explorer-values", "i": ALL}, "options"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )(functools.partial(filter_columns, workspace))
