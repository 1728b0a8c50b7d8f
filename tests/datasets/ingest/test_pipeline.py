"""inspect → validate → commit: new datasets, versions (append, replace), restore, delete,
concurrency, and the query engine seeing an upload at once."""

from __future__ import annotations

import threading

import pyarrow.parquet as pq
import pytest

from datasets.ingest import (
    IngestError,
    UploadMeta,
    commit,
    discard,
    ingest,
    inspect,
    validate,
)
from datasets.names import slug

from .conftest import CITY, snapshot, write

READINGS = (
    "ts,detector_id,district,volume,speed_kmh,occupancy\n"
    "2017-03-01 08:00:00,HZ-1,330106,120,45.5,12.5\n"
    "2017-03-01 08:05:00,HZ-1,330106,130,44.0,13.0\n"
)
MORE = (
    "ts,detector_id,district,volume,speed_kmh,occupancy\n"
    "2017-03-01 08:10:00,HZ-1,330106,90,50.0,8.0\n"
)
META = UploadMeta(
    title="Xihu detectors",
    description="Loop detectors on Xihu roads",
    source="Hangzhou traffic police",
    licence="CC-BY-4.0",
    city=CITY,
    sdg=("11.2",),
)


def test_commit_a_new_dataset_with_its_metadata(workspace, tmp_path):
    path = write(tmp_path / "in" / "readings.csv", READINGS)
    inspection = inspect(path)
    report = validate(inspection, scratch_dir=tmp_path)
    scratch = report.scratch
    version = commit(report, workspace, META)
    assert (version.dataset_id, version.version, version.rows, version.mode) == (
        "xihu-detectors",
        1,
        2,
        "new",
    )
    assert not scratch.exists() and report.scratch is None
    dataset = workspace.catalog.get("xihu-detectors")
    assert dataset.meta.kind == "traffic_readings" and dataset.meta.round_table == "traffic"
    assert dataset.meta.title == {"en": "Xihu detectors"}
    assert (dataset.meta.source, dataset.meta.licence, dataset.meta.sdg) == (
        "Hangzhou traffic police",
        "CC-BY-4.0",
        ("11.2",),
    )
    assert dataset.current.time_min.startswith("2017-03-01 08:00")
    assert {c["name"]: c["unit"] for c in dataset.current.columns}["speed_kmh"] == "km/h"
    table = pq.read_table(dataset.folder)
    assert table.schema.field("volume").type == "int16"
    source = workspace.engine.source(CITY, "traffic_readings")
    found = workspace.engine.arrow(f"SELECT sum(volume) AS v, max(ts) AS t FROM {source}")
    assert found.to_pylist()[0]["v"] == 250


def test_commit_refuses_twice(workspace, tmp_path):
    report = validate(inspect(write(tmp_path / "r.csv", READINGS)), scratch_dir=tmp_path)
    commit(report, workspace, META)
    with pytest.raises(IngestError, match="committed or discarded"):
        commit(report, workspace, META)


def test_versions_append_replace_restore_delete(workspace, tmp_path):
    first, _ = ingest(
        write(tmp_path / "a.csv", READINGS), workspace, meta=META, scratch_dir=tmp_path
    )
    second, _ = ingest(
        write(tmp_path / "b.csv", MORE),
        workspace,
        mode="append",
        dataset_id=first.dataset_id,
        scratch_dir=tmp_path,
    )
    assert (second.version, second.rows, second.mode) == (2, 3, "append")
    third, _ = ingest(
        write(tmp_path / "c.csv", MORE),
        workspace,
        mode="replace",
        dataset_id=first.dataset_id,
        scratch_dir=tmp_path,
    )
    assert (third.version, third.rows) == (3, 1)
    catalog = workspace.catalog
    assert [v.rows for v in catalog.versions(first.dataset_id)] == [2, 3, 1]
    catalog.restore(first.dataset_id, 2)
    assert pq.read_table(catalog.get(first.dataset_id).folder).num_rows == 3
    catalog.delete(first.dataset_id)
    assert catalog.datasets() == []


