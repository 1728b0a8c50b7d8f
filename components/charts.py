"""Chart cards: one declaration per chart, one set of callbacks for all of them.

A `Chart` pairs a query (context in, small frame out) with a pure figure builder (frame in,
figure out). Cards share the loading state, the empty-state message, the source line, the SDG
badges, the CSV download and the PNG export, so a new chart is a declaration, not a callback.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import flask
import orjson
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, MATCH, Input, Output, State, callback_context, dcc, html, no_update
from dash.exceptions import MissingCallbackContextException, PreventUpdate
from plotly.io.json import to_json_plotly

from datasets.catalog import Dataset
from datasets.cities import CityProfile
from datasets.downsample import MAX_POINTS_PER_TRACE, cap_figure
from datasets.export import safe_csv
from datasets.names import slug
from datasets.query import Filters, MissingDataset, QueryEngine
from i18n import fmt_date, plotly_locale, plotly_separators, stored_text, t

from .figures.axes import localize_axes
from .state import parse_date
from .theme import template, template_json


@dataclass(frozen=True)
class FigureContext:
    """What a figure builder may know: presentation only, never the data source."""

    lang: str
    theme: str
    city: CityProfile
    option: str | None = None
    page_options: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ChartContext(FigureContext):
    engine: QueryEngine | None = None
    filters: Filters = field(default_factory=Filters)
    xrange: tuple[str, str] | None = None  # a zoom on the x axis (ZOOM_DETAIL charts)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str  # message key
    data: Callable[[ChartContext], pd.DataFrame]
    figure: Callable[[pd.DataFrame, FigureContext], go.Figure | dict]  # dict: figures.plot
    kinds: tuple[str, ...]  # dataset kinds the chart reads, named in its source line
    sdg: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # (value, message key)
    default_option: str | None = None
    note: str | None = None  # message key: the method in one sentence
    height: int = 340
    wide: bool = False
    filters_district: bool = False  # a click on a district (a map) filters the page by it
    dated: bool = True  # False: the chart ignores the filter dates (fixed windows)


REGISTRY: dict[str, Chart] = {}


def register(chart: Chart) -> Chart:
    if chart.id in REGISTRY and REGISTRY[chart.id] is not chart:
        raise ValueError(f"two charts are called {chart.id!r}")
    REGISTRY[chart.id] = chart
    return chart


def registered(component_id: object) -> Chart:
    """The chart a card's pattern-matching id names, as a request sends it; a chart no page
    has is answered 404."""
    chart_id = component_id.get("id") if isinstance(component_id, dict) else None
    chart = REGISTRY.get(chart_id) if isinstance(chart_id, str) else None
    if chart is None:
        flask.abort(404)
    return chart


def chart_option(chart: Chart, option: object) -> str | None:
    """The option picked on a card if the chart declares it, else the chart's default."""
    declared = [value for value, _key in chart.options]
    return option if isinstance(option, str) and option in declared else chart.default_option


# The size of a chart's PNG and SVG downloads: a projector's, whatever the window's size.
EXPORT_SIZE = {"width": 1920, "height": 1080, "scale": 1}


def graph_config(lang: str, filename: str) -> dict:
    """The plotly.js config of every graph of the app (cards, explorer, slides, exports).

    plotly.js 4 shows a "Share chart..." button by default that uploads the figure to Plotly's
    cloud: the app runs offline and its data may not leave it, so the button is off and its
    address empty (a click could send nothing anywhere even if a page turned it back on).
    """
    return {
        "displaylogo": False,
        "responsive": True,
        "locale": lang,
        "locales": {lang: plotly_locale(lang)},
        "showSendToCloud": False,
        "plotlyServerURL": "",
        "toImageButtonOptions": {"format": "png", "filename": filename, **EXPORT_SIZE},
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendChartToCloud"],
    }


def _locale_layout(ctx: FigureContext, height: int | None) -> dict:
    return {"separators": plotly_separators(ctx.lang), "height": height, "autosize": True}


# Set while `render` builds a figure for the wire: `finish_json` then adds the template as JSON,
# so `finish` skips validating it on graph-object figures (~15 ms a figure).
_FOR_WIRE = contextvars.ContextVar("citylens_for_wire", default=False)


