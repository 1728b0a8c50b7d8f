"""SDG indicators: which ones a city's datasets can compute, their values, trends and status.

Two layers, kept apart so the arithmetic can be checked by hand:

* **Inputs** (`fetch_*`): one small frame per kind of data, read through the query engine
  (station-day PM2.5, city-day AQI, detector-day inverse speeds, crashes per day, electricity per
  day, waste per month …). Each has a `date` column (a day, or the first day of a month).
* **Computations** (everything else): pure functions of those frames. An `Indicator` names its
  SDG target, the input it reads, the function that turns the input's rows for one period into
  one number, its unit and its reference. `evaluate()` picks the reporting period (the latest
  calendar year the data covers completely, else the whole span, flagged as partial), the trend
  (one value per complete year when there are two or more, else one per month of the reporting
  period, which is a seasonal profile and is said to be one) and the status (against the
  reference where one exists, else the direction of the yearly trend, else "baseline").

Indicators whose datasets the city lacks, or which no kind of dataset in the catalog can feed
(road deaths, deaths from air pollution, water quality, greenhouse-gas inventories …), come back
as `Gap`s naming the kind of dataset that would fill them.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cities import CityProfile
from .query import Filters, MissingDataset, QueryEngine

TARGET_ORDER = (
    "11.2",
    "11.6.1",
    "11.6.2",
    "3.6",
    "3.9",
    "7.2",
    "9.1",
    "12.5",
    "13.2",
    "6.3",
    "11.7",
)
GOOD_AQI = 100  # HJ 633-2012: "excellent" and "good" days (优良天数)
WHO_PM25_24H = 15.0  # WHO 2021 24-hour guideline (99th percentile: 3-4 exceedance days a year)
CRASH_TYPES = ("crash", "collision", "accident")
RECYCLED_STREAMS = ("recycled", "recycling", "recyclables")
LANDFILL_STREAMS = ("landfilled", "landfill")
MIN_MONTH_SHARE = 0.5  # a month counts as covered with data on at least half its days
STABLE = 0.02  # a yearly change within ±2 % is "stable"


# -- declarations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What a value is judged against. `direction` "max": at most `value` meets it."""

    key: str  # message key naming the reference and its source
    value: float
    direction: str = "max"
    interim: tuple[float, ...] = ()  # WHO interim targets, loosest first


WHO_PM25 = Reference("sdg.ref.who_pm25", 5.0, interim=(35.0, 25.0, 15.0, 10.0))
WHO_PM10 = Reference("sdg.ref.who_pm10", 15.0, interim=(70.0, 50.0, 30.0, 20.0))
WHO_NO2 = Reference("sdg.ref.who_no2", 10.0, interim=(40.0, 30.0, 20.0))
WHO_PM25_DAYS = Reference("sdg.ref.who_pm25_24h", 0.01)  # 3-4 days of 365 ≈ 1 %
CHINA_GOOD_DAYS = Reference("sdg.ref.china_good_days", 0.80, direction="min")


@dataclass(frozen=True)
class Inputs:
    """What a computation may know besides the rows: the city's people and the period's days."""

    population: int | None = None
    district_population: dict[int, int] = field(default_factory=dict)
    days: int = 0  # days of the period covered by the input


Compute = Callable[[pd.DataFrame, Inputs], float | None]


@dataclass(frozen=True)
class Indicator:
    id: str
    target: str
    source: str  # key of SOURCES: the input frame read
    compute: Compute
    unit: str  # a symbol (µg/m³, %, min) or a message key starting with "sdg.unit."
    better: str  # "down" or "up"
    digits: int = 1  # decimals shown (of the percentage when `percent`), as on KPI cards
    percent: bool = False  # the value is a fraction shown as a percentage
    reference: Reference | None = None
    per_resident: bool = False  # needs the city's population
    columns: tuple[str, ...] = ()  # input columns that must hold data
    variant: Callable[[pd.DataFrame, Inputs], str] | None = None  # method variant (a key suffix)

    @property
    def kinds(self) -> tuple[str, ...]:
        return SOURCES[self.source].kinds


