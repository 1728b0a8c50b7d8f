"""Queries of the ecology page (round table 2): air quality, energy, green mobility, waste.

Every function takes `(engine, city_id, filters, ...)` and returns a small pandas frame; the
filters and the GROUP BY run inside the DuckDB Parquet scan. The daily AQI inputs are computed in
SQL with the validity rules of `datasets.aqi.daily_inputs_from_hourly` (GB 3095-2012 /
HJ 663-2013): a 24-h mean needs 20 valid hours, an 8-h moving mean 6 of its 8 hours, and a daily
maximum 8-h mean 14 of the 17 windows that lie inside the day. `aqi_frame` then runs in pandas on
the small daily frame (one row per station and day).

Values that reach SQL are dates and integers written by `Filters.where`, or bind parameters;
choices that arrive from the browser (standard, pollutant, grouping) are checked against fixed
lists before use.

The queries live in a module per concern (`common`, `inputs`, `aqi`, `resources`, `kpis`);
every public name is importable from here.
"""

from __future__ import annotations

from .aqi import category_share, city_daily_aqi, pollutant_daily, station_daily_aqi, station_summary
from .common import (
    BUCKETS,
    DAILY_INPUTS,
    DEFAULT_KPI_DAYS,
    DEFAULT_STANDARD,
    GOOD_AQI,
    HOURLY_POLLUTANTS,
    MIN_HOURS,
    MIN_HOURS_8H,
    MIN_WINDOWS_8H,
    MOBILITY_COLUMNS,
    POLLUTANT_DAILY,
    RECYCLED_STREAMS,
    bucket_for,
    columns_of,
    coverage,
    has_dataset,
    standard_or_default,
)
from .inputs import daily_inputs_sql, station_daily_inputs, stations
from .kpis import KPI_IDS, KpiWindow, kpi_window, kpis
from .resources import (
    energy_by_sector,
    is_recycled,
    mobility,
    no2_vs_traffic,
    traffic_daily_volume,
    waste_by_stream,
)

__all__ = [
    "BUCKETS",
    "DAILY_INPUTS",
    "DEFAULT_KPI_DAYS",
    "DEFAULT_STANDARD",
    "GOOD_AQI",
    "HOURLY_POLLUTANTS",
    "KPI_IDS",
    "MIN_HOURS",
    "MIN_HOURS_8H",
    "MIN_WINDOWS_8H",
    "MOBILITY_COLUMNS",
    "POLLUTANT_DAILY",
    "RECYCLED_STREAMS",
    "KpiWindow",
    "bucket_for",
    "category_share",
    "city_daily_aqi",
    "columns_of",
    "coverage",
    "daily_inputs_sql",
    "energy_by_sector",
    "has_dataset",
    "is_recycled",
    "kpi_window",
    "kpis",
    "mobility",
    "no2_vs_traffic",
    "pollutant_daily",
    "standard_or_default",
    "station_daily_aqi",
    "station_daily_inputs",
    "station_summary",
    "stations",
    "traffic_daily_volume",
    "waste_by_stream",
]
