"""A new view draws every card of a page in one request; an option redraws one card; both
give the same drawing, and a crafted request is refused, never a 500."""

from __future__ import annotations

import json

import pytest

import app as app_module
import config
from bench.dash_replay import page_key, page_payload, render_payload
from components.routing import filters_data
from components.state import ViewState
from pages import traffic

UI = {"lang": "en", "theme": "light", "city": config.Config().city}


@pytest.fixture(scope="module")
def client(demo_workspace):
    cfg = config.Config(data_dir=demo_workspace.data_dir)
    dash_app = app_module.create_app(cfg, demo_workspace)
    return dash_app, dash_app.server.test_client()


def post(client, payload):
    return client.post(
        "/_dash-update-component", data=json.dumps(payload), content_type="application/json"
    )


def graph_key(chart_id: str) -> str:
    return json.dumps({"id": chart_id, "type": "chart-graph"}, separators=(",", ":"))


def test_one_reply_draws_every_card_as_each_cards_own_reply_does(client):
    dash_app, http = client
    charts = [chart.id for chart in traffic.CHARTS]
    options = [chart.default_option for chart in traffic.CHARTS]
    filters = filters_data(ViewState(districts=(330106,)))
    key = page_key(dash_app.callback_map)
    reply = post(http, page_payload(key, charts, options, filters, UI))
    assert reply.status_code == 200
    drawn = reply.get_json()["response"]
    assert set(drawn) >= {graph_key(chart_id) for chart_id in charts}
    for chart_id, option in zip(charts, options, strict=True):
        alone = post(http, render_payload(chart_id, option, filters, UI)).get_json()
        assert (
            drawn[graph_key(chart_id)]["figure"] == alone["response"][graph_key(chart_id)]["figure"]
        ), chart_id


def test_the_page_reply_follows_each_cards_option(client):
    dash_app, http = client
    key = page_key(dash_app.callback_map)
    chart = traffic.DISTRICT_MAP
    filters = filters_data(ViewState())
    figures = {}
    for option, _label in chart.options:
        reply = post(http, page_payload(key, [chart.id], [option], filters, UI)).get_json()
        figures[option] = reply["response"][graph_key(chart.id)]["figure"]
    assert len({json.dumps(f["data"], sort_keys=True) for f in figures.values()}) == len(figures)


@pytest.mark.parametrize(
    "craft",
    [
        lambda p: p["state"][0].pop(),  # fewer options than cards
        lambda p: [group.pop() for group in p["outputs"]],  # fewer outputs than states say
        lambda p: p["state"][1].append({"id": {"id": "../x", "type": "chart-option"}}),
    ],
)
def test_a_crafted_page_request_is_refused_not_a_server_error(client, craft):
    dash_app, http = client
    key = page_key(dash_app.callback_map)
    charts = [chart.id for chart in traffic.CHARTS[:3]]
    payload = page_payload(key, charts, [None] * 3, filters_data(ViewState()), UI)
    craft(payload)
    status = post(http, payload).status_code
    assert 400 <= status < 500, status
