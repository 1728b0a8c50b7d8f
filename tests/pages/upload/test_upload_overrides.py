"""Every setting the upload page shows is applied to the whole file: changed through the page's
own callbacks (the controls read from the panel the page draws), then seen in the preview, the
report and the published Parquet, value and type."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import app as app_module
import config
from datasets.workspace import Workspace
from server.accounts import Accounts
from tests.pages.upload.test_upload_route import (
    PASSWORD,
    callback_key,
    client_for,
    csrf,
    post,
    wait,
)


@pytest.fixture
def dash_app(tmp_path):
    Accounts(tmp_path).add("ana", PASSWORD)
    return app_module.create_app(config.Config(data_dir=tmp_path), Workspace.open(tmp_path))


def controls(state: dict) -> dict[str, dict]:
    """The values the overrides form holds, {pattern type: {key: value}}, from the panel the page
    draws for `state` (so the test sends what a browser would)."""
    from pages.upload.panel import panel_view

    found: dict[str, dict] = {}

    def walk(node) -> None:
        if isinstance(node, list | tuple):
            for child in node:
                walk(child)
            return
        if node is None or isinstance(node, str | int | float):
            return
        component_id = getattr(node, "id", None)
        if isinstance(component_id, dict):
            key = next(k for k in component_id if k != "type")
            found.setdefault(component_id["type"], {})[component_id[key]] = getattr(
                node, "value", None
            )
        walk(getattr(node, "children", None))

    walk(panel_view(state, "en", [], None))
    return found


def pattern_states(state: dict, changes: dict[str, dict]) -> list:
    """The `_check` callback's pattern States as the page sends them, with `changes` applied."""
    shown = controls(state)
    out = []
    for kind, key in (
        ("up-set", "name"), ("up-type", "i"), ("up-fmt", "i"), ("up-unit", "i"),
        ("up-map", "t"), ("up-map-unit", "t"), ("up-map-const", "t"), ("up-generic", "k"),
    ):  # fmt: skip
        values = {**shown.get(kind, {}), **changes.get(kind, {})}
        out.append(
            [
                {"id": {"type": kind, key: k}, "property": "value", "value": v}
                for k, v in values.items()
            ]
        )
    return out


