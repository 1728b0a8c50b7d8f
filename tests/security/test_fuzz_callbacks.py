"""A visitor fuzzes every Dash callback and every URL: no answer is a 5xx and nothing in the data
folder changes.

The app runs on a small demo city, a second city, an uploaded generic dataset and a second air
quality dataset, so every page, the dataset chooser and the explorer have data. For each entry of
`app.callback_map` (a callback added later is fuzzed without touching this file) a seeded
generator sends payloads built from what the pages' layouts really hold (ids of pattern-matching
components included) mixed with adversarial values, as the Dash renderer would send them, from a
visitor with no session.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dash._utils import stringify_id

import app as app_module
import config
from bench.dash_replay import render_payload
from components.charts import REGISTRY
from components.period import fmt_period
from components.routing import filters_data
from components.state import ViewState
from datasets.catalog import DatasetMeta
from datasets.city_admin import NewCity, add_city
from datasets.demo import generate_demo
from datasets.workspace import Workspace
from i18n import LANGUAGES
from server.accounts import Accounts
from server.callback_guard import SAFETY_NET_LOGGER
from server.jobs import DB_FILE as JOB_DB
from server.jobs import RESULTS_DIR as JOB_RESULTS

from .conftest import ANALYSTS, PASSWORD, callback_outputs, fingerprint

CITY = "hangzhou-2017"
SEED = 2017
PAYLOADS_PER_CALLBACK = 50
DASH = "/_dash-update-component"
ROOT = Path(__file__).resolve().parents[2]
BEIJING_DISTRICTS = ROOT / "tests/fixtures/cities/beijing-simplified/districts.geojson"
GENERIC = "sensor-log"
SECOND_AIR = "uploaded-air"
FIRST_DAY, LAST_DAY = dt.date(2017, 1, 1), dt.date(2017, 3, 1)  # the demo's 60 days
HUGE = "x" * 100_000

# Scalars and shapes no page sends: every prop may receive any of them.
ADVERSARIAL = (
    None,
    "",
    HUGE,
    "../x",
    "../../../etc/passwd",
    "xx",
    "0001-01-01",
    "9999-12-31",
    "2017-02-30",
    "not a date",
    -1,
    -(10**18),
    10**30,
    1e308,
    math.nan,
    math.inf,
    True,
    0,
    3.5,
    [],
    [None],
    ["../x", 10**30],
    {},
    {"a": {"b": {"c": [1, {"d": None}]}}},
    "杭州\u202e\u0000\ud7ff",
    "<script>alert(1)</script>",
)
CRAFTED_SEARCHES = (
    "?from=0001-01-01&to=9999-12-31",
    "?from=9999-12-31&to=0001-01-01",
    "?from=2017-02-30&to=not-a-date",
    "?lang=xx&theme=../x&city=../x",
    "?district=../x,1e99,-5,99999999999999999999999",
    "?deck=../x&slide=99999999999999999999",
    "?deck=forum&slide=-1&advance=1e9&kiosk=1&reload=99999999999999",
    "?deck=forum&slide=%C2%B2&advance=" + "9" * 5000,  # a digit int() refuses, too many digits
    "?cities=../x,,hangzhou-2017",
    "?chart=map&x=../x&y=%3Cscript%3E&f1=../x&v1=[1,2]&since=0001-01-01&until=9999-12-31",
    "?chart=line&bucket=../x&agg=../x&f1=site&v1=not-json&since=2017-02-30",
    "?ds_air_quality_hourly=../x&ds_traffic_readings=" + GENERIC,
    "?aqi=../x&option=../x",
    "?%ff%fe=%00&lang=%E4%B8%AD",
    "?from=" + HUGE[:5000],
)
QUERY_NAMES = (
    *("from", "to", "district", "lang", "theme", "city", "cities", "aqi", "option"),
    *("deck", "slide", "advance", "reload", "kiosk", "ds_air_quality_hourly"),
    *("chart", "x", "y", "color", "agg", "bucket", "since", "until", "f1", "v1", "f2", "v2"),
)
CRAFTED_PARAMS = (
    *("0001-01-01", "9999-12-31", "2017-02-30", "²", "9" * 5000, "-1", "1e9", "NaN", ""),
    *("../x", "xx", "<script>", "[1,2]", '["S1", 2, null]', "\x00", HUGE[:3000], "杭州"),
)
CRAFTED_PATHS = (
    "/data/../x",
    "/data/" + HUGE[:5000],
    "/data/%00",
    "/present/../../x",
    "/nope",
    "",
    "/data/" + GENERIC + "/../..",
)


# -- the site -------------------------------------------------------------------------------------


def publish_generic(workspace: Workspace) -> None:
    """A generic table as an analyst's upload leaves it: time, text, number, flags, places."""
    rows = 24 * 20
    start = dt.datetime(2017, 1, 1)
    table = pa.table(
        {
            "ts": pa.array([start + dt.timedelta(hours=h) for h in range(rows)], pa.timestamp("s")),
            "site": [f"S{h % 5}" for h in range(rows)],
            "pm25": pa.array([float(10 + h % 37) for h in range(rows)], pa.float64()),
            "ok": [h % 3 == 0 for h in range(rows)],
            "lat": [30.2 + (h % 7) / 100 for h in range(rows)],
            "lon": [120.1 + (h % 5) / 100 for h in range(rows)],
        }
    )
    meta = DatasetMeta(
        id=GENERIC,
        city=CITY,
        kind="generic",
        round_table="other",
        title={"en": "Sensor log"},
        description={"en": "Uploaded by an analyst"},
    )
    workspace.catalog.publish(meta, lambda folder: pq.write_table(table, folder / "part.parquet"))