def finish(fig: go.Figure | dict, ctx: FigureContext, height: int | None = None):
    """Apply the theme, the locale's number separators and the card height to a built figure
    (a plain dict, see `components.figures.plot`, or a graph object)."""
    if isinstance(fig, dict):
        layout = fig.setdefault("layout", {})
        layout.update(_locale_layout(ctx, height), template=template_json(ctx.theme))
        return localize_axes(fig, ctx.lang)
    if _FOR_WIRE.get():
        fig.update_layout(**_locale_layout(ctx, height))
        return fig
    fig.update_layout(template=template(ctx.theme), **_locale_layout(ctx, height))
    return fig


def finish_json(fig: go.Figure | dict, ctx: FigureContext, height: int | None = None) -> dict:
    """`finish` for the wire: the figure as a dict, without re-validating the template."""
    return finish(fig if isinstance(fig, dict) else fig.to_plotly_json(), ctx, height)


def blank_figure(ctx: FigureContext) -> dict:
    layout = {"xaxis": {"visible": False}, "yaxis": {"visible": False}}
    return {
        "data": [],
        "layout": {**layout, **_locale_layout(ctx, None), "template": template_json(ctx.theme)},
    }


def dataset_title(engine: QueryEngine, city: CityProfile, kind: str, lang: str) -> str:
    """The title of the dataset of a kind that feeds the city's pages ("" when there is none)."""
    found = engine.catalog.find(city.id, kind)
    return found.title(lang) if found is not None else ""


def data_flag(dataset: Dataset, lang: str, extra_class: str = ""):
    """ "synthetic" or "real" for a dataset, as its catalog entry records it. The span names
    the dataset, so the footer can say which synthetic datasets a page shows."""
    flag = "synthetic" if dataset.meta.synthetic else "real"
    return html.Span(
        t(f"data.{flag}", lang),
        className=f"flag flag-{flag} {extra_class}".strip(),
        **{"data-dataset-title": dataset.title(lang)},
    )


def provenance(dataset: Dataset, lang: str) -> list:
    """A dataset's own account of itself: title, source (linked when it has an address),
    licence, version, date, synthetic or real."""
    m = dataset.meta
    text = stored_text(m.source, lang)
    source = html.A(text, href=m.source_url) if m.source_url.startswith("http") else text
    licence = t("provenance.licence", lang, licence=stored_text(m.licence, lang))
    updated = dt.date.fromisoformat(dataset.updated_at[:10])
    return [
        html.A(dataset.title(lang), href=f"/data#{dataset.id}"),
        " · ",
        source,
        f" · {licence}" if m.licence else "",
        f" · {t('provenance.version', lang, n=dataset.current_version)}",
        f" · {fmt_date(updated, lang)} · ",
        data_flag(dataset, lang),
    ]


def source_line(engine: QueryEngine, city: CityProfile, kinds: tuple[str, ...], lang: str):
    """The provenance of each dataset behind a chart: the one the page draws (a dataset chosen
    on the page through `engine.find`, else the kind's default)."""
    parts = []
    for kind in kinds:
        found = engine.find(city.id, kind)
        if found is not None:
            parts.append(html.Span(provenance(found, lang), className="source-item"))
    return html.Div(
        [html.Span(t("chart.source", lang) + " ", className="muted"), *parts],
        className="chart-source",
    )


def sdg_badges(targets: tuple[str, ...], lang: str):
    return html.Span(
        [
            html.Span(f"SDG {target}", className="sdg-badge", title=t(f"sdg.{target}", lang))
            for target in targets
        ],
        className="sdg-badges",
    )


def chart_toolbar(filename: str, lang: str, before: list, after: list):
    """The buttons under a chart's title: `before`, then the PNG and SVG downloads at projector
    size and the link to the view (assets/charts.js runs them in the browser, from the chart's
    card: no request), then `after`."""
    size = {f"data-{key}": value for key, value in EXPORT_SIZE.items()}
    image = [
        html.Button(
            t(f"chart.{fmt}", lang),
            className="btn btn-tool",
            title=t(f"chart.{fmt}_hint", lang),
            **{"data-chart-action": fmt, "data-filename": filename, **size},
        )
        for fmt in ("png", "svg")
    ]
    link = html.Button(
        t("chart.copy_link", lang),
        className="btn btn-tool",
        title=t("chart.copy_link_hint", lang),
        **{
            "data-chart-action": "link",
            "data-done": t("chart.link_copied", lang),
            "aria-live": "polite",
        },
    )
    return html.Div(
        [*before, *image, link, *after],
        className="chart-toolbar",
        role="toolbar",
        **{"aria-label": t("chart.toolbar", lang)},
    )