@dataclass(frozen=True)
class GapSpec:
    """An indicator no kind of dataset in the catalog can feed yet."""

    id: str
    target: str


@dataclass(frozen=True)
class Gap:
    id: str  # indicator id or GapSpec id; names `sdg.ind.<id>.name` / `sdg.gap.<id>.name`
    target: str
    reason: str  # no_dataset | no_column | no_population | no_data | no_kind
    kinds: tuple[str, ...] = ()
    detail: str = ""  # the missing column, for no_column


@dataclass(frozen=True)
class Result:
    indicator: Indicator
    value: float | None
    period: tuple[dt.date, dt.date]
    partial: bool  # the period is not a whole calendar year
    trend: pd.DataFrame  # columns: period (Timestamp), value
    trend_unit: str  # year | month
    months: pd.DataFrame  # monthly values within the reporting period: period, value
    status: str  # see `status_of`
    status_class: str  # good | fair | poor | bad | neutral
    variant: str
    datasets: tuple  # catalog Dataset objects behind the value
    stations: int | None = None  # air-quality stations behind the value

    @property
    def id(self) -> str:
        return self.indicator.id

    @property
    def target(self) -> str:
        return self.indicator.target


@dataclass(frozen=True)
class Evaluation:
    city: CityProfile
    results: tuple[Result, ...]
    gaps: tuple[Gap, ...]
    computed_at: dt.datetime

    def by_target(self) -> list[tuple[str, list[Result], list[Gap]]]:
        targets = sorted(
            {r.target for r in self.results} | {g.target for g in self.gaps}, key=target_key
        )
        return [
            (
                target,
                [r for r in self.results if r.target == target],
                [g for g in self.gaps if g.target == target],
            )
            for target in targets
        ]

    def result(self, indicator_id: str) -> Result | None:
        return next((r for r in self.results if r.id == indicator_id), None)

    @property
    def datasets(self) -> list:
        seen: dict[str, object] = {}
        for result in self.results:
            for dataset in result.datasets:
                seen.setdefault(dataset.id, dataset)
        return list(seen.values())


def target_key(target: str) -> tuple:
    order = TARGET_ORDER.index(target) if target in TARGET_ORDER else len(TARGET_ORDER)
    return (order, tuple(int(p) for p in target.split(".") if p.isdigit()))


# -- pure computations -----------------------------------------------------------------------------


def population_weighted_mean(
    rows: pd.DataFrame, column: str, district_population: dict[int, int]
) -> float | None:
    """Mean of each station's mean, weighted by the population of its district.

    Stations of one district are averaged first, then districts are weighted by their residents
    (the SDG 11.6.2 method, with districts standing in for grid cells). Without a district or a
    population for every station the plain mean of the station means is returned.
    """
    valid = rows.dropna(subset=[column])
    if valid.empty:
        return None
    per_station = valid.groupby("station_id").agg(
        value=(column, "mean"), district=("district", "first")
    )
    if _weighted(per_station, district_population):
        per_district = per_station.groupby("district")["value"].mean()
        weights = np.array([district_population[int(d)] for d in per_district.index], float)
        return float((per_district.to_numpy() * weights).sum() / weights.sum())
    return float(per_station["value"].mean())


def _weighted(per_station: pd.DataFrame, district_population: dict[int, int]) -> bool:
    if not district_population or per_station["district"].isna().any():
        return False
    return all(district_population.get(int(d), 0) > 0 for d in per_station["district"])


def weighting_variant(column: str) -> Callable[[pd.DataFrame, Inputs], str]:
    def variant(rows: pd.DataFrame, inputs: Inputs) -> str:
        valid = rows.dropna(subset=[column])
        per_station = valid.groupby("station_id").agg(district=("district", "first"))
        return "" if _weighted(per_station, inputs.district_population) else "unweighted"

    return variant


