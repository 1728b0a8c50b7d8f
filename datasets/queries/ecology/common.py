"""What every ecology query shares: dataset kinds' columns, constants, coverage, buckets and
small numeric helpers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from datasets.aqi import STANDARDS
from datasets.period import DEFAULT_DAYS
from datasets.query import Filters, QueryEngine

DEFAULT_STANDARD = "hj633"
HOURLY_POLLUTANTS = ("pm25", "pm10", "no2", "so2", "co", "o3")
DAILY_INPUTS = (
    "pm25",
    "pm10",
    "no2",
    "so2",
    "co",
    "o3_8h",
    "o3_1h",
    "no2_1h",
    "so2_1h",
    "co_8h",
)
# The daily value shown for each pollutant: 24-h means, and the daily maximum 8-h mean for O3.
POLLUTANT_DAILY = {
    "pm25": "pm25",
    "pm10": "pm10",
    "no2": "no2",
    "o3": "o3_8h",
    "so2": "so2",
    "co": "co",
}
MIN_HOURS = 20
MIN_HOURS_8H = 6
MIN_WINDOWS_8H = 14
GOOD_AQI = 100  # HJ 633 "优良" (excellent + good); EPA good + moderate
DEFAULT_KPI_DAYS = DEFAULT_DAYS
MOBILITY_COLUMNS = ("metro_riders", "bus_riders", "public_bike_trips", "ev_charging_sessions")
RECYCLED_STREAMS = ("recycled", "recycling", "recyclables")
BUCKETS = ("day", "week", "month")


def standard_or_default(standard: str | None) -> str:
    return standard if standard in STANDARDS else DEFAULT_STANDARD


def columns_of(engine: QueryEngine, city_id: str, kind: str) -> frozenset[str]:
    """Columns of the current version of a dataset, from the catalog (no file is opened)."""
    return frozenset(c["name"] for c in engine.dataset(city_id, kind).current.columns)


def has_dataset(engine: QueryEngine, city_id: str, kind: str) -> bool:
    return engine.find(city_id, kind) is not None


def column_or_null(name: str, present: frozenset[str], cast: str = "DOUBLE") -> str:
    return f"CAST({name} AS {cast})" if name in present else f"CAST(NULL AS {cast})"


def ts_sql(expr: str) -> str:
    """Dates leave DuckDB as timestamps so pandas gets datetime64 columns."""
    return f"CAST({expr} AS TIMESTAMP)"


def coverage(engine: QueryEngine, city_id: str, kind: str) -> tuple[dt.date, dt.date] | None:
    """First and last day a dataset covers (monthly data covers its whole last month)."""
    found = engine.find(city_id, kind)
    if found is None or not found.current.time_min or not found.current.time_max:
        return None
    first = dt.date.fromisoformat(found.current.time_min[:10])
    last = dt.date.fromisoformat(found.current.time_max[:10])
    if kind == "waste_monthly":
        last = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()
    return first, last


def bucket_for(
    filters: Filters,
    span: tuple[dt.date, dt.date] | None,
    week_after: int = 31,
    month_after: int = 180,
) -> str:
    """Day, week or month buckets so that a chart keeps a readable number of points: weeks for
    periods longer than `week_after` days, months beyond `month_after` days."""
    start = filters.start or (span[0] if span else None)
    end = filters.end or (span[1] if span else None)
    if not (start and end):
        return "week"
    days = (end - start).days + 1
    if days > month_after:
        return "month"
    if days > week_after:
        return "week"
    return "day"


def month_filters(filters: Filters) -> Filters:
    """Months that overlap the period: a month row is stamped with its first day."""
    start = filters.start.replace(day=1) if filters.start else None
    return Filters(start, filters.end, filters.districts)


def in_period(dates: pd.Series, filters: Filters) -> np.ndarray:
    """Which of these midnight timestamps fall in the filters' days (a mask, for a cut of a
    frame kept whole: numpy compares in microseconds what pandas takes milliseconds for)."""
    values = dates.to_numpy()
    keep = np.ones(len(values), dtype=bool)
    if filters.start:
        keep &= values >= np.datetime64(filters.start)
    if filters.end:
        keep &= values <= np.datetime64(filters.end)
    return keep


def group_mean(group: np.ndarray, groups: int, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """(mean, count) of the non-NaN values of each group (NaN mean where it has none)."""
    valid = ~np.isnan(values)
    count = np.bincount(group, weights=valid, minlength=groups)
    total = np.bincount(group, weights=np.where(valid, values, 0.0), minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count


def as_floats(column: pd.Series) -> np.ndarray:
    return column.to_numpy("float64", na_value=np.nan)