def publish_second_air(workspace: Workspace) -> None:
    """A second air-quality dataset of the city, so the round-table pages offer a chooser."""
    hours = 24 * 10
    table = pa.table(
        {
            "ts": pa.array(
                [dt.datetime(2017, 1, 1) + dt.timedelta(hours=h) for h in range(hours)],
                pa.timestamp("s"),
            ),
            "station_id": ["1223A"] * hours,
            "pm25": pa.array([35.0] * hours, pa.float32()),
        }
    )
    meta = DatasetMeta(
        id=SECOND_AIR,
        city=CITY,
        kind="air_quality_hourly",
        round_table="ecology",
        title={"en": "Uploaded air"},
        description={"en": ""},
    )
    workspace.catalog.publish(meta, lambda folder: pq.write_table(table, folder / "part.parquet"))


def visitor_may_write(path: Path) -> bool:
    """What a visitor's requests legitimately write: the shared result cache (figures and query
    results any viewer's request computes, keyed by data version, evicted by size), the locks
    that make one worker compute a reply the others wait for, and the job store, where any
    viewer's deck export or annex PDF runs and is kept for identical requests (bounded in count,
    size and age). None holds anything a visitor could change another viewer's view with."""
    return path.parts[0] in {"cache", ".reply-locks", JOB_RESULTS} or path.name.startswith(JOB_DB)


class Site:
    def __init__(self, data_dir: Path) -> None:
        for name in ANALYSTS:
            Accounts(data_dir).add(name, PASSWORD)
        workspace = Workspace.open(data_dir)
        generate_demo(workspace, CITY, detectors=4, days=60)
        publish_generic(workspace)
        publish_second_air(workspace)
        add_city(
            data_dir,
            NewCity(
                name={"en": "Beijing", "zh": "北京"},
                districts_geojson=BEIJING_DISTRICTS.read_bytes(),
                filename=BEIJING_DISTRICTS.name,
                timezone="Asia/Shanghai",
            ),
        )
        workspace.reload_cities()
        self.data_dir = data_dir
        self.workspace = workspace
        self.app = app_module.create_app(config.Config(data_dir=data_dir), workspace)
        self.codes = [d.code for d in workspace.city(CITY).districts]
        self.cities = list(workspace.cities)
        self.layouts = harvest(self)
        self.values = runtime_values(self)

    def visitor(self):
        return self.app.server.test_client()

    def fingerprint(self) -> dict:
        return fingerprint(self.data_dir, visitor_may_write)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    built = Site(tmp_path_factory.mktemp("fuzz-data"))
    warm = built.visitor()
    assert warm.get("/health").status_code == 200
    assert warm.get("/traffic").status_code == 200
    return built


