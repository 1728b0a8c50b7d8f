"""Each upload in its chosen city, labelled truly.

The upload page offers the cities (the one being viewed chosen), publishes under the chosen one
and warns of rows whose points or districts lie outside it; the command line names the city it
used. A real upload's explorer says nothing of synthetic data and its source line is the
dataset's own; the demo pages still say which of their datasets are synthetic.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import app as app_module
import config
from datasets.city_admin import NewCity, add_city
from datasets.ingest import inspect, validate
from datasets.ingest.place_check import check_place
from datasets.ingest.validate import SCRATCH_FILE
from datasets.workspace import Workspace
from server.accounts import Accounts
from tests.pages.upload.test_upload_route import PASSWORD, client_for, csrf, post, wait

ROOT = Path(__file__).resolve().parents[3]
HANGZHOU = "hangzhou-2017"
SEATTLE = "seattle"


def box(west: float, south: float, east: float, north: float) -> list:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


SEATTLE_DISTRICTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": name, "code": code},
            "geometry": {"type": "Polygon", "coordinates": box(*bounds)},
        }
        for name, code, bounds in (
            ("Ballard", 1, (-122.41, 47.64, -122.34, 47.70)),
            ("Downtown", 2, (-122.36, 47.59, -122.32, 47.63)),
        )
    ],
}
# a bicycle counter's hourly counts, as a city's open-data portal publishes them
COUNTS = "Date,Counter,Latitude,Longitude,Bikes\n" + "".join(
    f"2025-02-{day:02d} {hour:02d}:00,Fremont Bridge,47.6480,-122.3496,{day * 10 + hour}\n"
    for day in (1, 2)
    for hour in range(24)
)
COUNTS_IN_HANGZHOU = COUNTS.replace("47.6480,-122.3496", "30.2590,120.1690")  # West Lake shore


@pytest.fixture
def data_dir(tmp_path) -> Path:
    Accounts(tmp_path).add("ana", PASSWORD)
    new = NewCity(
        name={"en": "Seattle"},
        districts_geojson=json.dumps(SEATTLE_DISTRICTS).encode(),
        timezone="America/Los_Angeles",
        name_field="name",
        code_field="code",
        city_id=SEATTLE,
    )
    add_city(tmp_path, new)
    return tmp_path


@pytest.fixture
def dash_app(data_dir):
    return app_module.create_app(config.Config(data_dir=data_dir), Workspace.open(data_dir))


def callback(dash_app, output: str) -> tuple[str, dict]:
    for key, cb in dash_app.callback_map.items():
        if f"..{output}.." in key or key == output:
            return key, cb
    raise KeyError(output)


def outputs_of(key: str) -> list[dict]:
    return [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
        for part in key.strip(".").split("...")
    ]


def route(client, dash_app, path: str, city: str = HANGZHOU) -> dict:
    """The page, its options and the footer as the router sends them for `path?city=`."""
    key, _ = callback(dash_app, "page.children")
    search = f"?city={city}"
    payload = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": [
            {"id": "url", "property": "pathname", "value": path},
            {"id": "ui", "property": "data", "value": ui(city)},
        ],
        "state": [{"id": "url", "property": "search", "value": search}],
        "changedPropIds": ["url.pathname"],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["response"]


def ui(city: str) -> dict:
    return {"lang": "en", "theme": "light", "city": city}


def find(tree, component_id: str) -> dict | None:
    if isinstance(tree, list):
        for child in tree:
            found = find(child, component_id)
            if found is not None:
                return found
        return None
    if not isinstance(tree, dict):
        return None
    props = tree.get("props") or {}
    if props.get("id") == component_id:
        return props
    return find(props.get("children"), component_id)


def checked_job(dash_app, client, body: str, name: str = "fremont.csv"):
    store = dash_app.server.extensions["citylens_jobs"]
    token = post(client, body.encode(), name=name, token=csrf(client)).get_json()["token"]
    wait(client, token)
    job = store.get(token, "ana")
    store.check(job, kind="generic")
    assert wait(client, token)["report"]["ok"]
    return token, job


def commit_on_page(dash_app, client, token: str, chosen: str, viewed: str) -> dict:
    """Press "Publish" on the page with `chosen` in the city chooser, viewing `viewed`."""
    key = next(
        k for k, c in dash_app.callback_map.items() if c["inputs"][0]["id"] == "upload-commit"
    )
    values = {
        "upload-mode": "new",
        "upload-title": "Fremont Bridge bicycle counter",
        "upload-source": "Seattle Department of Transportation",
        "upload-source-url": "https://data.seattle.gov/d/65db-xm6k",
        "upload-licence": "ODC-PDDL-1.0",
        "upload-round-table": "traffic",
        "upload-sdg": [],
        "upload-drop-bad": [],
        "upload-city": chosen,
        "upload-job": {"token": token},
        "ui": ui(viewed),
    }
    states = dash_app.callback_map[key]["state"]
    payload = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": [{"id": "upload-commit", "property": "n_clicks", "value": 1}],
        "state": [{**s, "value": values.get(s["id"])} for s in states],
        "changedPropIds": ["upload-commit.n_clicks"],
    }
    assert client.post("/_dash-update-component", json=payload).status_code == 200
    return wait(client, token)


def place_on_page(dash_app, client, token: str, chosen: str) -> str:
    """The warnings the page shows under the city chooser for `chosen`."""
    key = next(k for k, c in dash_app.callback_map.items() if c["inputs"][0]["id"] == "upload-city")
    payload = {
        "output": key,
        "outputs": outputs_of(key)[0],
        "inputs": [
            {"id": "upload-city", "property": "value", "value": chosen},
            {"id": "upload-rendered", "property": "data", "value": "x"},
        ],
        "state": [
            {"id": "upload-job", "property": "data", "value": {"token": token}},
            {"id": "ui", "property": "data", "value": ui(HANGZHOU)},
        ],
        "changedPropIds": ["upload-city.value"],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    return json.dumps(response.get_json()["response"], ensure_ascii=False)


# -- choosing the city ---------------------------------------------------------------------------


def test_the_upload_page_offers_the_cities_with_the_viewed_one_chosen(dash_app):
    client = client_for(dash_app, "ana")
    page = route(client, dash_app, "/data/upload", city=SEATTLE)["page"]["children"]
    chooser = find(page, "upload-city")
    assert chooser is not None, "the upload page has no city chooser"
    assert chooser["value"] == SEATTLE
    assert {o["value"] for o in chooser["options"]} == {HANGZHOU, SEATTLE}
    assert find(page, "upload-city-new")["href"] == "/cities"


def test_an_upload_lands_in_the_chosen_city_and_shows_on_its_pages(dash_app):
    client = client_for(dash_app, "ana")
    token, _ = checked_job(dash_app, client, COUNTS)
    done = commit_on_page(dash_app, client, token, chosen=SEATTLE, viewed=HANGZHOU)
    dataset_id = done["result"]["dataset_id"]
    catalog = dash_app.workspace.catalog
    assert catalog.get(dataset_id).meta.city == SEATTLE
    assert [d.id for d in catalog.datasets(city=SEATTLE)] == [dataset_id]
    assert catalog.datasets(city=HANGZHOU) == []
    seattle = json.dumps(route(client, dash_app, "/data", city=SEATTLE)["page"])
    hangzhou = json.dumps(route(client, dash_app, "/data", city=HANGZHOU)["page"])
    assert "Fremont Bridge bicycle counter" in seattle
    assert "Fremont Bridge bicycle counter" not in hangzhou


def test_a_forged_city_falls_back_to_the_viewed_one(dash_app):
    client = client_for(dash_app, "ana")
    token, _ = checked_job(dash_app, client, COUNTS)
    done = commit_on_page(dash_app, client, token, chosen="../../etc", viewed=SEATTLE)
    assert done["status"] == "committed", done
    assert dash_app.workspace.catalog.get(done["result"]["dataset_id"]).meta.city == SEATTLE


def test_publishing_for_another_zone_never_reads_as_finished_before_it_is(dash_app, monkeypatch):
    """The rows are checked again for the chosen city's time zone before they are published:
    meanwhile the upload still says "running", so a page polling it does not stop at a
    "ready" that the publish is about to replace."""
    from server.upload_state import Job

    written = []
    write = Job.write

    def recording(self, **changes):
        if "status" in changes:
            written.append(changes["status"])
        return write(self, **changes)

    client = client_for(dash_app, "ana")
    token, _ = checked_job(dash_app, client, COUNTS)
    monkeypatch.setattr(Job, "write", recording)
    done = commit_on_page(dash_app, client, token, chosen=SEATTLE, viewed=SEATTLE)
    assert done["status"] == "committed", done
    assert written[-1] == "committed" and "ready" not in written, written


# -- places outside the chosen city --------------------------------------------------------------


def staged(tmp_path: Path, text: str, name: str = "file.csv") -> Path:
    """The rows of `text` as the pipeline stages them for publishing."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = validate(inspect(path, overrides={"kind": "generic"}), scratch_dir=tmp_path)
    assert report.ok
    return report.scratch / SCRATCH_FILE