def test_append_is_refused_for_another_kind_or_other_columns(workspace, tmp_path):
    first, _ = ingest(
        write(tmp_path / "a.csv", READINGS), workspace, meta=META, scratch_dir=tmp_path
    )
    generic, _ = ingest(
        write(tmp_path / "g.csv", "a,b\n1,x\n"),
        workspace,
        meta=UploadMeta(title="g"),
        scratch_dir=tmp_path,
    )
    before = snapshot(workspace.data_dir)
    with pytest.raises(IngestError, match="rows of traffic_readings to append"):
        ingest(
            write(tmp_path / "x.csv", "a,b\n1,x\n"),
            workspace,
            kind="generic",
            mode="append",
            dataset_id=first.dataset_id,
            scratch_dir=tmp_path,
        )
    with pytest.raises(IngestError, match="these differ: a double"):
        ingest(
            write(tmp_path / "y.csv", "a,b\n1.5,x\n"),
            workspace,
            mode="append",
            dataset_id=generic.dataset_id,
            scratch_dir=tmp_path,
        )
    with pytest.raises(IngestError, match="an existing dataset to replace: no dataset 'nope'"):
        ingest(write(tmp_path / "z.csv", READINGS), workspace, mode="replace", dataset_id="nope")
    assert snapshot(workspace.data_dir) == before


def test_new_with_an_id_that_exists_is_refused_and_auto_ids_get_a_suffix(workspace, tmp_path):
    first, _ = ingest(
        write(tmp_path / "a.csv", READINGS), workspace, meta=META, scratch_dir=tmp_path
    )
    before = snapshot(workspace.data_dir)
    with pytest.raises(IngestError, match="a dataset id not yet taken: dataset 'xihu-detectors'"):
        ingest(write(tmp_path / "b.csv", READINGS), workspace, dataset_id=first.dataset_id)
    assert snapshot(workspace.data_dir) == before
    again, _ = ingest(
        write(tmp_path / "c.csv", READINGS), workspace, meta=META, scratch_dir=tmp_path
    )
    assert again.dataset_id == "xihu-detectors-2"


def test_bad_rows_are_refused_unless_dropped(workspace, tmp_path):
    text = READINGS + "2017-03-01 08:10:00,HZ-1,330106,99,250,5\n"
    path = write(tmp_path / "r.csv", text)
    report = validate(inspect(path), scratch_dir=tmp_path)
    before = snapshot(workspace.data_dir)
    with pytest.raises(IngestError) as err:
        commit(report, workspace, META)
    assert str(err.value) == (
        "r.csv:4:5: expected speed_kmh between 0 and 200 km/h, found 250; "
        "1 of 3 rows are bad: fix the mapping, or drop the bad rows"
    )
    assert snapshot(workspace.data_dir) == before
    version = commit(report, workspace, META, drop_bad_rows=True)
    assert version.rows == 2 and "1 bad rows dropped" in version.note


def test_dataset_ids_are_slugs(workspace, tmp_path):
    assert slug("Qualité de l'air — Paris 2017", fallback="upload") == "qualite-de-l-air-paris-2017"
    assert slug("../../etc/passwd", fallback="upload") == "etc-passwd"
    assert slug("北京空气质量", fallback="upload").startswith("upload-")
    report = validate(inspect(write(tmp_path / "r.csv", READINGS)), scratch_dir=tmp_path)
    for bad in ("../x", "X", "a/b", "-a", "a" * 65):
        with pytest.raises(IngestError, match="a dataset id of lowercase"):
            commit(report, workspace, META, dataset_id=bad)
    discard(report)