# What a card's graph holds until its figure arrives: no axes, so plotly.js measures no tick
# labels for a frame nobody reads (its default empty figure costs as much as a small chart).
PLACEHOLDER = {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False}}}


def card(
    chart: Chart, engine: QueryEngine, city: CityProfile, lang: str, option: str | None = None
):
    """The card of one chart; its figure arrives through the shared render callback."""
    cid = chart.id
    option_control = dcc.RadioItems(
        id={"type": "chart-option", "id": cid},
        options=[{"label": t(key, lang), "value": value} for value, key in chart.options],
        value=option or chart.default_option,
        inline=True,
        className="chart-options",
        style=None if chart.options else {"display": "none"},
    )
    return html.Section(
        [
            html.Header(
                [
                    html.H3(t(chart.title, lang), id=f"title-{cid}"),
                    sdg_badges(chart.sdg, lang),
                    html.Div(option_control, className="chart-tools"),
                ],
                className="chart-header",
            ),
            chart_toolbar(
                cid,
                lang,
                [
                    html.Button(
                        t("chart.download", lang),
                        id={"type": "chart-download", "id": cid},
                        className="btn btn-tool",
                        title=t("chart.download_hint", lang),
                    ),
                ],
                [
                    html.Button(  # presenter mode (pages/present.py): the view to a deck
                        t("present.add_to_deck", lang),
                        id={"type": "chart-add-to-deck", "id": cid},
                        className="btn btn-tool btn-primary",
                        title=t("present.add_to_deck_hint", lang),
                    ),
                ],
            ),
            html.P(t(chart.note, lang), className="chart-note") if chart.note else None,
            dcc.Loading(
                html.Div(
                    [
                        dcc.Graph(
                            id={"type": "chart-graph", "id": cid},
                            figure=PLACEHOLDER,
                            config=graph_config(lang, cid),
                            style={"height": f"{chart.height}px"},
                            className="chart-graph",
                        ),
                        html.Div(
                            id={"type": "chart-empty", "id": cid},
                            className="empty-state",
                            hidden=True,
                            role="status",
                        ),
                    ],
                    className="chart-body",
                ),
                type="circle",
                delay_show=150,
            ),
            source_line(engine, city, chart.kinds, lang),
            dcc.Download(id={"type": "chart-file", "id": cid}),
        ],
        className="card chart-card" + (" wide" if chart.wide else ""),
        id=f"card-{cid}",
        **{"data-chart": cid},
    )


ContextFactory = Callable[[dict, dict, str | None], ChartContext]


def chart_frame(chart: Chart, ctx: ChartContext) -> pd.DataFrame | None:
    """The chart's data, or None when the city lacks a dataset the chart needs."""
    try:
        return chart.data(ctx)
    except MissingDataset:
        return None


# -- zoom detail and the points cap --------------------------------------------------------
# Charts whose zoom on the x (time) axis fetches the zoomed range again, at the finer bucket the
# shorter span allows: the render callback narrows the filters to the zoomed days.
ZOOM_DETAIL = frozenset({"traffic-volume-speed"})


def zoom_range(relayout: dict | None) -> tuple[str, str] | str | None:
    """The x range of a zoom in a graph's relayoutData, "reset" for a double-click back to the
    whole range, None for anything else (a resize, a y-only zoom, a map pan)."""
    if not isinstance(relayout, dict):
        return None
    if relayout.get("xaxis.autorange") is True:
        return "reset"
    lo, hi = relayout.get("xaxis.range[0]"), relayout.get("xaxis.range[1]")
    if lo is None and isinstance(relayout.get("xaxis.range"), list | tuple):
        pair = relayout["xaxis.range"]
        lo, hi = (pair[0], pair[1]) if len(pair) == 2 else (None, None)
    if lo is None or hi is None:
        return None
    return str(lo), str(hi)


def zoomed(ctx: ChartContext, xrange: tuple[str, str]) -> ChartContext | None:
    """The context with its filters narrowed to the days of a zoom (None if not dates)."""
    try:
        lo, hi = sorted(pd.Timestamp(value) for value in xrange)
    except (TypeError, ValueError, OverflowError):
        return None
    start, end = (parse_date(moment.isoformat()) for moment in (lo, hi))  # NaT, year -1: None
    if start is None or end is None:
        return None
    f = ctx.filters
    start = max(start, f.start) if f.start else start
    end = min(end, f.end) if f.end else end
    if end < start:
        return None
    narrowed = Filters(start, end, f.districts)
    return replace(ctx, filters=narrowed, xrange=(lo.isoformat(), hi.isoformat()))