# -- what the pages hold --------------------------------------------------------------------------


def page_paths(site: Site) -> list[str]:
    return [
        "/",
        "/traffic",
        "/traffic?from=2017-01-10&to=2017-02-10&district=" + str(site.codes[0]),
        "/traffic?ds_air_quality_hourly=" + SECOND_AIR,
        "/ecology",
        "/ecology?aqi=epa&lang=fr&theme=dark",
        "/sdg",
        "/compare",
        "/compare?cities=" + ",".join(site.cities),
        "/data",
        "/data/upload",
        "/data/" + GENERIC,
        "/data/" + GENERIC + "?chart=bar&x=site&f1=site&v1=%5B%22S1%22%5D&f2=ok",
        "/data/" + SECOND_AIR,
        "/present",
        "/present?deck=forum&slide=3",
        "/present/presenter?deck=forum&slide=2",
        "/present/edit",
        "/present/edit?deck=forum",
        "/cities",
        "/traffic?city=beijing",
    ]


def walk(node):
    if isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)
        return
    if node is None or isinstance(node, str | int | float):
        return
    yield node
    yield from walk(getattr(node, "children", None))
    for prop in ("label", "placeholder"):  # components held in props other than children
        inner = getattr(node, prop, None)
        if inner is not None and not isinstance(inner, str):
            yield from walk(inner)


def harvest(site: Site) -> dict[str, dict[str, dict]]:
    """{page url: {component id (as Dash writes it): (id, {prop: value})}} of every rendered page
    and the shell, as a visitor gets them."""
    app = site.app
    shell = list(walk(app.layout()))
    pages = {}
    for url in page_paths(site):
        path, _, query = url.partition("?")
        search = "?" + query if query else ""
        state = ViewState.from_query(search)
        ui = {"lang": state.lang or "en", "theme": state.theme or "light"}
        ui["city"] = state.city or CITY
        with app.server.test_request_context(url):
            content, options = app.site.render_page(app.site.find(path), state, ui, path)
        components = {}
        for node in [*shell, *walk(content), *walk(options)]:
            cid = getattr(node, "id", None)
            if cid is None:
                continue
            props = {
                name: getattr(node, name)
                for name in node._prop_names
                if name not in {"children", "id"} and getattr(node, name, None) is not None
            }
            components[stringify_id(cid)] = (cid, props)
        pages[url] = components
    return pages


def runtime_values(site: Site) -> dict:
    """Values the shell and the browser put in props at run time (stores, the URL, clicks)."""
    searches = ["", "?from=2017-01-10&to=2017-02-20", "?lang=fr&theme=dark", "?deck=forum&slide=2"]
    searches += [f"?district={site.codes[0]},{site.codes[-1]}", "?city=beijing"]
    searches += ["?cities=" + ",".join(site.cities), "?chart=bar&x=site&f1=site&v1=[%22S1%22]"]
    dates = ["2017-01-05", "2017-02-20", "2017-03-01T00:00:00"]
    zooms = [{"xaxis.range[0]": "2017-01-05 06:00", "xaxis.range[1]": "2017-01-20"}]
    zooms += [{"xaxis.autorange": True}, {"xaxis.range": ["2017-02-01", "2017-02-03"]}]
    slide = {"chart": "traffic-metro", "query": "?from=2017-01-10", "option": "days"}
    return {
        ("url", "search"): searches,
        ("url", "pathname"): [url.partition("?")[0] for url in page_paths(site)],
        ("filters", "data"): [  # the shell writes a crafted link's options in there too
            filters_data(ViewState.from_query(s)) for s in (*searches, *CRAFTED_SEARCHES)
        ],
        ("ui", "data"): [
            {"lang": lang, "theme": theme, "city": city}
            for lang in LANGUAGES
            for theme in ("light", "dark")
            for city in site.cities
        ],
        ("ui-saved", "data"): [None, {"lang": "fr"}, {"theme": "dark"}],
        ("filter-dates", "start_date"): dates,
        ("filter-dates", "end_date"): dates,
        ("explorer-dates", "start_date"): dates,
        ("explorer-dates", "end_date"): dates,
        ("filter-districts", "value"): [[], [site.codes[0]], site.codes[:3]],
        ("lang-select", "value"): list(LANGUAGES),
        ("theme-select", "value"): ["light", "dark"],
        ("city-select", "value"): site.cities,
        ("compare-cities", "value"): [site.cities, site.cities[:1], []],
        ("city-districts", "data"): [None, {"token": "x" * 24}],
        ("deck-draft", "data"): [{"slides": [slide]}, {"slides": []}],
        ("upload-job", "data"): [None, {"token": "0" * 32}],
        ("upload-kind", "value"): ["generic", "air_quality_hourly"],
        ("upload-mode", "value"): ["new", "append", "replace"],
        ("clickData",): [
            {"points": [{"location": str(site.codes[0])}]},
            {"points": [{"customdata": [site.codes[1], "x"]}]},
        ],
        ("relayoutData",): zooms,
        ("n_clicks",): [1, 2, None],
        ("submit_n_clicks",): [1],
        ("n_intervals",): [1, 7],
    }


