"""Tests for datasets.queries.traffic.

Each query runs on the small demo workspace (8 detectors, 2017) and is checked against the same
Parquet files read with pandas and aggregated independently, so a wrong filter, join, bucket or
quantile in the SQL shows up as a mismatch rather than being mirrored.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from datasets.queries import traffic as q
from datasets.query import Filters

MARCH = Filters(dt.date(2017, 3, 1), dt.date(2017, 3, 31))
NOWHERE = Filters(districts=(999999,))  # a district code no row holds


# -- the same data, read with pandas -----------------------------------------------------------


def read(workspace, city, kind: str) -> pd.DataFrame:
    return pd.read_parquet(workspace.catalog.find(city.id, kind).folder)


@pytest.fixture(scope="module")
def env(demo_workspace, demo_city):
    return demo_workspace.engine, demo_city


@pytest.fixture(scope="module")
def readings(demo_workspace, demo_city) -> pd.DataFrame:
    frame = read(demo_workspace, demo_city, "traffic_readings")
    frame["speed_kmh"] = frame["speed_kmh"].astype("float64")
    return frame


@pytest.fixture(scope="module")
def detectors(demo_workspace, demo_city) -> pd.DataFrame:
    return read(demo_workspace, demo_city, "traffic_detectors")


@pytest.fixture(scope="module")
def incidents(demo_workspace, demo_city) -> pd.DataFrame:
    frame = read(demo_workspace, demo_city, "incidents")
    frame["minutes"] = (frame["cleared_at"] - frame["detected_at"]).dt.total_seconds() / 60
    return frame


@pytest.fixture(scope="module")
def runs(demo_workspace, demo_city) -> pd.DataFrame:
    frame = read(demo_workspace, demo_city, "emergency_runs")
    frame["travel_min"] = frame["travel_min"].astype("float64")
    return frame


@pytest.fixture(scope="module")
def metro(demo_workspace, demo_city) -> pd.DataFrame:
    return read(demo_workspace, demo_city, "metro_flow")


@pytest.fixture(scope="module")
def two_districts(readings) -> tuple[int, ...]:
    """Two districts that hold detectors, for the district filter."""
    return tuple(sorted(int(d) for d in readings["district"].unique())[:2])


def within(frame: pd.DataFrame, column: str, filters: Filters) -> pd.DataFrame:
    """Rows inside the filters, the pandas way (end date inclusive)."""
    keep = pd.Series(True, index=frame.index)
    if filters.start:
        keep &= frame[column] >= pd.Timestamp(filters.start)
    if filters.end:
        keep &= frame[column] < pd.Timestamp(filters.end + dt.timedelta(days=1))
    if filters.districts:
        keep &= frame["district"].isin(filters.districts)
    return frame[keep]


def expected_free_flow(readings: pd.DataFrame) -> pd.Series:
    night = readings[(readings["ts"].dt.hour < 5) & (readings["speed_kmh"] > 0)]
    return night.groupby("detector_id")["speed_kmh"].quantile(0.85)


def expected_tti(rows: pd.DataFrame, free_flow: pd.Series) -> pd.Series:
    """Per detector: free-flow speed x mean of 1/speed over its readings."""
    moving = rows[rows["speed_kmh"] > 0]
    inverse = (1 / moving["speed_kmh"]).groupby(moving["detector_id"]).mean()
    return (inverse * free_flow.reindex(inverse.index)).dropna()


# -- speeds and travel time index --------------------------------------------------------------


def test_free_flow_speed_is_the_85th_percentile_of_night_speeds(env, readings):
    engine, city = env
    got = q.free_flow_speeds(engine, city.id).set_index("detector_id")["free_flow_kmh"]
    want = expected_free_flow(readings)
    assert sorted(got.index) == sorted(want.index)
    np.testing.assert_allclose(got.loc[want.index], want, rtol=1e-5)


def test_detector_stats_follow_the_filters(env, readings, two_districts):
    engine, city = env
    filters = Filters(MARCH.start, MARCH.end, two_districts)
    got = q.detector_stats(engine, city.id, filters).set_index("detector_id")
    rows = within(readings, "ts", filters)
    assert set(got["district"]) <= set(two_districts)
    want = rows.groupby("detector_id").agg(
        readings=("speed_kmh", "count"), speed_sum=("speed_kmh", "sum"), vehicles=("volume", "sum")
    )
    assert sorted(got.index) == sorted(want.index)
    np.testing.assert_array_equal(got.loc[want.index, "readings"], want["readings"])
    np.testing.assert_array_equal(got.loc[want.index, "vehicles"], want["vehicles"])
    np.testing.assert_allclose(got.loc[want.index, "speed_sum"], want["speed_sum"], rtol=1e-9)


def test_district_speeds_match_pandas(env, readings):
    engine, city = env
    got = q.district_speeds(engine, city.id, MARCH).set_index("district")
    rows = within(readings, "ts", MARCH)
    want_speed = rows.groupby("district")["speed_kmh"].mean()
    tti = expected_tti(rows, expected_free_flow(readings))
    district_of = rows.groupby("detector_id")["district"].first()
    want_tti = tti.groupby(district_of.reindex(tti.index)).mean()
    assert sorted(got.index) == sorted(int(d) for d in want_speed.index)
    np.testing.assert_allclose(got.loc[want_speed.index, "speed_kmh"], want_speed, rtol=1e-9)
    np.testing.assert_allclose(got.loc[want_tti.index, "tti"], want_tti, rtol=1e-5)
    detectors = rows.groupby("district")["detector_id"].nunique()
    np.testing.assert_array_equal(got.loc[detectors.index, "detectors"], detectors)
    assert (got["tti"] >= 1.0).all(), "slower than free flow on average"


# -- KPIs ---------------------------------------------------------------------------------------


def test_kpi_periods_default_to_the_last_30_days_of_data(env, readings):
    engine, city = env
    last = readings["ts"].max().date()
    periods = q.kpi_periods(engine, city.id, Filters(districts=(330106,)))
    assert periods.default_window
    assert periods.current == Filters(last - dt.timedelta(days=29), last, (330106,))
    assert periods.previous == Filters(
        last - dt.timedelta(days=59), last - dt.timedelta(days=30), (330106,)
    )


def test_kpi_periods_use_the_filter_dates_and_refuse_a_previous_period_outside_the_data(env):
    engine, city = env
    periods = q.kpi_periods(engine, city.id, MARCH)
    assert not periods.default_window
    assert periods.current == MARCH
    assert periods.previous == Filters(dt.date(2017, 1, 29), dt.date(2017, 2, 28))
    january = q.kpi_periods(engine, city.id, Filters(dt.date(2017, 1, 1), dt.date(2017, 1, 31)))
    assert january.previous is None


def test_kpis_match_pandas(env, readings, incidents, runs):
    engine, city = env
    frame = q.kpis(engine, city.id, Filters()).set_index("period")
    free_flow = expected_free_flow(readings)
    for period in ("current", "previous"):
        row = frame.loc[period]
        filters = Filters(row["start"], row["end"])
        rows = within(readings, "ts", filters)
        assert row["mean_speed_kmh"] == pytest.approx(rows["speed_kmh"].mean(), rel=1e-9)
        assert row["tti"] == pytest.approx(expected_tti(rows, free_flow).mean(), rel=1e-5)
        assert row["incidents"] == len(within(incidents, "detected_at", filters))
        assert row["response_min"] == pytest.approx(
            within(runs, "started_at", filters)["travel_min"].median(), rel=1e-6
        )
        assert row["default_window"]


def test_kpis_of_an_empty_selection_are_none(env):
    engine, city = env
    values = q.period_kpis(
        engine, city.id, Filters(dt.date(2017, 3, 1), dt.date(2017, 3, 2), (999999,))
    )
    assert values["mean_speed_kmh"] is None
    assert values["tti"] is None
    assert values["incidents"] == 0
    assert values["response_min"] is None


# -- time series and heatmap ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "days", "used"),
    [
        ("5min", 10, "5min"),
        ("5min", 18, "hour"),
        ("5min", 365, "day"),
        ("hour", 200, "hour"),
        ("hour", 365, "day"),
        ("day", 365, "day"),
        ("week", 365, "week"),
        ("nonsense", 30, "day"),
    ],
)
def test_effective_bucket_keeps_a_trace_within_5000_points(requested, days, used):
    assert q.effective_bucket(requested, days) == used


def test_volume_speed_by_day_matches_pandas(env, readings, two_districts):
    engine, city = env
    filters = Filters(MARCH.start, MARCH.end, two_districts)
    got = q.volume_speed(engine, city.id, filters, "day").set_index("period_start")
    rows = within(readings, "ts", filters)
    days = rows["ts"].dt.floor("D")
    want_speed = rows.groupby(days)["speed_kmh"].mean()
    want_flow = rows.groupby(days)["volume"].mean() * 12
    assert len(got) == 31
    assert (got["bucket"] == "day").all()
    np.testing.assert_allclose(got.loc[want_speed.index, "speed_kmh"], want_speed, rtol=1e-9)
    np.testing.assert_allclose(got.loc[want_flow.index, "flow_vph"], want_flow, rtol=1e-9)


def test_volume_speed_weeks_start_on_monday_and_months_on_the_first(env, readings):
    engine, city = env
    weeks = q.volume_speed(engine, city.id, MARCH, "week")
    assert (weeks["period_start"].dt.day_of_week == 0).all()
    rows = within(readings, "ts", MARCH)
    monday = (rows["ts"] - pd.to_timedelta(rows["ts"].dt.day_of_week, unit="D")).dt.floor("D")
    want = rows.groupby(monday)["speed_kmh"].mean()
    np.testing.assert_allclose(
        weeks.set_index("period_start").loc[want.index, "speed_kmh"], want, rtol=1e-9
    )
    months = q.volume_speed(engine, city.id, Filters(), "month")
    assert len(months) == 12
    assert (months["period_start"].dt.day == 1).all()


def test_fine_buckets_over_a_long_span_are_coarsened(env):
    engine, city = env
    year = q.volume_speed(engine, city.id, Filters(), "5min")
    assert set(year["bucket"]) == {"day"} and set(year["requested"]) == {"5min"}
    assert len(year) <= q.MAX_POINTS
    ten_days = q.volume_speed(
        engine, city.id, Filters(dt.date(2017, 3, 1), dt.date(2017, 3, 10)), "5min"
    )
    assert set(ten_days["bucket"]) == {"5min"}
    assert len(ten_days) == 10 * 288


def test_hour_weekday_matches_pandas(env, readings):
    engine, city = env
    got = q.hour_weekday(engine, city.id, MARCH).set_index(["weekday", "hour"])
    rows = within(readings, "ts", MARCH)
    keys = [rows["ts"].dt.day_of_week + 1, rows["ts"].dt.hour]
    want = rows.groupby(keys)["speed_kmh"].mean()
    want_flow = rows.groupby(keys)["volume"].mean() * 12
    assert len(got) == 7 * 24
    np.testing.assert_allclose(got["speed_kmh"].to_numpy(), want.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(got["flow_vph"].to_numpy(), want_flow.to_numpy(), rtol=1e-9)


# -- adaptive-signal pilot -------------------------------------------------------------------------


def test_pilot_start_comes_from_the_city_folder(demo_city):
    assert q.pilot_start(demo_city) == dt.date(2017, 7, 1)


def test_pilot_daily_matches_pandas_and_ignores_the_dates(env, readings, detectors):
    engine, city = env
    start = q.pilot_start(city)
    got = q.pilot_daily(engine, city.id, MARCH, start)
    assert got["day"].min() < pd.Timestamp(MARCH.start), "not cut by the date filter"
    peak = readings[
        readings["ts"].dt.hour.isin([7, 8, 17, 18]) & (readings["ts"].dt.day_of_week < 5)
    ].merge(detectors[["detector_id", "pilot"]], on="detector_id", suffixes=("_r", ""))
    peak["group"] = np.where(peak["pilot"], "pilot", "control")
    want = peak.groupby([peak["ts"].dt.floor("D"), "group"])["speed_kmh"].agg(["mean", "count"])
    got = got.set_index(["day", "group"])
    assert len(got) == len(want)
    np.testing.assert_allclose(got.loc[want.index, "speed_kmh"], want["mean"], rtol=1e-9)
    np.testing.assert_array_equal(got.loc[want.index, "readings"], want["count"])
    assert (got["pilot_start"] == pd.Timestamp(start)).all()


def test_pilot_daily_applies_the_district_filter(env, readings):
    engine, city = env
    start = q.pilot_start(city)
    district = int(readings["district"].iloc[0])
    got = q.pilot_daily(engine, city.id, Filters(districts=(district,)), start)
    count = got["readings"].sum()
    rows = readings[
        (readings["district"] == district)
        & readings["ts"].dt.hour.isin([7, 8, 17, 18])
        & (readings["ts"].dt.day_of_week < 5)
    ]
    assert count == len(rows)
    assert q.pilot_daily(engine, city.id, NOWHERE, start).empty
    assert q.pilot_daily(engine, city.id, Filters(), None).empty


def test_did_summary_by_hand():
    start = dt.date(2017, 7, 1)
    (b0, _), (a0, _) = q.pilot_windows(start)
    daily = pd.DataFrame(
        {
            "day": pd.to_datetime([b0, b0, a0, a0, start]),
            "group": ["pilot", "control", "pilot", "control", "pilot"],
            "readings": [10, 10, 10, 10, 10],
            "speed_kmh": [40.0, 50.0, 46.0, 51.0, 999.0],  # the start day is in no window
            "pilot_start": pd.Timestamp(start),
        }
    )
    summary = q.did_summary(daily)
    assert summary["pilot_change"] == pytest.approx(0.15)
    assert summary["control_change"] == pytest.approx(0.02)
    assert summary["did"] == pytest.approx(0.13)
    assert q.pilot_windows(start) == (
        (dt.date(2017, 4, 8), dt.date(2017, 6, 30)),
        (dt.date(2017, 7, 29), dt.date(2017, 10, 20)),
    )


def test_did_recovers_the_modelled_pilot_effect(env):
    """The demo models +10-15% peak speed on pilot corridors; DiD should see a clear gain."""
    engine, city = env
    summary = q.did_summary(q.pilot_daily(engine, city.id, Filters(), q.pilot_start(city)))
    assert summary["did"] is not None
    assert 0.03 < summary["did"] < 0.3


def test_pilot_weekly_weights_days_by_readings():
    daily = pd.DataFrame(
        {
            "day": pd.to_datetime(["2017-07-03", "2017-07-04", "2017-07-10"]),
            "group": ["pilot"] * 3,
            "readings": [1, 3, 2],
            "speed_kmh": [10.0, 30.0, 20.0],
            "pilot_start": pd.Timestamp("2017-07-01"),
        }
    )
    weekly = q.pilot_weekly(daily)
    assert weekly["week"].tolist() == list(pd.to_datetime(["2017-07-03", "2017-07-10"]))
    assert weekly["speed_kmh"].tolist() == pytest.approx([25.0, 20.0])


# -- incidents and emergency runs ------------------------------------------------------------------


def test_incident_points_are_a_capped_deterministic_sample(env, incidents):
    engine, city = env
    got = q.incident_points(engine, city.id, MARCH, limit=50)
    rows = within(incidents, "detected_at", MARCH)
    assert len(got) == 50
    assert (got["total"] == len(rows)).all()
    assert set(got["incident_id"]) <= set(rows["incident_id"])
    again = q.incident_points(engine, city.id, MARCH, limit=50)
    assert again["incident_id"].tolist() == got["incident_id"].tolist()
    everything = q.incident_points(engine, city.id, MARCH, limit=100_000)
    assert len(everything) == len(rows)
    assert q.incident_points(engine, city.id, NOWHERE).empty


def test_incident_clearance_matches_pandas(env, incidents, two_districts):
    engine, city = env
    filters = Filters(MARCH.start, MARCH.end, two_districts)
    got = q.incident_clearance(engine, city.id, filters).set_index("type")
    rows = within(incidents, "detected_at", filters).dropna(subset=["cleared_at"])
    grouped = rows.groupby("type")["minutes"]
    assert sorted(got.index) == sorted(grouped.groups)
    np.testing.assert_array_equal(got.loc[grouped.size().index, "incidents"], grouped.size())
    for column, quantile in (("p25_min", 0.25), ("median_min", 0.5), ("p75_min", 0.75)):
        want = grouped.quantile(quantile)
        np.testing.assert_allclose(got.loc[want.index, column], want, rtol=1e-9)


def test_emergency_by_distance_matches_pandas(env, runs):
    engine, city = env
    filters = Filters(dt.date(2017, 6, 1), dt.date(2017, 12, 31))  # runs with and without priority
    got = q.emergency_by_distance(engine, city.id, filters)
    rows = within(runs, "started_at", filters)
    rows = rows[rows["distance_km"] > 0]
    assert set(rows["signal_priority"]) == {True, False}
    # bool keys: compare as dicts (a list of booleans given to .loc would act as a mask)
    totals = got[got["km_from"].isna()]
    want = rows.groupby("signal_priority")["travel_min"]
    assert dict(zip(totals["priority"], totals["runs"], strict=True)) == want.size().to_dict()
    medians = dict(zip(totals["priority"], totals["median_min"], strict=True))
    for priority, median in want.median().items():
        assert medians[priority] == pytest.approx(median, rel=1e-6)
    km = np.minimum(np.floor(rows["distance_km"]), q.EMERGENCY_MAX_KM).astype(int)
    bins = rows.groupby(["signal_priority", km])["travel_min"]
    got_bins = got[got["km_from"].notna()]
    keys = list(zip(got_bins["priority"], got_bins["km_from"].astype(int), strict=True))
    assert dict(zip(keys, got_bins["runs"], strict=True)) == bins.size().to_dict()
    got_medians = dict(zip(keys, got_bins["median_min"], strict=True))
    for key, median in bins.median().items():
        assert got_medians[key] == pytest.approx(median, rel=1e-6)
    assert max(k for _, k in keys) <= q.EMERGENCY_MAX_KM


# -- real metro flows ----------------------------------------------------------------------------


def test_metro_days_sum_the_stations(env, metro):
    engine, city = env
    got = q.metro_flow(engine, city.id, "days").set_index("ts")
    want = metro.groupby("ts")[["inflow", "outflow"]].sum()
    assert len(got) == len(want)
    np.testing.assert_array_equal(got.loc[want.index, "inflow"], want["inflow"])
    np.testing.assert_array_equal(got.loc[want.index, "outflow"], want["outflow"])


def test_metro_profile_averages_weekdays_and_weekends(env, metro):
    engine, city = env
    got = q.metro_flow(engine, city.id, "profile").set_index(["day_type", "minute_of_day"])
    network = metro.groupby("ts")["inflow"].sum().reset_index()
    network["day_type"] = np.where(network["ts"].dt.day_of_week >= 5, "weekend", "weekday")
    network["minute_of_day"] = network["ts"].dt.hour * 60 + network["ts"].dt.minute
    want = network.groupby(["day_type", "minute_of_day"])["inflow"].mean()
    assert len(got) == len(want) == 2 * 144
    np.testing.assert_allclose(got.loc[want.index, "inflow"], want, rtol=1e-9)
    assert got.loc[("weekday", 8 * 60 + 30), "time"] == "08:30"


# -- empty selections ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        lambda e, c, f: q.district_speeds(e, c, f),
        lambda e, c, f: q.volume_speed(e, c, f, "day"),
        lambda e, c, f: q.hour_weekday(e, c, f),
        lambda e, c, f: q.incident_points(e, c, f),
        lambda e, c, f: q.incident_clearance(e, c, f),
        lambda e, c, f: q.emergency_by_distance(e, c, f),
    ],
)
def test_an_empty_selection_gives_an_empty_frame(env, query):
    engine, city = env
    assert query(engine, city.id, NOWHERE).empty
    outside = Filters(dt.date(2030, 1, 1), dt.date(2030, 1, 31))
    assert query(engine, city.id, outside).empty


def test_free_flow_of_detectors_none_of_which_has_a_free_flow_speed(monkeypatch):
    """A city whose readings give no detector a free-flow speed (e.g. a dataset replaced by a
    single reading) gets NaN for each, not an IndexError that breaks the district map."""
    import numpy as np
    import pandas as pd

    from datasets.queries.traffic import speeds

    empty = pd.DataFrame({"detector_id": pd.Series([], dtype="str"), "free_flow_kmh": []})
    monkeypatch.setattr(speeds, "free_flow_speeds", lambda engine, city_id: empty)
    out = speeds.free_flow_of(None, "x", ["d1", "d2"])
    assert out.shape == (2,) and np.isnan(out).all()
    some = pd.DataFrame({"detector_id": ["d2"], "free_flow_kmh": [61.5]})
    monkeypatch.setattr(speeds, "free_flow_speeds", lambda engine, city_id: some)
    out = speeds.free_flow_of(None, "x", ["d1", "d2"])
    assert np.isnan(out[0]) and out[1] == 61.5