def share_at_most(rows: pd.DataFrame, column: str, limit: float) -> float | None:
    values = rows[column].dropna().astype("float64")
    return float((values <= limit).mean()) if len(values) else None


def share_above(rows: pd.DataFrame, column: str, limit: float) -> float | None:
    values = rows[column].dropna().astype("float64")
    return float((values > limit).mean()) if len(values) else None


def ratio_of_sums(rows: pd.DataFrame, numerator: str, denominator: str) -> float | None:
    total = rows[denominator].sum()
    return float(rows[numerator].sum() / total) if len(rows) and total else None


def rate_per_resident(
    total: float, inputs: Inputs, per: float = 1.0, over_days: float = 365.0
) -> float | None:
    """`total` over `inputs.days`, scaled to `over_days` days and `per` residents."""
    if not inputs.population or not inputs.days:
        return None
    return float(total / inputs.days * over_days / inputs.population * per)


def travel_time_index(rows: pd.DataFrame, inputs: Inputs) -> float | None:
    """Mean over detectors of free-flow speed × mean(1 / speed) (as the traffic page does)."""
    moving = rows[rows["moving"] > 0]
    if moving.empty:
        return None
    per = moving.groupby("detector_id").agg(
        inv=("inverse_speed_sum", "sum"), n=("moving", "sum"), ff=("free_flow_kmh", "first")
    )
    tti = (per["ff"] * per["inv"] / per["n"]).dropna()
    return float(tti.mean()) if len(tti) else None


def median_of(rows: pd.DataFrame, column: str) -> float | None:
    values = rows[column].dropna()
    return float(values.median()) if len(values) else None


def _transit_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in ("metro_riders", "bus_riders") if c in rows and rows[c].notna().any()]


def transit_total(rows: pd.DataFrame) -> float:
    return float(sum(rows[c].sum() for c in _transit_columns(rows)))


def transit_variant(rows: pd.DataFrame, inputs: Inputs) -> str:
    return "" if _transit_columns(rows) == ["metro_riders", "bus_riders"] else "metro_only"


def waste_share(rows: pd.DataFrame, streams: tuple[str, ...], complement: bool = False):
    total = rows["tonnes"].sum()
    if not len(rows) or not total:
        return None
    part = rows.loc[rows["stream"].str.lower().isin(streams), "tonnes"].sum()
    share = part / total
    return float(1 - share if complement else share)


# -- the registry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    kinds: tuple[str, ...]  # every one is required
    monthly: bool = False  # one row per month
    events: bool = False  # rows are events: covered days come from the dataset's time span
    optional: tuple[str, ...] = ()  # read when present (e.g. air_stations for districts)


