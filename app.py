"""CityLens: builds the Dash app. `python app.py` serves it; `gunicorn app:server` too.

On first start the demo city's datasets are generated into the data directory (with a
progress bar); every later start reuses them.

This is the one place features are wired: `create_app` builds the services every room is given
(`pages.services.Services`), registers the shell (URL, router, chart and KPI cards), then each
room of `ROOMS`, in that order, and last the guards that check every request against what was
registered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
from dataclasses import fields

import flask
import plotly.io as pio
from dash import Dash, dcc, html

import config as config_module
from components.charts import REGISTRY, ChartContext, code_token, draw, render
from components.charts import register_callbacks as register_chart_callbacks
from components.datasets_choice import (
    choice_control,
    chosen_engine,
    chosen_workspace,
    register_choice_callbacks,
)
from components.kpi import KPI_BLOCKS, register_kpi_callbacks
from components.page import Page, PageContext
from components.routing import (
    Site,
    filters_data,
    filters_from_data,
    find_page,
    nav_id,
    pattern_ids,
    register_routing,
)
from components.shell import filter_bar, footer, header
from components.state import ViewState, ui_settings
from datasets.catalog import CatalogError, Dataset
from datasets.cities import CityProfile
from datasets.demo import ensure_demo
from datasets.export import csv_chunks, district_names, parquet_chunks, stored_parquet_file
from datasets.queries import traffic as traffic_queries
from datasets.query import MissingDataset
from datasets.workspace import Workspace
from i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from pages import (
    cities,
    compare,
    data,
    ecology,
    evaluate,
    explorer,
    overview,
    present,
    sdg,
    traffic,
    upload,
)
from pages.services import Services
from server.api import register_api
from server.auth import register_auth
from server.callback_guard import callback_failed, register_callback_guard
from server.http import register_http_guards
from server.job_routes import attach_job_store
from server.reply_cache import KeyLocks, install_response_cache

pio.json.config.default_engine = "orjson"

# Every room, in navigation order: each exposes `PAGES` and `register(app, services)`. A page is
# found by its exact path first, then by prefix (the explorer's /data/<id>), so order matters
# only for the navigation.
ROOMS = (
    overview,
    traffic,
    ecology,
    sdg,
    compare,
    cities,
    data,
    upload,
    explorer,
    present,
    evaluate,
)


def all_pages() -> list[Page]:
    return [page for room in ROOMS for page in room.PAGES]


def shell_layout(site: Site):
    def layout():
        return html.Div(
            [
                dcc.Location(id="url", refresh=False),
                dcc.Store(id="filters", storage_type="memory"),
                dcc.Store(id="ui", storage_type="memory"),
                dcc.Store(id="ui-saved", storage_type="local"),
                html.Div(id="theme-holder", hidden=True),
                header(
                    [(page.path, nav_id(page)) for page in site.nav_pages],
                    site.city_options(DEFAULT_LANGUAGE),
                    site.default_city,
                ),
                filter_bar(),
                html.Main(id="page", className="page", tabIndex="-1"),
                footer(),
            ],
            id="app-root",
        )

    return layout


def page_options(page: Page, state: ViewState, lang: str, ctx: PageContext | None = None):
    return [
        choice_control(option, state, lang, ctx)  # a dropdown listed per render (datasets)
        if option.choices_from
        else html.Div(
            [
                html.Span(t(option.label, lang), className="filter-label"),
                dcc.RadioItems(
                    id={"type": "page-option", "name": option.name},
                    options=[
                        {"label": t(key, lang), "value": value} for value, key in option.choices
                    ],
                    value=state.options.get(option.name, option.default),
                    inline=True,
                ),
            ],
            className="page-option",
        )
        for option in page.options
    ]


# The script dcc.Graph loads only once a page holds a graph, i.e. after the layout, the URL sync
# and the router: fetched from the start instead. plotly.js itself is the app's own bundle,
# `assets/vendor/plotly.min.js` (frontend/plotly), a script of every page: dcc.Graph takes
# `window.Plotly` when it is there and never loads the full plotly.js (4.8 MB, with maplibre).
GRAPH_SCRIPTS = ("dash/dcc/async-graph.js",)


def preload_graph_scripts(app: Dash) -> None:
    """Every page fetches the graph script from the start, and neither the DataTable bundle Dash
    adds to each page (no page draws a DataTable: the /data previews are HTML tables) nor the
    polyfill for old browsers."""
    prefix = app.config.requests_pathname_prefix
    links = "".join(
        f'<link rel="preload" as="script" href="{prefix}_dash-component-suites/{path}">'
        for path in GRAPH_SCRIPTS
    )
    app.index_string = app.index_string.replace("{%css%}", "{%css%}" + links, 1)
    unused = (
        f'src="{prefix}_dash-component-suites/dash/dash_table/',
        # @babel/polyfill is for browsers older than any the app supports, and it replaces
        # native string methods (trim) with slower ones that plotly.js calls thousands of times
        # a draw; the one part Dash's components use, regenerator-runtime, is an asset of its own
        "/deps/polyfill@",
    )
    interpolate = app.interpolate_index  # Dash's documented hook for the page's HTML

    def interpolate_used(**parts: str) -> str:
        tags = parts["scripts"].split("\n")
        parts["scripts"] = "\n".join(t for t in tags if not any(u in t for u in unused))
        return interpolate(**parts)

    app.interpolate_index = interpolate_used


# -- what the rooms are given ----------------------------------------------------------------


def city_of(workspace: Workspace, cfg: config_module.Config, ui: dict) -> CityProfile:
    """The city a viewer looks at (the `ui` store's), the configured one if unknown."""
    try:
        return workspace.city(ui_settings(ui)["city"] or cfg.city)
    except LookupError:
        return workspace.city(cfg.city)


def make_context(
    workspace: Workspace, cfg: config_module.Config, filters: dict, ui: dict, option: str | None
) -> ChartContext:
    """The context of a chart or KPI block from the `filters` and `ui` stores a request
    carries, each value checked (`components.state`)."""
    ui, options = ui_settings(ui), ViewState.from_filters(filters).options
    city = city_of(workspace, cfg, ui)
    return ChartContext(
        lang=ui["lang"],
        theme=ui["theme"],
        city=city,
        option=option,
        page_options=options,
        engine=chosen_engine(workspace.engine, options),  # ?ds_<kind>=<id>
        filters=filters_from_data(filters, [d.code for d in city.districts]),
    )


def render_page(
    workspace: Workspace, cfg: config_module.Config, page: Page, state: ViewState, ui: dict,
    path: str,
):  # fmt: skip
    """A page's content and its options' controls, for the view `state` in the `ui` settings."""
    ctx = PageContext(
        workspace=chosen_workspace(workspace, state.options),
        city=city_of(workspace, cfg, ui),
        state=state,
        lang=ui["lang"],
        theme=ui["theme"],
        view=make_context(workspace, cfg, filters_data(state), ui, None),
        path=path or page.path,
    )
    return page.layout(ctx), page_options(page, state, ui["lang"], ctx)


def coverage(
    workspace: Workspace, pages: list[Page], city_id: str, path: str = "/",
    options: dict | None = None,
) -> tuple[dt.date | None, dt.date | None]:  # fmt: skip
    """The span of the data the page at `path` draws: its kind's dataset, the one chosen
    on the page (`?ds_<kind>=<id>`) when there is a choice."""
    page = find_page(pages, path)
    kind = page.period_kind if page is not None else traffic_queries.READINGS
    try:
        return traffic_queries.coverage(chosen_engine(workspace.engine, options), city_id, kind)
    except MissingDataset:
        return None, None


def district_options(
    workspace: Workspace, cfg: config_module.Config, city_id: str, lang: str
) -> list[dict]:
    city = city_of(workspace, cfg, {"city": city_id})
    return [{"label": d.label(lang), "value": d.code} for d in city.districts]


def city_options(workspace: Workspace, lang: str) -> list[dict]:
    return [{"label": c.label(lang), "value": c.id} for c in workspace.cities.values()]


def build_services(
    server: flask.Flask, cfg: config_module.Config, workspace: Workspace
) -> Services:
    """The services every room is given: one per app, so one per server process."""
    pages = all_pages()
    site = Site(
        pages,
        functools.partial(render_page, workspace, cfg),
        functools.partial(coverage, workspace, pages),
        functools.partial(district_options, workspace, cfg),
        functools.partial(city_options, workspace),
        cfg.city,
    )
    return Services(
        cfg=cfg,
        workspace=workspace,
        make_context=functools.partial(make_context, workspace, cfg),
        site=site,
        jobs=attach_job_store(server, workspace.data_dir, cfg),  # deck exports, the annex's PDF
    )


def health(services: Services) -> dict:
    datasets = len(services.workspace.catalog.datasets())
    return {"status": "ok", "city": services.cfg.city, "datasets": datasets}


def register_shell(app: Dash, services: Services) -> None:
    """What every page shares: the sign-in (sessions, /login, /logout), the URL and its
    controls, the router, the chart cards, the KPI blocks, the dataset choosers, and the
    `/health`, `/download` and the open data API (`/api/v1`, `server/api.py`) routes."""
    register_auth(app.server, services.cfg, services.workspace.data_dir)
    register_routing(app, services.site)
    register_chart_callbacks(app, services.make_context)
    register_kpi_callbacks(app, services.make_context)
    register_choice_callbacks(app)
    app.server.add_url_rule("/health", "health", functools.partial(health, services))
    register_downloads(app.server, services.workspace)
    register_api(app.server, services.workspace)


def create_app(cfg: config_module.Config, workspace: Workspace | None = None) -> Dash:
    workspace = workspace or Workspace.open(cfg.data_dir, cfg.cache_size, cfg.query_threads)
    workspace.city(cfg.city)  # fail at start, not on the first request, if the city is unknown
    app = Dash(
        __name__,
        title="CityLens",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        assets_folder="assets",
        on_error=callback_failed,  # a value no check caught: logged, answered 400
    )
    services = build_services(app.server, cfg, workspace)
    app.layout = shell_layout(services.site)
    preload_graph_scripts(app)
    register_shell(app, services)
    for room in ROOMS:
        room.register(app, services)
    register_http_guards(app.server, cfg.max_request_mb)  # body limits, JSON, headers
    register_callback_guard(app)  # a callback request is the one its callback declares
    app.server.config["CITYLENS"] = cfg
    app.services = services
    app.workspace = workspace
    app.site = services.site
    app.make_context = services.make_context
    return app


def reply_token(workspace: Workspace) -> str:
    """What every cached callback reply depends on besides its request: every dataset version,
    the city profiles, the drawing code."""
    try:
        stamp = (workspace.data_dir / "cities").stat().st_mtime_ns
    except OSError:
        stamp = 0
    return f"{workspace.engine.data_token(None)}|{stamp}|{code_token()}"


def install_reply_cache(app: Dash) -> None:
    """Repeated chart and KPI callbacks answered from the caches without running Dash, a reply
    another worker is computing waited for (`server.reply_cache`); a server's workers each
    install it before they serve (gunicorn.conf.py)."""
    workspace = app.workspace
    locks = KeyLocks(workspace.data_dir / ".reply-locks")
    token = functools.partial(reply_token, workspace)
    install_response_cache(app.server, workspace.engine, token, locks)


def warm_views(app: Dash, states: list[ViewState], languages: tuple[str, ...], paint=render) -> int:
    """Render every chart and KPI block of each page for each view (light theme) in each
    language into the caches (`paint=draw`: past them); returns the charts rendered. Worth it
    only with a shared cache: see `warm_default_views` and `warm_month_views`."""
    site, rendered = app.site, 0
    for lang in languages:
        ui = {"lang": lang, "theme": "light", "city": site.default_city}
        for page in site.nav_pages:
            content, _ = site.render_page(page, ViewState(), ui, page.path)
            for state in states:
                filters = filters_data(state)
                for chart_id in pattern_ids(content):
                    chart = REGISTRY[chart_id]
                    paint(chart, app.make_context(filters, ui, chart.default_option))
                    rendered += 1
                for block in pattern_ids(content, "kpi-block"):
                    KPI_BLOCKS[block](app.make_context(filters, ui, None))
    return rendered


def warm_default_views(app: Dash, languages: tuple[str, ...] = LANGUAGES) -> int:
    """Each page's default view (no filters) in each language, which the first visitors after
    a start mostly open: run before a server's workers start (gunicorn.conf.py)."""
    return warm_views(app, [ViewState()], languages)


def warm_worker(app: Dash) -> None:
    """What a server process keeps for itself, built before it serves rather than for its first
    viewers (0.1-0.7 s each): in-memory copies of the default city's small sources, then each
    page and chart drawn once past every cache (the running totals of the traffic readings, the
    station-day tables, the city's map, the locale data are built on the way)."""
    app.workspace.engine.load_resident(app.site.default_city)
    warm_views(app, [ViewState()], (DEFAULT_LANGUAGE,), paint=draw)


def month_views(app: Dash) -> list[ViewState]:
    """Each calendar month of the default city's traffic readings, latest year: the views a
    presenter walks an audience through, month by month."""
    try:
        first, last = traffic_queries.coverage(app.workspace.engine, app.site.default_city)
    except MissingDataset:
        return []
    if first is None or last is None:
        return []
    views = []
    for month in range(1, 13):
        start = dt.date(last.year, month, 1)
        end = (start + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
        if start <= last and end >= first:
            views.append(ViewState(start=max(start, first), end=min(end, last)))
    return views


def warm_month_views(app: Dash, languages: tuple[str, ...] = LANGUAGES) -> int:
    """Each month's view (`month_views`) in each language: run in the background once the
    server is up (gunicorn.conf.py), at a low priority, so that viewers come first."""
    return warm_views(app, month_views(app), languages)


def register_downloads(server: flask.Flask, workspace: Workspace) -> None:
    """Whole datasets as Parquet (the stored file, or a version's several files streamed as one)
    or CSV (streamed, formula cells neutralised, district names in `?lang=` beside codes)."""

    def lookup(dataset_id: str) -> Dataset:
        try:
            return workspace.catalog.get(dataset_id)
        except CatalogError:
            flask.abort(404)

    @server.get("/download/<dataset_id>.parquet")
    def download_parquet(dataset_id: str):
        dataset = lookup(dataset_id)
        name = f"{dataset.id}-v{dataset.current_version}.parquet"
        stored = stored_parquet_file(dataset)
        if stored is not None:
            return flask.send_file(stored, as_attachment=True, download_name=name)
        return flask.Response(
            parquet_chunks(dataset),
            mimetype="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @server.get("/download/<dataset_id>.csv")
    def download_csv(dataset_id: str):
        dataset = lookup(dataset_id)
        name = f"{dataset.id}-v{dataset.current_version}.csv"
        lang = flask.request.args.get("lang", DEFAULT_LANGUAGE)
        lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        names = district_names(dataset, workspace.cities.get(dataset.meta.city), lang)
        return flask.Response(
            flask.stream_with_context(csv_chunks(dataset, names)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def parse_args(argv: list[str] | None) -> config_module.Config:
    env_cfg = config_module.from_env()
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Serve the CityLens dashboard. Each option overrides its environment variable.",
        epilog="Environment variables (defaults in brackets):\n"
        + "\n".join(
            f"  {config_module.env_name(f.name):<26} {config_module.SETTINGS[f.name]} "
            f"[{getattr(config_module.Config(), f.name)}]"
            for f in fields(config_module.Config)
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", help=f"address to listen on ({config_module.env_name('host')})")
    parser.add_argument(
        "--port", type=int, help=f"port to listen on ({config_module.env_name('port')})"
    )
    parser.add_argument(
        "--data-dir",
        dest="data_dir",
        type=config_module.Path,
        help=f"data folder ({config_module.env_name('data_dir')})",
    )
    parser.add_argument("--city", help=f"city profile shown ({config_module.env_name('city')})")
    parser.add_argument("--debug", action="store_true", default=None, help="Dash debug mode")
    return env_cfg.with_overrides(**vars(parser.parse_args(argv)))


def build(cfg: config_module.Config, progress: bool = False) -> Dash:
    """Open the workspace, create the demo data if it is missing, then build the app."""
    workspace = Workspace.open(cfg.data_dir, cfg.cache_size, cfg.query_threads)
    ensure_demo(
        workspace, cfg.city, detectors=cfg.demo_detectors, days=cfg.demo_days, progress=progress
    )
    return create_app(cfg, workspace)


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    app = build(cfg, progress=True)
    print(f"CityLens ready on http://{cfg.host}:{cfg.port}", file=sys.stderr)
    app.run(
        host=cfg.host,
        port=cfg.port,
        debug=cfg.debug,
        threaded=True,
        dev_tools_disable_version_check=True,
    )


def __getattr__(name: str):
    """`gunicorn app:server` builds the app from the environment on first access."""
    if name in {"app", "server"}:
        built = build(config_module.from_env())
        globals()["app"], globals()["server"] = built, built.server
        return globals()[name]
    raise AttributeError(name)


if __name__ == "__main__":
    main()
