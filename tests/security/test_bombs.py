"""Decompression bombs and oversized values in every format an analyst may upload: refused
before they cost the server its memory or minutes, within the memory budget of
CITYLENS_INGEST_MEMORY_MB; what is published is shown to visitors cut short; a publish on a
full disk says so and changes nothing.

Time and memory are measured in a fresh Python process, under a 6 GB address-space cap so that
a reader that does blow up stops there. Its peak RSS is the kernel's high-water mark of its own
memory (VmHWM): `getrusage`'s ru_maxrss would count the test process it was forked from.
"""

from __future__ import annotations

import base64
import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import config
from bench.dash_replay import route_payload
from components.upload_view import status_view
from datasets.ingest import IngestError, Limits, UploadMeta, ingest, inspect, validate

from .conftest import fill_disk, fingerprint, session_csrf

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
CITY = config.Config().city
UI = {"lang": "en", "theme": "light", "city": CITY}
ADDRESS_SPACE = 6 * 1024 * MB

# One ingest (inspect, validate, publish as a generic table) in a fresh process; prints what
# happened, how long the ingest took and the process's peak RSS.
INGEST = """
import json, re, sys, time
from pathlib import Path
from datasets.ingest import IngestError, ingest
from datasets.workspace import Workspace

path, data = Path(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
try:
    version, report = ingest(path, Workspace.open(data), kind="generic", scratch_dir=data)
    out = {"rows": report.rows_ok}
except IngestError as exc:
    out = {"refused": str(exc), "reason": exc.reason}
except MemoryError:
    out = {"crashed": "MemoryError"}
out["seconds"] = time.perf_counter() - started
status = open("/proc/self/status").read()
out["peak_mb"] = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024
print(json.dumps(out))
"""


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def measured_ingest(path: Path, data: Path, **settings: str) -> dict:
    """What `INGEST` printed for `path`, run with the environment `settings` added."""
    data.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", INGEST, str(path), str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **settings},
        preexec_fn=_cap_address_space,
        timeout=900,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"the ingest process died ({done.returncode}): {done.stderr[-2000:]}"
    return json.loads(lines[-1])


def limits_for(memory_mb: int) -> Limits:
    return Limits.from_config(config.from_env({"CITYLENS_INGEST_MEMORY_MB": str(memory_mb)}))


# -- Parquet ------------------------------------------------------------------------------------


def test_a_7_kb_parquet_holding_a_200_mb_value_is_refused_in_seconds(tmp_path):
    path = tmp_path / "bomb.parquet"
    values = pa.array(["first", "x" * (200 * MB), "last"])
    pq.write_table(pa.table({"name": values, "n": [1, 2, 3]}), path, compression="zstd")
    del values
    assert path.stat().st_size < 16 * 1024  # 7 KB on the attacker's side

    result = measured_ingest(path, tmp_path / "data")

    assert result.get("reason") == "too_large", result
    assert "'name'" in result["refused"] and "row group 1" in result["refused"]
    assert "16" in result["refused"]  # the cap, as the CSV reader has it
    assert result["seconds"] < 5
    assert result["peak_mb"] < 512


def test_a_long_value_repeated_through_a_parquet_dictionary_is_refused(tmp_path):
    """10 MB stored once, referenced by 100,000 rows: 1 TB once copied onto each row."""
    path = tmp_path / "dictionary.parquet"
    indices = pa.array(np.zeros(100_000, np.int32))
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["y" * (10 * MB)]))
    pq.write_table(pa.table({"label": column, "n": np.arange(100_000)}), path, compression="zstd")
    assert path.stat().st_size < 2 * MB

    result = measured_ingest(path, tmp_path / "data")

    assert result.get("reason") == "bomb", result
    assert "'label'" in result["refused"] and "decompression bomb" in result["refused"]
    assert result["seconds"] < 5
    assert result["peak_mb"] < 512


def test_a_200_mb_parquet_of_wide_rows_is_ingested_within_the_memory_budget(tmp_path):
    """Rows of 5 KB in many row groups: the batches, and the row groups written, follow the
    budget rather than a number of rows."""
    path = tmp_path / "wide.parquet"
    rows, width, group = 64 * 1024, 5000, 2048
    rng = np.random.default_rng(2017)
    schema = pa.schema([("id", pa.int64()), ("value", pa.float64()), ("text", pa.string())])
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, rows, group):
            letters = rng.integers(48, 112, group * width, dtype=np.uint8)
            offsets = np.arange(0, (group + 1) * width, width, dtype=np.int32)
            text = pa.StringArray.from_buffers(group, pa.py_buffer(offsets), pa.py_buffer(letters))
            ids = np.arange(start, start + group)
            table = pa.table({"id": ids, "value": rng.random(group), "text": text}, schema=schema)
            writer.write_table(table, row_group_size=group)
    assert path.stat().st_size > 200 * MB

    result = measured_ingest(path, tmp_path / "data", CITYLENS_INGEST_MEMORY_MB="512")

    assert result.get("rows") == rows, result
    assert result["peak_mb"] < 512


# -- JSON, NDJSON, GeoJSON --------------------------------------------------------------------