def test_seattle_points_filed_under_hangzhou_are_warned_of(tmp_path, data_dir):
    cities = Workspace.open(data_dir).cities
    outside = check_place(staged(tmp_path, COUNTS, "seattle.csv"), cities[HANGZHOU])
    assert [(w.what, w.outside, w.total) for w in outside] == [("points", 48, 48)]
    assert outside[0].message("Hangzhou") == "48 of 48 points fall outside Hangzhou"
    assert check_place(staged(tmp_path, COUNTS_IN_HANGZHOU, "xihu.csv"), cities[HANGZHOU]) == []
    assert check_place(staged(tmp_path, COUNTS, "seattle2.csv"), cities[SEATTLE]) == []


def test_some_points_outside_are_counted(tmp_path, data_dir):
    lines = COUNTS_IN_HANGZHOU.splitlines()
    mixed = "\n".join(lines[:41] + COUNTS.splitlines()[41:]) + "\n"  # the last 8 in Seattle
    city = Workspace.open(data_dir).city(HANGZHOU)
    (warning,) = check_place(staged(tmp_path, mixed), city)
    assert (warning.outside, warning.total) == (8, 48)


def test_district_names_not_of_the_city_are_warned_of(tmp_path, data_dir):
    city = Workspace.open(data_dir).city(HANGZHOU)
    ours = "district,residents\nShangcheng District,1\n上城区,2\nxihu,3\n330106,4\n"
    assert check_place(staged(tmp_path, ours, "ours.csv"), city) == []
    theirs = ours + "Ballard,5\nBallard,6\nFremont,7\n"
    (warning,) = check_place(staged(tmp_path, theirs, "theirs.csv"), city)
    assert (warning.what, warning.outside, warning.total) == ("districts", 3, 7)
    assert warning.examples == ("Ballard", "Fremont")