SOURCES: dict[str, Source] = {
    "air_stations_daily": Source(("air_quality_hourly",), optional=("air_stations",)),
    "air_city_daily": Source(("air_quality_hourly",), optional=("air_stations",)),
    "traffic_daily": Source(("traffic_readings",)),
    "crashes_daily": Source(("incidents",), events=True),
    "runs": Source(("emergency_runs",), events=True),
    "mobility_daily": Source(("mobility_daily",)),
    "energy_daily": Source(("energy_daily",)),
    "waste_monthly": Source(("waste_monthly",), monthly=True),
}

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "transit_per_resident",
        "11.2",
        "mobility_daily",
        lambda r, i: rate_per_resident(transit_total(r), i) if _transit_columns(r) else None,
        "sdg.unit.trips_per_resident_year",
        "up",
        digits=0,
        per_resident=True,
        columns=("metro_riders",),
        variant=transit_variant,
    ),
    Indicator(
        "bike_trips_per_1000",
        "11.2",
        "mobility_daily",
        lambda r, i: rate_per_resident(r["public_bike_trips"].sum(), i, 1000, 1),
        "sdg.unit.trips_per_1000_day",
        "up",
        digits=1,
        per_resident=True,
        columns=("public_bike_trips",),
    ),
    Indicator(
        "travel_time_index",
        "11.2",
        "traffic_daily",
        travel_time_index,
        "sdg.unit.index",
        "down",
        digits=2,
    ),
    Indicator(
        "msw_per_resident",
        "11.6.1",
        "waste_monthly",
        lambda r, i: rate_per_resident(r["tonnes"].sum() * 1000, i, 1, 1),
        "sdg.unit.kg_per_resident_day",
        "down",
        digits=2,
        per_resident=True,
    ),
    Indicator(
        "msw_not_landfilled",
        "11.6.1",
        "waste_monthly",
        lambda r, i: waste_share(r, LANDFILL_STREAMS, complement=True),
        "%",
        "up",
        digits=0,
        percent=True,
    ),
    Indicator(
        "pm25_annual",
        "11.6.2",
        "air_stations_daily",
        lambda r, i: population_weighted_mean(r, "pm25", i.district_population),
        "µg/m³",
        "down",
        reference=WHO_PM25,
        columns=("pm25",),
        variant=weighting_variant("pm25"),
    ),
    Indicator(
        "pm10_annual",
        "11.6.2",
        "air_stations_daily",
        lambda r, i: population_weighted_mean(r, "pm10", i.district_population),
        "µg/m³",
        "down",
        reference=WHO_PM10,
        columns=("pm10",),
        variant=weighting_variant("pm10"),
    ),
    Indicator(
        "good_air_days",
        "11.6.2",
        "air_city_daily",
        lambda r, i: share_at_most(r, "aqi", GOOD_AQI),
        "%",
        "up",
        digits=0,
        percent=True,
        reference=CHINA_GOOD_DAYS,
        columns=("aqi",),
    ),
    Indicator(
        "crashes_per_100k",
        "3.6",
        "crashes_daily",
        lambda r, i: rate_per_resident(r["crashes"].sum(), i, 100_000),
        "sdg.unit.per_100k_year",
        "down",
        digits=0,
        per_resident=True,
    ),
    Indicator(
        "emergency_response",
        "3.6",
        "runs",
        lambda r, i: median_of(r, "travel_min"),
        "min",
        "down",
    ),
    Indicator(
        "pm25_days_over_who",
        "3.9",
        "air_city_daily",
        lambda r, i: share_above(r, "pm25", WHO_PM25_24H),
        "%",
        "down",
        digits=0,
        percent=True,
        reference=WHO_PM25_DAYS,
        columns=("pm25",),
    ),
    Indicator(
        "no2_annual",
        "3.9",
        "air_stations_daily",
        lambda r, i: population_weighted_mean(r, "no2", i.district_population),
        "µg/m³",
        "down",
        reference=WHO_NO2,
        columns=("no2",),
        variant=weighting_variant("no2"),
    ),
    Indicator(
        "renewable_share",
        "7.2",
        "energy_daily",
        lambda r, i: ratio_of_sums(r, "renewable_gwh", "electricity_gwh"),
        "%",
        "up",
        percent=True,
    ),
    Indicator(
        "transit_passengers",
        "9.1",
        "mobility_daily",
        lambda r, i: transit_total(r) / i.days * 365 / 1e6 if i.days else None,
        "sdg.unit.million_per_year",
        "up",
        digits=0,
        columns=("metro_riders",),
        variant=transit_variant,
    ),
    Indicator(
        "recycled_share",
        "12.5",
        "waste_monthly",
        lambda r, i: waste_share(r, RECYCLED_STREAMS),
        "%",
        "up",
        percent=True,
    ),
)
REGISTRY: dict[str, Indicator] = {i.id: i for i in INDICATORS}

