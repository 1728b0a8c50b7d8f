"""The app shell as served: preloaded graph scripts, the city menu's first state, the default
views rendered before a server starts, a worker's state built before it serves."""

from __future__ import annotations

import datetime as dt
import json
import re

from plotly.io.json import to_json_plotly

import app as app_module
import config
from bench.dash_replay import render_payload
from components.routing import filters_data, wire_ready
from components.state import ViewState
from datasets.demo import generate_demo
from datasets.rollups import grains_for
from datasets.workspace import Workspace


def make_app(tmp_path):
    cfg = config.Config(data_dir=tmp_path)
    return app_module.create_app(cfg, Workspace.open(tmp_path))


def render_reply(app, chart: str, option: str | None, view: ViewState, ui: dict):
    """A chart's render callback as dash-renderer sends it, through the app's endpoint."""
    payload = render_payload(chart, option, filters_data(view), ui)
    return app.server.test_client().post(
        "/_dash-update-component", data=json.dumps(payload), content_type="application/json"
    )


def test_graph_scripts_are_preloaded_from_paths_the_app_serves(tmp_path):
    client = make_app(tmp_path).server.test_client()
    html = client.get("/traffic").get_data(as_text=True)
    links = re.findall(r'<link rel="preload" as="script" href="([^"]+)">', html)
    assert [link.rsplit("/", 1)[1] for link in links] == ["async-graph.js"]
    for link in links:
        response = client.get(link)
        assert response.status_code == 200
        assert len(response.get_data()) > 1000


def test_every_page_loads_the_apps_plotly_bundle_not_the_full_one(tmp_path):
    client = make_app(tmp_path).server.test_client()
    html = client.get("/traffic").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    bundle = [s for s in scripts if "plotly" in s.rsplit("/", 1)[1]]
    assert len(bundle) == 1 and bundle[0].split("?")[0].endswith("/assets/vendor/plotly.min.js")
    assert client.get(bundle[0]).status_code == 200
    assert client.get("/assets/topojson/world_110m.json").get_json()["type"] == "Topology"


def test_city_menu_starts_on_the_default_city_among_its_options(tmp_path):
    app = make_app(tmp_path)
    menu = next(c for c in app.layout()._traverse() if getattr(c, "id", None) == "city-select")
    assert menu.value == config.Config().city
    assert menu.value in [option["value"] for option in menu.options]


def test_default_views_warmed_before_start_are_served_from_the_shared_cache(tmp_path):
    """What gunicorn.conf.py runs before forking: another process (a new engine on the same
    data folder) then answers a default-view chart from the shared cache, without drawing it."""
    generate_demo(Workspace.open(tmp_path), config.Config().city, detectors=4, days=31)
    rendered = app_module.warm_default_views(make_app(tmp_path), ("en",))
    assert rendered >= 17  # every chart of the traffic and ecology pages

    worker = make_app(tmp_path)
    ui = {"lang": "en", "theme": "light", "city": config.Config().city}
    reply = render_reply(worker, "traffic-district-map", "speed", ViewState(), ui)
    assert reply.status_code == 200 and b"choropleth" in reply.get_data()
    stats = worker.workspace.engine.stats
    assert (stats["figure_shared"], stats["figure_run"]) == (1, 0)


def test_month_views_cover_each_month_of_the_readings_clipped_to_the_data(tmp_path):
    generate_demo(Workspace.open(tmp_path), config.Config().city, detectors=4, days=45)
    views = app_module.month_views(make_app(tmp_path))
    assert [(v.start, v.end) for v in views] == [
        (dt.date(2017, 1, 1), dt.date(2017, 1, 31)),
        (dt.date(2017, 2, 1), dt.date(2017, 2, 14)),
    ]


def test_month_views_warmed_are_served_from_the_shared_cache(tmp_path):
    generate_demo(Workspace.open(tmp_path), config.Config().city, detectors=4, days=31)
    assert app_module.warm_month_views(make_app(tmp_path), ("fr",)) >= 17

    worker = make_app(tmp_path)
    ui = {"lang": "fr", "theme": "light", "city": config.Config().city}
    january = ViewState(start=dt.date(2017, 1, 1), end=dt.date(2017, 1, 31))
    reply = render_reply(worker, "eco-stations-map", None, january, ui)
    assert reply.status_code == 200 and b"scattergeo" in reply.get_data()
    stats = worker.workspace.engine.stats
    assert (stats["figure_shared"], stats["figure_run"]) == (1, 0)


def test_a_chart_that_ignores_the_dates_is_drawn_once_for_every_period(tmp_path):
    """The pilot chart shows fixed windows around the pilot start: another period reuses its
    drawing, while a dated chart is drawn again, and a district choice is a new drawing."""
    generate_demo(Workspace.open(tmp_path), config.Config().city, detectors=4, days=31)
    app = make_app(tmp_path)
    ui = {"lang": "en", "theme": "light", "city": config.Config().city}

    def show(chart: str, option: str | None, view: ViewState) -> None:
        assert render_reply(app, chart, option, view, ui).status_code == 200

    first = ViewState(start=dt.date(2017, 1, 2), end=dt.date(2017, 1, 9))
    later = ViewState(start=dt.date(2017, 1, 10), end=dt.date(2017, 1, 20))
    stats = app.workspace.engine.stats
    for view in (first, later):
        show("traffic-pilot", None, view)
        show("traffic-hour-weekday", None, view)
    assert stats["figure_run"] == 3 and stats["figure_lru"] == 1
    show("traffic-pilot", None, ViewState(start=first.start, end=first.end, districts=(330102,)))
    assert stats["figure_run"] == 4


def test_a_worker_builds_its_in_memory_state_before_serving(tmp_path):
    generate_demo(Workspace.open(tmp_path), config.Config().city, detectors=4, days=31)
    app = make_app(tmp_path)
    engine = app.workspace.engine
    resident = "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE 'resident_%'"
    assert engine.scan(resident)["n"][0].as_py() == 0

    app_module.warm_worker(app)
    # every dataset of the demo city and every rollup of it is small enough to be kept
    kinds = {d.meta.kind for d in engine.catalog.datasets(city=config.Config().city)}
    rollups = sum(len(grains_for(kind)) for kind in kinds)
    assert rollups and engine.scan(resident)["n"][0].as_py() == len(kinds) + rollups
    assert engine.stats["traffic.detector_days_run"] == 1
    ui = {"lang": "en", "theme": "light", "city": config.Config().city}
    reply = render_reply(app, "traffic-district-map", "speed", ViewState(), ui)
    assert reply.status_code == 200
    assert engine.stats["traffic.detector_days_run"] == 1  # kept, not built again


def test_the_router_sends_a_page_as_the_json_dash_writes_for_its_components(tmp_path):
    app = make_app(tmp_path)
    ui = {"lang": "zh", "theme": "dark", "city": config.Config().city}
    for path in ("/traffic", "/ecology"):
        content, options = app.site.render_page(app.site.find(path), ViewState(), ui, path)
        for tree in (content, options):
            plain = wire_ready(tree)
            assert to_json_plotly(plain) == to_json_plotly(tree)  # what Dash writes