# -- payloads -------------------------------------------------------------------------------------


def parse_id(raw):
    return json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw


def wildcard(value) -> str | None:
    """The wildcard a value of a pattern id is (MATCH, ALL, ALLSMALLER), else None."""
    if isinstance(value, list) and len(value) == 1 and value[0] in {"MATCH", "ALL", "ALLSMALLER"}:
        return value[0]
    return None


def matches(pattern: dict, concrete) -> bool:
    if not isinstance(concrete, dict) or set(concrete) != set(pattern):
        return False
    return all(wildcard(v) or concrete[k] == v for k, v in pattern.items())


def outputs_of(key: str, entry: dict) -> list[dict]:
    if entry.get("no_output"):
        return []
    outputs = callback_outputs(key)
    return outputs if isinstance(outputs, list) else [outputs]


class Fuzzer:
    """Builds the payloads of one callback: real values from a page's layout, adversarial ones."""

    def __init__(self, site: Site, key: str, rng: random.Random) -> None:
        self.site, self.key, self.rng = site, key, rng
        self.entry = site.app.callback_map[key]
        self.inputs = [(parse_id(d["id"]), d["property"]) for d in self.entry["inputs"]]
        self.state = [(parse_id(d["id"]), d["property"]) for d in self.entry["state"]]
        self.outputs = outputs_of(key, self.entry)
        self.multi = key.startswith("..")
        self.page_url = "/"
        patterns = [i for i, _ in [*self.inputs, *self.state]] + [o["id"] for o in self.outputs]
        self.match_patterns = [
            p for p in patterns if isinstance(p, dict) and "MATCH" in map(wildcard, p.values())
        ]

    # values
    def real_values(self, component_id, prop: str, page: dict) -> list:
        found = []
        if component_id == "url":  # where the page's ids came from, then other views
            path, _, query = self.page_url.partition("?")
            found.append(path if prop == "pathname" else "?" + query if query else "")
        held = page.get(stringify_id(component_id))
        if held is not None and prop in held[1]:
            found.append(held[1][prop])
        plain = component_id if isinstance(component_id, str) else component_id.get("type")
        found += self.site.values.get((plain, prop), [])
        found += self.site.values.get((prop,), [])
        if prop == "id":
            found = [component_id]
        return found or [None]

    def adversarial(self, prop: str, real):
        rng = self.rng
        roll = rng.random()
        if prop == "search" and roll < 0.25:
            return rng.choice(CRAFTED_SEARCHES)
        if prop == "search" and roll < 0.75:  # a real link with one to three values crafted
            params = dict(parse_qsl(real.lstrip("?"))) if isinstance(real, str) else {}
            for name in rng.sample([*params, *QUERY_NAMES], rng.randint(1, 3)):
                params[name] = rng.choice(CRAFTED_PARAMS)
            return "?" + urlencode(params)
        if prop == "pathname" and roll < 0.5:
            return rng.choice(CRAFTED_PATHS)
        if isinstance(real, dict) and real and roll < 0.6:
            mutated = dict(real)
            name = rng.choice([*mutated, "../x"])
            inner = mutated.get(name)
            mutated[name] = (
                self.adversarial(prop, inner) if rng.random() < 0.3 else rng.choice(ADVERSARIAL)
            )
            return mutated
        if isinstance(real, list) and real and roll < 0.6:
            mutated = list(real)
            mutated[rng.randrange(len(mutated))] = rng.choice(ADVERSARIAL)
            return mutated if rng.random() < 0.8 else mutated[0]
        return rng.choice(ADVERSARIAL)

    def value(self, component_id, prop: str, page: dict, hostility: float):
        real = self.rng.choice(self.real_values(component_id, prop, page))
        if self.rng.random() >= hostility:
            return real
        return self.adversarial(prop, real)

    # ids
    def concrete(self, pattern, page: dict, match: dict, hostility: float) -> list:
        """The ids a pattern stands for on this page: one for a plain or MATCH id, every match
        of an ALL pattern (a crafted one added now and then)."""
        if not isinstance(pattern, dict):
            return [pattern]
        kinds = {wildcard(v) for v in pattern.values()} - {None}
        if not kinds:
            return [pattern]
        if kinds == {"MATCH"}:
            return [{k: match.get(k, v) if wildcard(v) else v for k, v in pattern.items()}]
        ids = [
            cid
            for cid, _ in page.values()
            if matches(pattern, cid)
            and all(cid[k] == match.get(k) for k, v in pattern.items() if wildcard(v) == "MATCH")
        ]
        if self.rng.random() < hostility / 3:
            crafted = {k: "../x" if wildcard(v) else v for k, v in pattern.items()}
            ids.append({**crafted, **{k: match[k] for k in match if k in crafted}})
        return ids

    def match_values(self, page: dict, hostility: float) -> dict:
        if not self.match_patterns:
            return {}
        seen = [
            cid
            for layout in self.site.layouts.values()
            for cid, _ in layout.values()
            if any(matches(p, cid) for p in self.match_patterns)
        ]
        pattern = self.match_patterns[0]
        names = [k for k, v in pattern.items() if wildcard(v) == "MATCH"]
        if not seen or self.rng.random() < hostility / 3:
            return {name: self.rng.choice(["../x", "", 10**30, "杭州"]) for name in names}
        chosen = self.rng.choice(seen)
        return {name: chosen[name] for name in names}

    def payload(self) -> dict:
        rng = self.rng
        page_url = self.page_url = rng.choice(list(self.site.layouts))
        page = self.site.layouts[page_url]
        hostility = rng.choice((0.0, 0.3, 0.7, 1.0))
        match = self.match_values(page, hostility)
        ids_of: dict[str, list] = {}

        def ids(pattern) -> list:
            name = stringify_id(pattern)
            if name not in ids_of:
                ids_of[name] = self.concrete(pattern, page, match, hostility)
            return ids_of[name]

        def is_all(pattern) -> bool:
            return isinstance(pattern, dict) and any(
                wildcard(v) in {"ALL", "ALLSMALLER"} for v in pattern.values()
            )

        def deps(declared) -> list:
            out = []
            for pattern, prop in declared:
                items = [
                    {"id": cid, "property": prop, "value": self.value(cid, prop, page, hostility)}
                    for cid in ids(pattern)
                ]
                out.append(items if is_all(pattern) else items[0])
            return out

        inputs, state = deps(self.inputs), deps(self.state)
        outputs = []
        for spec in self.outputs:
            items = [{"id": cid, "property": spec["property"]} for cid in ids(spec["id"])]
            outputs.append(items if is_all(spec["id"]) else items[0])
        flat = [i for item in inputs for i in (item if isinstance(item, list) else [item])]
        changed = [f"{stringify_id(i['id'])}.{i['property']}" for i in flat]
        if changed and rng.random() < 0.8:
            changed = [rng.choice(changed)]
        return {
            "output": self.key,
            "outputs": outputs if self.multi or not outputs else outputs[0],
            "inputs": inputs,
            "state": state,
            "changedPropIds": changed,
            "page": page_url,  # not part of Dash's envelope: where the ids came from
        }


