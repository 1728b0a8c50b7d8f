"""Rollups (datasets/rollups.py) and the planner: the rollup path and the raw path of every
traffic query give the same frame; appends carry the old parts' rollups; a version without
(current) rollups is read raw; readers of the raw rows never see the rollups."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pyarrow.parquet as pq
import pytest

from datasets import rollups
from datasets.catalog import Catalog, DatasetMeta, describe_parquet
from datasets.queries import ecology as eq
from datasets.queries import traffic as q
from datasets.query import Filters, QueryEngine
from datasets.schemas import KINDS

CITY = "hangzhou-2017"
FILTERS = [
    Filters(),
    Filters(dt.date(2017, 3, 1), dt.date(2017, 3, 31)),
    Filters(dt.date(2017, 6, 1), dt.date(2017, 6, 4), (330106,)),
    Filters(dt.date(2017, 2, 20), dt.date(2017, 5, 2), (330102, 330106, 330109)),
    Filters(districts=(999999,)),
    Filters(dt.date(2030, 1, 1), dt.date(2030, 1, 31)),
]


def queries(city):
    start = q.pilot_start(city)
    out = {
        "free_flow": lambda e, f: q.free_flow_speeds(e, city.id),
        "detector_stats": lambda e, f: q.detector_stats(e, city.id, f),
        "district_speeds": lambda e, f: q.district_speeds(e, city.id, f),
        "hour_weekday": lambda e, f: q.hour_weekday(e, city.id, f),
        "pilot_daily": lambda e, f: q.pilot_daily(e, city.id, f, start),
        "kpis": lambda e, f: q.kpis(e, city.id, f),
        "daily_volume": lambda e, f: eq.traffic_daily_volume(e, city.id, f),
    }
    for bucket in q.BUCKET_ORDER:
        out[f"volume_speed_{bucket}"] = lambda e, f, b=bucket: q.volume_speed(e, city.id, f, b)
    return out


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same columns, dtypes, rows and order; floats equal to 1e-9 (sums in another order)."""
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False, rtol=1e-9
    )


@pytest.fixture(scope="module")
def engines(demo_workspace):
    catalog = demo_workspace.catalog
    return (
        QueryEngine(catalog, shared=None),
        QueryEngine(catalog, shared=None, use_rollups=False),
    )


def test_the_demo_publishes_every_grain(demo_workspace):
    folder = demo_workspace.catalog.find(CITY, "traffic_readings").folder
    for grain in rollups.grains_for("traffic_readings"):
        assert rollups.complete(folder, grain.name), grain.name


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f"{f.start}-{f.end}-{f.districts}")
def test_rollup_and_raw_paths_give_the_same_frames(engines, demo_city, filters):
    rolled, raw = engines
    for name, query in queries(demo_city).items():
        try:
            same(query(rolled, filters), query(raw, filters))
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None


def test_the_planner_takes_the_coarsest_grain_there_is(engines, demo_city):
    rolled, raw = engines
    src, grain = rolled.plan(demo_city.id, "traffic_readings", q.SERIES_GRAINS["month"])
    assert grain == "district_day" and "_rollups/district_day/" in src
    assert rolled.plan(demo_city.id, "traffic_readings", ("no_such_grain",))[1] is None
    src, grain = raw.plan(demo_city.id, "traffic_readings", q.SERIES_GRAINS["day"])
    assert grain is None and src == raw.source(demo_city.id, "traffic_readings")


# -- a small city of its own: publish, append, fall back --------------------------------------


def readings_meta() -> DatasetMeta:
    return DatasetMeta(
        id="city-readings",
        city=CITY,
        kind="traffic_readings",
        round_table="traffic",
        title={"en": "Readings"},
        description={"en": ""},
    )


@pytest.fixture(scope="module")
def months(demo_workspace):
    """The demo readings of January-February and of March, as two uploads."""
    table = pq.read_table(demo_workspace.catalog.find(CITY, "traffic_readings").folder)
    frame = table.to_pandas()
    jan_feb = frame[frame["ts"] < pd.Timestamp("2017-03-01")]
    march = frame[(frame["ts"] >= pd.Timestamp("2017-03-01")) & (frame["ts"] < "2017-04-01")]
    return jan_feb, march