GAP_SPECS: tuple[GapSpec, ...] = (
    GapSpec("transit_access", "11.2"),
    GapSpec("road_deaths", "3.6"),
    GapSpec("air_deaths", "3.9"),
    GapSpec("ghg", "13.2"),
    GapSpec("water_quality", "6.3"),
    GapSpec("open_space", "11.7"),
)


# -- periods, trends, status -----------------------------------------------------------------------


def covered_days(dates: pd.Series, monthly: bool = False) -> pd.DatetimeIndex:
    """The days an input covers: its dates, or every day of each month for monthly inputs."""
    days = pd.DatetimeIndex(pd.to_datetime(dates.dropna().unique())).normalize().unique()
    if not monthly or days.empty:
        return days.sort_values()
    spans = [pd.date_range(d, d + pd.offsets.MonthEnd(0), freq="D") for d in days]
    return pd.DatetimeIndex(np.concatenate([s.values for s in spans])).unique().sort_values()


def complete_years(days: pd.DatetimeIndex) -> list[int]:
    """Calendar years in which every month has data on at least half of its days."""
    if days.empty:
        return []
    frame = pd.DataFrame({"year": days.year, "month": days.month})
    counts = frame.groupby(["year", "month"]).size()
    years = []
    for year in sorted(frame["year"].unique()):
        ok = all(
            counts.get((year, m), 0) >= MIN_MONTH_SHARE * calendar.monthrange(year, m)[1]
            for m in range(1, 13)
        )
        if ok:
            years.append(int(year))
    return years


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    partial: bool
    years: tuple[int, ...]  # complete years (the trend's points when two or more)


def reporting_period(days: pd.DatetimeIndex) -> Period | None:
    """The latest complete calendar year, else the whole span (partial)."""
    if days.empty:
        return None
    years = complete_years(days)
    if years:
        last = years[-1]
        return Period(dt.date(last, 1, 1), dt.date(last, 12, 31), False, tuple(years))
    return Period(days.min().date(), days.max().date(), True, ())


def _rows_in(frame: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    dates = frame["date"]
    return frame[
        (dates >= pd.Timestamp(start)) & (dates < pd.Timestamp(end) + pd.Timedelta(days=1))
    ]


def _days_in(days: pd.DatetimeIndex, start: dt.date, end: dt.date) -> int:
    return int(((days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))).sum())


def value_for(
    indicator: Indicator,
    frame: pd.DataFrame,
    days: pd.DatetimeIndex,
    start: dt.date,
    end: dt.date,
    inputs: Inputs,
) -> float | None:
    rows = _rows_in(frame, start, end)
    n = _days_in(days, start, end)
    if rows.empty and not n:
        return None
    value = indicator.compute(rows, Inputs(inputs.population, inputs.district_population, n))
    return None if value is None or not np.isfinite(value) else float(value)


def monthly_values(
    indicator: Indicator,
    frame: pd.DataFrame,
    days: pd.DatetimeIndex,
    period: Period,
    inputs: Inputs,
) -> pd.DataFrame:
    months = pd.date_range(
        pd.Timestamp(period.start).to_period("M").start_time,
        pd.Timestamp(period.end),
        freq="MS",
    )
    rows = []
    for month in months:
        start = max(month.date(), period.start)
        end = min((month + pd.offsets.MonthEnd(0)).date(), period.end)
        rows.append(
            {"period": month, "value": value_for(indicator, frame, days, start, end, inputs)}
        )
    out = pd.DataFrame(rows, columns=["period", "value"])
    return out.astype({"value": "float64"})


def yearly_values(
    indicator: Indicator,
    frame: pd.DataFrame,
    days: pd.DatetimeIndex,
    years: tuple[int, ...],
    inputs: Inputs,
) -> pd.DataFrame:
    rows = [
        {
            "period": pd.Timestamp(year, 1, 1),
            "value": value_for(
                indicator, frame, days, dt.date(year, 1, 1), dt.date(year, 12, 31), inputs
            ),
        }
        for year in years
    ]
    return pd.DataFrame(rows, columns=["period", "value"]).astype({"value": "float64"})


