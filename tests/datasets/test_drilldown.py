"""Drill-down to chosen detectors and stations, checked against pandas over the same Parquet."""

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq
import pytest

from datasets.queries.drilldown import series
from datasets.query import Filters

CITY = "hangzhou-2017"


def raw(workspace, kind: str) -> pd.DataFrame:
    return pq.read_table(workspace.engine.dataset(CITY, kind).folder).to_pandas()


def test_two_detectors_hourly_match_pandas(demo_workspace):
    readings = raw(demo_workspace, "traffic_readings")
    chosen = tuple(sorted(readings["detector_id"].unique())[:2])
    filters = Filters(dt.date(2017, 3, 6), dt.date(2017, 3, 12), sites=chosen)
    got = series(
        demo_workspace.engine, CITY, "traffic_readings", filters, "hour",
        {"volume": "sum", "speed_kmh": "mean"}, by_site=True,
    )  # fmt: skip
    rows = readings[
        readings["detector_id"].isin(chosen)
        & (readings["ts"] >= "2017-03-06")
        & (readings["ts"] < "2017-03-13")
    ]
    expected = (
        rows.assign(bucket=rows["ts"].dt.floor("h"))
        .groupby(["bucket", "detector_id"], as_index=False)
        .agg(volume=("volume", "sum"), speed_kmh=("speed_kmh", "mean"))
    )
    assert len(got) == 7 * 24 * 2
    assert set(got["detector_id"]) == set(chosen)
    assert got["volume"].astype("int64").tolist() == expected["volume"].astype("int64").tolist()
    assert got["speed_kmh"].to_numpy() == pytest.approx(expected["speed_kmh"].to_numpy(), rel=1e-5)


def test_one_station_daily_mean_matches_pandas(demo_workspace):
    hourly = raw(demo_workspace, "air_quality_hourly")
    station = sorted(hourly["station_id"].unique())[0]
    filters = Filters(dt.date(2017, 1, 1), dt.date(2017, 1, 31), sites=(station,))
    got = series(
        demo_workspace.engine, CITY, "air_quality_hourly", filters, "day", {"pm25": "mean"}
    )
    rows = hourly[(hourly["station_id"] == station) & (hourly["ts"] < "2017-02-01")]
    expected = rows.groupby(rows["ts"].dt.floor("D"))["pm25"].mean()
    assert len(got) == 31
    assert got["pm25"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-5)


def test_requests_outside_the_schema_are_refused(demo_workspace):
    engine = demo_workspace.engine
    with pytest.raises(ValueError, match="unknown measure"):
        series(engine, CITY, "traffic_readings", Filters(), "day", {"volume; DROP": "sum"})
    with pytest.raises(ValueError, match="unknown measure"):
        series(engine, CITY, "traffic_readings", Filters(), "day", {"volume": "median; --"})
    with pytest.raises(ValueError, match="unknown bucket"):
        series(engine, CITY, "traffic_readings", Filters(), "fortnight", {"volume": "sum"})
    with pytest.raises(ValueError, match="not a detector or station id"):
        Filters(sites=("D1' OR '1'='1",))
