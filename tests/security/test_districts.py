"""A city's district file: streamed to its own route (analysts only, 50 MB at most, never inside
a Dash callback), huge boundaries simplified or refused within bounded time and memory, and a
full disk answered with a clear message and nothing half-written.

Every test runs the real app on a real data folder; the file checks run in real child
processes, and the full disk is a real tmpfs."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import shapely
from dash import no_update
from shapely.geometry import shape

from components.charts import FigureContext
from components.figures.traffic import district_map
from datasets.cities import load_city
from datasets.city_admin import MAX_BYTES, CityError, NewCity, add_city
from datasets.pending_districts import PendingDistricts
from datasets.workspace import Workspace
from pages.cities import add as submit_form

from .conftest import callback_key, callback_outputs, fill_disk, fingerprint, log_in, session_csrf

ROOT = Path(__file__).resolve().parents[2]
BEIJING = ROOT / "tests" / "fixtures" / "cities" / "beijing-simplified" / "districts.geojson"
ROUTE = "/cities/districts?lang=en"
MAP_VERTICES = 50_000


def send(client, raw: bytes, name: str = "districts.geojson", csrf: str | None = None, **kw):
    headers = {"X-Filename": name}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return client.post(
        ROUTE, data=raw, headers=headers, content_type="application/octet-stream", **kw
    )


def add_request(dash_app, name: str, districts: object) -> dict:
    """The add-city callback's request as the page sends it: the form's values and the token."""
    key = callback_key(dash_app, "city-submit")
    values = {"city-name": name, "city-tz": "Asia/Shanghai", "city-districts": districts,
              "ui": {"lang": "en"}}  # fmt: skip
    return {
        "output": key,
        "outputs": callback_outputs(key),
        "inputs": [{"id": "city-submit", "property": "n_clicks", "value": 1}],
        "state": [{**s, "value": values.get(s["id"])} for s in dash_app.callback_map[key]["state"]],
        "changedPropIds": ["city-submit.n_clicks"],
    }


def add(client, dash_app, name: str, districts: object) -> str:
    response = client.post("/_dash-update-component", json=add_request(dash_app, name, districts))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]["city-result"]["children"][0]["props"]["children"]


def vertices(path: Path) -> int:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return int(sum(shapely.get_num_coordinates(shape(f["geometry"])) for f in features))


def pending_tokens(data_dir: Path) -> list[str]:
    folder = data_dir / "cities" / ".pending"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def many_vertices(polygons: int = 10, each: int = 100_000) -> bytes:
    """A district file of `polygons` wavy districts of `each` vertices (+ the closing one)."""
    features = []
    for i in range(polygons):
        a = np.linspace(0, 2 * np.pi, each, endpoint=False)
        r = 0.09 * (1 + 0.05 * np.sin(37 * a) + 0.02 * np.sin(411 * a))
        ring = np.c_[116 + 0.2 * (i % 5) + r * np.cos(a), 39.8 + 0.2 * (i // 5) + r * np.sin(a)]
        ring = np.vstack([ring, ring[:1]]).round(7)
        features.append(
            {
                "type": "Feature",
                "properties": {"name": f"District {i + 1}", "adcode": 110100 + i},
                "geometry": {"type": "Polygon", "coordinates": [ring.tolist()]},
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, separators=(",", ":")).encode()


# -- the route -----------------------------------------------------------------------------------


def test_a_visitor_or_a_forged_request_is_refused_with_nothing_written(visitor, dash_app, data_dir):
    before = fingerprint(data_dir)
    response = send(visitor, BEIJING.read_bytes(), csrf="guess")
    assert response.status_code == 401 and response.get_json()["reason"] == "login"
    ana = dash_app.server.test_client()
    log_in(ana, "ana")
    after_login = fingerprint(data_dir)  # the login wrote its session
    assert send(ana, BEIJING.read_bytes()).status_code == 403  # no CSRF header
    assert send(ana, BEIJING.read_bytes(), csrf="forged").status_code == 403
    assert fingerprint(data_dir) == after_login
    assert not (data_dir / "cities").exists()
    assert set(before) <= set(after_login)


def test_a_file_over_50_mb_is_refused_from_its_declared_length(analyst, data_dir):
    response = send(
        analyst,
        b"{}",
        csrf=session_csrf(analyst),
        environ_overrides={"CONTENT_LENGTH": str(MAX_BYTES + 1)},
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == (
        "Refused: districts.geojson: 52,428,801 bytes is more than the 50 MB allowed for a "
        "district file; simplify the boundaries first"
    )
    assert pending_tokens(data_dir) == []


def test_an_analyst_streams_the_file_then_adds_the_city_with_its_token(dash_app, analyst, data_dir):
    response = send(analyst, BEIJING.read_bytes(), csrf=session_csrf(analyst))
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["message"] == "File: districts.geojson: 2 districts, ready to add."
    assert pending_tokens(data_dir) == [answer["token"]]
    districts = {"token": answer["token"], "file": answer["file"]}

    visitor = dash_app.server.test_client()
    assert add(visitor, dash_app, "Beijing", districts).startswith("Only analysts")
    ben = dash_app.server.test_client()
    log_in(ben, "ben")  # another analyst: the pending file is not theirs
    assert add(ben, dash_app, "Beijing", districts).startswith("Choose a GeoJSON file")
    assert not (data_dir / "cities" / "beijing").exists()

    assert add(analyst, dash_app, "Beijing", districts) == "Beijing added, with id beijing."
    city = load_city(data_dir / "cities" / "beijing")
    assert [d.code for d in city.districts] == [110105, 110101]
    assert pending_tokens(data_dir) == []  # the pending file became the city
    assert add(analyst, dash_app, "Beijing", districts).startswith("Choose a GeoJSON file")


def test_a_refused_file_says_why_and_keeps_nothing(analyst, data_dir):
    points = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": "A"},
                      "geometry": {"type": "Point", "coordinates": [2.35, 48.85]}}],
    }  # fmt: skip
    response = send(analyst, json.dumps(points).encode(), "points.geojson", session_csrf(analyst))
    assert response.status_code == 200 and "token" not in response.get_json()
    assert response.get_json()["error"].startswith(
        "Refused: points.geojson: feature 1 is a Point, not a polygon"
    )
    assert pending_tokens(data_dir) == []


def test_the_add_city_callback_takes_a_token_not_the_file(dash_app):
    """Dash callbacks answer 413 above a few MB: the file must not travel inside one."""
    key = callback_key(dash_app, "city-submit")
    callback = dash_app.callback_map[key]
    props = {(d["id"], d["property"]) for d in callback["inputs"] + callback["state"]}
    assert not [p for p in props if p[1] in {"contents", "filename"}], props
    assert ("city-districts", "data") in props
    request = add_request(dash_app, "Beijing", {"token": "x" * 24, "file": "districts.geojson"})
    assert len(json.dumps(request)) < 4096


def test_the_add_city_callback_is_a_function_of_the_analyst_and_the_form(tmp_path):
    workspace, store = Workspace.open(tmp_path), PendingDistricts(tmp_path)
    raw = BEIJING.read_bytes()
    pending = store.receive("ana", "districts.geojson", io.BytesIO(raw), len(raw), None)
    form = {"name": "Beijing", "names": {"fr": "Pékin", "es": "", "zh": ""},
            "timezone": "Asia/Shanghai", "population": "", "name_field": "",
            "districts": {"token": pending.token}}  # fmt: skip
    ui = {"lang": "en"}
    assert submit_form(workspace, store, "ana", n_clicks=0, ui=ui, **form) == (no_update,) * 7
    refused = submit_form(workspace, store, None, n_clicks=1, ui=ui, **form)
    assert refused[1] == "city-result error" and refused[5] is no_update
    assert not (tmp_path / "cities" / "beijing").exists()
    added = submit_form(workspace, store, "ana", n_clicks=1, ui=ui, **form)
    assert added[1] == "city-result ok" and added[5] is None and added[6] == ""
    assert "beijing" in [option["value"] for option in added[3]] and added[4] is False
    assert load_city(tmp_path / "cities" / "beijing").label("fr") == "Pékin"


# -- huge boundaries -----------------------------------------------------------------------------


def test_a_million_vertices_are_simplified_and_the_map_still_draws(dash_app, analyst, data_dir):
    raw = many_vertices()
    assert len(raw) > 20 * 1024 * 1024  # far over what a Dash callback may carry
    response = send(analyst, raw, "survey.geojson", session_csrf(analyst))
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    message = answer["message"]
    assert message.startswith("File: survey.geojson: 10 districts, ready to add.")
    simplified = re.search(r"simplified from 1,000,010 to ([\d,]+) vertices", message)
    assert simplified, message
    kept = int(simplified.group(1).replace(",", ""))
    assert MAP_VERTICES // 4 < kept <= MAP_VERTICES

    added = add(analyst, dash_app, "Survey city", {"token": answer["token"]})
    assert added.startswith("Survey city added, with id survey-city.")
    assert f"simplified from 1,000,010 to {kept:,} vertices" in added
    folder = data_dir / "cities" / "survey-city"
    assert vertices(folder / "districts.geojson") == kept
    assert (folder / "districts.geojson").stat().st_size < 5 * 1024 * 1024 < MAX_BYTES

    city = load_city(folder)
    assert len(city.districts) == 10
    assert 200 < city.district(110100).area_km2 < 290  # a disc of 0.09° (10 km) at 39.8° N
    frame = pd.DataFrame(
        {
            "district": [d.code for d in city.districts],
            "detectors": 1,
            "readings": 10,
            "speed_kmh": 40.0,
            "tti": 1.2,
            "vehicles": 100,
        }
    )
    figure = go.Figure(district_map(frame, FigureContext(lang="en", theme="light", city=city)))
    choropleth = next(trace for trace in figure.data if trace.type == "choropleth")
    assert len(choropleth.geojson["features"]) == 10


def test_the_command_line_simplifies_the_same_way(tmp_path):
    path = tmp_path / "survey.geojson"
    path.write_bytes(many_vertices())
    done = subprocess.run(
        [sys.executable, "-m", "datasets", "add-city", "--name", "Survey city", "--districts",
         str(path), "--data-dir", str(tmp_path / "data")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "survey-city\n"
    assert "simplified from 1,000,010 to " in done.stderr
    stored = tmp_path / "data" / "cities" / "survey-city" / "districts.geojson"
    assert MAP_VERTICES // 4 < vertices(stored) <= MAP_VERTICES


def test_boundaries_that_cannot_be_simplified_enough_are_refused(analyst, data_dir):
    """20,000 separate squares keep 4 vertices each however far they are simplified."""
    squares = [
        [[[x, y], [x + 1e-4, y], [x + 1e-4, y + 1e-4], [x, y + 1e-4], [x, y]]]
        for x, y in zip(116 + np.arange(20_000) % 200 * 2e-3, 39 + np.arange(20_000) // 200 * 2e-3,
                        strict=True)
    ]  # fmt: skip
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": "Islands"},
                      "geometry": {"type": "MultiPolygon", "coordinates": squares}}],
    }  # fmt: skip
    response = send(analyst, json.dumps(collection).encode(), "islands.geojson",
                    session_csrf(analyst))  # fmt: skip
    assert response.status_code == 200 and "token" not in response.get_json()
    error = response.get_json()["error"]
    assert "20,000 polygon rings keep at least 4 positions each" in error, error
    assert "more than the 50,000 positions a city's map may draw" in error
    assert pending_tokens(data_dir) == []


def test_a_crafted_boundary_is_refused_within_the_limits_and_the_server_lives(
    analyst, data_dir, monkeypatch
):
    """A comb of thin teeth makes GEOS's simplifiers quadratic (and overflow their stack at
    ~80,000 vertices): the check, in a child capped in CPU time, is refused instead."""
    monkeypatch.setattr("datasets.district_check.CHECK_CPU_SECONDS", 3)
    n = 300_000
    x = 116 + np.arange(n) * (0.5 / n)
    y = 39 + 0.01 * (np.arange(n) % 2)
    ring = np.vstack([np.c_[x, y], [[x[-1], 38.9], [x[0], 38.9], [x[0], y[0]]]]).round(8)
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": "Comb"},
                      "geometry": {"type": "Polygon", "coordinates": [ring.tolist()]}}],
    }  # fmt: skip
    response = send(analyst, json.dumps(collection).encode(), "comb.geojson",
                    session_csrf(analyst))  # fmt: skip
    assert response.status_code == 200 and "token" not in response.get_json()
    assert "could not be checked within 3 s" in response.get_json()["error"]
    assert pending_tokens(data_dir) == []
    assert analyst.get("/health").status_code == 200


# -- a full disk ---------------------------------------------------------------------------------


def test_add_city_on_a_full_disk_says_so_and_leaves_nothing(tmp_path, small_tmpfs):
    data = tmp_path / "data"
    cities = small_tmpfs(data / "cities", 256)
    fill_disk(cities)
    new = NewCity(name={"en": "Beijing"}, districts_geojson=BEIJING.read_bytes())
    with pytest.raises(CityError, match=r"^the disk is full: the city was not added$"):
        add_city(data, new)
    assert sorted(p.name for p in cities.iterdir()) == ["filler"]


def test_the_page_on_a_full_disk_says_so_and_can_add_the_city_once_there_is_room(
    dash_app, analyst, data_dir, small_tmpfs
):
    cities = small_tmpfs(data_dir / "cities", 256)
    response = send(analyst, BEIJING.read_bytes(), csrf=session_csrf(analyst))
    assert response.status_code == 201
    districts = {"token": response.get_json()["token"]}
    filler = fill_disk(cities)

    message = add(analyst, dash_app, "Beijing", districts)
    assert message.startswith("The disk is full: the city was not added.")
    assert sorted(p.name for p in cities.iterdir()) == [".pending", "filler"]  # no .tmp-…
    assert pending_tokens(data_dir) == [districts["token"]]  # kept, to try again

    refused = send(analyst, BEIJING.read_bytes(), csrf=session_csrf(analyst))
    assert refused.status_code == 507
    assert refused.get_json()["error"].startswith("The disk is full: the file was not kept.")
    assert pending_tokens(data_dir) == [districts["token"]]

    filler.unlink()
    assert add(analyst, dash_app, "Beijing", districts) == "Beijing added, with id beijing."
    assert [d.code for d in load_city(cities / "beijing").districts] == [110105, 110101]