def status_of(value: float | None, reference: Reference | None, better: str, trend: pd.DataFrame,
              trend_unit: str) -> tuple[str, str]:  # fmt: skip
    """(status, class). With a reference: who_aqg, it1…it4 (the strictest WHO interim target
    met), above_it (none met), meets or misses. Without: improving, worsening or stable from the
    first to the last complete year, or baseline when there is only one."""
    if value is None:
        return "no_data", "neutral"
    if reference is not None:
        if reference.direction == "max":
            if value <= reference.value:
                return ("who_aqg", "good") if reference.interim else ("meets", "good")
            if reference.interim:
                met = [n for n, limit in enumerate(reference.interim, 1) if value <= limit]
                if not met:
                    return "above_it", "bad"
                strictest = max(met)
                share = strictest / len(reference.interim)
                return f"it{strictest}", "fair" if share > 0.5 else "poor"
            return "misses", "bad"
        return ("meets", "good") if value >= reference.value else ("misses", "bad")
    values = trend["value"].dropna() if trend_unit == "year" else pd.Series(dtype=float)
    if len(values) < 2 or values.iloc[0] == 0:
        return "baseline", "neutral"
    change = values.iloc[-1] / values.iloc[0] - 1
    if abs(change) < STABLE:
        return "stable", "neutral"
    improving = (change < 0) == (better == "down")
    return ("improving", "good") if improving else ("worsening", "bad")


def compute(
    indicator: Indicator,
    frame: pd.DataFrame,
    days: pd.DatetimeIndex,
    inputs: Inputs,
    datasets: tuple = (),
) -> Result | Gap:
    """One indicator from its input frame (pure: the unit tests call this directly)."""
    for column in indicator.columns:
        if column not in frame or frame[column].isna().all():
            return Gap(indicator.id, indicator.target, "no_column", indicator.kinds, column)
    if indicator.per_resident and not inputs.population:
        return Gap(indicator.id, indicator.target, "no_population", indicator.kinds)
    period = reporting_period(days)
    if period is None:
        return Gap(indicator.id, indicator.target, "no_data", indicator.kinds)
    value = value_for(indicator, frame, days, period.start, period.end, inputs)
    if value is None:
        return Gap(indicator.id, indicator.target, "no_data", indicator.kinds)
    months = monthly_values(indicator, frame, days, period, inputs)
    if len(period.years) >= 2:
        trend, unit = yearly_values(indicator, frame, days, period.years, inputs), "year"
    else:
        trend, unit = months, "month"
    status, css = status_of(value, indicator.reference, indicator.better, trend, unit)
    rows = _rows_in(frame, period.start, period.end)
    variant = indicator.variant(rows, inputs) if indicator.variant else ""
    stations = int(rows["station_id"].nunique()) if "station_id" in rows else None
    return Result(
        indicator=indicator,
        value=value,
        period=(period.start, period.end),
        partial=period.partial,
        trend=trend,
        trend_unit=unit,
        months=months,
        status=status,
        status_class=css,
        variant=variant,
        datasets=datasets,
        stations=stations,
    )


# -- inputs (queries) ------------------------------------------------------------------------------


def _present(engine: QueryEngine, city_id: str, kind: str) -> frozenset[str]:
    return frozenset(c["name"] for c in engine.dataset(city_id, kind).current.columns)


def _stations(engine: QueryEngine, city_id: str) -> pd.DataFrame | None:
    from .queries import ecology as q

    try:
        return q.stations(engine, city_id, Filters())
    except MissingDataset:
        return None