def test_two_analysts_committing_at_the_same_time(workspace, tmp_path):
    paths = [write(tmp_path / f"r{i}.csv", READINGS) for i in range(4)]
    reports = [validate(inspect(p), scratch_dir=tmp_path) for p in paths]
    results: list = [None] * 4
    barrier = threading.Barrier(4)

    def run(i: int, dataset_id: str | None) -> None:
        barrier.wait()
        try:
            results[i] = commit(reports[i], workspace, META, dataset_id=dataset_id)
        except IngestError as exc:
            results[i] = exc

    threads = [
        threading.Thread(target=run, args=(i, "same-id" if i < 2 else None)) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    same = results[:2]
    assert sum(isinstance(r, IngestError) for r in same) == 1
    assert sorted(r.dataset_id for r in results if not isinstance(r, IngestError)) == [
        "same-id",
        "xihu-detectors",
        "xihu-detectors-2",
    ]
    assert len(workspace.catalog.datasets()) == 3


def test_concurrent_appends_all_land(workspace, tmp_path):
    first, _ = ingest(
        write(tmp_path / "a.csv", READINGS), workspace, meta=META, scratch_dir=tmp_path
    )
    reports = [
        validate(inspect(write(tmp_path / f"m{i}.csv", MORE)), scratch_dir=tmp_path)
        for i in range(3)
    ]
    threads = [
        threading.Thread(
            target=commit,
            args=(r, workspace, META),
            kwargs={"mode": "append", "dataset_id": first.dataset_id},
        )
        for r in reports
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert workspace.catalog.get(first.dataset_id).current.rows == 5
    assert [v.version for v in workspace.catalog.versions(first.dataset_id)] == [1, 2, 3, 4]


def test_progress_follows_every_stage(workspace, tmp_path):
    seen = []
    ingest(
        write(tmp_path / "a.csv", READINGS),
        workspace,
        meta=META,
        scratch_dir=tmp_path,
        on_progress=lambda fraction, stage: seen.append((stage, fraction)),
    )
    stages = list(dict.fromkeys(s for s, _ in seen))
    assert stages == ["inspect", "validate", "commit"]
    assert seen[-1] == ("commit", 1.0)


def test_overrides_reinspect_the_file(tmp_path):
    path = write(tmp_path / "r.csv", "a;b\n1,5;2\n")
    inspection = inspect(path)
    assert inspection.settings.decimal == ","
    report = validate(
        inspection, overrides={"delimiter": ",", "has_header": True}, scratch_dir=tmp_path
    )
    assert [f.name for f in report.schema] == ["a;b"]
    discard(report)


def test_inspection_to_json(tmp_path):
    import json

    inspection = inspect(write(tmp_path / "r.csv", READINGS))
    data = json.loads(json.dumps(inspection.to_json()))
    assert data["suggestion"]["kind"] == "traffic_readings"
    assert data["settings"]["delimiter"] == ","
    assert data["preview"][0] == {
        "line": 2,
        "cells": ["2017-03-01 08:00:00", "HZ-1", "330106", "120", "45.5", "12.5"],
        "parsed": ["2017-03-01 08:00:00", "HZ-1", 330106, 120, 45.5, 12.5],
    }
    assert data["candidates"][0]["kind"] == "traffic_readings"


# -- the same table in every format ---------------------------------------------------------------

ROWS = [
    ("2017-03-01 08:00:00", "HZ-1", 330106, 120, 45.5, 12.5),
    ("2017-03-01 08:05:00", "HZ-2", 330106, 130, 44.0, 13.0),
    ("2017-03-01 08:10:00", "HZ-3", 330108, 90, 50.25, 8.0),
]
NAMES = ["ts", "detector_id", "district", "volume", "speed_kmh", "occupancy"]


def _records():
    return [dict(zip(NAMES, r, strict=True)) for r in ROWS]


def _csv(sep=",", decimal=".", names=NAMES, preamble=""):
    lines = [sep.join(names)]
    for r in ROWS:
        lines.append(
            sep.join(str(v).replace(".", decimal) if isinstance(v, float) else str(v) for v in r)
        )
    return preamble + "\r\n".join(lines) + "\r\n"


def _xlsx(path):
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Readme"
    wb.active.append(["Exported from the traffic system"])
    ws = wb.create_sheet("Readings")
    ws.append(["Loop detectors, March 2017"])
    ws.append([])
    ws.append(NAMES)
    for r in ROWS:
        ws.append([dt.datetime.fromisoformat(r[0]), *r[1:]])
    wb.save(path)


ZH = ["时间", "检测器", "行政区", "流量", "速度（km/h）", "占有率"]


@pytest.mark.parametrize(
    "make",
    [
        lambda p: write(p / "r.csv", _csv()),
        lambda p: write(p / "r.csv", _csv(";", ","), "cp1252"),
        lambda p: write(p / "r.tsv", _csv("\t")),
        lambda p: write(p / "r.txt", _csv("|", preamble="Loops\nMarch 2017\n\n")),
        lambda p: write(p / "r.csv", _csv(names=ZH), "gb18030"),
        lambda p: write(p / "r.csv", _csv(";", ",", names=ZH), "utf-16"),
        lambda p: write(p / "r.csv", "\ufeff" + _csv()),
        lambda p: (_xlsx(p / "r.xlsx"), p / "r.xlsx")[1],
        lambda p: (
            pq.write_table(__import__("pyarrow").Table.from_pylist(_records()), p / "r.parquet"),
            p / "r.parquet",
        )[1],
        lambda p: write(p / "r.json", __import__("json").dumps(_records())),
        lambda p: write(p / "r.ndjson", "\n".join(__import__("json").dumps(r) for r in _records())),
    ],
    ids=[
        "csv",
        "cp1252-semicolon-decimal-comma",
        "tsv",
        "pipe-preamble",
        "gb18030-chinese-headers",
        "utf16",
        "utf8-bom",
        "xlsx-second-sheet",
        "parquet",
        "json",
        "ndjson",
    ],
)
def test_every_format_gives_the_same_rows(tmp_path, make):
    path = make(tmp_path)
    inspection = inspect(path)
    assert inspection.suggestion.kind == "traffic_readings", inspection.to_json()
    report = validate(inspection, scratch_dir=tmp_path)
    assert report.ok, report.messages()
    rows = pq.read_table(report.scratch / "part-0000.parquet").to_pylist()
    assert [
        (
            r["ts"].isoformat(sep=" "),
            r["detector_id"],
            r["district"],
            r["volume"],
            r["speed_kmh"],
            r["occupancy"],
        )
        for r in rows
    ] == ROWS
    discard(report)


def test_geojson_points_map_onto_detectors(tmp_path):
    import json

    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(120.1 + i / 100, 2), 30.2]},
            "properties": {
                "detector_id": f"HZ-{i}",
                "name": f"Loop {i}",
                "road": "Tianmushan Rd",
                "road_type": "arterial",
                "district": 330106,
                "lanes": 3,
                "pilot": i % 2 == 0,
            },
        }
        for i in range(3)
    ]
    path = write(
        tmp_path / "d.geojson", json.dumps({"type": "FeatureCollection", "features": features})
    )
    inspection = inspect(path)
    assert inspection.suggestion.kind == "traffic_detectors"
    report = validate(inspection, scratch_dir=tmp_path)
    rows = pq.read_table(report.scratch / "part-0000.parquet").to_pylist()
    assert [(r["detector_id"], r["lon"], r["lat"], r["pilot"]) for r in rows] == [
        ("HZ-0", 120.1, 30.2, True),
        ("HZ-1", 120.11, 30.2, False),
        ("HZ-2", 120.12, 30.2, True),
    ]
    discard(report)


