"""Forecasts of a city's datasets: the hourly series read, `until`, the cache, the city lookup."""

from __future__ import annotations

import glob

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets.demo.publish import Provenance, meta_for
from datasets.evidence import forecast as fc
from datasets.evidence.forecast import ForecastError, forecast, forecast_for_city
from datasets.evidence.forecast_series import cut_end, hourly, resolve
from datasets.query import MissingDataset
from datasets.schemas import KINDS
from datasets.workspace import Workspace

AIR = "air_quality_hourly"
TRAFFIC = "traffic_readings"
UNTIL = pd.Timestamp("2017-04-20 11:00")
JUMP = 5000.0


def _raw(workspace, kind: str) -> pd.DataFrame:
    dataset = workspace.engine.find("hangzhou-2017", kind)
    return pd.concat(pd.read_parquet(p) for p in glob.glob(dataset.parquet_glob))


def _expected(raw: pd.DataFrame, key: str, value: str, how: str, start, end) -> pd.DataFrame:
    rows = raw[(raw["ts"] >= start) & (raw["ts"] < end) & raw[value].notna()]
    rows = rows.assign(series=rows[key].astype(str), hour=rows["ts"].dt.floor("h"))
    out = rows.groupby(["series", "hour"])[value].agg(how).reset_index()
    return out.rename(columns={"hour": "ts", value: "value"})


def _compare(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.sort_values(["series", "ts"]).reset_index(drop=True)
    expected = expected.sort_values(["series", "ts"]).reset_index(drop=True)
    assert len(got) == len(expected) > 100
    assert list(got["series"]) == list(expected["series"])
    assert (got["ts"].to_numpy() == expected["ts"].to_numpy().astype(got["ts"].dtype)).all()
    np.testing.assert_allclose(got["value"], expected["value"].astype(float), rtol=1e-5)


@pytest.mark.parametrize(
    ("kind", "column", "by", "key", "value", "how"),
    [
        (AIR, "pm25", "station", "station_id", "pm25", "mean"),
        (AIR, "no2", "district", "district", "no2", "mean"),
        (TRAFFIC, "volume", "district", "district", "volume", "sum"),
        (TRAFFIC, "speed_kmh", "district", "district", "speed_kmh", "mean"),
        (TRAFFIC, "speed_kmh", "detector", "detector_id", "speed_kmh", "mean"),
    ],
)
def test_hourly_series_equal_a_direct_computation(
    demo_workspace, kind, column, by, key, value, how
):
    engine = demo_workspace.engine
    dataset = engine.find("hangzhou-2017", kind)
    query = resolve(engine, dataset.id, column, by)
    start, end = pd.Timestamp("2017-03-01"), pd.Timestamp("2017-03-15 06:00")
    got = hourly(engine, query, start, end, max_series=100)
    raw = _raw(demo_workspace, kind)
    _compare(got, _expected(raw, key, value, how, start, end))


def test_the_series_are_bounded(demo_workspace):
    engine = demo_workspace.engine
    dataset = engine.find("hangzhou-2017", AIR)
    query = resolve(engine, dataset.id, "pm25", "station")
    start, end = pd.Timestamp("2017-03-01"), pd.Timestamp("2017-03-08")
    every = hourly(engine, query, start, end, max_series=100)["series"].unique()
    some = hourly(engine, query, start, end, max_series=3)["series"].unique()
    assert len(every) > 3
    assert list(some) == sorted(every)[:3]


def test_a_traffic_hour_is_used_only_when_complete(demo_workspace):
    query = resolve(demo_workspace.engine, demo_workspace.engine.find("hangzhou-2017", TRAFFIC).id,
                    "volume", "district")  # fmt: skip
    assert cut_end(query, pd.Timestamp("2017-04-20 10:00")) == pd.Timestamp("2017-04-20 10:00")
    assert cut_end(query, pd.Timestamp("2017-04-20 10:55")) == pd.Timestamp("2017-04-20 11:00")
    air = resolve(demo_workspace.engine, demo_workspace.engine.find("hangzhou-2017", AIR).id,
                  "pm25", "station")  # fmt: skip
    assert cut_end(air, pd.Timestamp("2017-04-20 10:00")) == pd.Timestamp("2017-04-20 11:00")


@pytest.fixture(scope="module")
def jumping_city(tmp_path_factory, demo_city) -> Workspace:
    """Two stations with a daily cycle whose values jump to JUMP after UNTIL."""
    workspace = Workspace.open(tmp_path_factory.mktemp("jumping-city"))
    stamps = pd.date_range("2017-02-01", "2017-05-10 23:00", freq="h")
    hours = np.arange(len(stamps))
    rng = np.random.default_rng(3)
    parts = []
    for station, district in (("S1", 330102), ("S2", 330103)):
        cycle = 60 + 25 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 3, len(stamps))
        values = np.where(stamps > UNTIL, JUMP, cycle)
        parts.append(
            pd.DataFrame({"ts": stamps, "station_id": station, "district": district,
                          "pm25": values, "no2": values / 2})
        )  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    schema = KINDS[AIR].schema
    columns = [f for f in schema if f.name in frame.columns]
    table = pa.Table.from_pandas(frame, preserve_index=False).cast(pa.schema(columns))

    def write(folder):
        pq.write_table(table, folder / "part-0000.parquet")

    workspace.catalog.publish(meta_for(demo_city, AIR, Provenance()), write, time_column="ts")
    return workspace


