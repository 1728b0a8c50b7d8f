"""Page interactions over HTTP against a running CityLens (the production server), as a browser
sends them: a page switch (the router, then every chart and KPI block of the page at once) and a
filter change (every chart and KPI block at once), over six keep-alive connections.

    python -m bench.http_replay --url http://127.0.0.1:8765 [--rounds 20] [--json FILE]

With several gunicorn workers the callbacks of one interaction run in parallel, so this is the
server time a viewer waits for, network aside (127.0.0.1). Filters are random and unseen, so
every reply is computed; only a server on this machine is accepted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from components.routing import filters_data
from datasets.cities import builtin_city

from .__main__ import percentile, random_view
from .dash_replay import (
    charts_in_response,
    kpi_blocks_in_response,
    kpi_key,
    kpi_payload,
    render_payload,
    route_key,
    route_payload,
)

PAGES = ("/traffic", "/ecology", "/")
UI = {"lang": "en", "theme": "light", "city": "hangzhou-2017"}
FIRST, LAST = dt.date(2017, 1, 1), dt.date(2017, 12, 31)  # the demo city's year
CONNECTIONS = 6  # what a browser opens to one host


class Client:
    """One keep-alive connection per thread, like a browser's connection pool."""

    def __init__(self, url: str) -> None:
        parts = urlparse(url)
        if parts.hostname not in {"127.0.0.1", "localhost"}:
            raise SystemExit("only a server on this machine (127.0.0.1)")
        self.host, self.port = parts.hostname, parts.port or 80
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return self.local.conn

    def request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        try:
            status, data = self._send(method, path, body)
        except (ConnectionError, http.client.HTTPException):
            self.local.conn.close()  # closed by the server while idle: one new connection
            self.local.conn = None
            status, data = self._send(method, path, body)
        if status not in (200, 204):
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:200]!r}")
        return data

    def _send(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        conn = self._connection()
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    def post(self, payload: dict) -> bytes:
        return self.request("POST", "/_dash-update-component", json.dumps(payload).encode())


def measure(url: str, rounds: int, seed: int) -> dict:
    client = Client(url)
    keys = [d["output"] for d in json.loads(client.request("GET", "/_dash-dependencies"))]
    route, kpi = route_key(keys), kpi_key(keys)
    parts = {}
    for page in PAGES:
        reply = json.loads(client.post(route_payload(route, page, "", UI)))
        parts[page] = (charts_in_response(reply), kpi_blocks_in_response(reply))

    def calls(page: str, filters: dict) -> list[dict]:
        charts, blocks = parts[page]
        out = [render_payload(cid, option, filters, UI) for cid, option in charts]
        return out + [kpi_payload(kpi, filters, UI, block) for block in blocks]

    pool = ThreadPoolExecutor(CONNECTIONS)

    def at_once(payloads: list[dict]) -> float:
        started = time.perf_counter()
        list(pool.map(client.post, payloads))
        return (time.perf_counter() - started) * 1000

    rng = random.Random(seed)
    codes = [d.code for d in builtin_city().districts]
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for page in PAGES:
            view = random_view(rng, FIRST, LAST, codes)
            started = time.perf_counter()
            client.post(route_payload(route, page, view.to_query(), UI))
            routed = (time.perf_counter() - started) * 1000
            shown = at_once(calls(page, filters_data(view)))
            times.setdefault(f"page_switch.{page}", []).append(routed + shown)
            changed = filters_data(random_view(rng, FIRST, LAST, codes))
            times.setdefault(f"filter_change.{page}", []).append(at_once(calls(page, changed)))
    pool.shutdown()
    return {
        name: {
            "n": len(values),
            "median_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 95), 1),
        }
        for name, values in sorted(times.items())
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8765")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = measure(args.url.rstrip("/"), args.rounds, args.seed)
    for name, entry in result.items():
        print(f"{name:28s} median {entry['median_ms']:7.1f} ms   p95 {entry['p95_ms']:7.1f} ms")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"url": args.url, "rounds": args.rounds, **result}, fh, indent=2)


if __name__ == "__main__":
    main()
