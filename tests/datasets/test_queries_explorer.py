"""The explorer's queries run through the query engine (datasets.queries.explorer): the chart's
rows and bucket, the values a filter offers, and DuckDB's failures as `QueryFailed`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets.catalog import DatasetMeta
from datasets.queries import explorer as q
from datasets.workspace import Workspace

CITY = "hangzhou-2017"
HOURS = 24 * 20


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    workspace = Workspace.open(tmp_path / "data")
    table = pa.table(
        {
            "ts": pa.array(
                [dt.datetime(2017, 1, 1) + dt.timedelta(hours=h) for h in range(HOURS)],
                pa.timestamp("s"),
            ),
            "station_id": [("a", "b", "b")[h % 3] for h in range(HOURS)],
            "pm25": pa.array([float(h % 50) for h in range(HOURS)], pa.float32()),
        }
    )
    meta = DatasetMeta(
        id="air",
        city=CITY,
        kind="air_quality_hourly",
        round_table="ecology",
        title={"en": "air"},
        description={"en": ""},
    )
    workspace.catalog.publish(
        meta, lambda folder: pq.write_table(table, Path(folder) / "part-0000.parquet")
    )
    return workspace


def spec(**fields) -> q.Spec:
    base = {"chart": "line", "x": "ts", "y": "pm25", "color": None, "agg": "mean", "time": "ts"}
    return q.Spec(**{**base, **fields})


def test_a_time_chart_picks_its_bucket_from_the_span(workspace):
    dataset = workspace.catalog.get("air")
    cols = q.columns_of(dataset)
    frame, query = q.chart_frame(workspace.engine, dataset, spec(), cols)
    expected = q.choose_bucket((HOURS - 1) * 3600.0)
    assert query.bucket == expected == "hour"
    assert len(frame) == HOURS
    daily, query = q.chart_frame(workspace.engine, dataset, spec(bucket="day"), cols)
    assert query.bucket == "day" and len(daily) == HOURS // 24
    hours = pd.Series([float(h % 50) for h in range(HOURS)])
    assert daily["value"].tolist() == pytest.approx(hours.groupby(hours.index // 24).mean())


def test_a_filter_offers_the_most_frequent_values_first(workspace):
    dataset = workspace.catalog.get("air")
    frame = q.filter_values(workspace.engine, dataset, "station_id")
    assert frame["v"].tolist() == ["b", "a"] and frame["n"].tolist() == [HOURS * 2 // 3, HOURS // 3]
    assert q.filter_values(workspace.engine, dataset, "no such column").empty


def test_series_left_out_needs_a_colour(workspace):
    dataset = workspace.catalog.get("air")
    cols = q.columns_of(dataset)
    assert q.series_left_out(workspace.engine, dataset, spec(), cols) is None
    left = q.series_left_out(workspace.engine, dataset, spec(color="station_id"), cols)
    assert left is not None and left.empty  # two stations: none left out


def test_a_failing_scan_is_a_query_failed_with_duckdbs_message(workspace):
    dataset = workspace.catalog.get("air")
    for part in dataset.folder.glob("*.parquet"):
        part.unlink()
    with pytest.raises(q.QueryFailed) as raised:
        q.chart_frame(workspace.engine, dataset, spec(), q.columns_of(dataset))
    assert isinstance(raised.value, ValueError)
    assert "part-0000.parquet" in str(raised.value) or "No files found" in str(raised.value)