def test_an_inspection_can_be_validated_again(tmp_path):
    path = write(tmp_path / "r.csv", "a,b\n1,2\n\n3,x,9\n4,5\n")
    inspection = inspect(path)
    first = validate(inspection, scratch_dir=tmp_path)
    second = validate(inspection, scratch_dir=tmp_path)
    assert (first.rows_ok, first.rows_bad, first.empty_rows) == (2, 1, 1)
    assert (second.rows_ok, second.rows_bad, second.empty_rows) == (2, 1, 1)
    assert first.scratch != second.scratch
    discard(first)
    discard(second)


def test_stale_scratch_folders_are_cleaned(tmp_path):
    import os

    from datasets.ingest import cleanup_scratch

    report = validate(inspect(write(tmp_path / "r.csv", READINGS)), scratch_dir=tmp_path)
    assert cleanup_scratch(tmp_path) == []
    os.utime(report.scratch, (0, 0))
    assert cleanup_scratch(tmp_path) == [report.scratch]
    assert not report.scratch.exists()


def test_parquet_with_nested_and_zoned_columns_as_a_generic_table(tmp_path):
    import pyarrow as pa

    table = pa.table(
        {
            "at": pa.array([0, 3600], pa.timestamp("s", tz="Asia/Shanghai")),
            "tags": pa.array([["a", "b"], []]),
            "n": pa.array([1, 2], pa.int32()),
        }
    )
    pq.write_table(table, tmp_path / "n.parquet")
    inspection = inspect(tmp_path / "n.parquet")
    assert [c.type for c in inspection.columns] == ["timestamp", "string", "integer"]
    report = validate(inspection, scratch_dir=tmp_path)
    assert report.ok and report.kind == "generic"
    assert report.schema.field("n").type == pa.int32()
    discard(report)
    report = validate(inspection, overrides={"types": {"tags": "string"}}, scratch_dir=tmp_path)
    assert report.ok
    discard(report)