def post(client, payload: dict):
    body = {k: v for k, v in payload.items() if k != "page"}
    return client.post(DASH, json=body)


def describe(payload: dict) -> str:
    text = json.dumps(payload, default=str)
    return text if len(text) < 600 else text[:600] + "…"


# -- the fuzz -------------------------------------------------------------------------------------


def test_every_callback_is_fuzzed_without_a_5xx_nor_a_write(site, caplog):
    app = site.app
    client = site.visitor()
    before = site.fingerprint()
    rng = random.Random(SEED)
    fuzzed, statuses, failures = [], defaultdict(Counter), defaultdict(list)
    caplog.set_level(logging.ERROR)
    for key in app.callback_map:
        fuzzer = Fuzzer(site, key, rng)
        for _ in range(PAYLOADS_PER_CALLBACK):
            payload = fuzzer.payload()
            response = post(client, payload)
            statuses[key][response.status_code] += 1
            if response.status_code >= 500:
                failures[key].append(describe(payload))
        fuzzed.append(key)
    assert len(fuzzed) == len(app.callback_map) >= 33  # every callback, new ones included
    report = {key[:90]: (len(found), found[0]) for key, found in failures.items()}
    assert not failures, json.dumps(report, indent=1, ensure_ascii=False)
    for key, entry in app.callback_map.items():
        ran = statuses[key][200] + statuses[key][204]
        if "callback" in entry:  # a server callback: the fuzz reached its code
            assert ran > 0, (key, statuses[key])
        else:  # a clientside callback has nothing to run on the server
            assert ran == 0, (key, statuses[key])
    net = [r for r in caplog.records if r.name == SAFETY_NET_LOGGER]
    assert not net, [r.getMessage()[:300] for r in net]  # each such value is validated first
    assert site.fingerprint() == before


