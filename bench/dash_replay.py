"""Replay Dash callbacks through the app's own HTTP endpoint (Flask test client).

The payloads are the ones dash-renderer sends, so what is timed is what a browser waits for on
the server: routing, deserialising, the callback, the queries, the figure and its JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from dash import Dash

RENDER_KEY = (
    '..{"id":["MATCH"],"type":"chart-graph"}.figure...{"id":["MATCH"],"type":"chart-empty"}'
    '.children...{"id":["MATCH"],"type":"chart-empty"}.hidden..'
)


@dataclass(frozen=True)
class Timed:
    name: str
    ms: float
    bytes: int
    status: int


def chart_ids(layout) -> list[str]:
    """The chart cards in a rendered page layout, in page order."""
    found = []

    def walk(node) -> Iterator:
        if isinstance(node, list | tuple):
            for child in node:
                yield from walk(child)
            return
        if node is None or isinstance(node, str | int | float):
            return
        yield node
        yield from walk(getattr(node, "children", None))

    for component in walk(layout):
        cid = getattr(component, "id", None)
        if isinstance(cid, dict) and cid.get("type") == "chart-graph":
            found.append(cid["id"])
    return found


def render_payload(chart_id: str, option: str | None, filters: dict, ui: dict) -> dict:
    def pid(kind: str) -> dict:
        return {"id": chart_id, "type": kind}

    return {
        "output": RENDER_KEY,
        "outputs": [
            {"id": pid("chart-graph"), "property": "figure"},
            {"id": pid("chart-empty"), "property": "children"},
            {"id": pid("chart-empty"), "property": "hidden"},
        ],
        "inputs": [
            {"id": pid("chart-option"), "property": "value", "value": option},
            {"id": "filters", "property": "data", "value": filters},
            {"id": "ui", "property": "data", "value": ui},
        ],
        "changedPropIds": ["filters.data"],
        "state": [{"id": pid("chart-option"), "property": "id", "value": pid("chart-option")}],
    }


def route_payload(app: Dash, pathname: str, search: str, ui: dict) -> dict:
    key = next(k for k in app.callback_map if k.startswith("..page.children"))
    outputs = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
        for part in key.strip(".").split("...")
    ]
    return {
        "output": key,
        "outputs": outputs,
        "inputs": [
            {"id": "url", "property": "pathname", "value": pathname},
            {"id": "ui", "property": "data", "value": ui},
        ],
        "changedPropIds": ["url.pathname"],
        "state": [{"id": "url", "property": "search", "value": search}],
    }


def post(client, name: str, payload: dict) -> Timed:
    body = json.dumps(payload)
    started = time.perf_counter()
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    data = response.get_data()
    ms = (time.perf_counter() - started) * 1000
    if response.status_code not in (200, 204):
        raise RuntimeError(f"{name}: HTTP {response.status_code}: {data[:300]!r}")
    return Timed(name, ms, len(data), response.status_code)
