"""The wiring between features, each checked where it is easy to break without any other test
noticing: what `render`'s cache key holds, what the data token follows, which callback replies
the reply cache may share between viewers, the filter reset, the zoom, which way is better for
the travel-time index, and the round table an upload is published under."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import orjson
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from plotly.io.json import to_json_plotly

import app as app_module
import config
import pages.traffic as traffic_page
from bench.dash_replay import render_payload, zoom_key, zoom_payload
from components.charts import REGISTRY, ChartContext, draw, render, render_card
from components.kpi import trend_class
from components.page import Page
from components.routing import Site, filters_data, filters_from_data, synced
from components.state import ViewState
from datasets.demo import generate_demo
from datasets.ingest import UploadMeta, commit, inspect, validate
from datasets.workspace import Workspace
from server.accounts import Accounts

CITY = config.Config().city
UI = {"lang": "en", "theme": "light", "city": CITY}
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wiring")
    generate_demo(Workspace.open(folder), CITY, detectors=4, days=31)
    Accounts(folder).add("ana", PASSWORD)
    return folder


@pytest.fixture(scope="module")
def dash_app(data_dir):
    return app_module.create_app(config.Config(data_dir=data_dir), Workspace.open(data_dir))


def context_factory(workspace: Workspace):
    """A `make_context` on `workspace` that counts the contexts it builds."""
    city = workspace.city(CITY)

    def make(filters: dict, ui: dict, option: str | None) -> ChartContext:
        return ChartContext(
            lang=ui["lang"],
            theme=ui["theme"],
            city=city,
            option=option,
            engine=workspace.engine,
            filters=filters_from_data(filters),
        )

    return make


def wire(value) -> object:
    """A value as it goes out in a reply (numpy arrays and dates as JSON)."""
    return orjson.loads(to_json_plotly(value, engine="orjson"))


def post(client, payload: dict):
    return client.post(
        "/_dash-update-component", data=json.dumps(payload), content_type="application/json"
    )


# -- the rooms ----------------------------------------------------------------------------------


def test_every_room_declares_its_pages_and_is_registered_by_the_app(dash_app):
    for room in app_module.ROOMS:
        assert room.PAGES and all(isinstance(page, Page) for page in room.PAGES), room.__name__
        assert callable(room.register), room.__name__
    served = [page.path for page in dash_app.site.pages]
    assert served == [page.path for room in app_module.ROOMS for page in room.PAGES]
    assert len(served) == len(set(served))
    nav = [page.path for page in dash_app.site.nav_pages]
    assert nav[:4] == ["/", "/traffic", "/ecology", "/sdg"]


# -- render's cache key -------------------------------------------------------------------------


def test_a_charts_option_is_part_of_its_cached_figures_key(data_dir):
    workspace = Workspace.open(data_dir)
    make = context_factory(workspace)
    card = {"type": "chart-option", "id": "traffic-district-map"}
    filters = filters_data(ViewState())
    speed = render_card(make, "speed", filters, UI, card)
    tti = render_card(make, "tti", filters, UI, card)
    assert workspace.engine.stats["figure_run"] == 2  # both drawn, neither read from the other
    chart = REGISTRY["traffic-district-map"]
    assert wire(tti) == wire(draw(chart, make(filters, UI, "tti")))
    assert wire(speed) != wire(tti)


# -- the data token -----------------------------------------------------------------------------


def test_a_new_version_is_a_new_data_token_and_a_fresh_figure(tmp_path):
    workspace = Workspace.open(tmp_path / "data")
    generate_demo(workspace, CITY, detectors=2, days=14)
    make = context_factory(workspace)
    chart = REGISTRY["traffic-district-map"]
    ctx = make(filters_data(ViewState()), UI, "speed")
    before_token = workspace.engine.data_token(CITY)
    before = render(chart, ctx)

    readings = workspace.engine.dataset(CITY, "traffic_readings")

    def slower(folder: Path) -> None:  # the same rows, every speed halved
        for path in sorted(readings.folder.glob("*.parquet")):
            table = pq.read_table(path)
            at = table.schema.get_field_index("speed_kmh")
            halved = pc.multiply(table.column(at), 0.5)
            pq.write_table(table.set_column(at, "speed_kmh", halved), folder / path.name)

    workspace.catalog.publish(readings.meta, slower, mode="replace", time_column="ts")

    assert workspace.engine.data_token(CITY) != before_token
    after = render(chart, make(filters_data(ViewState()), UI, "speed"))
    assert wire(after) != wire(before)
    assert wire(after) == wire(draw(chart, ctx))


# -- the reply cache ----------------------------------------------------------------------------


def router_payload(dash_app, path: str) -> dict:
    """The page router's request (`components.routing.route`) for `path`, as a browser sends
    it once the stores are set."""
    key = next(k for k in dash_app.callback_map if k.startswith("..page.children..."))
    outputs = []
    for part in key[2:-2].split("..."):
        component, prop = part.rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    return {
        "output": key,
        "outputs": outputs,
        "inputs": [
            {"id": "url", "property": "pathname", "value": path},
            {"id": "ui", "property": "data", "value": UI},
        ],
        "changedPropIds": ["url.pathname"],
        "state": [{"id": "url", "property": "search", "value": ""}],
    }


def log_in(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    reply = client.post("/login", data={"csrf": token, "name": "ana", "password": PASSWORD})
    assert reply.status_code == 303


def test_a_layout_that_depends_on_the_login_is_never_served_from_the_reply_cache(data_dir):
    dash_app = app_module.create_app(config.Config(data_dir=data_dir), Workspace.open(data_dir))
    app_module.install_reply_cache(dash_app)
    analyst, visitor = dash_app.server.test_client(), dash_app.server.test_client()
    log_in(analyst)

    # the cache is installed: a chart's reply is shared by two viewers
    chart = render_payload("traffic-district-map", "speed", filters_data(ViewState()), UI)
    assert post(analyst, chart).get_data() == post(visitor, chart).get_data()
    assert dash_app.workspace.engine.stats["reply_hit"] == 1

    page = router_payload(dash_app, "/data/upload")
    for_analyst = post(analyst, page)
    for_visitor = post(visitor, page)
    assert for_analyst.status_code == for_visitor.status_code == 200
    assert b"analyst-name" in for_analyst.get_data()  # "Signed in as ana"
    assert b"analyst-name" not in for_visitor.get_data()
    assert b"visitor-notice" in for_visitor.get_data()
    assert dash_app.workspace.engine.stats["reply_hit"] == 1


# -- the filter bar -----------------------------------------------------------------------------

FIRST, LAST = dt.date(2017, 1, 1), dt.date(2017, 12, 31)


def small_site() -> Site:
    page = Page(path="/traffic", nav="nav.traffic", title="traffic.title", layout=lambda c: None)
    return Site(
        pages=[page],
        render_page=lambda *args: (None, []),
        coverage=lambda city, path, options: (FIRST, LAST),
        district_options=lambda city, lang: [
            {"label": "A", "value": 1},
            {"label": "B", "value": 2},
        ],
        city_options=lambda lang: [{"label": "X", "value": "x"}],
        default_city="x",
    )


def control_values(state: ViewState) -> dict:
    return {
        "start": state.start.isoformat() if state.start else None,
        "end": state.end.isoformat() if state.end else None,
        "districts": list(state.districts),
        "lang": state.lang,
        "theme": None,
        "city": "x",
        "options": {},
        "click": None,
    }


def test_the_filter_reset_clears_dates_and_districts_and_keeps_the_language():
    site = small_site()
    filtered = ViewState(start=dt.date(2017, 3, 1), end=dt.date(2017, 3, 31), districts=(2,))
    search = filtered.with_changes(lang="fr").to_query()
    values = control_values(filtered.with_changes(lang="fr"))

    kept = synced(site, search, None, values, {}, None, None, "/traffic")
    assert kept[0] is not None and kept[4] == [2] and kept[9]["from"] == "2017-03-01"

    reset = synced(site, search, "filter-reset", values, {}, kept[9], kept[10], "/traffic")
    new_search, filters = reset[0], reset[9]
    assert ViewState.from_query(new_search) == ViewState(lang="fr")
    assert reset[4] == [] and filters["district"] == []
    assert (filters["from"], filters["to"]) != ("2017-03-01", "2017-03-31")
    assert reset[5] == "fr"  # the language menu


# -- the zoom -----------------------------------------------------------------------------------


def replied_figure(reply) -> dict:
    """The one figure of a single-output callback reply."""
    (component,) = reply.get_json()["response"].values()
    return component["figure"]


def test_a_zoom_on_the_time_axis_fetches_the_zoomed_days(dash_app):
    chart_id = "traffic-volume-speed"
    key = zoom_key(dash_app.callback_map, chart_id)
    filters = filters_data(ViewState())
    zoom = {"xaxis.range[0]": "2017-01-05 00:00", "xaxis.range[1]": "2017-01-08 00:00"}
    client = dash_app.server.test_client()
    reply = post(client, zoom_payload(key, chart_id, "day", filters, UI, zoom))
    assert reply.status_code == 200
    figure = replied_figure(reply)

    whole = dash_app.make_context(filters, UI, "day")
    narrowed = replace(
        whole,
        filters=replace(whole.filters, start=dt.date(2017, 1, 5), end=dt.date(2017, 1, 8)),
        xrange=("2017-01-05T00:00:00", "2017-01-08T00:00:00"),
    )
    expected = wire(draw(REGISTRY[chart_id], narrowed)[0])
    assert figure == expected
    assert figure != wire(draw(REGISTRY[chart_id], whole)[0])
    assert figure["layout"]["xaxis"]["range"] == list(narrowed.xrange)


def test_a_zoom_back_out_draws_the_whole_period_and_a_resize_draws_nothing(dash_app):
    chart_id = "traffic-volume-speed"
    key = zoom_key(dash_app.callback_map, chart_id)
    filters = filters_data(ViewState())
    client = dash_app.server.test_client()
    back = post(client, zoom_payload(key, chart_id, "day", filters, UI, {"xaxis.autorange": True}))
    figure = replied_figure(back)
    whole = dash_app.make_context(filters, UI, "day")
    assert figure == wire(draw(REGISTRY[chart_id], whole)[0])
    resize = post(client, zoom_payload(key, chart_id, "day", filters, UI, {"autosize": True}))
    assert resize.status_code == 204


# -- the KPI cards ------------------------------------------------------------------------------


def test_a_lower_travel_time_index_is_shown_as_better(dash_app, monkeypatch):
    shown = {}
    card = traffic_page.kpi_card

    def keep(kpi, *args, **kwargs):
        shown[kpi.id] = kpi
        return card(kpi, *args, **kwargs)

    monkeypatch.setattr(traffic_page, "kpi_card", keep)
    traffic_page.kpi_row(dash_app.make_context(filters_data(ViewState()), UI, None))
    tti = shown["traffic-tti"]
    assert tti.value is not None
    rose, fell = replace(tti, value=1.5, previous=1.2), replace(tti, value=1.2, previous=1.5)
    assert (trend_class(rose), trend_class(fell)) == ("bad", "good")
    speed = shown["traffic-speed"]  # the other way round for speed
    assert trend_class(replace(speed, value=30.0, previous=25.0)) == "good"


# -- the upload's round table -------------------------------------------------------------------


def test_the_round_table_chosen_for_an_upload_is_kept_on_commit(tmp_path):
    workspace = Workspace.open(tmp_path / "data")
    csv = tmp_path / "readings.csv"
    csv.write_text(
        "ts,detector_id,district,volume,speed_kmh,occupancy\n"
        "2017-03-01 08:00:00,HZ-1,330106,120,45.5,12.5\n"
    )
    meta = UploadMeta(title="Detectors", city=CITY, round_table="ecology")
    version = commit(validate(inspect(csv), scratch_dir=tmp_path), workspace, meta)
    dataset = workspace.catalog.get(version.dataset_id)
    assert dataset.meta.kind == "traffic_readings"  # whose own round table is traffic
    assert dataset.meta.round_table == "ecology"

    more = tmp_path / "more.csv"
    more.write_text(
        "ts,detector_id,district,volume,speed_kmh,occupancy\n"
        "2017-03-01 08:05:00,HZ-1,330106,90,50.0,8.0\n"
    )
    commit(
        validate(inspect(more), scratch_dir=tmp_path),
        workspace,
        UploadMeta(city=CITY),
        mode="append",
        dataset_id=dataset.id,
    )
    assert workspace.catalog.get(dataset.id).meta.round_table == "ecology"
