"""SDG indicators: each computation against a hand computation on small data, the choice of
period, trend and status, the gaps, and `evaluate()` on the demo city checked with plain pandas
reading the Parquet files."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from datasets import indicators as ind
from datasets.indicators import (
    CHINA_GOOD_DAYS,
    REGISTRY,
    WHO_PM25,
    WHO_PM25_DAYS,
    Gap,
    Inputs,
    Result,
    complete_years,
    compute,
    covered_days,
    population_weighted_mean,
    rate_per_resident,
    ratio_of_sums,
    reporting_period,
    share_above,
    share_at_most,
    status_of,
    travel_time_index,
    waste_share,
)

DEMO_CITY = "hangzhou-2017"


def days(start: str, end: str) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="D")


# -- pure computations against hand computations ---------------------------------------------


def test_population_weighted_mean_by_hand():
    rows = pd.DataFrame(
        {
            "station_id": ["A", "A", "B", "C"],
            "district": [1, 1, 1, 2],
            "pm25": [10.0, 20.0, 30.0, 40.0],
        }
    )
    # station means A 15, B 30, C 40; district 1: (15 + 30) / 2 = 22.5, district 2: 40;
    # weighted by 100 and 300 residents: (22.5 * 100 + 40 * 300) / 400 = 35.625
    assert population_weighted_mean(rows, "pm25", {1: 100, 2: 300}) == pytest.approx(35.625)
    # without populations (or a station without district): plain mean of station means
    assert population_weighted_mean(rows, "pm25", {}) == pytest.approx((15 + 30 + 40) / 3)
    orphan = rows.assign(district=[1, 1, 1, None])
    assert population_weighted_mean(orphan, "pm25", {1: 100}) == pytest.approx(85 / 3)
    assert population_weighted_mean(rows.assign(pm25=np.nan), "pm25", {1: 1}) is None


def test_missing_daily_values_do_not_count():
    rows = pd.DataFrame(
        {"station_id": ["A", "A", "A"], "district": [1, 1, 1], "pm25": [10.0, np.nan, 20.0]}
    )
    assert population_weighted_mean(rows, "pm25", {1: 5}) == pytest.approx(15.0)


def test_shares_of_days():
    rows = pd.DataFrame({"aqi": [50.0, 100.0, 101.0, np.nan], "pm25": [15.0, 15.1, 3.0, 80.0]})
    assert share_at_most(rows, "aqi", 100) == pytest.approx(2 / 3)  # NaN day left out
    assert share_above(rows, "pm25", 15.0) == pytest.approx(2 / 4)  # 15.0 is not above
    assert share_at_most(rows.iloc[:0], "aqi", 100) is None


def test_ratio_and_rates():
    energy = pd.DataFrame({"renewable_gwh": [1.0, 3.0], "electricity_gwh": [10.0, 30.0]})
    assert ratio_of_sums(energy, "renewable_gwh", "electricity_gwh") == pytest.approx(0.1)
    # 730 crashes in 365 days for 200,000 residents: 730 per year = 365 per 100,000
    assert rate_per_resident(730, Inputs(200_000, {}, 365), 100_000) == pytest.approx(365.0)
    # 3,000 bike trips over 30 days for 50,000 residents: 100 a day = 2 per 1,000 a day
    assert rate_per_resident(3000, Inputs(50_000, {}, 30), 1000, 1) == pytest.approx(2.0)
    assert rate_per_resident(10, Inputs(None, {}, 30)) is None


def test_travel_time_index_by_hand():
    rows = pd.DataFrame(
        {
            "detector_id": ["d1", "d1", "d2"],
            "moving": [10, 10, 4],
            "inverse_speed_sum": [10 / 40, 10 / 20, 4 / 50],
            "free_flow_kmh": [60.0, 60.0, 50.0],
        }
    )
    # d1: mean(1/v) = (0.25 + 0.5) / 20 = 0.0375, × 60 = 2.25; d2: 0.02 × 50 = 1.0
    assert travel_time_index(rows, Inputs()) == pytest.approx((2.25 + 1.0) / 2)
    assert travel_time_index(rows.assign(moving=0), Inputs()) is None


def test_waste_shares_by_hand():
    rows = pd.DataFrame(
        {
            "stream": ["Recycled", "landfilled", "incinerated", "kitchen"],
            "tonnes": [10.0, 40.0, 40.0, 10.0],
        }
    )
    assert waste_share(rows, ind.RECYCLED_STREAMS) == pytest.approx(0.10)
    assert waste_share(rows, ind.LANDFILL_STREAMS, complement=True) == pytest.approx(0.60)
    # msw per resident: 100 t in 30 days for 1,000 residents = 3.333 kg a day
    msw = REGISTRY["msw_per_resident"].compute(rows, Inputs(1000, {}, 30))
    assert msw == pytest.approx(100_000 / 30 / 1000)


def test_transit_uses_metro_and_bus():
    rows = pd.DataFrame(
        {"metro_riders": [100.0, 200.0], "bus_riders": [50.0, 50.0], "public_bike_trips": [1, 1]}
    )
    # 400 boardings in 2 days for 1,000 residents: 200 a day × 365 / 1,000 = 73 a year
    value = REGISTRY["transit_per_resident"].compute(rows, Inputs(1000, {}, 2))
    assert value == pytest.approx(73.0)
    assert REGISTRY["transit_passengers"].compute(rows, Inputs(None, {}, 2)) == pytest.approx(
        200 * 365 / 1e6
    )
    no_bus = rows.assign(bus_riders=np.nan)
    assert ind.transit_variant(no_bus, Inputs()) == "metro_only"
    assert ind.transit_variant(rows, Inputs()) == ""


# -- periods, trends, status -----------------------------------------------------------------------


def test_complete_years_need_half_of_every_month():
    full_2016 = days("2016-01-01", "2016-12-31")
    half_2017 = days("2017-01-01", "2017-06-30")
    assert complete_years(full_2016.append(half_2017)) == [2016]
    # 15 days of each month: not half of a 31-day month
    sparse = pd.DatetimeIndex(
        [pd.Timestamp(2015, m, d) for m in range(1, 13) for d in range(1, 16)]
    )
    assert complete_years(sparse) == []
    # 16 days of each month is enough
    dense = pd.DatetimeIndex([pd.Timestamp(2015, m, d) for m in range(1, 13) for d in range(1, 17)])
    assert complete_years(dense) == [2015]


def test_reporting_period_is_the_latest_complete_year_else_the_span():
    period = reporting_period(days("2013-03-01", "2017-02-28"))  # the Beijing file's span
    assert (period.start, period.end, period.partial) == (
        dt.date(2016, 1, 1),
        dt.date(2016, 12, 31),
        False,
    )
    assert period.years == (2014, 2015, 2016)
    partial = reporting_period(days("2017-03-01", "2017-05-20"))
    assert (partial.start, partial.end, partial.partial) == (
        dt.date(2017, 3, 1),
        dt.date(2017, 5, 20),
        True,
    )
    assert reporting_period(pd.DatetimeIndex([])) is None


def test_monthly_inputs_cover_their_whole_month():
    covered = covered_days(pd.Series(pd.to_datetime(["2017-02-01", "2017-03-01"])), monthly=True)
    assert len(covered) == 28 + 31


@pytest.mark.parametrize(
    ("value", "status", "css"),
    [
        (4.9, "who_aqg", "good"),
        (5.0, "who_aqg", "good"),
        (9.0, "it4", "fair"),
        (12.0, "it3", "fair"),
        (25.0, "it2", "poor"),
        (30.0, "it1", "poor"),
        (35.1, "above_it", "bad"),
    ],
)
def test_pm25_status_is_the_strictest_who_target_met(value, status, css):
    assert status_of(value, WHO_PM25, "down", pd.DataFrame(), "month") == (status, css)


def test_status_against_plain_references():
    empty = pd.DataFrame()
    assert status_of(0.8, CHINA_GOOD_DAYS, "up", empty, "month") == ("meets", "good")
    assert status_of(0.79, CHINA_GOOD_DAYS, "up", empty, "month") == ("misses", "bad")
    assert status_of(0.01, WHO_PM25_DAYS, "down", empty, "month") == ("meets", "good")
    assert status_of(None, WHO_PM25, "down", empty, "month") == ("no_data", "neutral")


def test_status_without_reference_follows_the_yearly_trend():
    years = pd.DataFrame({"period": pd.to_datetime(["2015", "2016"]), "value": [10.0, 9.0]})
    assert status_of(9.0, None, "down", years, "year") == ("improving", "good")
    assert status_of(9.0, None, "up", years, "year") == ("worsening", "bad")
    flat = years.assign(value=[10.0, 10.1])
    assert status_of(10.1, None, "up", flat, "year") == ("stable", "neutral")
    # monthly values of one year are seasons, not a trend
    assert status_of(9.0, None, "down", years, "month") == ("baseline", "neutral")


# -- compute(): one indicator end to end on a small frame ------------------------------------------


def good_days_frame() -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """2015: polluted Jan-Feb (59 days); 2016: polluted Jan-Mar (91 days); AQI 80 otherwise."""
    dates = days("2015-01-01", "2016-12-31")
    polluted = ((dates.year == 2015) & (dates.month <= 2)) | (
        (dates.year == 2016) & (dates.month <= 3)
    )
    frame = pd.DataFrame({"date": dates, "aqi": np.where(polluted, 150.0, 80.0), "pm25": 20.0})
    return frame, covered_days(frame["date"])


def test_compute_good_days_over_two_complete_years():
    frame, covered = good_days_frame()
    result = compute(REGISTRY["good_air_days"], frame, covered, Inputs())
    assert isinstance(result, Result)
    assert result.period == (dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    assert result.value == pytest.approx(275 / 366)  # 2016 is a leap year
    assert result.trend_unit == "year"
    assert list(result.trend["value"]) == pytest.approx([306 / 365, 275 / 366])
    assert result.status == "misses"  # below China's 80 % (a reference beats the trend)
    assert list(result.months["value"])[:4] == pytest.approx([0, 0, 0, 1])
    assert len(result.months) == 12


def test_compute_over_a_partial_period_uses_monthly_trend():
    frame, _ = good_days_frame()
    part = frame[(frame["date"] >= "2016-04-01") & (frame["date"] <= "2016-06-15")]
    result = compute(REGISTRY["good_air_days"], part, covered_days(part["date"]), Inputs())
    assert result.partial and result.trend_unit == "month"
    assert result.period == (dt.date(2016, 4, 1), dt.date(2016, 6, 15))
    assert list(result.trend["period"].dt.month) == [4, 5, 6]
    assert result.value == 1.0


def test_compute_refuses_with_gaps():
    frame, covered = good_days_frame()
    gap = compute(REGISTRY["good_air_days"], frame.drop(columns="aqi"), covered, Inputs())
    assert gap == Gap("good_air_days", "11.6.2", "no_column", ("air_quality_hourly",), "aqi")
    crashes = pd.DataFrame({"date": days("2017-01-01", "2017-12-31"), "crashes": 2})
    gap = compute(REGISTRY["crashes_per_100k"], crashes, covered_days(crashes["date"]), Inputs())
    assert isinstance(gap, Gap) and gap.reason == "no_population"
    result = compute(
        REGISTRY["crashes_per_100k"], crashes, covered_days(crashes["date"]), Inputs(1_000_000)
    )
    assert result.value == pytest.approx(730 / 1_000_000 * 100_000)  # 73 per 100,000


# -- evaluate() on the demo city, checked with pandas over the Parquet files ----------------------


@pytest.fixture(scope="module")
def evaluation(demo_workspace, demo_city):
    return ind.evaluate(demo_workspace.engine, demo_city)


def parquet(workspace, kind: str) -> pd.DataFrame:
    found = workspace.catalog.find(DEMO_CITY, kind)
    return pq.read_table(found.folder).to_pandas()


def test_demo_city_computes_every_indicator(evaluation):
    assert {r.id for r in evaluation.results} == set(REGISTRY)
    assert {g.reason for g in evaluation.gaps} == {"no_kind"}
    for result in evaluation.results:
        assert result.period == (dt.date(2017, 1, 1), dt.date(2017, 12, 31))
        assert result.trend_unit == "month" and len(result.trend) == 12
        assert result.datasets, result.id
    targets = [target for target, _, _ in evaluation.by_target()]
    assert targets[:5] == ["11.2", "11.6.1", "11.6.2", "3.6", "3.9"]


def test_demo_renewable_share_matches_pandas(evaluation, demo_workspace):
    energy = parquet(demo_workspace, "energy_daily")
    expected = energy["renewable_gwh"].sum() / energy["electricity_gwh"].sum()
    assert evaluation.result("renewable_share").value == pytest.approx(expected, rel=1e-6)


def test_demo_waste_and_crashes_match_pandas(evaluation, demo_workspace, demo_city):
    waste = parquet(demo_workspace, "waste_monthly")
    recycled = waste.loc[waste["stream"].str.lower() == "recycled", "tonnes"].sum()
    assert evaluation.result("recycled_share").value == pytest.approx(
        recycled / waste["tonnes"].sum()
    )
    per_day = waste["tonnes"].sum() * 1000 / 365 / demo_city.population
    assert evaluation.result("msw_per_resident").value == pytest.approx(per_day)
    incidents = parquet(demo_workspace, "incidents")
    crashes = (incidents["type"] == "crash").sum()
    assert evaluation.result("crashes_per_100k").value == pytest.approx(
        crashes / demo_city.population * 100_000
    )
    runs = parquet(demo_workspace, "emergency_runs")
    assert evaluation.result("emergency_response").value == pytest.approx(
        runs["travel_min"].median()
    )


def test_demo_pm25_matches_pandas(evaluation, demo_workspace, demo_city):
    """Population-weighted annual mean from the hourly file: daily means with ≥ 20 hours,
    urban stations, station means averaged per district, weighted by district population."""
    hourly = parquet(demo_workspace, "air_quality_hourly")
    stations = parquet(demo_workspace, "air_stations")
    urban = stations[stations["kind"] != "background"]
    hourly = hourly[hourly["station_id"].isin(urban["station_id"])]
    hourly = hourly.assign(day=hourly["ts"].dt.floor("D"))
    daily = hourly.groupby(["station_id", "day"])["pm25"].agg(["mean", "count"]).reset_index()
    daily = daily[daily["count"] >= 20]
    per_station = daily.groupby("station_id")["mean"].mean().rename("value").reset_index()
    per_station = per_station.merge(urban[["station_id", "district"]], on="station_id")
    per_district = per_station.groupby("district")["value"].mean()
    weights = pd.Series({d.code: d.population for d in demo_city.districts})[per_district.index]
    expected = (per_district * weights).sum() / weights.sum()
    result = evaluation.result("pm25_annual")
    assert result.value == pytest.approx(expected, rel=1e-5)
    assert result.variant == "" and result.stations == len(per_station)


def test_evaluation_is_cached_until_the_data_change(demo_workspace, demo_city, evaluation):
    assert ind.evaluate(demo_workspace.engine, demo_city) is evaluation


def test_a_city_with_air_quality_only_lists_the_rest_as_gaps(tmp_path):
    from datasets.ingest import UploadMeta, ingest
    from datasets.workspace import Workspace
    from tests.datasets.test_city_admin import add_beijing, beijing_head

    workspace = Workspace.open(tmp_path / "data")
    city_id = add_beijing(workspace.data_dir)
    air = beijing_head(tmp_path, days=45)
    ingest(air, workspace, meta=UploadMeta(title="Beijing air", city=city_id))
    evaluation = ind.evaluate(workspace.engine, workspace.city(city_id))
    computed = {r.id for r in evaluation.results}
    assert computed == {
        "pm25_annual",
        "pm10_annual",
        "no2_annual",
        "good_air_days",
        "pm25_days_over_who",
    }
    missing = {g.id: g for g in evaluation.gaps if g.reason == "no_dataset"}
    assert missing["renewable_share"].kinds == ("energy_daily",)
    assert missing["travel_time_index"].kinds == ("traffic_readings",)
    pm25 = evaluation.result("pm25_annual")
    assert pm25.variant == "unweighted" and pm25.stations == 1
    assert pm25.partial and pm25.period == (dt.date(2013, 3, 1), dt.date(2013, 4, 14))


def _find(component, predicate):
    """The first Dash component of a tree (lists included) for which `predicate` holds."""
    if predicate(component):
        return component
    children = getattr(component, "children", component if isinstance(component, list) else None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, predicate)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_recycled_share_is_rounded_alike_on_sdg_and_on_the_kpi_cards(
    demo_workspace, demo_city, lang
):
    """The overview's KPI card and the /sdg card write one share with the same rounding
    (they read 2.9 % and 2 % for one figure)."""
    import dataclasses

    import pages.ecology
    from components.annex import value_text
    from components.charts import ChartContext
    from components.routing import filters_from_data
    from datasets.queries import ecology as eq

    ctx = ChartContext(
        lang=lang,
        theme="light",
        city=demo_city,
        option=None,
        page_options={},
        engine=demo_workspace.engine,
        filters=filters_from_data({}),
    )
    section = pages.ecology.kpi_section(ctx)
    card = _find(section, lambda c: getattr(c, "id", None) == "kpi-eco-recycled")
    number = _find(card, lambda c: getattr(c, "className", None) == "kpi-number")
    shown = number.children
    kpis = eq.kpis(demo_workspace.engine, demo_city.id, ctx.filters).set_index("kpi")
    kpi_value = float(kpis.loc["recycled", "value"])  # the figure the card shows
    evaluation = ind.evaluate(demo_workspace.engine, demo_city)
    result = next(r for r in evaluation.results if r.id == "recycled_share")
    # the same figure, written by the /sdg card
    assert value_text(dataclasses.replace(result, value=kpi_value), lang) == shown
