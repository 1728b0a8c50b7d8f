"""The open data API against the demo city: the catalog, one dataset, pages of rows filtered in
the scan (checked against the stored Parquet read by pandas), CSV, the OpenAPI document, every
bad parameter a 400 that names it, and the login wall."""

from __future__ import annotations

import io

import pandas as pd
import pytest

import app as app_module
import config
from datasets.queries.rows import MAX_LIMIT

READINGS = "hangzhou-2017-traffic-readings"
AIR = "hangzhou-2017-air-quality-hourly"


@pytest.fixture(scope="module")
def client(demo_workspace):
    cfg = config.Config(data_dir=demo_workspace.data_dir)
    return app_module.create_app(cfg, demo_workspace).server.test_client()


def stored(demo_workspace, dataset_id: str) -> pd.DataFrame:
    return pd.read_parquet(demo_workspace.catalog.get(dataset_id).folder)


def test_the_catalog_lists_every_dataset_with_its_links(client, demo_workspace):
    listed = client.get("/api/v1/datasets").get_json()["datasets"]
    assert {d["id"] for d in listed} == {d.id for d in demo_workspace.catalog.datasets()}
    one = next(d for d in listed if d["id"] == READINGS)
    assert one["links"]["rows"] == f"/api/v1/datasets/{READINGS}/rows"
    assert {c["name"] for c in one["columns"]} >= {"ts", "detector_id", "speed_kmh"}
    kind = client.get("/api/v1/datasets?kind=air_quality_hourly").get_json()["datasets"]
    assert [d["id"] for d in kind] == [AIR]
    assert client.get(f"/api/v1/datasets/{AIR}").get_json()["rows"] == one_rows(listed, AIR)


def one_rows(listed: list[dict], dataset_id: str) -> int:
    return next(d["rows"] for d in listed if d["id"] == dataset_id)


def test_pages_follow_each_other_in_the_stored_order(client, demo_workspace):
    first = client.get(f"/api/v1/datasets/{READINGS}/rows?limit=7").get_json()
    second = client.get(first["next"]).get_json()
    whole = stored(demo_workspace, READINGS).head(14)
    got = pd.DataFrame(first["rows"] + second["rows"])
    assert list(got["detector_id"]) == list(whole["detector_id"])
    assert got["speed_kmh"].to_numpy() == pytest.approx(whole["speed_kmh"].to_numpy(), rel=1e-6)
    assert second["offset"] == 7 and first["limit"] == 7


def test_filters_are_applied_in_the_scan(client, demo_workspace):
    raw = stored(demo_workspace, AIR)
    station = str(raw["station_id"].iloc[0])
    url = f"/api/v1/datasets/{AIR}/rows?station={station}&from=2017-03-01&to=2017-03-02&limit=1000"
    rows = pd.DataFrame(client.get(url).get_json()["rows"])
    ts = pd.to_datetime(raw["ts"])
    inside = (ts >= "2017-03-01") & (ts < "2017-03-03")
    want = raw[(raw["station_id"].astype(str) == station) & inside]
    assert len(rows) == len(want) > 24  # two whole days: `to` includes its day
    assert set(rows["station_id"].astype(str)) == {station}
    district = int(stored(demo_workspace, READINGS)["district"].iloc[0])
    page = client.get(f"/api/v1/datasets/{READINGS}/rows?district={district}&limit=50")
    assert {r["district"] for r in page.get_json()["rows"]} == {district}


def test_rows_as_csv(client):
    response = client.get(f"/api/v1/datasets/{AIR}/rows?limit=5&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert len(pd.read_csv(io.StringIO(response.get_data(as_text=True)))) == 5


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("limit=0", "limit"),
        (f"limit={MAX_LIMIT + 1}", "limit"),
        ("limit=-3", "limit"),
        ("offset=9999999999", "offset"),
        ("from=yesterday", "from"),
        ("from=2017-03-05&to=2017-03-01", "to must come after"),
        ("district=../x", "district"),
        ("district=" + ",".join(["1"] * 60), "district"),
        ("format=xml", "format"),
        ("order=speed_kmh", "unknown parameter"),
        ("station=A", "station_id"),  # readings have no stations
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, query, named):
    response = client.get(f"/api/v1/datasets/{READINGS}/rows?{query}")
    assert response.status_code == 400
    assert named in response.get_json()["error"]


def test_an_unknown_dataset_is_a_404(client):
    for path in ("/api/v1/datasets/nope", "/api/v1/datasets/nope/rows", "/api/v1/datasets/%00x"):
        response = client.get(path)
        assert response.status_code == 404 and "error" in response.get_json()


def test_the_api_changes_nothing(client):
    assert client.post("/api/v1/datasets").status_code == 405
    assert client.delete(f"/api/v1/datasets/{READINGS}").status_code == 405


def test_the_openapi_document_lists_every_route(client, demo_workspace):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    for path in document["paths"]:
        concrete = path.replace("{id}", READINGS)
        assert client.get(concrete).status_code == 200, path


def test_with_the_login_wall_a_visitor_gets_401(demo_workspace):
    cfg = config.Config(data_dir=demo_workspace.data_dir, view_login=True)
    visitor = app_module.create_app(cfg, demo_workspace).server.test_client()
    response = visitor.get("/api/v1/datasets")
    assert response.status_code == 401 and response.get_json()["error"] == "login required"


def test_values_are_given_as_the_data_holds_them(client, demo_workspace):
    raw = stored(demo_workspace, AIR).head(20)
    assert str(raw["pm25"].dtype) == "float32"  # where widening to double shows 86.80000305
    rows = client.get(f"/api/v1/datasets/{AIR}/rows?limit=20").get_json()["rows"]
    assert [r["pm25"] for r in rows] == [float(str(v)) for v in raw["pm25"].to_numpy()]
    text = client.get(f"/api/v1/datasets/{AIR}/rows?limit=20&format=csv").get_data(as_text=True)
    assert "00000" not in text and "99999" not in text