# -- values clamped where they enter --------------------------------------------------------------


def sync_payload(site: Site, search: str, ui: dict | None = None, path: str = "/") -> dict:
    key = next(k for k in site.app.callback_map if k.startswith("..url.search...filter-dates"))
    fuzzer = Fuzzer(site, key, random.Random(0))
    payload = fuzzer.payload()
    for item in payload["inputs"]:
        if isinstance(item, dict):
            item["value"] = None
        else:
            item.clear()
    payload["inputs"][0]["value"] = search
    payload["outputs"][8] = []  # no page options on the page
    payload["state"] = [
        {"id": "ui-saved", "property": "data", "value": None},
        {"id": "filters", "property": "data", "value": None},
        {"id": "ui", "property": "data", "value": ui},
        {"id": "url", "property": "pathname", "value": path},
    ]
    payload["changedPropIds"] = ["url.search"]
    return payload


def strings(tree) -> list[str]:
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        tree = list(tree.values())
    return [s for item in tree for s in strings(item)] if isinstance(tree, list) else []


def test_dates_beyond_the_data_are_clamped_to_its_coverage(site):
    client = site.visitor()
    response = post(client, sync_payload(site, "?from=0001-01-01&to=9999-12-31"))
    assert response.status_code == 200
    out = response.get_json()["response"]
    first, last = FIRST_DAY.isoformat(), LAST_DAY.isoformat()
    assert out["filter-dates"] == {"start_date": first, "end_date": last}
    assert out.get("url") == {"search": f"?from={first}&to={last}"}  # the link says so too
    filters = out["filters"]["data"]
    assert (filters["from"], filters["to"]) == (first, last)
    ui = out["ui"]["data"]
    block = {"type": "kpi-block", "id": "traffic"}

    # the page's KPI block states the clamped period, and a chart draws it
    kpi = {
        "output": '{"id":["MATCH"],"type":"kpi-block"}.children',
        "outputs": {"id": {"type": "kpi-block", "id": "traffic"}, "property": "children"},
        "inputs": [{"id": "filters", "property": "data", "value": filters}],
        "state": [
            {"id": "ui", "property": "data", "value": ui},
            {"id": {"type": "kpi-block", "id": "traffic"}, "property": "id", "value": block},
        ],
        "changedPropIds": ["filters.data"],
    }
    answer = post(client, kpi)
    assert answer.status_code == 200
    period = fmt_period(FIRST_DAY, LAST_DAY, "en")
    assert any(period in text for text in strings(answer.get_json())), period


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2017-02-30", "2017-02-10"),
        ("not a date", 5),
        ("2017-02-20", "2017-01-10"),
        ("9999-12-31", "0001-01-01"),
    ],
)
def test_the_date_picker_s_impossible_dates_fall_back_swap_or_clamp(site, start, end):
    payload = sync_payload(site, "")
    payload["inputs"][1]["value"], payload["inputs"][2]["value"] = start, end
    payload["changedPropIds"] = ["filter-dates.start_date"]
    response = post(site.visitor(), payload)
    assert response.status_code == 200
    dates = response.get_json()["response"]["filter-dates"]
    first, last = FIRST_DAY.isoformat(), LAST_DAY.isoformat()
    assert first <= dates["start_date"] <= dates["end_date"] <= last, dates