def test_until_cuts_the_data(jumping_city):
    engine = jumping_city.engine
    dataset = engine.find("hangzhou-2017", AIR)
    cut = forecast(engine, dataset.id, "pm25", "station", 48, until=UNTIL)
    assert set(cut.frame["series"]) == {"S1", "S2"}
    assert cut.frame["ts"].min() == UNTIL + pd.Timedelta(hours=1)
    assert cut.history["ts"].max() == UNTIL
    assert cut.history["value"].max() < 200
    assert cut.frame["hi95"].max() < 1000  # nothing of the jump reached the models
    later = forecast(engine, dataset.id, "pm25", "station", 48)
    assert later.frame["mean"].min() > 1000  # the same data uncut do see it


def test_the_aqi_is_forecast_from_the_hourly_index(jumping_city):
    engine = jumping_city.engine
    dataset = engine.find("hangzhou-2017", AIR)
    result = forecast(engine, dataset.id, "aqi", "station", 24, until=UNTIL)
    assert len(result.frame) == 48
    # PM2.5 of 35-85 µg/m³ on HJ 633's 24-h table: an index of about 50 to 115
    assert result.history["value"].min() >= 40 and result.history["value"].max() <= 120
    assert (result.frame["lo95"] <= result.frame["mean"]).all()


def test_a_cached_forecast_is_the_same_object(demo_workspace):
    engine = demo_workspace.engine
    dataset = engine.find("hangzhou-2017", TRAFFIC)
    first = forecast(engine, dataset.id, "speed_kmh", "district", 24)
    again = forecast(engine, dataset.id, "speed_kmh", "district", 24)
    assert again is first
    other = forecast(
        engine, dataset.id, "speed_kmh", "district", 24, until=pd.Timestamp("2017-11-01")
    )
    assert other is not first
    fc.clear_cache()
    assert forecast(engine, dataset.id, "speed_kmh", "district", 24) is not first


def test_a_forecast_holds_every_series_with_skill(demo_workspace):
    engine = demo_workspace.engine
    result = forecast_for_city(engine, "hangzhou-2017", TRAFFIC, "volume", "district", 24)
    districts = _raw(demo_workspace, TRAFFIC)["district"].astype(str).unique()
    assert set(result.frame["series"]) == set(districts)
    assert len(result.frame) == 24 * len(districts)
    assert len(result.skill) == 24 * len(districts)
    assert set(result.skill["model"]) <= set(fc.MODELS)
    assert result.skill["mase_naive"].notna().all()
    assert result.dataset_id == engine.find("hangzhou-2017", TRAFFIC).id
    bounds = result.frame[["mean", "lo80", "hi80", "lo95", "hi95"]]
    assert (bounds >= 0).all().all(), "a flow is never negative, nor its interval"


def test_bad_requests_raise_a_clear_error(demo_workspace):
    engine = demo_workspace.engine
    air = engine.find("hangzhou-2017", AIR).id
    with pytest.raises(ForecastError, match="no dataset"):
        forecast(engine, "no-such-dataset", "pm25", "station", 24)
    with pytest.raises(ForecastError, match="no column"):
        forecast(engine, air, "speed_kmh", "station", 24)
    with pytest.raises(ForecastError, match="by station or district"):
        forecast(engine, air, "pm25", "detector", 24)
    with pytest.raises(ForecastError, match="horizon"):
        forecast(engine, air, "pm25", "station", 0)
    with pytest.raises(ForecastError, match="outside the data"):
        forecast(engine, air, "pm25", "station", 24, until=pd.Timestamp("2018-03-01"))
    with pytest.raises(ForecastError, match="outside the data"):
        forecast(engine, air, "pm25", "station", 24, until=pd.Timestamp("2017-01-03"))
    with pytest.raises(MissingDataset):
        forecast_for_city(engine, "no-such-city", AIR, "pm25", "station", 24)


def test_a_forecast_of_chosen_series_holds_those_alone(demo_workspace):
    engine = demo_workspace.engine
    whole = forecast_for_city(engine, "hangzhou-2017", TRAFFIC, "volume", "district", 24)
    chosen = tuple(sorted(set(whole.frame["series"])))[:2]
    part = forecast_for_city(
        engine, "hangzhou-2017", TRAFFIC, "volume", "district", 24, series=chosen
    )
    assert set(part.frame["series"]) == set(chosen) == set(part.skill["series"])
    mine = whole.frame[whole.frame["series"].isin(chosen)].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.frame.reset_index(drop=True), mine)