def read_again(dash_app, client, token: str, changes: dict[str, dict]) -> dict:
    """Press "Read again" with `changes` made to the form; the state once the check is done."""
    state = client.get(f"/upload/{token}").get_json()
    payload = {
        "output": callback_key(dash_app, "upload-reread"),
        "outputs": [
            {"id": "upload-status", "property": "children"},
            {"id": "upload-poll", "property": "disabled"},
        ],
        "inputs": [
            {"id": "upload-reread", "property": "n_clicks", "value": 1},
            {"id": "upload-check", "property": "n_clicks", "value": 0},
            {"id": "upload-kind", "property": "value", "value": state["mapping"]["kind"]},
        ],
        "state": [
            *pattern_states(state, changes),
            {"id": "upload-city", "property": "value", "value": None},  # the viewed city
            {"id": "upload-job", "property": "data", "value": {"token": token}},
            {"id": "ui", "property": "data", "value": {"lang": "en"}},
        ],
        "changedPropIds": ["upload-reread.n_clicks"],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    time.sleep(0.1)
    return wait(client, token)


def publish(dash_app, client, token: str, title: str):
    """Press "Publish" with `title` (every other field as the page leaves it); the dataset."""
    key = callback_key(dash_app, "upload-commit")
    given = {
        "upload-mode": "new", "upload-title": title, "upload-round-table": "other",
        "upload-sdg": [], "upload-drop-bad": [], "upload-job": {"token": token},
        "ui": {"lang": "en"},
    }  # fmt: skip
    payload = {
        "output": key,
        "outputs": [
            {"id": "upload-status", "property": "children"},
            {"id": "upload-poll", "property": "disabled"},
        ],
        "inputs": [{"id": "upload-commit", "property": "n_clicks", "value": 1}],
        "state": [{**s, "value": given.get(s["id"])} for s in dash_app.callback_map[key]["state"]],
        "changedPropIds": ["upload-commit.n_clicks"],
    }
    assert client.post("/_dash-update-component", json=payload).status_code == 200
    time.sleep(0.1)
    state = wait(client, token)
    assert state["status"] == "committed", state.get("error")
    return dash_app.workspace.catalog.get(state["result"]["dataset_id"])


def upload(dash_app, text: str, name: str = "file.csv"):
    client = client_for(dash_app, "ana")
    token = post(client, text.encode(), name=name, token=csrf(client)).get_json()["token"]
    state = wait(client, token)
    assert state["status"] == "ready", state.get("error")
    return client, token, state


def column_index(state: dict, name: str) -> int:
    return next(c["index"] for c in state["inspection"]["columns"] if c["name"] == name)


def published(dataset) -> tuple[dict[str, list], dict[str, str]]:
    table = pq.read_table(next(Path(dataset.folder).glob("*.parquet")))
    return table.to_pydict(), {f.name: str(f.type) for f in table.schema}


def preview_column(state: dict, name: str) -> list:
    """The parsed values the preview shows for a column."""
    i = column_index(state, name) - 1
    return [row["parsed"][i] for row in state["inspection"]["preview"]]


COUNTS = "day,count,code,note\n" + "".join(
    f"{d:02d}/03/2017,{d * 3},{20170300 + d},n{d}\n" for d in range(13, 25)
)


@pytest.mark.parametrize(
    ("column", "new_type", "arrow", "first", "preview"),
    [
        ("count", "number", "double", 39.0, 39.0),
        ("count", "string", "string", "39", "39"),
        ("code", "date", "date32[day]", "2017-03-13", "2017-03-13"),
    ],
)
def test_a_column_type_set_on_the_page_is_what_is_published(
    dash_app, column, new_type, arrow, first, preview
):
    client, token, state = upload(dash_app, COUNTS)
    changes = {"up-type": {column_index(state, column): new_type}}
    if new_type == "date":
        changes["up-fmt"] = {column_index(state, column): "%Y%m%d"}
    state = read_again(dash_app, client, token, changes)
    assert state["report"]["ok"], state["report"]["problems"]
    assert preview_column(state, column)[0] == preview
    data, types = published(publish(dash_app, client, token, f"counts as {new_type}"))
    assert types[column] == arrow
    assert str(data[column][0]) == str(first)


def test_a_date_format_set_on_the_page_is_what_is_published(dash_app):
    text = "day,count\n" + "".join(f"2017-03-{d:02d},{d}\n" for d in range(1, 13))
    client, token, state = upload(dash_app, text)
    assert preview_column(state, "day")[0] == "2017-03-01"
    state = read_again(dash_app, client, token, {"up-fmt": {1: "%Y-%d-%m"}})
    assert preview_column(state, "day")[:2] == ["2017-01-03", "2017-02-03"]
    assert state["report"]["time_min"].startswith("2017-01-03")
    data, types = published(publish(dash_app, client, token, "day before month"))
    assert types["day"] == "date32[day]"
    assert [str(d) for d in data["day"][:2]] == ["2017-01-03", "2017-02-03"]


def test_a_delimiter_set_on_the_page_is_what_is_published(dash_app):
    text = "place;code,count\n" + "".join(f"p{i};{i},{i * 2}\n" for i in range(1, 9))
    client, token, state = upload(dash_app, text)
    detected = state["inspection"]["settings"]["delimiter"]
    other = ";" if detected == "," else ","
    state = read_again(dash_app, client, token, {"up-set": {"delimiter": other}})
    assert state["inspection"]["settings"]["delimiter"] == other
    names = [c["name"] for c in state["inspection"]["columns"]]
    assert names == (["place", "code,count"] if other == ";" else ["place;code", "count"])
    assert preview_column(state, names[0])[0] == ("p1" if other == ";" else "p1;1")
    data, _ = published(publish(dash_app, client, token, "delimited"))
    assert list(data) == names


def test_a_decimal_comma_set_on_the_page_is_what_is_published(dash_app):
    text = "station;level\n" + "".join(f"s{i};{i}.250\n" for i in range(1, 9))
    client, token, state = upload(dash_app, text)
    assert state["inspection"]["settings"]["decimal"] == "."
    assert preview_column(state, "level")[0] == 1.25
    state = read_again(dash_app, client, token, {"up-set": {"decimal": ",", "thousands": "."}})
    assert preview_column(state, "level")[0] == 1250
    data, types = published(publish(dash_app, client, token, "decimal comma"))
    assert types["level"] in {"double", "int64"}
    assert data["level"][:2] == [1250, 2250]


def test_a_header_line_set_on_the_page_is_what_is_published(dash_app):
    text = "Counts at the gate, March\nday,count\n" + "".join(
        f"2017-03-{d:02d},{d}\n" for d in range(1, 9)
    )
    client, token, state = upload(dash_app, text)
    detected = state["inspection"]["settings"]["header_line"]
    wanted = 1 if detected != 1 else 2
    state = read_again(dash_app, client, token, {"up-set": {"header_line": wanted}})
    names = [c["name"] for c in state["inspection"]["columns"]]
    data, _ = published(publish(dash_app, client, token, "header"))
    assert list(data) == names
    if wanted == 2:
        assert names == ["day", "count"] and data["count"][0] == 1
        assert preview_column(state, "count")[0] == 1
    else:
        assert "Counts at the gate" in names[0]


def test_missing_markers_set_on_the_page_are_what_is_published(dash_app):
    text = "day,level\n" + "".join(
        f"2017-03-{d:02d},{'-999' if d == 2 else d}\n" for d in range(1, 9)
    )
    client, token, state = upload(dash_app, text)
    state = read_again(dash_app, client, token, {"up-set": {"missing": "-999"}})
    assert preview_column(state, "level")[:3] == [1, None, 3]
    data, _ = published(publish(dash_app, client, token, "missing"))
    assert data["level"][:3] == [1, None, 3]


def test_a_unit_set_on_the_page_is_what_is_published(dash_app):
    text = "day,depth (m)\n" + "".join(f"2017-03-{d:02d},{d}\n" for d in range(13, 25))
    client, token, state = upload(dash_app, text)
    assert {c["name"]: c["unit"] for c in state["inspection"]["columns"]}["depth (m)"] == "m"
    state = read_again(
        dash_app, client, token, {"up-unit": {column_index(state, "depth (m)"): "km"}}
    )
    assert {c["name"]: c["unit"] for c in state["report"]["columns"]}["depth (m)"] == "km"
    dataset = publish(dash_app, client, token, "with unit")
    assert {c["name"]: c["unit"] for c in dataset.current.columns}["depth (m)"] == "km"


def test_the_preview_shows_parsed_values_beside_the_raw_text(dash_app):
    _, _, state = upload(dash_app, COUNTS)
    first = state["inspection"]["preview"][0]
    assert first["cells"][:3] == ["13/03/2017", "39", "20170313"]
    assert first["parsed"][:3] == ["2017-03-13", 39, 20170313]
    assert json.dumps(state)  # plain JSON for the page


def test_a_date_format_set_on_the_page_applies_to_a_known_kind(dash_app):
    text = "ts,detector_id,district,volume,speed_kmh,occupancy\n" + "".join(
        f"2017-03-{d:02d} 08:00:00,HZ-1,330106,{100 + d},45.5,12.5\n" for d in range(1, 13)
    )
    client, token, state = upload(dash_app, text)
    assert state["mapping"]["kind"] == "traffic_readings"
    state = read_again(dash_app, client, token, {"up-fmt": {1: "%Y-%d-%m %H:%M:%S"}})
    assert state["report"]["ok"], state["report"]["problems"]
    assert preview_column(state, "ts")[0] == "2017-01-03 08:00:00"
    data, _ = published(publish(dash_app, client, token, "readings day before month"))
    assert sorted(str(v) for v in data["ts"])[:2] == ["2017-01-03 08:00:00", "2017-02-03 08:00:00"]


def test_an_encoding_set_on_the_page_is_what_is_published(dash_app):
    body = ("place,count\n" + "".join(f"Café {i} €,{i}\n" for i in range(1, 9))).encode("cp1252")
    client = client_for(dash_app, "ana")
    token = post(client, body, name="cafes.csv", token=csrf(client)).get_json()["token"]
    state = wait(client, token)
    chosen = "latin-1" if state["inspection"]["settings"]["encoding"] != "latin-1" else "cp1252"
    state = read_again(dash_app, client, token, {"up-set": {"encoding": chosen}})
    assert state["inspection"]["settings"]["encoding"] == chosen
    expected = body.decode(chosen).splitlines()[1].split(",")[0]  # "Café 1 \x80" in Latin-1
    assert preview_column(state, "place")[0] == expected
    data, _ = published(publish(dash_app, client, token, "cafes"))
    assert data["place"][0] == expected
