"""The district series summed with numpy as an upload's rows stream (datasets/rollup_series.py):
its files are those of the SQL definitions (columns, types, order, values), in whole row groups;
a batch out of time order, or rows the dense numbering cannot take, stop the collection and
leave no file, and the commit then runs the SQL."""

from __future__ import annotations

import sys

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from datasets import rollups
from datasets.ingest import UploadMeta, ingest
from datasets.rollup_series import SeriesRollups
from datasets.schemas import KINDS
from datasets.workspace import Workspace

PART = "part-0000.parquet"
SERIES = ("district_5min", "district_hour", "district_day")
DISTRICTS = np.array([330102, 330105, 330106, 330109, 330182, 330185], np.int32)


def readings(rows: int, seed: int = 0, detectors: int = 23, nulls: bool = True) -> pa.Table:
    """Readings of `detectors` detectors every 5 minutes from 1 March 2017 23:00, in time order
    (a day boundary, hours and buckets cut anywhere by the batches)."""
    rng = np.random.default_rng(seed)
    i = np.arange(rows)
    start = np.datetime64("2017-03-01T23:00:00", "ms")
    ts = start + (i // detectors) * np.timedelta64(5, "m")
    detector = i % detectors
    speed = pa.array(rng.uniform(0, 90, rows).round(1), pa.float32())
    volume = pa.array(rng.integers(0, 400, rows), pa.int16())
    if nulls:
        speed = pc_with_nulls(speed, rng.random(rows) < 0.1)
        volume = pc_with_nulls(volume, rng.random(rows) < 0.05)
    schema = KINDS["traffic_readings"].schema
    return pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("ms")),
            "detector_id": pa.array([f"D{d:03d}" for d in detector]),
            "district": pa.array(DISTRICTS[detector % len(DISTRICTS)]),
            "pilot": pa.array(detector % 2 == 0),
            "volume": volume,
            "speed_kmh": speed,
            "occupancy": pa.array(rng.uniform(0, 60, rows), pa.float32()),
        }
    ).cast(schema)


def pc_with_nulls(array: pa.Array, null: np.ndarray) -> pa.Array:
    return pa.array(array.to_numpy(zero_copy_only=False), array.type, mask=null)


def sql_tables(part) -> dict[str, pa.Table]:
    """The series grains as their SQL selects them from the raw part."""
    out = {}
    with duckdb.connect() as con:
        con.register("raw", pq.read_table(part))
        for name in SERIES:
            grain = rollups.GRAINS[name]
            out[name] = con.sql(grain.text().format(src=grain.source or "raw")).to_arrow_table()
            con.register(name, out[name])
    return out


def collect(table: pa.Table, folder, batch_rows: int, shuffle: bool = False) -> list:
    series = SeriesRollups.for_schema("traffic_readings", table.schema, folder, PART)
    rng = np.random.default_rng(1)
    for batch in table.to_batches(max_chunksize=batch_rows):
        if shuffle:  # rows in any order within a batch
            batch = batch.take(pa.array(rng.permutation(batch.num_rows)))
        series.add(batch)
    return series.finish()


def assert_same(path, expected: pa.Table) -> None:
    got = pq.read_table(path)
    assert got.schema.names == expected.schema.names
    assert got.schema.types == expected.schema.types
    pd.testing.assert_frame_equal(
        got.to_pandas(), expected.to_pandas(), check_exact=False, rtol=1e-12
    )


@pytest.mark.parametrize("batch_rows", [7, 230, 5000, 100_000])
@pytest.mark.parametrize("nulls", [True, False])
def test_the_files_are_those_of_the_sql(tmp_path, batch_rows, nulls):
    table = readings(20_000, seed=batch_rows, nulls=nulls)
    part = tmp_path / PART
    pq.write_table(table, part)
    written = collect(table, tmp_path, batch_rows, shuffle=batch_rows == 230)
    assert [p.parent.name for p in written] == list(SERIES)
    expected = sql_tables(part)
    for path in written:
        assert rollups.rollup_tag(path) == rollups.GRAINS[path.parent.name].tag()
        assert_same(path, expected[path.parent.name])
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_every_time_unit_gives_the_same_buckets(tmp_path, unit):
    table = readings(3000)
    expected = sql_tables_of(table, tmp_path / "ms")
    table = table.set_column(0, "ts", table["ts"].cast(pa.timestamp(unit)))
    written = collect(table, tmp_path, 500)
    for path in written:
        assert_same(path, expected[path.parent.name])


def sql_tables_of(table: pa.Table, folder) -> dict[str, pa.Table]:
    folder.mkdir()
    pq.write_table(table, folder / PART)
    return sql_tables(folder / PART)