def test_a_json_value_over_the_cell_cap_is_refused_naming_record_and_key(tmp_path):
    records = [{"station": "A", "note": "fine"}, {"station": "B", "note": "z" * (17 * MB)}]
    path = tmp_path / "notes.json"
    path.write_text(json.dumps(records))
    with pytest.raises(IngestError) as refused:
        inspect(path)
    assert refused.value.reason == "too_large"
    assert str(refused.value).startswith("notes.json:2:2: ")
    assert "'note'" in str(refused.value)


def test_an_ndjson_value_over_the_cell_cap_is_refused_naming_line_and_key(tmp_path):
    lines = [json.dumps({"station": f"S{i}", "note": "ok"}) for i in range(2500)]
    lines[2300] = json.dumps({"station": "S2300", "note": "z" * (17 * MB)})  # after the sample
    path = tmp_path / "notes.ndjson"
    path.write_text("\n".join(lines) + "\n")
    inspection = inspect(path)  # the sample, its first 2,000 lines, holds nothing long
    with pytest.raises(IngestError) as refused:
        validate(inspection)
    assert inspection.settings.format == "ndjson"
    assert refused.value.reason == "too_large"
    assert str(refused.value).startswith("notes.ndjson:2301:2: ")
    assert "'note'" in str(refused.value)


def test_a_geojson_property_over_the_cell_cap_is_refused(tmp_path):
    feature = {
        "type": "Feature",
        "properties": {"name": "n" * (17 * MB)},
        "geometry": {"type": "Point", "coordinates": [120.1, 30.2]},
    }
    path = tmp_path / "places.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(IngestError) as refused:
        inspect(path)
    assert refused.value.reason == "too_large"
    assert "'name'" in str(refused.value)


def test_a_100_mb_json_array_is_refused_before_it_is_parsed_suggesting_ndjson(tmp_path):
    """Parsed whole, its Python objects would take about ten times its size."""
    path = tmp_path / "big.json"
    with open(path, "w") as out:
        out.write("[")
        for start in range(0, 3_500_000, 100_000):
            records = (
                f'{{"station":"S{i % 50}","value":{i}}}' for i in range(start, start + 100_000)
            )
            out.write(("," if start else "") + ",".join(records))
        out.write("]")
    assert path.stat().st_size > 100 * MB

    result = measured_ingest(path, tmp_path / "data")

    assert result.get("reason") == "too_large", result
    assert "NDJSON" in result["refused"]
    assert result["peak_mb"] < 400


def test_the_json_document_limit_follows_the_memory_budget(tmp_path):
    path = tmp_path / "medium.json"
    path.write_text(json.dumps([{"station": f"S{i}", "value": i} for i in range(600_000)]))
    assert 16 * MB < path.stat().st_size < 64 * MB
    assert inspect(path).settings.format == "json"  # within the default budget's 64 MB
    with pytest.raises(IngestError) as refused:
        inspect(path, limits=limits_for(256))  # 16 MB under a 256 MB budget
    assert refused.value.reason == "too_large" and "NDJSON" in str(refused.value)


# -- Excel --------------------------------------------------------------------------------------


def workbook(tmp_path: Path, note: str, rewrite: dict[str, Callable[[bytes], bytes]]) -> Path:
    """A real workbook written by openpyxl (a header and a row whose note is `note`), each part
    named in `rewrite` then replaced by what its function makes of it (b"" for a new part)."""
    wb = openpyxl.Workbook()
    wb.active.append(["station", "note"])
    wb.active.append(["A", note])
    source = io.BytesIO()
    wb.save(source)
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        names = [i.filename for i in old.infolist()]
        for name in names + [n for n in rewrite if n not in names]:
            part = old.read(name) if name in names else b""
            new.writestr(name, rewrite[name](part) if name in rewrite else part)
    return path


def test_a_workbook_cell_over_the_cell_cap_is_refused_before_openpyxl_reads_it(tmp_path):
    long_text = base64.b64encode(os.urandom(13 * MB))  # 17 MB that hardly compress
    sheet = "xl/worksheets/sheet1.xml"
    path = workbook(tmp_path, "@@LONG@@", {sheet: lambda xml: xml.replace(b"@@LONG@@", long_text)})
    with pytest.raises(IngestError) as refused:
        inspect(path)
    assert refused.value.reason == "too_large"
    assert sheet in str(refused.value)


def test_a_workbook_whose_shared_strings_outgrow_the_budget_is_refused(tmp_path):
    """openpyxl holds every shared string in memory, even in read-only mode; it finds them by
    their content type, whatever the part is named."""
    count = 600_000
    strings = "".join(f"<si><t>note number {i}</t></si>" for i in range(count))
    shared = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{count}" uniqueCount="{count}">{strings}</sst>'
    ).encode()
    assert len(shared) > 16 * MB
    override = (
        b'<Override PartName="/xl/notes.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    path = workbook(
        tmp_path,
        "fine",
        {
            "[Content_Types].xml": lambda xml: xml.replace(b"</Types>", override),
            "xl/notes.xml": lambda _empty: shared,
        },
    )
    with pytest.raises(IngestError) as refused:
        inspect(path, limits=limits_for(256))  # 16 MB of shared strings at most
    assert refused.value.reason == "too_large"
    assert "xl/notes.xml" in str(refused.value)


