"""`/data` as served: previews drawn when opened, and CSV downloads that state their size and
carry district names beside codes, in the language asked."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

import app as app_module
import config
from components.state import ViewState

READINGS = "hangzhou-2017-traffic-readings"
UI = {"lang": "en", "theme": "light", "city": "hangzhou-2017"}
SUMMARY = {"type": "ds-preview", "id": READINGS}  # the preview's summary, clicked
ROWS = {"type": "ds-preview-rows", "id": READINGS}  # where its rows are drawn


@pytest.fixture(scope="module")
def demo_app(demo_workspace):
    return app_module.create_app(config.Config(data_dir=demo_workspace.data_dir), demo_workspace)


def data_page(app, lang: str = "en") -> dict:
    """The /data layout the router sends, as plain JSON."""
    with app.server.test_request_context("/data"):
        content, _options = app.site.render_page(
            app.site.find("/data"), ViewState(), {**UI, "lang": lang}, "/data"
        )
    return json.loads(json.dumps(content, default=lambda c: c.to_plotly_json()))


def components(node):
    if isinstance(node, dict) and "namespace" in node:
        yield node
        for value in node["props"].values():
            yield from components(value)
    elif isinstance(node, dict | list):  # a callback's reply wraps its outputs in plain dicts
        for item in node.values() if isinstance(node, dict) else node:
            yield from components(item)


def csv_link(page: dict, dataset_id: str) -> dict:
    return next(
        c["props"]
        for c in components(page)
        if c["type"] == "A" and c["props"].get("href", "").startswith(f"/download/{dataset_id}.csv")
    )


def test_the_page_holds_no_preview_rows_until_one_is_opened(demo_app):
    page = data_page(demo_app)
    assert not [c for c in components(page) if c["type"] in ("Td", "Table")]
    payload = {
        "output": next(key for key in demo_app.callback_map if "ds-preview-rows" in key),
        "outputs": {"id": ROWS, "property": "children"},
        "inputs": [{"id": SUMMARY, "property": "n_clicks", "value": 1}],
        "state": [{"id": ROWS, "property": "children", "value": None}],
        "changedPropIds": [json.dumps(SUMMARY, separators=(",", ":")) + ".n_clicks"],
    }
    reply = demo_app.server.test_client().post("/_dash-update-component", json=payload)
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    rows = [c for c in components(reply.get_json()) if c["type"] == "Tr"]
    assert len(rows) == 1 + 8  # the header and the first rows
    cells = [c["props"]["children"] for c in components(reply.get_json()) if c["type"] == "Td"]
    assert not [c for c in cells if re.fullmatch(r"-?\d+\.\d{8,}", c)]  # float32 as stored


def test_the_csv_link_states_its_size_within_30_percent(demo_app):
    link = csv_link(data_page(demo_app), READINGS)
    number = re.search(r"about ([\d.,]+) MB", link["children"])
    assert number, link["children"]
    stated = float(number.group(1).replace(",", "")) * 1e6
    assert "estimate" in link["title"].lower()
    body = demo_app.server.test_client().get(link["href"]).get_data()
    assert 0.7 * len(body) <= stated <= 1.3 * len(body), (stated, len(body))


def first_rows(app, href: str, n: int = 50) -> list[dict]:
    response = app.server.test_client().get(href, buffered=False)
    first = next(response.response)
    response.close()
    text = first if isinstance(first, str) else first.decode()
    return list(csv.DictReader(io.StringIO(text)))[:n]


@pytest.mark.parametrize("lang", ["zh", "fr"])
def test_a_traffic_csv_names_each_district_beside_its_code(demo_app, demo_city, lang):
    link = csv_link(data_page(demo_app, lang), READINGS)
    assert link["href"].endswith(f"?lang={lang}")
    rows = first_rows(demo_app, link["href"])
    names = demo_city.district_names(lang)
    assert list(rows[0])[:4] == ["ts", "detector_id", "district", "district_name"]
    assert {row["district_name"] for row in rows} <= set(names.values())
    assert all(row["district_name"] == names[int(row["district"])] for row in rows)