def fetch_air_stations_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    """Station-day 24-h means (≥ 20 valid hours) of the urban stations, with their district."""
    from .queries import ecology as q

    daily = q.station_daily_inputs(engine, city.id, Filters())
    table = _stations(engine, city.id)
    if table is not None and not table.empty:
        background = set(table.loc[table["kind"].eq("background").fillna(False), "station_id"])
        urban = daily[~daily["station_id"].isin(background)]
        daily = urban if not urban.empty else daily
        daily = daily.merge(table[["station_id", "district"]], on="station_id", how="left")
    else:
        daily = daily.assign(district=pd.NA)
    return daily[["date", "station_id", "district", "pm25", "pm10", "no2"]]


def fetch_air_city_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    """City-day values (mean over the urban stations) and the HJ 633-2012 AQI."""
    from .queries import ecology as q

    daily = q.city_daily_aqi(engine, city.id, Filters(), "hj633")
    out = daily[["date", "pm25", "aqi", "stations"]].copy()
    out["aqi"] = out["aqi"].astype("float64")
    return out


def fetch_traffic_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    from .queries import traffic as tq

    src = engine.source(city.id, "traffic_readings")
    frame = engine.frame(
        f"""
        SELECT CAST(CAST(ts AS DATE) AS TIMESTAMP) AS date, detector_id,
               count(*) FILTER (WHERE speed_kmh > 0) AS moving,
               sum(1.0 / speed_kmh) FILTER (WHERE speed_kmh > 0) AS inverse_speed_sum
        FROM {src}
        GROUP BY ALL
        ORDER BY date, detector_id
        """
    )
    free_flow = tq.free_flow_speeds(engine, city.id)[["detector_id", "free_flow_kmh"]]
    return frame.merge(free_flow, on="detector_id", how="left")


def fetch_crashes_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    src = engine.source(city.id, "incidents")
    types = ", ".join(f"'{t}'" for t in CRASH_TYPES)
    return engine.frame(
        f"""
        SELECT CAST(CAST(detected_at AS DATE) AS TIMESTAMP) AS date,
               count(*) FILTER (WHERE lower(type) IN ({types})) AS crashes
        FROM {src}
        GROUP BY 1
        ORDER BY 1
        """
    )