def writer(frame: pd.DataFrame, with_rollups: bool = True):
    schema = KINDS["traffic_readings"].schema

    def write(folder):
        import pyarrow as pa

        part = folder / "part-0000.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).cast(schema), part)
        if with_rollups:
            rollups.build_rollups("traffic_readings", part, folder, threads=1)

    return write


def publish(catalog: Catalog, frame, mode="new", with_rollups=True):
    return catalog.publish(
        readings_meta(), writer(frame, with_rollups), mode=mode, time_column="ts"
    )


def test_an_append_links_the_old_parts_rollups_beside_the_old_parts(tmp_path, months):
    jan_feb, march = months
    catalog = Catalog(tmp_path)
    first = publish(catalog, jan_feb)
    second = publish(catalog, march, mode="append")
    old, new = tmp_path / first.folder, tmp_path / second.folder
    parts = sorted(p.name for p in new.glob("*.parquet"))
    assert len(parts) == 2
    for grain in rollups.grains_for("traffic_readings"):
        assert rollups.complete(new, grain.name)
        linked = next(p for p in parts if p != "part-0000.parquet")
        here = rollups.rollup_path(new, grain.name, linked)
        there = rollups.rollup_path(old, grain.name, "part-0000.parquet")
        assert os.path.samefile(here, there)  # a hard link, not a copy
    # the catalog describes the raw rows only
    assert second.rows == len(jan_feb) + len(march)
    assert describe_parquet(new, "ts", {})["rows"] == second.rows
    assert len(pd.read_parquet(new)) == second.rows  # pyarrow skips _rollups


def test_appended_versions_answer_like_their_raw_rows(tmp_path, months, demo_city):
    jan_feb, march = months
    catalog = Catalog(tmp_path)
    publish(catalog, jan_feb)
    publish(catalog, march, mode="append")
    rolled = QueryEngine(catalog, shared=None)
    raw = QueryEngine(catalog, shared=None, use_rollups=False)
    assert rolled.plan(CITY, "traffic_readings", ("detector_day",))[1] == "detector_day"
    for filters in (Filters(), Filters(dt.date(2017, 2, 25), dt.date(2017, 3, 3), (330106,))):
        for name in ("free_flow", "detector_stats", "hour_weekday", "volume_speed_hour"):
            query = queries(demo_city)[name]
            same(query(rolled, filters), query(raw, filters))


def test_a_part_without_rollups_makes_the_version_read_raw(tmp_path, months, demo_city):
    jan_feb, march = months
    catalog = Catalog(tmp_path)
    publish(catalog, jan_feb, with_rollups=False)  # e.g. data from before rollups
    engine = QueryEngine(catalog, shared=None)
    assert engine.rollup(CITY, "traffic_readings", "detector_day") is None
    publish(catalog, march, mode="append")  # the new part has rollups, the old one not
    engine.clear_cache()
    assert engine.rollup(CITY, "traffic_readings", "detector_day") is None
    got = q.volume_speed(engine, CITY, Filters(), "day")
    assert len(got) == 31 + 28 + 31


def test_a_rollup_of_another_definition_is_not_read(tmp_path, months):
    jan_feb, _ = months
    catalog = Catalog(tmp_path)
    version = publish(catalog, jan_feb)
    folder = tmp_path / version.folder
    assert rollups.complete(folder, "district_hour")
    path = rollups.rollup_path(folder, "district_hour", "part-0000.parquet")
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({rollups.META_KEY: "district_hour:old"}), path)
    assert not rollups.complete(folder, "district_hour")
    assert rollups.complete(folder, "district_day")


def test_a_part_lacking_a_column_gets_no_rollup_of_it(tmp_path, months):
    jan_feb, _ = months
    part = tmp_path / "part-0000.parquet"
    jan_feb.drop(columns=["occupancy"]).to_parquet(part)
    written = {p.parent.name for p in rollups.build_rollups("traffic_readings", part, tmp_path)}
    assert "detector_day" not in written and "district_hour" in written
    assert rollups.build_rollups("incidents", part, tmp_path) == []
