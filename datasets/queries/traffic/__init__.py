"""Queries of the traffic page (round table 1: intelligent traffic control).

Every function takes the query engine, the city id and the page filters and returns a small,
aggregated frame: the filters and the GROUP BY run inside the DuckDB scan of the Parquet files,
and the only values bound into the SQL are dates and integers (`Filters.where`) or `?`
parameters. The pure helpers of `pilot` (`pilot_weekly`, `did_summary`) combine those
small frames; figures and tests call them directly.

The readings (hundreds of millions of rows for a large city) are answered from the coarsest
rollup of the current version that can answer exactly (`datasets.rollups`: sums and counts per
district and 5 minutes / hour / day, per detector and day, night-speed histograms), with means
computed as sum / count, never as means of means; a version without rollups (data published
before they existed) is read raw. Both paths give the same frame.

The queries live in a module per concern (`common`: dataset names, constants and filter SQL;
`speeds`, `kpis`, `series`, `pilot`, `events`); every public name is importable from here.
"""

from __future__ import annotations

from datasets.rollups import NIGHT_END_HOUR, PEAK_HOURS

from .common import (
    BUCKET_MINUTES,
    BUCKET_ORDER,
    DETECTORS,
    EMERGENCY_MAX_KM,
    FREE_FLOW_QUANTILE,
    GRAIN_TIME,
    INCIDENT_POINTS,
    INCIDENTS,
    KPI_DAYS,
    MAX_POINTS,
    METRO,
    PILOT_AFTER_DAYS,
    PILOT_BEFORE_DAYS,
    PILOT_RAMP_DAYS,
    READING_MINUTES,
    READINGS,
    RUNS,
    SERIES_GRAINS,
    coverage,
)
from .events import emergency_by_distance, incident_clearance, incident_points, metro_flow
from .kpis import KPI_NAMES, KpiPeriods, kpi_periods, kpis, period_kpis, periods_kpis
from .pilot import did_summary, pilot_daily, pilot_start, pilot_weekly, pilot_windows
from .series import effective_bucket, hour_weekday, span_days, volume_speed
from .speeds import detector_days, detector_stats, detector_tti, district_speeds, free_flow_speeds

__all__ = [
    "BUCKET_MINUTES",
    "BUCKET_ORDER",
    "DETECTORS",
    "EMERGENCY_MAX_KM",
    "FREE_FLOW_QUANTILE",
    "GRAIN_TIME",
    "INCIDENTS",
    "INCIDENT_POINTS",
    "KPI_DAYS",
    "KPI_NAMES",
    "MAX_POINTS",
    "METRO",
    "NIGHT_END_HOUR",
    "PEAK_HOURS",
    "PILOT_AFTER_DAYS",
    "PILOT_BEFORE_DAYS",
    "PILOT_RAMP_DAYS",
    "READINGS",
    "READING_MINUTES",
    "RUNS",
    "SERIES_GRAINS",
    "KpiPeriods",
    "coverage",
    "detector_days",
    "detector_stats",
    "detector_tti",
    "did_summary",
    "district_speeds",
    "effective_bucket",
    "emergency_by_distance",
    "free_flow_speeds",
    "hour_weekday",
    "incident_clearance",
    "incident_points",
    "kpi_periods",
    "kpis",
    "metro_flow",
    "period_kpis",
    "periods_kpis",
    "pilot_daily",
    "pilot_start",
    "pilot_weekly",
    "pilot_windows",
    "span_days",
    "volume_speed",
]