@cache
def code_token() -> str:
    """Fingerprint of the code that draws figures, so a deploy never serves old drawings."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in ("components", "pages", "datasets", "i18n"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in {".py", ".json"}:
                st = path.stat()
                digest.update(f"{path}:{st.st_mtime_ns}:{st.st_size}".encode())
    return digest.hexdigest()[:16]


def _city_stamp(city: CityProfile) -> int:
    try:
        return (city.folder / "profile.json").stat().st_mtime_ns
    except (AttributeError, OSError):
        return 0


def render(chart: Chart, ctx: ChartContext) -> tuple[dict, str, bool]:
    """Figure, empty-state message and whether that message is hidden.

    Kept like a query result (`QueryEngine.memo`: this process, the workers' shared cache,
    single-flight): the key names the chart, its option, the filters (without the dates for a
    chart they do not change), the zoom, language, theme, city, every dataset version of the
    city and the drawing code, so 400 viewers of the same view cost one drawing, and any change
    of data or code is a new key.
    """
    engine = ctx.engine
    if engine is None or not hasattr(engine, "memo"):
        return draw(chart, ctx)
    parts = (
        chart.id,
        ctx.option,
        ctx.filters if chart.dated else replace(ctx.filters, start=None, end=None),
        ctx.xrange,
        ctx.lang,
        ctx.theme,
        ctx.city.id,
        _city_stamp(ctx.city),
        tuple(sorted(ctx.page_options.items())),
        engine.data_token(ctx.city.id),
        code_token(),
    )
    return engine.memo(
        "figure",
        parts,
        lambda: draw(chart, ctx),
        lambda value: to_json_plotly(value, engine="orjson").encode(),
        lambda data: tuple(orjson.loads(data)),
    )


def draw(chart: Chart, ctx: ChartContext) -> tuple[dict, str, bool]:
    """What `render` returns, drawn now: no cache read or written."""
    frame = chart_frame(chart, ctx)
    if frame is None:
        return blank_figure(ctx), t("chart.missing_dataset", ctx.lang), False
    if frame.empty:
        return blank_figure(ctx), t("chart.empty", ctx.lang), False
    token = _FOR_WIRE.set(True)
    try:
        out = finish_json(chart.figure(frame, ctx), ctx)
    finally:
        _FOR_WIRE.reset(token)
    cap_figure(out, MAX_POINTS_PER_TRACE)  # min/max-preserving, so no peak vanishes
    if ctx.xrange:  # keep the zoom box the viewer drew (the data covers whole days)
        axis = out["layout"].get("xaxis") or {}
        out["layout"]["xaxis"] = {**axis, "range": list(ctx.xrange), "autorange": False}
    return out, "", True


def zoom_figure(make_context: ContextFactory, chart_id: str, relayout: object, option: object,
                filters: object, ui: object) -> dict:  # fmt: skip
    """The figure of a ZOOM_DETAIL chart for the days of a zoom on its x axis (the whole
    period again for a double-click); PreventUpdate for a relayout that is not such a zoom,
    or a zoom on days without data (what is drawn stays)."""
    zoom = zoom_range(relayout)
    if zoom is None:
        raise PreventUpdate  # a resize, a y-only zoom
    chart = REGISTRY[chart_id]
    ctx = make_context(filters, ui, chart_option(chart, option))
    if zoom != "reset":
        ctx = zoomed(ctx, zoom)
        if ctx is None:
            raise PreventUpdate
    figure, _message, shown = render(chart, ctx)
    if not shown:
        raise PreventUpdate
    return figure


def register_zoom(app, make_context: ContextFactory, chart_id: str) -> None:
    """A zoom on the x axis of a ZOOM_DETAIL chart re-renders it for the zoomed days; a
    double-click (autorange) renders the whole period again. Only these charts listen to
    their graph's relayoutData, so no other chart sends a request when it is drawn."""
    graph = {"type": "chart-graph", "id": chart_id}
    app.callback(
        Output(graph, "figure", allow_duplicate=True),
        Input(graph, "relayoutData"),
        State({"type": "chart-option", "id": chart_id}, "value"),
        State("filters", "data"),
        State("ui", "data"),
        prevent_initial_call=True,
    )(functools.partial(zoom_figure, make_context, chart_id))


