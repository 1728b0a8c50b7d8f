"""CityLens measured from the outside: the Dash callbacks a browser triggers, replayed through the
app's own HTTP endpoint (Flask test client, no network), with filters no cache has seen.

Server time is the time of the HTTP handler: routing, the callback, its queries, the figure and
its JSON. A page-level interaction (a filter change, a first load) fires its chart callbacks
concurrently, as dash-renderer does; in this one process they share one interpreter lock, so
its wall time is an upper bound for a server with several worker processes (gunicorn).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from components.routing import pattern_ids
from components.state import ViewState
from datasets.downsample import max_points_per_trace
from datasets.queries import ecology as eq
from datasets.queries import traffic as q
from datasets.query import QueryEngine

from .baselines import ZOOM_BUCKET, filters_from_json
from .dash_replay import (
    Timed,
    kpi_payload,
    post,
    post_body,
    render_payload,
    route_payload,
    zoom_key,
    zoom_payload,
)

PAGES = ("/traffic", "/ecology", "/")
# data interaction -> (chart id, option) of the callback that shows it (None: the KPI block)
CHART_OF = {
    "traffic.district_map": ("traffic-district-map", "speed"),
    "traffic.hour_weekday": ("traffic-hour-weekday", "speed"),
    "traffic.volume_speed": ("traffic-volume-speed", "day"),
    "traffic.volume_speed_zoom": ("traffic-volume-speed", ZOOM_BUCKET),
    "traffic.pilot": ("traffic-pilot", None),
    "traffic.kpis": None,
    "ecology.no2_traffic": ("eco-no2-traffic", None),
}


@dataclass
class Measured:
    times: dict[str, list[float]] = field(default_factory=dict)
    query_times: dict[str, list[float]] = field(default_factory=dict)
    payload_kb: dict[str, list[float]] = field(default_factory=dict)
    max_points: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, ms: float) -> None:
        self.times.setdefault(name, []).append(ms)

    def figure(self, name: str, timed: Timed, body: bytes | None) -> None:
        self.payload_kb.setdefault(name, []).append(timed.bytes / 1024)
        if body:
            for output in json.loads(body).get("response", {}).values():
                figure = output.get("figure")
                if isinstance(figure, dict):
                    self.max_points = max(self.max_points, max_points_per_trace(figure))


def page_parts(app, path: str, ui: dict) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(chart id, default option) of every card on a page, and its KPI blocks, read from its
    rendered layout."""
    from components.charts import REGISTRY

    content, _ = app.site.render_page(app.site.find(path), ViewState(), ui, path)
    charts = [(cid, REGISTRY[cid].default_option) for cid in pattern_ids(content)]
    return charts, pattern_ids(content, "kpi-block")


def _get(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    response.get_data()
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
    return (time.perf_counter() - started) * 1000


def sync_payload(app, search: str, ui: dict) -> dict | None:
    """The shell's URL -> controls -> stores callback as a first load sends it."""
    key = next((k for k in app.callback_map if "url.search" in k and "filters.data" in k), None)
    if key is None:
        return None
    spec = app.callback_map[key]

    def item(dep: dict, value=None):
        dep_id = dep["id"]
        if isinstance(dep_id, str) and dep_id.startswith("{"):
            return []  # a wildcard (ALL) input: nothing on the page yet
        return {"id": dep_id, "property": dep["property"], "value": value}

    inputs = [item(d, search if d["id"] == "url" else None) for d in spec["inputs"]]
    state = [item(d, ui if d["id"] == "ui" else None) for d in spec["state"]]
    outputs = []
    for part in key.strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        outputs.append([] if ident.startswith("{") else {"id": ident, "property": prop})
    return {
        "output": key,
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": ["url.search"],
        "state": state,
    }


def concurrent(fn: Callable, items: list, workers: int = 6) -> tuple[float, list]:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(fn, items))
    return (time.perf_counter() - started) * 1000, results


