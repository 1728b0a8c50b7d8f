"""Ecology queries against small hand-made Parquet data, each checked with plain pandas.

The workspace holds real Parquet files published through the catalog, so the SQL runs exactly
as in the app; the expected values come from independent pandas code (for the daily AQI inputs:
`datasets.aqi.daily_inputs_from_hourly`, the reference implementation, station by station).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets.aqi import CATEGORIES, aqi_frame, category_for, daily_inputs_from_hourly
from datasets.catalog import DatasetMeta
from datasets.queries import ecology as q
from datasets.query import Filters
from datasets.schemas import KINDS
from datasets.workspace import Workspace

CITY = "hangzhou-2017"
START = dt.date(2017, 3, 1)
DAYS = 12
CATEGORIES_HJ = CATEGORIES["hj633"]
STATIONS = pd.DataFrame(
    {
        "station_id": ["A", "B", "C"],
        "name": ["Xixi", "Chaohui 5th District", "Qiandaohu"],
        "name_zh": ["西溪", "朝晖五区", "千岛湖"],
        "district": [330106, 330105, 330127],
        "lat": [30.275, 30.29, 29.641],
        "lon": [120.063, 120.157, 119.026],
        "kind": ["urban", "urban", "background"],
        "near_road": [False, True, False],
    }
)


def make_hourly(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hours = pd.date_range(pd.Timestamp(START), periods=DAYS * 24, freq="h")
    frames = []
    for i, station in enumerate(STATIONS["station_id"]):
        n = len(hours)
        hour_of_day = hours.hour.to_numpy()
        frame = pd.DataFrame(
            {
                "ts": hours,
                "station_id": station,
                "district": STATIONS["district"][i],
                "pm25": rng.gamma(4.0, 12.0, n) * (1 + 0.3 * i),
                "pm10": rng.gamma(4.0, 18.0, n),
                "no2": rng.gamma(5.0, 8.0, n) * (1 - 0.2 * i),
                "so2": rng.gamma(3.0, 3.0, n),
                "co": rng.gamma(6.0, 0.15, n),
                "o3": 40
                + 120 * np.sin(np.pi * np.clip(hour_of_day - 6, 0, 12) / 12) ** 2
                + rng.normal(0, 10, n),
            }
        )
        frames.append(frame)
    hourly = pd.concat(frames, ignore_index=True)
    hourly["o3"] = hourly["o3"].clip(lower=1)
    # Gaps that exercise the validity rules: a day with 18 hours left (no 24-h means, few
    # 8-h windows), scattered missing values, and missing O3 hours in one afternoon.
    day3 = pd.Timestamp(START) + pd.Timedelta(days=3)
    drop = (
        (hourly["station_id"] == "A")
        & (hourly["ts"] >= day3)
        & (hourly["ts"] < day3 + pd.Timedelta(hours=6))
    )
    hourly = hourly[~drop].copy()
    holes = rng.random(len(hourly)) < 0.04
    hourly.loc[holes, "pm25"] = np.nan
    day5 = pd.Timestamp(START) + pd.Timedelta(days=5)
    o3_gap = (
        (hourly["station_id"] == "B")
        & (hourly["ts"] >= day5 + pd.Timedelta(hours=9))
        & (hourly["ts"] < day5 + pd.Timedelta(hours=14))
    )
    hourly.loc[o3_gap, "o3"] = np.nan
    return hourly.reset_index(drop=True)


def make_traffic(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    slots = pd.date_range(pd.Timestamp(START), periods=DAYS * 24 * 4, freq="15min")
    rows = []
    for detector, district in (("D1", 330106), ("D2", 330105), ("D3", 330109)):
        rows.append(
            pd.DataFrame(
                {
                    "ts": slots,
                    "detector_id": detector,
                    "district": district,
                    "pilot": False,
                    "volume": rng.integers(0, 200, len(slots)),
                    "speed_kmh": rng.uniform(10, 60, len(slots)),
                    "occupancy": rng.uniform(0, 40, len(slots)),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def make_energy() -> pd.DataFrame:
    dates = pd.date_range("2017-01-01", "2017-04-30", freq="D")
    rows = []
    for k, sector in enumerate(("industry", "residential", "other")):
        electricity = 100.0 + 10 * k + np.arange(len(dates)) % 7
        rows.append(
            pd.DataFrame(
                {
                    "date": dates.date,
                    "sector": sector,
                    "electricity_gwh": electricity,
                    "renewable_gwh": electricity * (0.1 + 0.01 * k),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def make_mobility() -> pd.DataFrame:
    dates = pd.date_range("2017-01-01", "2017-04-30", freq="D")
    n = np.arange(len(dates))
    return pd.DataFrame(
        {
            "date": dates.date,
            "metro_riders": 900_000 + 1000 * n,
            "bus_riders": 4_000_000 + 500 * (n % 7),
            "public_bike_trips": 300_000 + 100 * n,
            "ev_charging_sessions": 5_000 + n,
            "ev_charging_mwh": 95.0 + 0.1 * n,
        }
    )


def make_waste() -> pd.DataFrame:
    months = pd.date_range("2017-01-01", "2017-06-01", freq="MS")
    rows = []
    for m, month in enumerate(months):
        for stream, tonnes in (
            ("incinerated", 150_000),
            ("landfilled", 170_000),
            ("recycled", 5_000 + 1000 * m),
            ("kitchen", 8_000),
        ):
            rows.append({"month": month.date(), "stream": stream, "tonnes": float(tonnes)})
    return pd.DataFrame(rows)


def publish(workspace: Workspace, kind: str, frame: pd.DataFrame) -> None:
    spec = KINDS[kind]
    names = [c.name for c in spec.columns if c.name in frame.columns]
    schema = pa.schema([spec.schema.field(n) for n in names])
    table = pa.Table.from_pandas(frame[names], preserve_index=False).cast(schema)
    meta = DatasetMeta(
        id=f"{CITY}-{kind}",
        city=CITY,
        kind=kind,
        round_table=spec.round_table,
        title={"en": kind},
        description={"en": kind},
        synthetic=True,
    )
    workspace.catalog.publish(
        meta,
        lambda folder: pq.write_table(table, folder / "part-0000.parquet", row_group_size=500),
        time_column=spec.time_column,
    )


@pytest.fixture(scope="module")
def data():
    return {
        "air_stations": STATIONS,
        "air_quality_hourly": make_hourly(),
        "traffic_readings": make_traffic(),
        "energy_daily": make_energy(),
        "mobility_daily": make_mobility(),
        "waste_monthly": make_waste(),
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, data) -> Workspace:
    ws = Workspace.open(tmp_path_factory.mktemp("ecology-queries"))
    for kind, frame in data.items():
        publish(ws, kind, frame)
    return ws


@pytest.fixture(scope="module")
def engine(workspace):
    return workspace.engine


def stored(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Values as Parquet stores them (float32), so expectations use the same inputs."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype("float32").astype("float64")
    return out


def expected_daily_inputs(hourly: pd.DataFrame, stations=("A", "B", "C")) -> pd.DataFrame:
    hourly = stored(hourly, ["pm25", "pm10", "no2", "so2", "co", "o3"])
    parts = []
    for station in stations:
        one = hourly[hourly["station_id"] == station].drop(
            columns=["station_id", "district"], errors="ignore"
        )
        daily = daily_inputs_from_hourly(one).reset_index()
        daily.insert(0, "station_id", station)
        parts.append(daily)
    return pd.concat(parts, ignore_index=True)


def assert_daily_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.sort_values(["station_id", "date"]).reset_index(drop=True)
    expected = expected.sort_values(["station_id", "date"]).reset_index(drop=True)
    assert list(got["station_id"]) == list(expected["station_id"])
    assert list(pd.to_datetime(got["date"])) == list(pd.to_datetime(expected["date"]))
    for column in q.DAILY_INPUTS:
        np.testing.assert_allclose(
            got[column].to_numpy(dtype=float),
            expected[column].to_numpy(dtype=float),
            rtol=1e-6,
            equal_nan=True,
            err_msg=column,
        )


# -- daily AQI inputs ---------------------------------------------------------------------------


def test_daily_inputs_match_the_reference_implementation(engine, data):
    got = q.station_daily_inputs(engine, CITY, Filters())
    expected = expected_daily_inputs(data["air_quality_hourly"])
    assert_daily_equal(got, expected)
    # the gaps did something: an invalid 24-h mean, and a valid O3 8-h maximum despite a gap
    day3 = got[
        (got["station_id"] == "A") & (got["date"] == pd.Timestamp(START) + pd.Timedelta(3, "D"))
    ]
    assert day3["pm25"].isna().all() and day3["o3_1h"].notna().all()


def test_o3_max_daily_8h_rolling_mean_by_hand(tmp_path):
    """O3 equal to the hour of the day: the last window (16:00-23:00) has the maximum mean."""
    ws = Workspace.open(tmp_path)
    publish(ws, "air_stations", STATIONS.iloc[:1])
    hours = pd.date_range("2017-06-01", periods=48, freq="h")
    hourly = pd.DataFrame(
        {"ts": hours, "station_id": "A", "pm25": 10.0, "o3": hours.hour.astype(float)}
    )
    # second day: hours 18-23 missing, so the best windows lose values (min 6 hours of 8)
    hourly.loc[(hourly["ts"].dt.day == 2) & (hourly["ts"].dt.hour >= 18), "o3"] = np.nan
    publish(ws, "air_quality_hourly", hourly)
    got = q.station_daily_inputs(ws.engine, CITY, Filters())
    assert got["o3_8h"].iloc[0] == pytest.approx(np.mean(range(16, 24)))  # 19.5
    # day 2: the window ending 23:00 holds 16, 17 only (invalid); ending 21:00 holds 14..17
    # (4 values, invalid); ending 19:00 holds 12..17 (6 values, valid) → mean 14.5, and 17
    # windows minus 4 invalid ones = 13 < 14 → the daily maximum 8-h mean is invalid.
    assert pd.isna(got["o3_8h"].iloc[1])
    assert got["o3_1h"].tolist() == [23.0, 17.0]
    assert got["pm25"].tolist() == [10.0, 10.0]
    manual = hourly.set_index("ts")["o3"].rolling(8, min_periods=6).mean()
    windows = manual[(manual.index.day == 2) & (manual.index.hour >= 7)].dropna()
    assert len(windows) == 13 and windows.max() == pytest.approx(14.5)


def test_daily_inputs_follow_date_and_district_filters(engine, data):
    filters = Filters(START + dt.timedelta(days=2), START + dt.timedelta(days=5), (330105,))
    got = q.station_daily_inputs(engine, CITY, filters)
    hourly = data["air_quality_hourly"]
    inside = hourly[
        (hourly["ts"] >= pd.Timestamp(filters.start))
        & (hourly["ts"] < pd.Timestamp(filters.end + dt.timedelta(days=1)))
    ]
    assert_daily_equal(got, expected_daily_inputs(inside, stations=("B",)))
    assert set(got["station_id"]) == {"B"} and len(got) == 4


def test_empty_filters_give_empty_frames(engine):
    nothing = Filters(dt.date(2030, 1, 1), dt.date(2030, 1, 31))
    assert q.station_daily_inputs(engine, CITY, nothing).empty
    assert q.city_daily_aqi(engine, CITY, nothing, "hj633").empty
    assert q.pollutant_daily(engine, CITY, nothing, "no2").empty
    assert q.station_summary(engine, CITY, nothing, "epa").empty
    assert q.category_share(engine, CITY, nothing, "hj633").empty
    assert q.category_share(engine, CITY, nothing, "hj633", by="station").empty
    assert q.no2_vs_traffic(engine, CITY, nothing).empty
    assert q.energy_by_sector(engine, CITY, nothing).empty
    assert q.mobility(engine, CITY, nothing).empty
    assert q.waste_by_stream(engine, CITY, nothing).empty
    no_district = Filters(districts=(330182,))
    assert q.station_daily_inputs(engine, CITY, no_district).empty
    assert q.stations(engine, CITY, no_district).empty


# -- AQI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("standard", ["hj633", "epa"])
def test_city_daily_aqi_averages_urban_stations(engine, data, standard):
    got = q.city_daily_aqi(engine, CITY, Filters(), standard)
    daily = expected_daily_inputs(data["air_quality_hourly"], stations=("A", "B"))
    city = daily.groupby("date")[list(q.DAILY_INPUTS)].mean()
    expected = city.join(aqi_frame(city, standard)).reset_index()
    assert len(got) == DAYS
    np.testing.assert_allclose(got["pm25"], expected["pm25"], rtol=1e-6)
    np.testing.assert_allclose(got["o3_8h"], expected["o3_8h"], rtol=1e-6, equal_nan=True)
    assert got["aqi"].tolist() == expected["aqi"].tolist()
    assert got["category"].tolist() == expected["category"].tolist()
    assert got["stations"].max() == 2


def test_city_daily_aqi_keeps_a_lone_background_station(engine, data):
    got = q.city_daily_aqi(engine, CITY, Filters(districts=(330127,)), "hj633")
    expected = expected_daily_inputs(data["air_quality_hourly"], stations=("C",))
    np.testing.assert_allclose(got["pm25"], expected["pm25"], rtol=1e-6)


def test_station_summary(engine, data):
    got = q.station_summary(engine, CITY, Filters(), "epa").set_index("station_id")
    daily = expected_daily_inputs(data["air_quality_hourly"])
    daily = daily.join(aqi_frame(daily, "epa"))
    for station, group in daily.groupby("station_id"):
        aqi = group["aqi"].astype(float).dropna()
        row = got.loc[station]
        assert row["days"] == len(aqi)
        assert row["mean_aqi"] == pytest.approx(aqi.mean())
        assert row["good_share"] == pytest.approx((aqi <= 100).mean())
        assert row["pm25"] == pytest.approx(group["pm25"].mean())
        assert row["category"] == category_for("epa", round(aqi.mean())).key
    assert got.loc["B", "name_zh"] == "朝晖五区" and got.loc["C", "kind"] == "background"


def test_category_share_per_month_and_station(engine):
    by_month = q.category_share(engine, CITY, Filters(), "hj633")
    city = q.city_daily_aqi(engine, CITY, Filters(), "hj633")
    assert by_month["days"].sum() == city["aqi"].notna().sum()
    assert by_month.groupby("group")["share"].sum().tolist() == pytest.approx([1.0])
    by_station = q.category_share(engine, CITY, Filters(), "hj633", by="station")
    assert set(by_station["group"]) == {"A", "B", "C"}
    assert by_station.groupby("group")["share"].sum().tolist() == pytest.approx([1.0] * 3)
    counts = q.station_daily_aqi(engine, CITY, Filters(), "hj633").dropna(subset=["aqi"])
    expected = counts.groupby(["station_id", "category"]).size()
    got = by_station.set_index(["group", "category"])["days"]
    assert got.sort_index().tolist() == expected.sort_index().tolist()


def test_pollutant_daily(engine, data):
    got = q.pollutant_daily(engine, CITY, Filters(), "o3")
    daily = expected_daily_inputs(data["air_quality_hourly"]).dropna(subset=["o3_8h"])
    assert len(got) == len(daily)
    merged = got.merge(daily, on=["station_id", "date"])
    np.testing.assert_allclose(merged["value"], merged["o3_8h"], rtol=1e-6)
    assert set(got["name_zh"]) == {"西溪", "朝晖五区", "千岛湖"}
    # an unknown pollutant from the browser falls back to PM2.5, never reaching SQL
    assert q.pollutant_daily(engine, CITY, Filters(), "x'; DROP")["pollutant"].eq("pm25").all()


# -- traffic link ---------------------------------------------------------------------------------


def test_no2_vs_traffic(engine, data):
    filters = Filters(districts=(330106, 330105))
    got = q.no2_vs_traffic(engine, CITY, filters)
    traffic = data["traffic_readings"]
    traffic = traffic[traffic["district"].isin(filters.districts)]
    volume = traffic.groupby(traffic["ts"].dt.normalize())["volume"].sum()
    daily = expected_daily_inputs(data["air_quality_hourly"], stations=("A", "B"))
    no2 = daily.groupby("date")["no2"].mean()
    assert len(got) == DAYS
    assert got["volume"].tolist() == volume.tolist()
    np.testing.assert_allclose(got["no2"], no2.to_numpy(), rtol=1e-6)
    assert got["weekend"].tolist() == [d.day_of_week >= 5 for d in volume.index]


# -- energy, mobility, waste ----------------------------------------------------------------------


def test_energy_by_sector_monthly(engine, data):
    got = q.energy_by_sector(engine, CITY, Filters(), "month")
    energy = data["energy_daily"].assign(
        month=pd.to_datetime(data["energy_daily"]["date"]).dt.to_period("M").dt.start_time
    )
    expected = energy.groupby(["month", "sector"]).agg(
        electricity=("electricity_gwh", "mean"), renewable=("renewable_gwh", "mean")
    )
    assert len(got) == 12
    np.testing.assert_allclose(got["electricity_gwh_day"], expected["electricity"], rtol=1e-6)
    np.testing.assert_allclose(got["renewable_gwh_day"], expected["renewable"], rtol=1e-5)
    assert got["days"].tolist()[:3] == [31, 31, 31]


def test_mobility_weekly_means(engine, data):
    filters = Filters(dt.date(2017, 2, 1), dt.date(2017, 4, 30))
    got = q.mobility(engine, CITY, filters)  # 89 days → weekly
    mob = data["mobility_daily"].assign(date=pd.to_datetime(data["mobility_daily"]["date"]))
    mob = mob[(mob["date"] >= "2017-02-01") & (mob["date"] <= "2017-04-30")]
    week = mob["date"] - pd.to_timedelta(mob["date"].dt.day_of_week, unit="D")
    expected = mob.groupby(week)[list(q.MOBILITY_COLUMNS)].mean()
    assert got["period"].tolist() == list(expected.index)
    for column in q.MOBILITY_COLUMNS:
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-9)
    assert got["days"].sum() == len(mob)
    assert (
        q.mobility(engine, CITY, Filters(dt.date(2017, 2, 1), dt.date(2017, 2, 20)))["days"]
        .eq(1)
        .all()
    )  # short periods: daily
    assert len(q.mobility(engine, CITY, Filters(), "month")) == 4


def test_waste_months_overlapping_the_period(engine, data):
    got = q.waste_by_stream(engine, CITY, Filters(dt.date(2017, 2, 10), dt.date(2017, 3, 5)))
    assert sorted(set(got["month"])) == [pd.Timestamp("2017-02-01"), pd.Timestamp("2017-03-01")]
    assert got["tonnes"].sum() == pytest.approx(2 * (150_000 + 170_000 + 8_000) + 6_000 + 7_000)


# -- KPIs -----------------------------------------------------------------------------------------


def test_kpis_default_window_is_last_30_days(engine, data):
    got = q.kpis(engine, CITY, Filters(), "hj633").set_index("kpi")
    last = dt.date(2017, 6, 30)  # waste covers up to June, the latest dataset
    assert got["default_window"].all()
    assert got["end"].iloc[0] == last
    assert got["start"].iloc[0] == last - dt.timedelta(days=29)
    assert got["previous_end"].iloc[0] == last - dt.timedelta(days=30)
    # June's 15th is in the window, May's in the previous one
    assert got.loc["recycled", "value"] == pytest.approx(10_000 / 338_000)
    assert got.loc["recycled", "previous"] == pytest.approx(9_000 / 337_000)
    assert pd.isna(got.loc["pm25", "value"])  # no air data in June


def test_kpis_for_a_chosen_period(engine, data):
    """Both periods (read in one query per KPI) against pandas over each period alone."""
    filters = Filters(START + dt.timedelta(days=6), START + dt.timedelta(days=11))
    got = q.kpis(engine, CITY, filters, "hj633").set_index("kpi")
    energy, mob = data["energy_daily"], data["mobility_daily"]

    def within(frame: pd.DataFrame, period: Filters) -> pd.DataFrame:
        dates = pd.to_datetime(frame["date"])
        return frame[(dates >= pd.Timestamp(period.start)) & (dates <= pd.Timestamp(period.end))]

    for column, period in (("value", filters), ("previous", filters.previous())):
        city = q.city_daily_aqi(engine, CITY, period, "hj633")
        assert got.loc["pm25", column] == pytest.approx(city["pm25"].mean())
        aqi = city["aqi"].astype(float)
        assert got.loc["good_days", column] == pytest.approx((aqi <= 100).mean())
        in_period = within(energy, period)
        share = (
            in_period["renewable_gwh"].astype("float32").sum()
            / in_period["electricity_gwh"].astype("float32").sum()
        )
        assert got.loc["renewable", column] == pytest.approx(share, rel=1e-6)
        expected_bikes = within(mob, period)["public_bike_trips"].mean()
        assert got.loc["bike_trips", column] == pytest.approx(expected_bikes)
    assert not got["default_window"].any()


def test_kpis_of_a_city_without_waste_or_bike_counts(tmp_path, data):
    """The tables a city lacks leave their KPIs empty; the others are computed as usual."""
    ws = Workspace.open(tmp_path)
    publish(ws, "energy_daily", data["energy_daily"])
    publish(ws, "mobility_daily", data["mobility_daily"].drop(columns=["public_bike_trips"]))
    filters = Filters(START, START + dt.timedelta(days=5))
    got = q.kpis(ws.engine, CITY, filters, "hj633").set_index("kpi")
    for kpi in ("pm25", "good_days", "bike_trips", "recycled"):
        assert got.loc[kpi, ["value", "previous"]].isna().all(), kpi
    energy = data["energy_daily"]
    dates = pd.to_datetime(energy["date"])
    now = energy[(dates >= pd.Timestamp(START)) & (dates <= pd.Timestamp(filters.end))]
    share = (
        now["renewable_gwh"].astype("float32").sum()
        / now["electricity_gwh"].astype("float32").sum()
    )
    assert got.loc["renewable", "value"] == pytest.approx(share, rel=1e-6)


# -- the generated demo city ----------------------------------------------------------------------


def test_demo_city_daily_inputs_and_charts(demo_workspace):
    """On the real demo: one station's daily inputs against the reference, and every chart's
    query returning a small frame."""
    engine = demo_workspace.engine
    found = engine.dataset(CITY, "air_quality_hourly")
    hourly = pd.read_parquet(found.folder)
    station = sorted(hourly["station_id"].unique())[0]
    got = q.station_daily_inputs(engine, CITY, Filters())
    got = got[got["station_id"] == station]
    expected = expected_daily_inputs(hourly, stations=(station,))
    assert_daily_equal(got, expected)
    city = q.city_daily_aqi(engine, CITY, Filters(), "hj633")
    assert 300 <= len(city) <= 366
    assert set(city["category"]) <= {c.key for c in CATEGORIES_HJ}
    assert len(q.station_summary(engine, CITY, Filters(), "epa")) == len(
        q.stations(engine, CITY, Filters())
    )
    assert len(q.no2_vs_traffic(engine, CITY, Filters())) > 300
    assert len(q.energy_by_sector(engine, CITY, Filters())) <= 3 * 12
    assert len(q.mobility(engine, CITY, Filters())) <= 54
    assert not q.kpis(engine, CITY, Filters(), "epa")["value"].isna().any()
