"""The upload route and the state-changing callbacks: a visitor is refused on the server with
nothing written; the size limit holds before the body is read; a cut-off upload leaves nothing;
a path in the file name goes nowhere; a job is its owner's only; versions restore and delete
only for an analyst."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import app as app_module
import config
from datasets.catalog import DatasetMeta
from datasets.ingest import UploadMeta
from datasets.workspace import Workspace
from server.accounts import Accounts

PASSWORD = "correct horse battery"
CSV = (
    "when,post,fine dust (µg/m³)\n"
    + "".join(f"2017-03-01 {h:02d}:00,1223A,{30 + h}\n" for h in range(24))
).encode()


def csrf_of(html: bytes) -> str:
    return re.search(rb'name="csrf" value="([^"]+)"', html).group(1).decode()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    Accounts(tmp_path).add("ana", PASSWORD)
    Accounts(tmp_path).add("ben", PASSWORD)
    return tmp_path


@pytest.fixture
def dash_app(data_dir):
    cfg = config.Config(data_dir=data_dir, max_upload_mb=1)
    return app_module.create_app(cfg, Workspace.open(data_dir))


def client_for(dash_app, name: str | None):
    client = dash_app.server.test_client()
    if name:
        token = csrf_of(client.get("/login").data)
        client.post("/login", data={"csrf": token, "name": name, "password": PASSWORD})
    return client


def csrf(client) -> str:
    with client.session_transaction() as session:
        return session.get("csrf", "")


def written(data_dir: Path) -> list[str]:
    """Everything under the data folder but the stores the app opens at its start: the accounts,
    the secret, the empty catalog, the login sessions and counts, the empty job store."""
    ignore = {"accounts.sqlite", "secret_key", "catalog.sqlite", "throttle.sqlite", "jobs.sqlite"}
    return sorted(
        str(p.relative_to(data_dir))
        for p in data_dir.rglob("*")
        if p.is_file()
        and p.name not in ignore
        and not p.name.startswith(("catalog.sqlite-", "jobs.sqlite-"))
        and p.relative_to(data_dir).parts[0] != "sessions"
    )


def post(client, body: bytes, name: str = "air.csv", token: str | None = None, **kwargs):
    headers = {"X-Filename": name, "Content-Type": "application/octet-stream"}
    if token is not None:
        headers["X-CSRF-Token"] = token
    return client.post("/upload", data=body, headers=headers, **kwargs)


def wait(client, token: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/upload/{token}").get_json()
        if state["status"] not in {"running", "received"}:
            return state
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


# -- the route ----------------------------------------------------------------------------------


def test_a_visitor_is_refused_and_nothing_is_written(dash_app, data_dir):
    before = written(data_dir)
    client = client_for(dash_app, None)
    response = post(client, CSV, token="anything")
    assert response.status_code == 401 and response.get_json()["reason"] == "login"
    assert written(data_dir) == before
    assert not (data_dir / "uploads").exists()
    assert client.get("/upload/whatever-token-123456789").status_code == 401


def test_an_analyst_without_the_csrf_token_is_refused(dash_app, data_dir):
    client = client_for(dash_app, "ana")
    before = written(data_dir)
    assert post(client, CSV).status_code == 403
    assert post(client, CSV, token="forged" * 8).status_code == 403
    assert written(data_dir) == before


def test_an_analyst_uploads_and_the_file_is_read_in_the_background(dash_app, data_dir):
    client = client_for(dash_app, "ana")
    response = post(client, CSV, token=csrf(client))
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["file"] == "air.csv" and answer["size"] == len(CSV)
    state = wait(client, answer["token"])
    assert state["status"] == "ready" and state["error"] is None
    assert state["report"]["rows_ok"] == 24
    assert state["inspection"]["settings"]["delimiter"] == ","
    assert "stored" not in state  # no server path leaves the server


def test_over_the_limit_is_refused_from_the_declared_length_before_reading(dash_app, data_dir):
    client = client_for(dash_app, "ana")
    big = b"a,b\n" + b"1,2\n" * (300 * 1024)  # 1.2 MB, over max_upload_mb=1
    response = post(client, big, token=csrf(client))
    assert response.status_code == 413
    assert response.get_json()["reason"] == "too_large"
    assert "CITYLENS_MAX_UPLOAD_MB" in response.get_json()["error"]
    assert written(data_dir) == []
    # every other route keeps the server's own, smaller limit
    assert dash_app.server.config["MAX_CONTENT_LENGTH"] == config.Config().max_request_mb * 2**20


def test_a_stream_longer_than_the_limit_is_cut_while_it_streams(dash_app, data_dir):
    store = dash_app.server.extensions["citylens_jobs"]
    from datasets.ingest import IngestError

    with pytest.raises(IngestError, match="at most"):
        store.receive("ana", "x.csv", io.BytesIO(b"x" * (2 * 1024 * 1024)), None)
    assert written(data_dir) == []


def test_a_cut_off_upload_leaves_nothing(dash_app, data_dir):
    client = client_for(dash_app, "ana")
    response = client.post(
        "/upload",
        input_stream=io.BytesIO(CSV[:100]),
        headers={"X-CSRF-Token": csrf(client), "X-Filename": "air.csv"},
        environ_overrides={"CONTENT_LENGTH": str(len(CSV))},
    )
    assert response.status_code == 400
    assert response.get_json()["reason"] == "cut_off"
    assert written(data_dir) == []
    assert not any((data_dir / "uploads").iterdir())


def test_a_path_in_the_file_name_goes_nowhere(dash_app, data_dir, tmp_path):
    client = client_for(dash_app, "ana")
    for name in ("..%2F..%2Fevil.csv", "..\\..\\evil.csv", "%2Fetc%2Fpasswd"):
        response = post(client, CSV, name=name, token=csrf(client))
        assert response.status_code == 201
        shown = response.get_json()["file"]
        assert "/" not in shown and "\\" not in shown and ".." not in shown
        wait(client, response.get_json()["token"])
    assert not (data_dir.parent / "evil.csv").exists()
    assert not list(data_dir.parent.glob("evil*"))
    for path in (data_dir / "uploads").rglob("*"):
        assert path.resolve().is_relative_to((data_dir / "uploads").resolve())


def test_a_job_is_its_owners_only(dash_app):
    ana = client_for(dash_app, "ana")
    token = post(ana, CSV, token=csrf(ana)).get_json()["token"]
    wait(ana, token)
    ben = client_for(dash_app, "ben")
    assert ben.get(f"/upload/{token}").status_code == 404
    refused = ben.post(f"/upload/{token}/discard", headers={"X-CSRF-Token": csrf(ben)})
    assert refused.status_code == 404
    assert ana.get(f"/upload/{token}").status_code == 200
    done = ana.post(f"/upload/{token}/discard", headers={"X-CSRF-Token": csrf(ana)})
    assert done.status_code == 200
    assert ana.get(f"/upload/{token}").status_code == 404


def test_two_analysts_upload_at_once_and_commit_apart(dash_app, data_dir):
    workspace = dash_app.workspace
    store = dash_app.server.extensions["citylens_jobs"]
    clients = {name: client_for(dash_app, name) for name in ("ana", "ben")}
    tokens = {
        name: post(c, CSV, name=f"{name}.csv", token=csrf(c)).get_json()["token"]
        for name, c in clients.items()
    }
    for name, c in clients.items():
        assert wait(c, tokens[name])["status"] == "ready"
    for name in clients:
        job = store.get(tokens[name], name)
        store.check(job, mapping=None, kind="air_quality_hourly")
        wait(clients[name], tokens[name])
        mapping = {
            "kind": "air_quality_hourly",
            "columns": {
                "ts": {"column": "when"},
                "station_id": {"column": "post"},
                "pm25": {"column": "fine dust (µg/m³)"},
            },
        }
        store.check(job, mapping=mapping, kind="air_quality_hourly")
        assert wait(clients[name], tokens[name])["report"]["ok"]
    for name in clients:
        job = store.get(tokens[name], name)
        store.commit(job, UploadMeta(title=f"Air by {name}", city="hangzhou-2017"))
    results = {name: wait(c, tokens[name]) for name, c in clients.items()}
    ids = {r["result"]["dataset_id"] for r in results.values()}
    assert ids == {"air-by-ana", "air-by-ben"}
    found = {d.id: d.current.rows for d in workspace.catalog.datasets(kind="air_quality_hourly")}
    assert found == {"air-by-ana": 24, "air-by-ben": 24}
    # the job folders keep only their state once published
    for token in tokens.values():
        names = {p.name for p in (data_dir / "uploads" / token).iterdir()}
        assert names <= {"state.json", ".state.lock", ".run.lock"}


def test_refused_input_reports_the_line_and_column(dash_app):
    client = client_for(dash_app, "ana")
    bad = CSV + b"2017-03-02 00:00,1223A,lots\n"
    token = post(client, bad, token=csrf(client)).get_json()["token"]
    store = dash_app.server.extensions["citylens_jobs"]
    job = store.get(token, "ana")
    wait(client, token)
    mapping = {
        "kind": "air_quality_hourly",
        "columns": {
            "ts": {"column": "when"},
            "station_id": {"column": "post"},
            "pm25": {"column": "fine dust (µg/m³)"},
        },
    }
    store.check(job, mapping=mapping, kind="air_quality_hourly")
    report = wait(client, token)["report"]
    assert report["rows_bad"] == 1
    assert report["problems"][0]["message"].startswith("air.csv:26:3: ")
    # refused as it is; published without the bad row when the analyst says so
    store.commit(job, UploadMeta(title="Air", city="hangzhou-2017"))
    refused = wait(client, token)
    assert refused["status"] == "ready" and "air.csv:26:3" in refused["error"]["message"]
    assert dash_app.workspace.catalog.datasets() == []
    store.commit(job, UploadMeta(title="Air", city="hangzhou-2017"), drop_bad_rows=True)
    assert wait(client, token)["result"]["rows"] == 24


def test_a_second_file_appends_to_or_replaces_a_dataset(dash_app):
    client = client_for(dash_app, "ana")
    store = dash_app.server.extensions["citylens_jobs"]
    mapping = {
        "kind": "air_quality_hourly",
        "columns": {
            "ts": {"column": "when"},
            "station_id": {"column": "post"},
            "pm25": {"column": "fine dust (µg/m³)"},
        },
    }

    def publish(body: bytes, mode: str, dataset_id: str | None = None) -> dict:
        token = post(client, body, token=csrf(client)).get_json()["token"]
        job = store.get(token, "ana")
        wait(client, token)
        store.check(job, mapping=mapping, kind="air_quality_hourly")
        wait(client, token)
        store.commit(job, UploadMeta(title="Air", city="hangzhou-2017"), mode, dataset_id)
        return wait(client, token)

    assert publish(CSV, "new")["result"]["dataset_id"] == "air"
    later = CSV.replace(b"2017-03-01", b"2017-03-02")
    assert publish(later, "append", "air")["result"] == {
        "dataset_id": "air",
        "version": 2,
        "rows": 48,
        "kind": "air_quality_hourly",
        "round_table": "ecology",
        "title": {"en": "Air"},
        "mode": "append",
    }
    assert publish(later, "replace", "air")["result"]["rows"] == 24
    assert [v.rows for v in dash_app.workspace.catalog.versions("air")] == [24, 48, 24]


# -- Dash callbacks that change data ------------------------------------------------------------


def callback_key(dash_app, input_id: str) -> str:
    """The callback whose inputs include `input_id` (pattern ids: their "type")."""
    for key, cb in dash_app.callback_map.items():
        if any(input_id == i["id"] or f'"{input_id}"' in str(i["id"]) for i in cb["inputs"]):
            return key
    raise KeyError(input_id)


def prop(component_id, name: str) -> str:
    if isinstance(component_id, dict):
        component_id = json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return f"{component_id}.{name}"


def publish_two_versions(workspace) -> None:
    meta = DatasetMeta(
        id="counts",
        city="hangzhou-2017",
        kind="generic",
        round_table="other",
        title={"en": "Counts"},
        description={"en": ""},
    )
    for mode, n in (("new", 3), ("replace", 5)):

        def write(folder: Path, n=n) -> None:
            pq.write_table(pa.table({"n": list(range(n))}), folder / "part-0000.parquet")

        workspace.catalog.publish(meta, write, mode=mode)


def version_payload(dash_app, action: str) -> dict:
    restore = {"id": "counts", "type": "ds-restore", "v": 1}
    delete = {"id": "counts", "type": "ds-delete"}
    changed = prop(restore, "n_clicks") if action == "restore" else prop(delete, "submit_n_clicks")
    return {
        "output": callback_key(dash_app, "ds-delete"),
        "outputs": {"id": {"id": "counts", "type": "ds-card"}, "property": "children"},
        "inputs": [
            [{"id": restore, "property": "n_clicks", "value": 1 if action == "restore" else 0}],
            {
                "id": delete,
                "property": "submit_n_clicks",
                "value": 1 if action == "delete" else None,
            },
        ],
        "state": [{"id": "ui", "property": "data", "value": {"lang": "en"}}],
        "changedPropIds": [changed],
    }


@pytest.mark.parametrize("action", ["restore", "delete"])
def test_restore_and_delete_are_refused_to_a_visitor(dash_app, action):
    workspace = dash_app.workspace
    publish_two_versions(workspace)
    client = client_for(dash_app, None)
    response = client.post("/_dash-update-component", json=version_payload(dash_app, action))
    assert response.status_code == 200
    assert "Only a logged-in analyst" in response.get_data(as_text=True)
    dataset = workspace.catalog.get("counts")
    assert dataset.current_version == 2 and dataset.current.rows == 5


def test_an_analyst_restores_then_deletes(dash_app):
    workspace = dash_app.workspace
    publish_two_versions(workspace)
    client = client_for(dash_app, "ana")
    restored = client.post("/_dash-update-component", json=version_payload(dash_app, "restore"))
    assert restored.status_code == 200 and "Version 1 is current again" in restored.get_data(
        as_text=True
    )
    assert workspace.catalog.get("counts").current.rows == 3
    deleted = client.post("/_dash-update-component", json=version_payload(dash_app, "delete"))
    assert "was deleted" in deleted.get_data(as_text=True)
    assert workspace.catalog.datasets() == []


@pytest.mark.parametrize(("analyst", "shows"), [(None, "Only a logged-in analyst"), ("ana", "v2")])
def test_the_versions_table_is_drawn_when_opened_for_an_analyst_only(dash_app, analyst, shows):
    publish_two_versions(dash_app.workspace)
    summary = {"id": "counts", "type": "ds-versions"}
    rows = {"id": "counts", "type": "ds-versions-rows"}
    payload = {
        "output": callback_key(dash_app, "ds-versions"),
        "outputs": {"id": rows, "property": "children"},
        "inputs": [{"id": summary, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": rows, "property": "children", "value": None},
            {"id": "ui", "property": "data", "value": {"lang": "en"}},
        ],
        "changedPropIds": [prop(summary, "n_clicks")],
    }
    client = client_for(dash_app, analyst)
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert shows in text
    assert ("Restore" in text) == (analyst is not None)


def test_committing_through_the_page_is_refused_to_a_visitor(dash_app, data_dir):
    ana = client_for(dash_app, "ana")
    token = post(ana, CSV, token=csrf(ana)).get_json()["token"]
    wait(ana, token)
    key = callback_key(dash_app, "upload-commit")
    states = [
        ("upload-mode", "new"),
        ("upload-target", None),
        ("upload-title", "Forged"),
        ("upload-description", ""),
        ("upload-source", ""),
        ("upload-source-url", ""),
        ("upload-licence", ""),
        ("upload-round-table", "other"),
        ("upload-sdg", []),
        ("upload-drop-bad", []),
        ("upload-city", "hangzhou-2017"),
        ("upload-job", {"token": token}),
        ("ui", {"lang": "en"}),
    ]
    payload = {
        "output": key,
        "outputs": [
            {"id": "upload-status", "property": "children"},
            {"id": "upload-poll", "property": "disabled"},
        ],
        "inputs": [{"id": "upload-commit", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": i, "property": "data" if i in {"upload-job", "ui"} else "value", "value": v}
            for i, v in states
        ],
        "changedPropIds": ["upload-commit.n_clicks"],
    }
    visitor = client_for(dash_app, None)
    response = visitor.post("/_dash-update-component", json=payload)
    assert response.status_code == 200 and "Uploading data is for analysts" in response.get_data(
        as_text=True
    )
    ben = client_for(dash_app, "ben")  # another analyst: the job is not theirs
    response = ben.post("/_dash-update-component", json=payload)
    assert "no longer available" in response.get_data(as_text=True)
    time.sleep(0.3)
    assert dash_app.workspace.catalog.datasets() == []
    assert ana.get(f"/upload/{token}").get_json()["status"] == "ready"


# -- the page's controls to the pipeline's arguments ----------------------------------------------

STATE = {
    "inspection": {
        "settings": {"format": "csv", "encoding": "utf-8", "delimiter": ",", "decimal": ".",
                     "thousands": None, "missing": ["", "NA"], "header_line": 1, "sheets": []},
        "columns": [
            {"index": 1, "name": "when", "type": "timestamp", "formats": ["%Y-%m-%d %H:%M"],
             "unit": None},
            {"index": 2, "name": "pm", "type": "number", "formats": [], "unit": "µg/m³"},
        ],
    },
    "overrides": {"decimal": ","},
    "mapping": {"kind": "air_quality_hourly",
                "columns": {"ts": {"column": "when", "formats": ["%Y-%m-%d %H:%M"]}}},
}  # fmt: skip


def test_controls_become_sticky_overrides_and_junk_is_dropped():
    from pages.upload.detect import overrides_from

    unchanged = {"encoding": "utf-8", "delimiter": ",", "decimal": ".", "thousands": "",
                 "missing": "NA", "header_line": 1}  # fmt: skip
    assert overrides_from(STATE, unchanged, {}, {}, {}) == {"decimal": ","}
    changed = {**unchanged, "missing": "NA, -9999", "thousands": " ", "encoding": "evil"}
    out = overrides_from(STATE, changed, {2: "integer", 1: "bogus"}, {1: "%d/%m/%Y"}, {2: "mg/m3"})
    assert out == {
        "decimal": ",",
        "missing": ["NA", "-9999"],
        "thousands": " ",
        "types": {"pm": "integer"},
        "formats": {"when": ["%d/%m/%Y"]},
        "units": {"pm": "mg/m3"},
    }
    # a new header line changes the columns: per-column overrides go
    moved = overrides_from(STATE, {**unchanged, "header_line": 3}, {2: "integer"}, {}, {})
    assert moved == {"decimal": ",", "has_header": True, "skip_lines": 2}
    assert overrides_from(STATE, {**unchanged, "header_line": 0}, {}, {}, {})["has_header"] is False


def test_mapping_from_the_dropdowns_names_sources_only():
    from pages.upload.mapping import mapping_from

    out = mapping_from(
        STATE,
        "air_quality_hourly",
        {"ts": "c:when", "station_id": "", "pm25": "c:pm", "no2": ""},
        {"pm25": "mg/m³"},
        {"station_id": "1223A"},
        None,
    )
    assert out == {
        "kind": "air_quality_hourly",
        "columns": {
            "ts": {"column": "when"},  # read with the formats the column has on the form
            "station_id": {"constant": "1223A"},
            "pm25": {"column": "pm", "unit": "mg/m³"},
        },
    }
    generic = mapping_from(STATE, "generic", {}, {}, {}, ["pm"])
    assert generic == {"kind": "generic", "columns": {"pm": {"column": "pm"}}}