def measure(app, plan: dict, rounds: int, ui: dict) -> Measured:
    """Every interaction of the plan (see `bench.__main__.make_plan`) `rounds` times."""
    m = Measured()
    client = app.server.test_client()
    workspace = app.workspace
    city = workspace.city(ui["city"])
    engine_only = QueryEngine(workspace.catalog, shared=None)  # the queries alone
    start = q.pilot_start(city)
    query_of = {
        "traffic.district_map": lambda f: q.district_speeds(engine_only, city.id, f),
        "traffic.hour_weekday": lambda f: q.hour_weekday(engine_only, city.id, f),
        "traffic.volume_speed": lambda f: q.volume_speed(engine_only, city.id, f, "day"),
        "traffic.volume_speed_zoom": lambda f: q.volume_speed(engine_only, city.id, f, ZOOM_BUCKET),
        "traffic.pilot": lambda f: q.pilot_daily(engine_only, city.id, f, start),
        "traffic.kpis": lambda f: q.kpis(engine_only, city.id, f),
        "ecology.no2_traffic": lambda f: eq.no2_vs_traffic(engine_only, city.id, f),
    }

    # warm up: imports, DuckDB, the per-version constants (free-flow speeds), one of each
    for path in PAGES:
        post(client, "warm-up", route_payload(app, path, "", ui))

    # 1. the interactions whose data is the big table, beside the baselines' times
    for name, chart in CHART_OF.items():
        for i, item in enumerate(plan[name][:rounds]):
            started = time.perf_counter()
            query_of[name](filters_from_json(item))
            m.query_times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
            page = plan["zoom_pages"][i] if name.endswith("_zoom") else item
            if chart is None:
                payload = kpi_payload(app, page, ui, "traffic")
            else:
                if name.endswith("_zoom"):
                    lo, hi = plan["zoom_ranges"][i]
                    relayout = {"xaxis.range[0]": lo, "xaxis.range[1]": hi}
                    key = zoom_key(app.callback_map, chart[0])
                    payload = zoom_payload(key, chart[0], chart[1], page, ui, relayout)
                else:
                    payload = render_payload(chart[0], chart[1], page, ui)
            timed, body = post_body(client, name, payload)
            m.add(name, timed.ms)
            m.figure(name, timed, body)

    # 2. every chart callback on its own, then page switches, filter changes, first loads
    parts = {path: page_parts(app, path, ui) for path in PAGES}
    for i in range(rounds):
        for path in PAGES:
            state = plan["states"][i % len(plan["states"])]
            for cid, option in parts[path][0]:
                timed, body = post_body(
                    client, cid, render_payload(cid, option, state["filters"], ui)
                )
                m.add(f"callback.{cid}", timed.ms)
                m.figure(f"callback.{cid}", timed, body)

    def page_calls(path: str, filters: dict) -> list[tuple[str, dict]]:
        charts, blocks = parts[path]
        calls = [(cid, render_payload(cid, option, filters, ui)) for cid, option in charts]
        return calls + [(f"kpi {b}", kpi_payload(app, filters, ui, b)) for b in blocks]

    for i in range(rounds):
        for path in PAGES:
            state = plan["page_states"][(i + PAGES.index(path)) % len(plan["page_states"])]
            timed = post(client, f"route {path}", route_payload(app, path, state["search"], ui))
            m.add(f"router.{path}", timed.ms)
            m.payload_kb.setdefault(f"router.{path}", []).append(timed.bytes / 1024)
            shown = at_once(app, page_calls(path, state["filters"]))
            m.add(f"page_switch.{path}", timed.ms + shown)

            change = plan["change_states"][(i + PAGES.index(path)) % len(plan["change_states"])]
            m.add(f"filter_change.{path}", at_once(app, page_calls(path, change["filters"])))

            load = plan["load_states"][(i + PAGES.index(path)) % len(plan["load_states"])]
            calls = page_calls(path, load["filters"])
            m.add(f"first_load.{path}", first_load(app, path, load, ui, calls, m))
    return m


def at_once(app, calls: list[tuple[str, dict]]) -> float:
    """Wall time of callbacks sent together, as dash-renderer sends a page's callbacks."""
    if not calls:
        return 0.0
    wall, _ = concurrent(lambda c: post_body(app.server.test_client(), c[0], c[1]), calls)
    return wall


def first_load(app, path: str, state: dict, ui: dict, calls, m: Measured) -> float:
    """A browser opening a link: the page, Dash's layout and dependencies, the URL sync, the
    page router, then every chart and KPI block at once. Static JavaScript is left out
    (cached by browsers, the same for every page)."""
    client = app.server.test_client()
    total = _get(client, f"{path}{state['search']}")
    total += _get(client, "/_dash-layout")
    total += _get(client, "/_dash-dependencies")
    payload = sync_payload(app, state["search"], ui)
    if payload is not None:
        try:
            timed, _ = post_body(client, "sync", payload)
            total += timed.ms
        except RuntimeError as exc:  # the shell changed: time the rest, say so
            note = f"first load: URL sync callback not replayed ({str(exc)[:120]})"
            if note not in m.notes:
                m.notes.append(note)
    total += post(client, "route", route_payload(app, path, state["search"], ui)).ms
    return total + at_once(app, calls)