# -- what visitors see of a long value -----------------------------------------------------------


def route(dash_app, client, pathname: str, search: str = "") -> bytes:
    payload = route_payload(dash_app, pathname, search, UI)
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    return response.get_data()


@pytest.fixture
def long_value_dataset(dash_app, tmp_path) -> str:
    """A published dataset whose second row holds a 15 MB text, under the 16 MB cap."""
    path = tmp_path / "notes.parquet"
    notes = ["short note", "L" + "o" * (15 * MB) + "ng", "another"]
    pq.write_table(pa.table({"note": notes, "value": [1.0, 2.0, 3.0]}), path, compression="zstd")
    meta = UploadMeta(title="Long notes", city=CITY)
    version, _ = ingest(path, dash_app.workspace, kind="generic", meta=meta)
    return version.dataset_id


def test_the_data_page_shows_a_15_mb_value_cut_short(dash_app, visitor, long_value_dataset):
    page = route(dash_app, visitor, "/data")
    assert len(page) < MB
    summary = {"type": "ds-preview", "id": long_value_dataset}
    rows = {"type": "ds-preview-rows", "id": long_value_dataset}
    preview = visitor.post(
        "/_dash-update-component",
        json={
            "output": next(key for key in dash_app.callback_map if "ds-preview-rows" in key),
            "outputs": {"id": rows, "property": "children"},
            "inputs": [{"id": summary, "property": "n_clicks", "value": 1}],
            "state": [{"id": rows, "property": "children", "value": None}],
            "changedPropIds": [json.dumps(summary, separators=(",", ":")) + ".n_clicks"],
        },
    )
    assert preview.status_code == 200
    assert len(preview.get_data()) < MB
    assert b"Looooo" in preview.get_data() and "…".encode() in preview.get_data()


def test_the_explorer_offers_and_draws_a_15_mb_value_cut_short(
    dash_app, visitor, long_value_dataset
):
    # the filter on the long column lists its values
    page = route(dash_app, visitor, f"/data/{long_value_dataset}", "?f1=note&chart=bar&x=note")
    assert len(page) < MB
    assert b"Looooo" in page
    # the chart of the long column's categories
    key = next(k for k in dash_app.callback_map if k.startswith("..explorer-graph.figure"))
    options = {"chart": "bar", "x": "note", "y": "value", "agg": "sum"}
    filters = {"from": None, "to": None, "district": [], "options": options}
    payload = {
        "output": key,
        "outputs": [
            {"id": "explorer-graph", "property": "figure"},
            {"id": "explorer-note", "property": "children"},
        ],
        "inputs": [
            {"id": "filters", "property": "data", "value": filters},
            {"id": "ui", "property": "data", "value": UI},
        ],
        "changedPropIds": ["filters.data"],
        "state": [{"id": "url", "property": "pathname", "value": f"/data/{long_value_dataset}"}],
    }
    chart = visitor.post("/_dash-update-component", json=payload)
    assert chart.status_code == 200
    assert len(chart.get_data()) < MB
    assert b"Looooo" in chart.get_data()


# -- publishing on a full disk -------------------------------------------------------------------


@pytest.fixture
def full_datasets_disk(data_dir, small_tmpfs) -> Path:
    """The datasets folder on a real 1 MB file system."""
    return small_tmpfs(data_dir / "datasets", 1024)


def wait(client, token: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/upload/{token}").get_json()
        if state["status"] not in {"running", "received"}:
            return state
        time.sleep(0.05)
    raise AssertionError("the upload job did not finish")


def test_a_publish_on_a_full_disk_says_so_and_changes_nothing(
    full_datasets_disk, dash_app, analyst
):
    body = "station,value\n" + "".join(f"S{i % 7},{i}\n" for i in range(5000))
    headers = {"X-Filename": "values.csv", "X-CSRF-Token": session_csrf(analyst)}
    token = analyst.post("/upload", data=body.encode(), headers=headers).get_json()["token"]
    assert wait(analyst, token)["status"] == "ready"
    store = dash_app.server.extensions["citylens_jobs"]
    job = store.get(token, "ana")
    store.check(job, kind="generic")
    assert wait(analyst, token)["report"]["ok"]
    filler = fill_disk(full_datasets_disk)
    before = fingerprint(full_datasets_disk)

    store.commit(job, UploadMeta(title="Values", city=CITY))
    state = wait(analyst, token)

    assert state["status"] == "ready"
    assert state["error"]["reason"] == "disk_full", state["error"]
    assert "disk is full: nothing was published" in state["error"]["message"]
    shown = str(status_view(state, "fr"))
    assert "le disque du serveur est plein : rien n'a été publié" in shown
    assert dash_app.workspace.catalog.datasets() == []
    assert fingerprint(full_datasets_disk) == before  # no part file, no staging folder left
    # room made, the same upload is published
    filler.unlink()
    store.commit(job, UploadMeta(title="Values", city=CITY))
    assert wait(analyst, token)["result"]["rows"] == 5000
