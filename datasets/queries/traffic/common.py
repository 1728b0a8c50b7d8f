"""What every traffic query shares: dataset kinds, constants, the filters as SQL, the
rollup grains that answer a time series, and a dataset's coverage.
"""

from __future__ import annotations

import datetime as dt

from datasets.period import DEFAULT_DAYS
from datasets.query import Filters, QueryEngine

READINGS = "traffic_readings"
DETECTORS = "traffic_detectors"
INCIDENTS = "incidents"
RUNS = "emergency_runs"
METRO = "metro_flow"

BUCKET_ORDER = ("5min", "hour", "day", "week", "month")
BUCKET_MINUTES = {"5min": 5, "hour": 60, "day": 1440, "week": 7 * 1440, "month": 30 * 1440}
MAX_POINTS = 5000  # points of one time-series trace before a finer bucket is coarsened
READING_MINUTES = 5  # a reading counts the vehicles of 5 minutes (schema unit veh/5 min)
FREE_FLOW_QUANTILE = 0.85
KPI_DAYS = DEFAULT_DAYS  # the KPI window when the filters have no dates
PILOT_BEFORE_DAYS = 84  # 12 weeks before the pilot start ...
PILOT_RAMP_DAYS = 28  # ... against 12 weeks that start 4 weeks after it (commissioning left out)
PILOT_AFTER_DAYS = 84
INCIDENT_POINTS = 1500  # cap of the incident map
EMERGENCY_MAX_KM = 12  # runs longer than this share the last distance bin


def filter_sql(filters: Filters, time_column: str | None, district_column: str | None = "district"):
    return filters.where(time_column, district_column)


def day_filter_sql(filters: Filters, day_column: str, district_column: str = "district") -> str:
    """`Filters.where` for a DATE column, compared with DATE literals so that the scan can
    skip row groups by their statistics (a TIMESTAMP literal would cast the column instead)."""
    clauses = [filters.where(None, district_column)]
    if filters.start:
        clauses.append(f"{day_column} >= DATE '{filters.start.isoformat()}'")
    if filters.end:
        clauses.append(f"{day_column} <= DATE '{filters.end.isoformat()}'")
    return " AND ".join(clauses)


def coverage(
    engine: QueryEngine, city_id: str, kind: str = READINGS
) -> tuple[dt.date | None, dt.date | None]:
    """First and last day of a dataset, from the catalog (no scan)."""
    version = engine.dataset(city_id, kind).current
    if not version.time_min or not version.time_max:
        return None, None
    return dt.date.fromisoformat(version.time_min[:10]), dt.date.fromisoformat(
        version.time_max[:10]
    )


# Rollup grains that can answer each question, coarsest first (see `QueryEngine.plan`).
SERIES_GRAINS: dict[str, tuple[str, ...]] = {
    "5min": ("district_5min",),
    "hour": ("district_hour", "district_5min"),
    "day": ("district_day", "district_hour", "district_5min"),
    "week": ("district_day", "district_hour", "district_5min"),
    "month": ("district_day", "district_hour", "district_5min"),
}
GRAIN_TIME = {"district_5min": "ts", "district_hour": "hour_start", "district_day": "day"}


def grain_filter_sql(filters: Filters, grain: str) -> str:
    column = GRAIN_TIME[grain]
    return day_filter_sql(filters, column) if column == "day" else filter_sql(filters, column)


def grain_time_sql(grain: str) -> str:
    """The grain's time column as a TIMESTAMP (a day is its midnight)."""
    column = GRAIN_TIME[grain]
    return f"CAST({column} AS TIMESTAMP)" if column == "day" else column