def render_card(make_context: ContextFactory, option: object, filters: object, ui: object,
                component_id: object) -> tuple[dict, str, bool]:  # fmt: skip
    """The figure and empty-state message of the card `component_id` names, with the option
    picked on it, in the view of the `filters` and `ui` stores."""
    chart = registered(component_id)
    return render(chart, make_context(filters, ui, chart_option(chart, option)))


def render_cards(make_context: ContextFactory, filters: object, ui: object, options: object,
                 component_ids: object) -> tuple[list, list, list]:  # fmt: skip
    """Every card of a page (`component_ids`, with the `options` picked on them) in the view
    of the `filters` and `ui` stores: figures, empty-state messages and their `hidden` flags,
    in the order of the ids. The cards are drawn side by side in threads: their queries run in
    DuckDB, outside the interpreter lock."""
    if not isinstance(component_ids, list) or not isinstance(options, list):
        raise PreventUpdate
    if len(component_ids) > MAX_CARDS or not _lengths_agree(len(component_ids), options):
        flask.abort(400)
    charts = [registered(component_id) for component_id in component_ids]
    contexts = [
        make_context(filters, ui, chart_option(chart, option))
        for chart, option in zip(charts, options, strict=True)
    ]
    drawn = list(_card_pool().map(render, charts, contexts))
    return [d[0] for d in drawn], [d[1] for d in drawn], [d[2] for d in drawn]


def _lengths_agree(n: int, options: list) -> bool:
    """A reply must have one value per output the request names (a crafted request may name
    other cards in its outputs than in its states)."""
    try:
        outputs = callback_context.outputs_list
    except MissingCallbackContextException:  # called directly, as the tests do
        outputs = ()
    sizes = [len(group) for group in outputs or () if isinstance(group, list)]
    return len(options) == n and all(size == n for size in sizes)


MAX_CARDS = 64  # more cards than any page has: a crafted request is refused


@cache
def _card_pool() -> ThreadPoolExecutor:
    """Made on first use, so each server process (forked before) has threads of its own."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="citylens-card")


def download_csv(make_context: ContextFactory, n_clicks: object, option: object, filters: object,
                 ui: object, component_id: object):  # fmt: skip
    """The data of the card `component_id` names as a CSV download."""
    if not n_clicks:
        return no_update
    chart = registered(component_id)
    frame = chart_frame(chart, make_context(filters, ui, chart_option(chart, option)))
    if frame is None:
        return no_update
    return dcc.send_string(safe_csv(frame), f"{slug(chart.id)}.csv")


def register_callbacks(app, make_context: ContextFactory) -> None:
    """The callbacks every card shares; `make_context(filters, ui, option)` builds the context.

    A new view (the page's first load, a filter, the language or theme) redraws every card of
    the page in one request (`render_cards`): the browser applies one reply instead of one per
    card, which is where a filter change spent most of its time. An option picked on one card
    redraws that card alone (`render_card`)."""
    app.callback(
        Output({"type": "chart-graph", "id": MATCH}, "figure"),
        Output({"type": "chart-empty", "id": MATCH}, "children"),
        Output({"type": "chart-empty", "id": MATCH}, "hidden"),
        Input({"type": "chart-option", "id": MATCH}, "value"),
        State("filters", "data"),
        State("ui", "data"),
        State({"type": "chart-option", "id": MATCH}, "id"),
        prevent_initial_call=True,
    )(functools.partial(render_card, make_context))
    app.callback(
        Output({"type": "chart-graph", "id": ALL}, "figure", allow_duplicate=True),
        Output({"type": "chart-empty", "id": ALL}, "children", allow_duplicate=True),
        Output({"type": "chart-empty", "id": ALL}, "hidden", allow_duplicate=True),
        Input("filters", "data"),
        Input("ui", "data"),
        State({"type": "chart-option", "id": ALL}, "value"),
        State({"type": "chart-option", "id": ALL}, "id"),
        prevent_initial_call="initial_duplicate",
    )(functools.partial(render_cards, make_context))
    for chart_id in sorted(ZOOM_DETAIL):
        register_zoom(app, make_context, chart_id)
    app.callback(
        Output({"type": "chart-file", "id": MATCH}, "data"),
        Input({"type": "chart-download", "id": MATCH}, "n_clicks"),
        State({"type": "chart-option", "id": MATCH}, "value"),
        State("filters", "data"),
        State("ui", "data"),
        State({"type": "chart-download", "id": MATCH}, "id"),
        prevent_initial_call=True,
    )(functools.partial(download_csv, make_context))
