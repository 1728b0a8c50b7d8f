"""Load test: the forum's audience on their phones, against the production server.

    gunicorn -c gunicorn.conf.py app:server          # CITYLENS_DATA_DIR=... CITYLENS_PORT=8050
    locust -f bench/locustfile.py --headless -u 400 -r 20 -t 5m \\
        --host http://127.0.0.1:8050 --csv /tmp/citylens-locust --only-summary

Each simulated viewer opens the traffic page (the page, Dash's layout and dependencies, the
URL sync is left out, the router, every chart), then acts every 10 s: a filter change (every
chart of the page and its KPI cards, sent at once as dash-renderer does), a page switch, a zoom
into the flow-and-speed series, or a look at /health. Views follow the presenter: most viewers
keep the default view or the month being discussed, some pick a district. The payloads are the
ones `bench.dash_replay` builds for the benchmark. Only a server on this machine is accepted.
"""

from __future__ import annotations

import calendar
import json
import random
from typing import ClassVar
from urllib.parse import urlparse

from gevent.pool import Group
from locust import FastHttpUser, constant_pacing, events, task

from bench.dash_replay import (
    charts_in_response,
    kpi_blocks_in_response,
    kpi_key,
    kpi_payload,
    render_payload,
    route_key,
    route_payload,
    zoom_key,
    zoom_payload,
)

LOCAL = {"127.0.0.1", "localhost", "::1"}
CITY = "hangzhou-2017"
UI = {"lang": "en", "theme": "light", "city": CITY}
PAGES = ("/traffic", "/ecology", "/")
MONTHS = [
    (f"2017-{m:02d}-01", f"2017-{m:02d}-{calendar.monthrange(2017, m)[1]:02d}")
    for m in range(1, 13)
]
ZOOMED = "traffic-volume-speed"
DISTRICTS = [330102, 330103, 330104, 330105, 330106, 330108, 330109, 330110]


@events.test_start.add_listener
def only_this_machine(environment, **_kwargs) -> None:
    host = urlparse(environment.host or "").hostname
    if host not in LOCAL:
        raise SystemExit(f"refusing to load-test {environment.host!r}: only 127.0.0.1")


class Site:
    """What the viewers need from the server, discovered once over HTTP."""

    route: str | None = None
    kpi: str | None = None
    zoom: str | None = None
    charts: ClassVar[dict[str, list[tuple[str, str | None]]]] = {}
    kpi_blocks: ClassVar[dict[str, list[str]]] = {}


def view(rng: random.Random) -> dict:
    """The filters a viewer looks at: the presenter's choices, a few of them popular."""
    roll = rng.random()
    if roll < 0.4:
        start = end = None
        districts: list[int] = []
    else:
        start, end = MONTHS[min(int(rng.expovariate(0.5)), 11)]
        districts = [] if roll < 0.8 else [rng.choice(DISTRICTS)]
    return {"from": start, "to": end, "district": districts, "options": {}}


def search_of(filters: dict) -> str:
    parts = []
    if filters["from"]:
        parts.append(f"from={filters['from']}&to={filters['to']}")
    if filters["district"]:
        parts.append("district=" + ",".join(str(d) for d in filters["district"]))
    return ("?" + "&".join(parts)) if parts else ""


class Viewer(FastHttpUser):
    wait_time = constant_pacing(10)
    connection_timeout = 30.0
    network_timeout = 60.0
    concurrency = 6  # connections per viewer, as a browser opens to one host

    def on_start(self) -> None:
        self.rng = random.Random()
        if Site.route is None:
            deps = self.client.get("/_dash-dependencies", name="/_dash-dependencies").json()
            keys = [d["output"] for d in deps]
            Site.route = route_key(keys)
            Site.kpi = kpi_key(keys)
            Site.zoom = zoom_key(keys, ZOOMED)
            for page in PAGES:
                reply = self._post(
                    route_payload(Site.route, page, "", UI), f"route {page}", parse=True
                )
                Site.charts[page] = charts_in_response(reply) if reply else []
                Site.kpi_blocks[page] = kpi_blocks_in_response(reply) if reply else []
        self.page = "/traffic"
        self.filters = view(self.rng)
        self.first_load()

    def _post(self, payload: dict, name: str, parse: bool = False) -> dict | None:
        """POST a callback; its reply as JSON when `parse` (the router's, whose cards the viewer
        then asks for), else only checked: a chart's figure is read to its end but not decoded,
        since decoding hundreds of figures a second would make this one process, on the
        server's own cores, the bottleneck it measures."""
        with self.client.post(
            "/_dash-update-component",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code == 204:
                response.success()
                return None
            if response.status_code != 200:  # 0: no answer (the connection's error says why)
                error = getattr(response, "error", None) if response.status_code == 0 else None
                response.failure(f"HTTP {response.status_code}" + (f": {error!r}" if error else ""))
                return None
            content = response.content or b""
            if not (content.startswith(b'{"') and content.rstrip().endswith(b"}")):
                response.failure("not a JSON object")
                return None
            try:
                body = response.json() if parse else None
            except ValueError:
                response.failure("not JSON")
                return None
            response.success()
            return body

    def _charts_at_once(self, filters: dict) -> None:
        group = Group()
        for cid, option in Site.charts.get(self.page, []):
            group.spawn(self._post, render_payload(cid, option, filters, UI), f"chart {cid}")
        for block in Site.kpi_blocks.get(self.page, []):
            payload = kpi_payload(Site.kpi, filters, UI, block)
            group.spawn(self._post, payload, f"kpi {block}")
        group.join()

    def first_load(self) -> None:
        self.client.get(f"{self.page}{search_of(self.filters)}", name="page html")
        self.client.get("/_dash-layout", name="/_dash-layout")
        self.client.get("/_dash-dependencies", name="/_dash-dependencies")
        search = search_of(self.filters)
        self._post(route_payload(Site.route, self.page, search, UI), f"route {self.page}")
        self._charts_at_once(self.filters)

    @task(5)
    def change_filters(self) -> None:
        self.filters = view(self.rng)
        self._charts_at_once(self.filters)

    @task(3)
    def switch_page(self) -> None:
        self.page = self.rng.choice([p for p in PAGES if p != self.page])
        search = search_of(self.filters)
        self._post(route_payload(Site.route, self.page, search, UI), f"route {self.page}")
        self._charts_at_once(self.filters)

    @task(1)
    def zoom(self) -> None:
        start = self.rng.randrange(1, 26)
        relayout = {
            "xaxis.range[0]": f"2017-03-{start:02d} 06:00",
            "xaxis.range[1]": f"2017-03-{start + 3:02d} 18:00",
        }
        filters = {"from": "2017-01-01", "to": "2017-06-30", "district": [], "options": {}}
        payload = zoom_payload(Site.zoom, ZOOMED, "5min", filters, UI, relayout)
        self._post(payload, f"zoom {ZOOMED}")

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="/health")