def fetch_runs(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    src = engine.source(city.id, "emergency_runs")
    return engine.frame(
        f"""
        SELECT CAST(CAST(started_at AS DATE) AS TIMESTAMP) AS date, travel_min, signal_priority
        FROM {src}
        ORDER BY started_at
        """
    )


def fetch_mobility_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    present = _present(engine, city.id, "mobility_daily")
    columns = [c for c in ("metro_riders", "bus_riders", "public_bike_trips") if c in present]
    select = ", ".join(f"SUM(CAST({c} AS DOUBLE)) AS {c}" for c in columns)
    frame = engine.frame(
        f"""
        SELECT CAST(date AS TIMESTAMP) AS date{", " + select if select else ""}
        FROM {engine.source(city.id, "mobility_daily")}
        GROUP BY 1
        ORDER BY 1
        """
    )
    for column in ("metro_riders", "bus_riders", "public_bike_trips"):
        if column not in frame:
            frame[column] = np.nan
    return frame


def fetch_energy_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    return engine.frame(
        f"""
        SELECT CAST(date AS TIMESTAMP) AS date,
               SUM(electricity_gwh) AS electricity_gwh, SUM(renewable_gwh) AS renewable_gwh
        FROM {engine.source(city.id, "energy_daily")}
        GROUP BY 1
        ORDER BY 1
        """
    )


def fetch_waste_monthly(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    return engine.frame(
        f"""
        SELECT CAST(date_trunc('month', month) AS TIMESTAMP) AS date, stream,
               SUM(tonnes) AS tonnes
        FROM {engine.source(city.id, "waste_monthly")}
        GROUP BY ALL
        ORDER BY 1, 2
        """
    )


FETCH: dict[str, Callable[[QueryEngine, CityProfile], pd.DataFrame]] = {
    "air_stations_daily": fetch_air_stations_daily,
    "air_city_daily": fetch_air_city_daily,
    "traffic_daily": fetch_traffic_daily,
    "crashes_daily": fetch_crashes_daily,
    "runs": fetch_runs,
    "mobility_daily": fetch_mobility_daily,
    "energy_daily": fetch_energy_daily,
    "waste_monthly": fetch_waste_monthly,
}


def _event_days(datasets: list) -> pd.DatetimeIndex:
    """Every day of the time span the catalog records for event datasets."""
    spans = [
        (d.current.time_min[:10], d.current.time_max[:10])
        for d in datasets
        if d.current.time_min and d.current.time_max
    ]
    if not spans:
        return pd.DatetimeIndex([])
    return pd.date_range(min(s[0] for s in spans), max(s[1] for s in spans), freq="D")


def city_inputs(city: CityProfile) -> Inputs:
    districts = {d.code: d.population for d in city.districts if d.population}
    population = city.population or (
        sum(districts.values()) if districts and len(districts) == len(city.districts) else None
    )
    return Inputs(population=population, district_population=districts)


_CACHE: dict[tuple, Evaluation] = {}
_CACHE_SIZE = 16
_LOCK = threading.Lock()


def fingerprint(engine: QueryEngine, city: CityProfile) -> tuple:
    """What an evaluation depends on: the city's datasets (and versions) and its population."""
    datasets = tuple(
        (d.id, d.current_version, d.updated_at) for d in engine.catalog.datasets(city=city.id)
    )
    people = (city.population, tuple((d.code, d.population) for d in city.districts))
    return (id(engine), city.id, str(city.folder), people, datasets)


def evaluate(engine: QueryEngine, city: CityProfile) -> Evaluation:
    """Every indicator of the registry for a city (cached until its datasets change)."""
    key = fingerprint(engine, city)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    evaluation = evaluate_now(engine, city)
    with _LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = evaluation
    return evaluation


def evaluate_now(engine: QueryEngine, city: CityProfile) -> Evaluation:
    """Every indicator of the registry for a city: results, and gaps for the rest."""
    catalog = engine.catalog
    inputs = city_inputs(city)
    frames: dict[str, tuple[pd.DataFrame, pd.DatetimeIndex, tuple] | None] = {}
    results: list[Result] = []
    gaps: list[Gap] = []
    for indicator in INDICATORS:
        source = SOURCES[indicator.source]
        missing = tuple(k for k in source.kinds if catalog.find(city.id, k) is None)
        if missing:
            gaps.append(Gap(indicator.id, indicator.target, "no_dataset", missing))
            continue
        if indicator.source not in frames:
            frames[indicator.source] = _load(engine, city, indicator.source)
        loaded = frames[indicator.source]
        if loaded is None:
            gaps.append(Gap(indicator.id, indicator.target, "no_data", source.kinds))
            continue
        frame, days, datasets = loaded
        outcome = compute(indicator, frame, days, inputs, datasets)
        (results if isinstance(outcome, Result) else gaps).append(outcome)
    gaps += [Gap(spec.id, spec.target, "no_kind") for spec in GAP_SPECS]
    return Evaluation(city, tuple(results), tuple(gaps), dt.datetime.now(dt.UTC))


def _load(engine: QueryEngine, city: CityProfile, name: str):
    source = SOURCES[name]
    datasets = tuple(
        found
        for kind in (*source.kinds, *source.optional)
        if (found := engine.catalog.find(city.id, kind)) is not None
    )
    frame = None
    with contextlib.suppress(MissingDataset):
        frame = FETCH[name](engine, city)
    if frame is None:
        return None
    if source.events:
        days = _event_days([d for d in datasets if d.meta.kind in source.kinds])
    else:
        days = covered_days(frame["date"], source.monthly)
    return frame, days, datasets


def unit_label(indicator: Indicator, lang: str) -> str:
    from i18n import t

    if indicator.percent:
        return ""  # the value is written as a percentage already
    return t(indicator.unit, lang) if indicator.unit.startswith("sdg.unit.") else indicator.unit