def test_the_five_minute_file_is_written_in_whole_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules["datasets.rollup_series"], "ROW_GROUP_ROWS", 40)
    monkeypatch.setattr(rollups, "ROW_GROUP_ROWS", 40)
    table = readings(6000)
    written = collect(table, tmp_path, 333)
    meta = pq.ParquetFile(written[0]).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes[:-1] == [40] * (len(sizes) - 1) and 0 < sizes[-1] <= 40
    group = meta.row_group(0)
    with_stats = {
        group.column(i).path_in_schema
        for i in range(group.num_columns)
        if group.column(i).statistics is not None and group.column(i).statistics.has_min_max
    }
    assert with_stats == {"ts", "district"}  # the columns queries skip row groups by
    dictionary = {
        group.column(i).path_in_schema
        for i in range(group.num_columns)
        if group.column(i).dictionary_page_offset is not None
    }
    assert "ts" in dictionary and not {"speed_sum", "volume_sum"} & dictionary
    assert sum(sizes) == len(sql_tables_of(table, tmp_path / "sql")["district_5min"])


def stopped(tmp_path, table: pa.Table, batches: list[pa.RecordBatch]) -> None:
    series = SeriesRollups.for_schema("traffic_readings", table.schema, tmp_path, PART)
    for batch in batches:
        series.add(batch)
    assert series.finish() == []
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_batch_earlier_than_the_last_stops_the_collection(tmp_path):
    table = readings(4000)
    batches = table.to_batches(max_chunksize=1000)
    stopped(tmp_path, table, [*batches[:3], batches[1], batches[3]])


def test_a_null_district_or_a_nan_speed_stops_the_collection(tmp_path):
    table = readings(4000)
    district = table["district"].combine_chunks().to_pylist()
    district[2500] = None
    no_district = table.set_column(2, "district", pa.array(district, pa.int32()))
    stopped(tmp_path, no_district, no_district.to_batches(max_chunksize=1000))
    speed = table["speed_kmh"].combine_chunks().to_pylist()
    speed[3000] = float("nan")
    nan = table.set_column(5, "speed_kmh", pa.array(speed, pa.float32()))
    stopped(tmp_path, nan, nan.to_batches(max_chunksize=1000))


def test_more_hourly_rows_than_it_may_hold_stop_the_collection(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules["datasets.rollup_series"], "MAX_ROWS", 100)
    monkeypatch.setattr(rollups, "ROW_GROUP_ROWS", 16)
    monkeypatch.setattr(sys.modules["datasets.rollup_series"], "ROW_GROUP_ROWS", 16)
    table = readings(20_000)  # 72 hours of 6 districts
    stopped(tmp_path, table, table.to_batches(max_chunksize=500))


def test_other_kinds_and_schemas_get_no_collector(tmp_path):
    schema = KINDS["traffic_readings"].schema
    assert SeriesRollups.for_schema("incidents", KINDS["incidents"].schema, tmp_path, PART) is None
    no_volume = pa.schema([f for f in schema if f.name != "volume"])
    assert SeriesRollups.for_schema("traffic_readings", no_volume, tmp_path, PART) is None
    zoned = schema.set(0, pa.field("ts", pa.timestamp("ms", tz="Asia/Shanghai")))
    assert SeriesRollups.for_schema("traffic_readings", zoned, tmp_path, PART) is None


def uploaded(tmp_path, table: pa.Table, monkeypatch) -> tuple:
    """Ingest `table` as a CSV; returns the version folder and the grains the SQL built."""
    monkeypatch.setattr(sys.modules["datasets.ingest.readers"], "CSV_BLOCK", 64 * 1024)
    monkeypatch.setattr(sys.modules["datasets.ingest.readers"], "TYPED_SLICE", 64 * 1024)
    csv = tmp_path / "readings.csv"
    pacsv.write_csv(table, csv)
    by_sql = []
    copy_sql = rollups._copy_sql

    def spy(con, grain, source, path):
        by_sql.append(grain.name)
        copy_sql(con, grain, source, path)

    monkeypatch.setattr(rollups, "_copy_sql", spy)
    workspace = Workspace.open(tmp_path / "data")
    version, _ = ingest(
        csv, workspace, kind="traffic_readings", meta=UploadMeta(title="R", city="hangzhou-2017")
    )
    workspace.engine.close()
    return workspace.data_dir / version.folder, by_sql


@pytest.mark.parametrize("in_order", [True, False])
def test_an_upload_publishes_every_grain_the_sql_would(tmp_path, monkeypatch, in_order):
    table = readings(12_000)
    if not in_order:  # the last hours first
        table = pa.concat_tables([table.slice(9000), table.slice(0, 9000)])
    folder, by_sql = uploaded(tmp_path, table, monkeypatch)
    series = [] if in_order else list(SERIES)
    assert sorted(by_sql) == sorted([*series, "detector_day", "night_speed"])
    for grain in rollups.grains_for("traffic_readings"):
        assert rollups.complete(folder, grain.name), grain.name
    expected = sql_tables(folder / PART)
    for name in SERIES:
        assert_same(rollups.rollup_path(folder, name, PART), expected[name])