def test_unknown_language_theme_city_and_districts_are_dropped(site):
    search = "?lang=xx&theme=../x&city=../x&district=../x,1,330106"
    response = post(site.visitor(), sync_payload(site, search, {"lang": "xx", "theme": "y"}))
    assert response.status_code == 200
    out = response.get_json()["response"]
    assert out["ui"]["data"] == {"lang": "en", "theme": "light", "city": CITY}
    assert out["filters"]["data"]["district"] == [330106]
    assert out["url"]["search"] == "?district=330106"


@pytest.mark.parametrize(
    ("chart_id", "option", "filters", "ui"),
    [
        ("traffic-district-map", "speed", {"district": ["../x"]}, {"lang": "en"}),
        ("traffic-hour-weekday", "speed", {"from": "0001-01-01", "to": "9999-12-31"}, {}),
        ("traffic-volume-speed", "../x", {}, {"lang": "xx", "theme": "../x", "city": "../x"}),
        ("traffic-metro", ["days"], {"from": "2017-02-30"}, {"lang": ["en"]}),
        ("../x", None, {}, {}),
    ],
)
def test_a_chart_answers_crafted_values_with_a_drawing_or_a_refusal(
    site, chart_id, option, filters, ui
):
    response = post(site.visitor(), render_payload(chart_id, option, filters, ui))
    assert response.status_code < 500
    if chart_id in REGISTRY:  # a known chart still draws, from the values it can use
        assert response.status_code == 200
        figure = response.get_json()["response"][
            json.dumps({"id": chart_id, "type": "chart-graph"}, separators=(",", ":"))
        ]["figure"]
        assert figure["data"], "the chart drew nothing"
    else:
        assert 400 <= response.status_code < 500


# -- envelopes ------------------------------------------------------------------------------------