def test_the_page_warns_of_points_outside_the_chosen_city(dash_app):
    client = client_for(dash_app, "ana")
    token, _ = checked_job(dash_app, client, COUNTS)
    assert "48 of 48 points fall outside Hangzhou" in place_on_page(
        dash_app, client, token, HANGZHOU
    )
    assert "outside" not in place_on_page(dash_app, client, token, SEATTLE)


def test_the_command_line_names_the_city_and_warns(tmp_path, data_dir):
    path = tmp_path / "fremont.csv"
    path.write_text(COUNTS, encoding="utf-8")
    command = [sys.executable, "-m", "datasets", "ingest", str(path), "--kind", "generic"]
    command += ["--data-dir", str(data_dir), "-q"]
    result = subprocess.run(
        [*command, "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "city: Hangzhou (hangzhou-2017)" in result.stderr
    assert "warning: 48 of 48 points fall outside Hangzhou" in result.stderr
    result = subprocess.run(
        [*command, "--city", SEATTLE, "--title", "Fremont"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "city: Seattle (seattle)" in result.stderr and "warning" not in result.stderr
    assert Workspace.open(data_dir).catalog.get("fremont").meta.city == SEATTLE
    usage = subprocess.run(
        [sys.executable, "-m", "datasets", "ingest", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "CITYLENS_CITY" in usage


# -- labelled truly ------------------------------------------------------------------------------


def test_a_real_uploads_explorer_says_nothing_synthetic_and_names_its_source(dash_app):
    client = client_for(dash_app, "ana")
    token, _ = checked_job(dash_app, client, COUNTS)
    dataset_id = commit_on_page(dash_app, client, token, SEATTLE, SEATTLE)["result"]["dataset_id"]
    answer = route(client, dash_app, f"/data/{dataset_id}", city=SEATTLE)
    footer = answer.pop("footer-synthetic")
    assert footer == {"children": "", "hidden": True}
    text = json.dumps(answer, ensure_ascii=False)
    assert not re.search(r"synth|Demo data", text, re.IGNORECASE)
    source = json.dumps(find(answer["page"]["children"], "explorer-source"))
    assert "Seattle Department of Transportation" in source and "ODC-PDDL-1.0" in source
    assert "https://data.seattle.gov/d/65db-xm6k" in source


@pytest.fixture(scope="module")
def demo_app(demo_workspace):
    return app_module.create_app(config.Config(data_dir=demo_workspace.data_dir), demo_workspace)


@pytest.mark.parametrize("path", ["/", "/traffic", "/ecology"])
def test_the_demo_pages_still_say_which_datasets_are_synthetic(demo_app, demo_workspace, path):
    client = demo_app.server.test_client()
    footer = route(client, demo_app, path)["footer-synthetic"]
    assert footer["hidden"] is False
    assert footer["children"].startswith("Synthetic data on this page: ")
    synthetic = [d.title("en") for d in demo_workspace.catalog.datasets(city=HANGZHOU)]
    assert any(title in footer["children"] for title in synthetic)
    assert "metro" not in footer["children"].lower()  # the real metro flows are not named


# -- times with a UTC offset, in the chosen city's time zone ---------------------------------------

MADRID = "madrid"
# a sensor's readings stamped in UTC: midnight UTC is 01:00 in Madrid (winter), 08:00 in Hangzhou
UTC_READINGS = "time,pm25\n" + "".join(
    f"2017-12-07T00:00:00Z,{value}\n2017-12-07T00:30:00Z,{value + 1}\n" for value in (10, 20)
)


def add_madrid(data_dir: Path) -> None:
    districts = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Centro", "code": 1},
                "geometry": {"type": "Polygon", "coordinates": box(-3.72, 40.40, -3.68, 40.43)},
            }
        ],
    }
    add_city(
        data_dir,
        NewCity(
            name={"en": "Madrid"},
            districts_geojson=json.dumps(districts).encode(),
            timezone="Europe/Madrid",
            name_field="name",
            code_field="code",
            city_id=MADRID,
        ),
    )


@pytest.fixture
def madrid_app(data_dir):
    add_madrid(data_dir)
    return app_module.create_app(config.Config(data_dir=data_dir), Workspace.open(data_dir))


def published_hours(dash_app, done: dict) -> list[str]:
    import pyarrow.parquet as pq

    dataset = dash_app.workspace.catalog.get(done["result"]["dataset_id"])
    (path,) = sorted(dataset.folder.glob("*.parquet"))
    times = pq.read_table(path).column("time").to_pylist()
    return sorted({value.strftime("%H:%M") for value in times})


def check_on_page(dash_app, client, token: str, chosen: str, viewed: str) -> dict:
    """Press "Check the whole file again" with `chosen` in the city chooser."""
    key = next(
        k
        for k, c in dash_app.callback_map.items()
        if [i["id"] for i in c["inputs"]][:2] == ["upload-reread", "upload-check"]
    )
    state = client.get(f"/upload/{token}").get_json()
    values = {"upload-city": chosen, "upload-job": {"token": token}, "ui": ui(viewed)}
    states = dash_app.callback_map[key]["state"]
    payload = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": [
            {"id": "upload-reread", "property": "n_clicks", "value": None},
            {"id": "upload-check", "property": "n_clicks", "value": 1},
            {"id": "upload-kind", "property": "value", "value": state["mapping"]["kind"]},
        ],
        "state": [
            [] if s["id"].startswith("{") else {**s, "value": values.get(s["id"])}
            for s in states  # the form's pattern-matched controls: none changed
        ],
        "changedPropIds": ["upload-check.n_clicks"],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return wait(client, token)


def test_utc_times_published_into_madrid_are_madrid_local_time(madrid_app):
    client = client_for(madrid_app, "ana")
    token, _ = checked_job(madrid_app, client, UTC_READINGS, name="pm25.csv")
    done = commit_on_page(madrid_app, client, token, chosen=MADRID, viewed=HANGZHOU)
    assert done["status"] == "committed", done.get("error")
    assert published_hours(madrid_app, done) == ["01:00", "01:30"]  # not Shanghai's 08:00
    assert madrid_app.workspace.catalog.get(done["result"]["dataset_id"]).meta.city == MADRID


def test_utc_times_published_into_hangzhou_are_hangzhou_local_time(madrid_app):
    client = client_for(madrid_app, "ana")
    token, _ = checked_job(madrid_app, client, UTC_READINGS, name="pm25.csv")
    done = commit_on_page(madrid_app, client, token, chosen=HANGZHOU, viewed=MADRID)
    assert done["status"] == "committed", done.get("error")
    assert published_hours(madrid_app, done) == ["08:00", "08:30"]


def test_checking_again_on_the_page_uses_the_chosen_citys_time_zone(madrid_app):
    client = client_for(madrid_app, "ana")
    token, _ = checked_job(madrid_app, client, UTC_READINGS, name="pm25.csv")
    checked = check_on_page(madrid_app, client, token, chosen=MADRID, viewed=HANGZHOU)
    assert (checked["city"], checked["timezone"]) == (MADRID, "Europe/Madrid")
    assert checked["report"]["ok"]
    done = commit_on_page(madrid_app, client, token, chosen=MADRID, viewed=MADRID)
    assert published_hours(madrid_app, done) == ["01:00", "01:30"]


def test_a_report_changed_by_the_new_zone_is_not_published_unseen(madrid_app, monkeypatch):
    client = client_for(madrid_app, "ana")
    token, job = checked_job(madrid_app, client, UTC_READINGS, name="pm25.csv")
    store = madrid_app.server.extensions["citylens_jobs"]
    # as if Madrid's reading of the file differed from the one the analyst reviewed
    job.write(report={**job.read()["report"], "rows_ok": 999})
    done = commit_on_page(madrid_app, client, token, chosen=MADRID, viewed=HANGZHOU)
    assert done["status"] == "ready" and done["result"] is None
    assert done["error"]["key"] == "upload.zone_rechecked"
    assert done["timezone"] == "Europe/Madrid"
    assert madrid_app.workspace.catalog.datasets(city=MADRID) == []
    done = commit_on_page(madrid_app, client, token, chosen=MADRID, viewed=HANGZHOU)
    assert done["status"] == "committed" and published_hours(madrid_app, done) == ["01:00", "01:30"]
    assert store.get(token, "ana") is not None
