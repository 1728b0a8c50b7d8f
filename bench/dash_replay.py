"""Replay Dash callbacks through the app's own HTTP endpoint (Flask test client).

The payloads are the ones dash-renderer sends, so what is timed is what a browser waits for on
the server: routing, deserialising, the callback, the queries, the figure and its JSON.
"""

from __future__ import annotations

import json
import time
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


def render_payload(chart_id: str, option: str | None, filters: dict, ui: dict) -> dict:
    """The render callback of one chart card (what an option picked on it sends): the same
    server work as drawing that card for a new view."""

    def pid(kind: str) -> dict:
        return {"id": chart_id, "type": kind}

    return {
        "output": RENDER_KEY,
        "outputs": [
            {"id": pid("chart-graph"), "property": "figure"},
            {"id": pid("chart-empty"), "property": "children"},
            {"id": pid("chart-empty"), "property": "hidden"},
        ],
        "inputs": [{"id": pid("chart-option"), "property": "value", "value": option}],
        "changedPropIds": [json.dumps(pid("chart-option"), separators=(",", ":")) + ".value"],
        "state": [
            {"id": "filters", "property": "data", "value": filters},
            {"id": "ui", "property": "data", "value": ui},
            {"id": pid("chart-option"), "property": "id", "value": pid("chart-option")},
        ],
    }


def page_key(keys) -> str:
    """The callback that draws every card of a page for a new view, among callback keys."""
    return next(k for k in keys if k.startswith('..{"id":["ALL"],"type":"chart-graph"}.figure@'))


def page_payload(key: str, chart_ids: list[str], options: list, filters: dict, ui: dict) -> dict:
    """Every card of a page after a filter change, as dash-renderer sends it: one output per
    card for each of the figure, the empty-state message and its flag."""
    properties = [part.split("}.", 1)[1] for part in key.strip(".").split("...")]

    def ids(kind: str) -> list[dict]:
        return [{"id": chart_id, "type": kind} for chart_id in chart_ids]

    kinds = ("chart-graph", "chart-empty", "chart-empty")
    return {
        "output": key,
        "outputs": [
            [{"id": i, "property": prop} for i in ids(kind)]
            for kind, prop in zip(kinds, properties, strict=True)
        ],
        "inputs": [
            {"id": "filters", "property": "data", "value": filters},
            {"id": "ui", "property": "data", "value": ui},
        ],
        "changedPropIds": ["filters.data"],
        "state": [
            [
                {"id": i, "property": "value", "value": option}
                for i, option in zip(ids("chart-option"), options, strict=True)
            ],
            [{"id": i, "property": "id", "value": i} for i in ids("chart-option")],
        ],
    }


def zoom_key(keys, chart_id: str) -> str:
    """The zoom callback of a chart (components.charts.register_zoom) among callback keys."""
    head = json.dumps({"id": chart_id, "type": "chart-graph"}, separators=(",", ":"))
    return next(k for k in keys if k.startswith(head + ".figure@"))


def zoom_payload(
    key: str, chart_id: str, option: str | None, filters: dict, ui: dict, relayout: dict
) -> dict:
    """A zoom on a chart's x axis, e.g. relayout {"xaxis.range[0]": "2017-03-01 06:00",
    "xaxis.range[1]": "2017-03-04 18:00"} ({"xaxis.autorange": True}: back to the whole)."""
    graph = {"id": chart_id, "type": "chart-graph"}
    option_id = {"id": chart_id, "type": "chart-option"}
    return {
        "output": key,
        "outputs": {"id": graph, "property": key.split(".", 1)[1]},
        "inputs": [{"id": graph, "property": "relayoutData", "value": relayout}],
        "changedPropIds": [json.dumps(graph, separators=(",", ":")) + ".relayoutData"],
        "state": [
            {"id": option_id, "property": "value", "value": option},
            {"id": "filters", "property": "data", "value": filters},
            {"id": "ui", "property": "data", "value": ui},
        ],
    }


def kpi_key(keys) -> str:
    """The KPI blocks' refresh callback key among a Dash app's callback keys."""
    return next(k for k in keys if "kpi-block" in k and k.endswith(".children"))


def kpi_payload(app: Dash | str, filters: dict, ui: dict, block_id: str) -> dict:
    """The refresh callback of one KPI block (fires when its page is shown and with every
    filter change); `app` is the Dash app or the callback's key (`kpi_key`)."""
    key = app if isinstance(app, str) else kpi_key(app.callback_map)
    block = {"type": "kpi-block", "id": block_id}
    return {
        "output": key,
        "outputs": {"id": block, "property": "children"},
        "inputs": [{"id": "filters", "property": "data", "value": filters}],
        "changedPropIds": ["filters.data"],
        "state": [
            {"id": "ui", "property": "data", "value": ui},
            {"id": block, "property": "id", "value": block},
        ],
    }


def route_key(keys) -> str:
    """The page router's output key among a Dash app's callback keys."""
    return next(k for k in keys if k.startswith("..page.children"))


def route_payload(app: Dash | str, pathname: str, search: str, ui: dict) -> dict:
    """The page router callback (`app` or its output key, see `route_key`)."""
    key = app if isinstance(app, str) else route_key(app.callback_map)
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


def post_body(client, name: str, payload: dict) -> tuple[Timed, bytes]:
    """POST a callback; its timing and the reply's bytes."""
    body = json.dumps(payload)
    started = time.perf_counter()
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    data = response.get_data()
    ms = (time.perf_counter() - started) * 1000
    if response.status_code not in (200, 204):
        raise RuntimeError(f"{name}: HTTP {response.status_code}: {data[:300]!r}")
    return Timed(name, ms, len(data), response.status_code), data


def post(client, name: str, payload: dict) -> Timed:
    return post_body(client, name, payload)[0]


def charts_in_response(body: dict) -> list[tuple[str, str | None]]:
    """(chart id, selected option) of every chart card in a router callback's JSON reply."""
    options = dict(_pattern_props(body, "chart-option", "value"))
    return [(cid, options.get(cid)) for cid, _ in _pattern_props(body, "chart-graph", "id")]


def kpi_blocks_in_response(body: dict) -> list[str]:
    """The KPI blocks in a router callback's JSON reply."""
    return [block for block, _ in _pattern_props(body, "kpi-block", "id")]


def _pattern_props(body: dict, kind: str, prop: str) -> list[tuple[str, object]]:
    """(id, property) of the components with a pattern id {"type": kind, "id": ...}."""
    found: list[tuple[str, object]] = []

    def walk(node) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, dict):
            return
        props = node.get("props")
        if isinstance(props, dict):
            ident = props.get("id")
            if isinstance(ident, dict) and ident.get("type") == kind:
                found.append((ident["id"], props.get(prop)))
            walk(props.get("children"))
        else:
            for value in node.values():
                walk(value)

    walk(body.get("response", body))
    return found