def test_malformed_dash_envelopes_answer_4xx(site):
    client = site.visitor()
    key = '{"id":["MATCH"],"type":"kpi-block"}.children'
    block = {"type": "kpi-block", "id": "traffic"}
    good = {
        "output": key,
        "outputs": {"id": {"type": "kpi-block", "id": "traffic"}, "property": "children"},
        "inputs": [{"id": "filters", "property": "data", "value": {}}],
        "state": [
            {"id": "ui", "property": "data", "value": {}},
            {"id": block, "property": "id", "value": block},
        ],
        "changedPropIds": ["filters.data"],
    }
    assert client.post(DASH, json=good).status_code == 200
    clientside = next(k for k, e in site.app.callback_map.items() if "callback" not in e)
    bad_bodies = [
        [],
        "x",
        {},
        {**good, "output": 5},
        {**good, "output": "nope.children"},
        {**good, "output": clientside},
        {k: v for k, v in good.items() if k != "inputs"},
        {**good, "inputs": "x"},
        {**good, "inputs": []},
        {**good, "inputs": [{"id": "filters"}]},
        {**good, "inputs": [{"id": "ui", "property": "data", "value": {}}]},
        {**good, "inputs": [[{"id": "filters", "property": "data"}]]},
        {**good, "state": None},
        {**good, "state": [{"id": "ui", "property": "data"}, {"id": 5, "property": "id"}]},
        {**good, "outputs": []},
        {**good, "outputs": {"id": {"type": "kpi-block", "id": "x"}, "property": "style"}},
        {**good, "changedPropIds": "filters.data"},
        {**good, "changedPropIds": [5]},
        {
            **good,
            "outputs": {"id": {"type": "kpi-block", "id": "a"}, "property": "children"},
        },  # MATCH values that differ between output and state
    ]
    for body in bad_bodies:
        response = client.post(DASH, json=body)
        assert 400 <= response.status_code < 500, (body, response.status_code)
    for raw, kind in [
        (b"{not json", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"output=x", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ]:
        response = client.post(DASH, data=raw, content_type=kind)
        assert 400 <= response.status_code < 500, (raw, response.status_code)


def test_a_pattern_list_must_match_its_outputs(site):
    """An ALL output listing other components than the ALL input: refused, not a crash."""
    payload = sync_payload(site, "")
    payload["inputs"][8] = [
        {"id": {"type": "page-option", "name": "aqi"}, "property": "value", "value": "epa"}
    ]
    response = post(site.visitor(), payload)  # outputs hold no page option
    assert 400 <= response.status_code < 500


# -- URL routes -----------------------------------------------------------------------------------


def test_url_routes_answer_no_5xx(site):
    client = site.visitor()
    before = site.fingerprint()
    pages = sorted({url.partition("?")[0] for url in page_paths(site)})
    crafted_ids = ["../x", "..%2F..%2Fetc%2Fpasswd", "%00", quote(HUGE[:3000]), "<script>", "杭州"]
    urls = [page + search for page in pages for search in CRAFTED_SEARCHES]
    urls += ["/traffic?from=0001-01-01&to=9999-12-31"]
    urls += [f"/download/{x}.csv" for x in crafted_ids]
    urls += [f"/download/{x}.parquet" for x in crafted_ids]
    urls += [f"/data/{x}" for x in crafted_ids]
    urls += [
        f"/sdg/annex?{query}"
        for query in (
            "format=html",
            "format=xx",
            "format=html&lang=xx",
            "format=html&lang=fr&city=../x",
            "format=html&city=beijing",
            "format=html&download=1&lang=zh",
            "lang=" + HUGE[:3000],
            "format=",
            "format=html&format=pdf&lang=es",
        )
    ]
    urls += [
        f"/present/export?{query}"
        for query in ("format=xx", "deck=../x&format=html", "deck=" + HUGE[:3000], "lang=xx")
    ]
    urls += [f"/present/export/jobs/{x}" for x in crafted_ids]
    urls += [f"/present/export/jobs/{x}/file" for x in crafted_ids]
    urls += [f"/upload/{x}" for x in crafted_ids]
    urls += ["/present/decks", "/login?next=" + quote("//evil.example/"), "/logout", "/health"]
    urls += ["/_dash-layout", "/_dash-dependencies", "/assets/../config.py"]
    failures = []
    for url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            failures.append((url[:120], response.status_code))
    assert not failures
    assert site.fingerprint() == before


def route_payload(site: Site, path: str, search: str, ui: dict) -> dict:
    key = next(k for k in site.app.callback_map if k.startswith("..page.children"))
    return {
        "output": key,
        "outputs": callback_outputs(key),
        "inputs": [
            {"id": "url", "property": "pathname", "value": path},
            {"id": "ui", "property": "data", "value": ui},
        ],
        "state": [{"id": "url", "property": "search", "value": search}],
        "changedPropIds": ["url.pathname"],
    }


def test_every_page_opened_from_a_crafted_link_renders(site, caplog):
    """What the browser does with a link: the shell reads the URL into the stores, then the
    router draws the page from the path and the query."""
    client = site.visitor()
    before = site.fingerprint()
    caplog.set_level(logging.ERROR)
    pages = sorted({url.partition("?")[0] for url in page_paths(site)} | {"/data/../x"})
    failures = []
    for path in pages:
        for search in CRAFTED_SEARCHES:
            synced = post(client, sync_payload(site, search, path=path))
            ui = synced.get_json()["response"]["ui"]["data"] if synced.status_code == 200 else {}
            routed = post(client, route_payload(site, path, search, ui or {"lang": "en"}))
            if synced.status_code != 200 or routed.status_code not in (200, 204):
                failures.append((path, search[:80], synced.status_code, routed.status_code))
    assert not failures
    net = [r for r in caplog.records if r.name == SAFETY_NET_LOGGER]
    assert not net, [r.getMessage()[:300] for r in net]
    assert site.fingerprint() == before
