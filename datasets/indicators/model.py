"""What an indicator is, and what evaluating one gives: declarations and results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..cities import CityProfile

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
