"""Queries of the traffic page (round table 1: intelligent traffic control).

Every function takes the query engine, the city id and the page filters and returns a small,
aggregated frame: the filters and the GROUP BY run inside the DuckDB scan of the Parquet files,
and the only values bound into the SQL are dates and integers (`Filters.where`) or `?`
parameters. The few pure helpers at the end (`pilot_weekly`, `did_summary`)
combine those small frames; figures and tests call them directly.

The readings (hundreds of millions of rows for a large city) are answered from the coarsest
rollup of the current version that can answer exactly (`datasets.rollups`: sums and counts per
district and 5 minutes / hour / day, per detector and day, night-speed histograms), with means
computed as sum / count, never as means of means; a version without rollups (data published
before they existed) is read raw, with the same SQL as before. Both paths give the same frame.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from datasets.cities import CityProfile
from datasets.period import DEFAULT_COMPARISON, DEFAULT_DAYS, parse_comparison
from datasets.query import BUCKETS, Filters, MissingDataset, QueryEngine

from .detector_days import SUMS, DetectorDays

READINGS = "traffic_readings"
DETECTORS = "traffic_detectors"
INCIDENTS = "incidents"
RUNS = "emergency_runs"
METRO = "metro_flow"

BUCKET_ORDER = ("5min", "hour", "day", "week", "month")
BUCKET_MINUTES = {"5min": 5, "hour": 60, "day": 1440, "week": 7 * 1440, "month": 30 * 1440}
MAX_POINTS = 5000  # points of one time-series trace before a finer bucket is coarsened
READING_MINUTES = 5  # a reading counts the vehicles of 5 minutes (schema unit veh/5 min)
NIGHT_END_HOUR = 5  # free-flow speeds come from the readings of 00:00-04:59
FREE_FLOW_QUANTILE = 0.85
PEAK_HOURS = (7, 8, 17, 18)  # 07:00-08:59 and 17:00-18:59
KPI_DAYS = DEFAULT_DAYS  # the KPI window when the filters have no dates
PILOT_BEFORE_DAYS = 84  # 12 weeks before the pilot start ...
PILOT_RAMP_DAYS = 28  # ... against 12 weeks that start 4 weeks after it (commissioning left out)
PILOT_AFTER_DAYS = 84
INCIDENT_POINTS = 1500  # cap of the incident map
EMERGENCY_MAX_KM = 12  # runs longer than this share the last distance bin


def _where(filters: Filters, time_column: str | None, district_column: str | None = "district"):
    return filters.where(time_column, district_column)


def _where_days(filters: Filters, day_column: str, district_column: str = "district") -> str:
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


@lru_cache(maxsize=16)
def _demo_pilot_start(path: Path, mtime: float) -> str | None:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("traffic", {}).get("pilot", {}).get("start")


def pilot_start(city: CityProfile) -> dt.date | None:
    """Start of the adaptive-signal pilot: the profile's `traffic_pilot_start`, else the
    `traffic.pilot.start` of the city's demo.json; None when neither names one."""
    raw = city.extra.get("traffic_pilot_start")
    path = city.folder / "demo.json"
    if raw is None and path.exists():
        raw = _demo_pilot_start(path, path.stat().st_mtime)
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


# -- speeds, travel time index --------------------------------------------------------------------


# Rollup grains that can answer each question, coarsest first (see `QueryEngine.plan`).
SERIES_GRAINS: dict[str, tuple[str, ...]] = {
    "5min": ("district_5min",),
    "hour": ("district_hour", "district_5min"),
    "day": ("district_day", "district_hour", "district_5min"),
    "week": ("district_day", "district_hour", "district_5min"),
    "month": ("district_day", "district_hour", "district_5min"),
}
GRAIN_TIME = {"district_5min": "ts", "district_hour": "hour_start", "district_day": "day"}


def _grain_where(filters: Filters, grain: str) -> str:
    column = GRAIN_TIME[grain]
    return _where_days(filters, column) if column == "day" else _where(filters, column)


def _grain_time(grain: str) -> str:
    """The grain's time column as a TIMESTAMP (a day is its midnight)."""
    column = GRAIN_TIME[grain]
    return f"CAST({column} AS TIMESTAMP)" if column == "day" else column


def free_flow_speeds(engine: QueryEngine, city_id: str) -> pd.DataFrame:
    """Free-flow speed per detector: 85th percentile of its night-time (00:00-04:59) speeds.

    A property of the detector, so it is computed over all the data (not the filters) and
    cached once for every period and district. From the `night_speed` rollup (an exact
    histogram of the stored speeds) the percentile is interpolated as DuckDB's quantile_cont
    does: position q (n - 1) in the sorted values, in single precision like the column.
    """
    src, grain = engine.plan(city_id, READINGS, ("night_speed",))
    if grain is not None:
        return engine.frame(
            f"""
            WITH histogram AS (
                SELECT detector_id, speed_kmh AS v, sum(n)::BIGINT AS n
                FROM {src}
                GROUP BY ALL
            ),
            ranked AS (
                SELECT detector_id, v,
                       sum(n) OVER (PARTITION BY detector_id ORDER BY v
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
                       sum(n) OVER (PARTITION BY detector_id) AS total
                FROM histogram
            ),
            position AS (
                SELECT detector_id, v, upto, total, CAST(total - 1 AS DOUBLE) * ? AS rn
                FROM ranked
            ),
            ends AS (
                SELECT detector_id,
                       min(v) FILTER (WHERE upto > floor(rn)) AS lo,
                       min(v) FILTER (WHERE upto > ceil(rn)) AS hi,
                       any_value(rn) AS rn,
                       any_value(total) AS total
                FROM position
                GROUP BY detector_id
            )
            SELECT detector_id,
                   CAST(lo + (hi - lo) * (rn - floor(rn)) AS FLOAT) AS free_flow_kmh,
                   total::BIGINT AS night_readings
            FROM ends
            ORDER BY detector_id
            """,
            (FREE_FLOW_QUANTILE,),
        )
    return engine.frame(
        f"""
        SELECT detector_id,
               quantile_cont(speed_kmh, ?) AS free_flow_kmh,
               count(*) AS night_readings
        FROM {src}
        WHERE hour(ts) < ? AND speed_kmh > 0
        GROUP BY detector_id
        ORDER BY detector_id
        """,
        (FREE_FLOW_QUANTILE, NIGHT_END_HOUR),
    )


def detector_stats(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Per detector over the filtered readings: count, sum of speeds, sum of 1/speed, volume."""
    totals = detector_days(engine, city_id)
    if totals is not None:
        return totals.stats(filters).to_pandas()
    src, grain = engine.plan(city_id, READINGS, ("detector_day",))
    if grain is not None:
        return engine.frame(
            f"""
            SELECT detector_id,
                   any_value(district) AS district,
                   sum(n_speed)::BIGINT AS readings,
                   sum(speed_sum)::DOUBLE AS speed_sum,
                   sum(n_moving)::BIGINT AS moving_readings,
                   sum(inverse_speed_sum)::DOUBLE AS inverse_speed_sum,
                   sum(volume_sum)::BIGINT AS vehicles
            FROM {src}
            WHERE {_where_days(filters, "day")}
            GROUP BY detector_id
            ORDER BY detector_id
            """
        )
    return engine.frame(
        f"""
        SELECT detector_id,
               any_value(district) AS district,
               count(speed_kmh) AS readings,
               sum(speed_kmh) AS speed_sum,
               count(*) FILTER (WHERE speed_kmh > 0) AS moving_readings,
               sum(1.0 / speed_kmh) FILTER (WHERE speed_kmh > 0) AS inverse_speed_sum,
               sum(volume)::BIGINT AS vehicles
        FROM {src}
        WHERE {_where(filters, "ts")}
        GROUP BY detector_id
        ORDER BY detector_id
        """
    )


def _free_flow_of(engine: QueryEngine, city_id: str, detector_ids) -> np.ndarray:
    """Each detector's free-flow speed (`free_flow_speeds`), NaN where it has none."""
    free_flow = free_flow_speeds(engine, city_id)
    at = pd.Index(free_flow["detector_id"]).get_indexer(pd.Index(detector_ids))
    speeds = free_flow["free_flow_kmh"].to_numpy("float64", na_value=np.nan)
    return np.where(at >= 0, speeds[at], np.nan)


def detector_days(engine: QueryEngine, city_id: str) -> DetectorDays | None:
    """Running totals of the current readings' per-detector-day rollup (None: no such rollup,
    or too large to keep; the queries then read the rollup)."""
    src, grain = engine.plan(city_id, READINGS, ("detector_day",))
    if grain is None:
        return None
    return engine.memo_value(
        "traffic.detector_days",
        city_id,
        (READINGS,),
        (),
        lambda: DetectorDays.from_table(
            engine.scan(f"SELECT day, detector_id, district, {', '.join(SUMS)} FROM {src}")
        ),
    )


def _tti(free_flow: np.ndarray, inverse_speed_sum: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Travel time index per detector: free-flow speed x mean(1 / speed) over its moving
    readings; NaN for a detector without free-flow speed or moving readings."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return free_flow * inverse_speed_sum / np.where(moving > 0, moving, np.nan)


def detector_tti(engine: QueryEngine, city_id: str, stats: pd.DataFrame) -> np.ndarray:
    """The travel time index of each row of a frame of per-detector sums (`detector_id`,
    `inverse_speed_sum`, `moving_readings`, as `detector_stats` gives)."""
    return _tti(
        _free_flow_of(engine, city_id, stats["detector_id"].tolist()),
        stats["inverse_speed_sum"].to_numpy(float, na_value=np.nan),
        stats["moving_readings"].to_numpy(float, na_value=0.0),
    )


def district_speeds(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Per district: detectors, readings, mean speed (km/h), travel time index, vehicles.

    Summed with numpy over the detectors' rows (a few thousand): a pandas merge and group-by
    cost ten times as much for the same numbers."""
    stats = detector_stats(engine, city_id, filters)
    columns = ["district", "detectors", "readings", "speed_kmh", "tti", "vehicles"]
    if stats.empty:
        return pd.DataFrame(columns=columns)
    tti = detector_tti(engine, city_id, stats)
    codes, rows = np.unique(stats["district"].to_numpy("int64"), return_inverse=True)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(rows, weights=values, minlength=len(codes))

    readings = total(stats["readings"].to_numpy(float, na_value=0.0))
    has_tti = ~np.isnan(tti)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "district": codes,
                "detectors": np.bincount(rows, minlength=len(codes)),
                "readings": readings.astype(stats["readings"].dtype),
                "speed_kmh": total(stats["speed_sum"].to_numpy(float, na_value=0.0)) / readings,
                "tti": total(np.where(has_tti, tti, 0.0)) / total(has_tti.astype(float)),
                "vehicles": total(stats["vehicles"].to_numpy(float, na_value=0.0)).astype(
                    stats["vehicles"].dtype
                ),
            }
        )
    return out[columns]


# -- KPIs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiPeriods:
    current: Filters
    previous: Filters | None  # None: the previous period is not (wholly) in the data
    default_window: bool  # True: the filters had no dates, the last KPI_DAYS days are used


def kpi_periods(
    engine: QueryEngine, city_id: str, filters: Filters, comparison: str = DEFAULT_COMPARISON
) -> KpiPeriods:
    """The KPI period (the filters', or the last 30 days of data) and the one it is compared
    with (`period.comparison_period`)."""
    first, last = coverage(engine, city_id)
    default = not (filters.start or filters.end)
    if default:
        if last is None:
            return KpiPeriods(filters, None, True)
        current = Filters(last - dt.timedelta(days=KPI_DAYS - 1), last, filters.districts)
    else:
        current = Filters(filters.start or first, filters.end or last, filters.districts)
    previous = current.previous(comparison)
    if previous is current or first is None or previous.start is None or previous.start < first:
        previous = None
    return KpiPeriods(current, previous, default)


KPI_NAMES = ("mean_speed_kmh", "tti", "incidents", "response_min")


def _span(periods: Sequence[Filters]) -> Filters:
    """One filter covering every period (same districts), for the scan's pruning."""
    starts, ends = [p.start for p in periods], [p.end for p in periods]
    return Filters(
        None if None in starts else min(starts),
        None if None in ends else max(ends),
        periods[0].districts,
    )


def _speed_kpis(
    engine: QueryEngine, city_id: str, periods: Sequence[Filters]
) -> list[tuple[float | None, float | None]]:
    """Mean speed of the readings and travel time index averaged over detectors, of each
    period, from one scan: per detector, each period's sums under its own FILTER (or from the
    running totals of the rollup)."""
    totals = detector_days(engine, city_id)
    if totals is not None:
        ff = _free_flow_of(engine, city_id, totals.detector_ids.to_pandas())
        return [_speed_of(ff, totals.sums(period)) for period in periods]
    src, grain = engine.plan(city_id, READINGS, ("detector_day",))
    if grain is not None:  # the per-detector-day sums and counts
        count = "sum"
        readings, speeds, moving, inverse = "n_speed", "speed_sum", "n_moving", "inverse_speed_sum"
        where = [_where_days(p, "day") for p in periods]
        scan = _where_days(_span(periods), "day")
    else:  # the raw readings
        count = "count"
        readings = speeds = "speed_kmh"
        moving = "CASE WHEN speed_kmh > 0 THEN 1 END"
        inverse = "CASE WHEN speed_kmh > 0 THEN 1.0 / speed_kmh END"
        where, scan = [_where(p, "ts") for p in periods], _where(_span(periods), "ts")
    aggregates = []
    for i, condition in enumerate(where):
        aggregates += [
            f"coalesce({count}({readings}) FILTER (WHERE {condition}), 0)::BIGINT AS readings_{i}",
            f"sum({speeds}) FILTER (WHERE {condition})::DOUBLE AS speed_sum_{i}",
            f"coalesce({count}({moving}) FILTER (WHERE {condition}), 0)::BIGINT AS moving_{i}",
            f"sum({inverse}) FILTER (WHERE {condition})::DOUBLE AS inverse_{i}",
        ]
    table = engine.arrow(
        f"SELECT detector_id, {', '.join(aggregates)} FROM {src} WHERE {scan} "
        "GROUP BY detector_id ORDER BY detector_id"
    )
    ff = _free_flow_of(engine, city_id, table["detector_id"].to_pylist())
    return [
        _speed_of(
            ff,
            {
                "n_speed": table[f"readings_{i}"].to_numpy(),
                "speed_sum": table[f"speed_sum_{i}"].to_numpy(),
                "n_moving": table[f"moving_{i}"].to_numpy().astype(float),
                "inverse_speed_sum": table[f"inverse_{i}"].to_numpy().astype(float),
            },
        )
        for i in range(len(periods))
    ]


def _speed_of(free_flow: np.ndarray, sums: dict[str, np.ndarray]) -> tuple[float | None, ...]:
    """(mean speed of the readings, travel time index averaged over detectors) from the
    per-detector sums of a period."""
    readings = sums["n_speed"].sum()
    if readings == 0:
        return None, None
    speed_sum = np.nansum(sums["speed_sum"])
    tti = _tti(free_flow, sums["inverse_speed_sum"], sums["n_moving"])
    tti = tti[~np.isnan(tti)]
    return float(speed_sum / readings), float(tti.mean()) if len(tti) else None


def _per_period(
    engine: QueryEngine,
    city_id: str,
    kind: str,
    time_column: str,
    value: str,
    periods: Sequence[Filters],
) -> list[float | None]:
    """One aggregate (`value`) of each period, from one scan of the dataset."""
    src = engine.source(city_id, kind)
    columns = ", ".join(
        f"{value} FILTER (WHERE {_where(p, time_column)}) AS v{i}" for i, p in enumerate(periods)
    )
    row = engine.arrow(
        f"SELECT {columns} FROM {src} WHERE {_where(_span(periods), time_column)}"
    ).to_pylist()[0]
    return [_none(row[f"v{i}"]) for i in range(len(periods))]


def _none(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def periods_kpis(
    engine: QueryEngine, city_id: str, periods: Sequence[Filters]
) -> list[dict[str, float | None]]:
    """Mean speed, travel time index, incidents and median emergency travel time of each
    period (each with its start and end), one scan per dataset for them all.

    A value is None when its dataset is missing or holds nothing in the period.
    """
    out = [dict.fromkeys(KPI_NAMES) for _ in periods]
    if not periods:
        return out
    with contextlib.suppress(MissingDataset):
        for values, (speed, tti) in zip(out, _speed_kpis(engine, city_id, periods), strict=True):
            values["mean_speed_kmh"], values["tti"] = speed, tti
    with contextlib.suppress(MissingDataset):
        counts = _per_period(engine, city_id, INCIDENTS, "detected_at", "count(*)", periods)
        for values, count in zip(out, counts, strict=True):
            values["incidents"] = count
    with contextlib.suppress(MissingDataset):
        medians = _per_period(engine, city_id, RUNS, "started_at", "median(travel_min)", periods)
        for values, median in zip(out, medians, strict=True):
            values["response_min"] = median
    return out


def period_kpis(engine: QueryEngine, city_id: str, filters: Filters) -> dict[str, float | None]:
    """The KPIs of one period (see `periods_kpis`)."""
    return periods_kpis(engine, city_id, [filters])[0]


def kpis(
    engine: QueryEngine, city_id: str, filters: Filters, comparison: str = DEFAULT_COMPARISON
) -> pd.DataFrame:
    """Two rows (current, previous) of the KPI values, with each period's dates (kept in the
    process for the versions read: the overview and the traffic page show the same block);
    `comparison` chooses the previous period (`period.COMPARISONS`)."""
    comparison = parse_comparison(comparison)
    return engine.memo_frame(
        "traffic.kpis",
        city_id,
        (READINGS, INCIDENTS, RUNS),
        (filters, comparison),
        lambda: _kpis(engine, city_id, filters, comparison),
    )


def _kpis(engine: QueryEngine, city_id: str, filters: Filters, comparison: str) -> pd.DataFrame:
    periods = kpi_periods(engine, city_id, filters, comparison)
    named = [("current", periods.current), ("previous", periods.previous)]
    known = [period for _, period in named if period is not None]
    values = iter(periods_kpis(engine, city_id, known))
    rows = []
    for name, period in named:
        rows.append(
            {
                "period": name,
                "start": period.start if period else None,
                "end": period.end if period else None,
                "default_window": periods.default_window,
                **(next(values) if period is not None else dict.fromkeys(KPI_NAMES)),
            }
        )
    return pd.DataFrame(rows)


# -- time series, heatmap -------------------------------------------------------------------------


def span_days(engine: QueryEngine, city_id: str, filters: Filters) -> int:
    """Days the filters cover, clipped to the data."""
    first, last = coverage(engine, city_id)
    start = max(d for d in (filters.start, first) if d) if (filters.start or first) else None
    end = min(d for d in (filters.end, last) if d) if (filters.end or last) else None
    if start is None or end is None:
        return 0
    return max((end - start).days + 1, 0)


def effective_bucket(requested: str, days: int, max_points: int = MAX_POINTS) -> str:
    """The requested bucket, or the first coarser one keeping a trace within `max_points`."""
    if requested not in BUCKET_ORDER:
        requested = "day"
    for bucket in BUCKET_ORDER[BUCKET_ORDER.index(requested) :]:
        if days * 1440 / BUCKET_MINUTES[bucket] <= max_points:
            return bucket
    return BUCKET_ORDER[-1]


def volume_speed(
    engine: QueryEngine, city_id: str, filters: Filters, bucket: str | None = "day"
) -> pd.DataFrame:
    """Per time bucket: mean flow per detector (veh/h) and mean speed (km/h).

    Columns `bucket` (the one used) and `requested` say when a fine bucket over a long span was
    coarsened to keep at most MAX_POINTS points.
    """
    requested = bucket if bucket in BUCKET_ORDER else "day"
    used = effective_bucket(requested, span_days(engine, city_id, filters))
    src, grain = engine.plan(city_id, READINGS, SERIES_GRAINS[used])
    if grain is not None:
        frame = engine.frame(
            f"""
            SELECT time_bucket({BUCKETS[used]}, {_grain_time(grain)}) AS period_start,
                   sum(volume_sum)::DOUBLE / NULLIF(sum(n_volume), 0)
                       * {60 // READING_MINUTES} AS flow_vph,
                   sum(speed_sum) / NULLIF(sum(n_speed), 0) AS speed_kmh,
                   sum(n)::BIGINT AS readings
            FROM {src}
            WHERE {_grain_where(filters, grain)}
            GROUP BY period_start
            ORDER BY period_start
            """
        )
        return frame.assign(bucket=used, requested=requested)
    frame = engine.frame(
        f"""
        SELECT time_bucket({BUCKETS[used]}, ts) AS period_start,
               avg(volume) * {60 // READING_MINUTES} AS flow_vph,
               avg(speed_kmh) AS speed_kmh,
               count(*) AS readings
        FROM {src}
        WHERE {_where(filters, "ts")}
        GROUP BY period_start
        ORDER BY period_start
        """
    )
    return frame.assign(bucket=used, requested=requested)


def hour_weekday(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Per ISO weekday (1 = Monday) and hour: mean speed and mean flow per detector (veh/h)."""
    src, grain = engine.plan(city_id, READINGS, ("district_hour", "district_5min"))
    if grain is not None:
        column = GRAIN_TIME[grain]
        return engine.frame(
            f"""
            SELECT isodow({column}) AS weekday,
                   hour({column}) AS hour,
                   sum(speed_sum) / NULLIF(sum(n_speed), 0) AS speed_kmh,
                   sum(volume_sum)::DOUBLE / NULLIF(sum(n_volume), 0)
                       * {60 // READING_MINUTES} AS flow_vph,
                   sum(n)::BIGINT AS readings
            FROM {src}
            WHERE {_grain_where(filters, grain)}
            GROUP BY weekday, hour
            ORDER BY weekday, hour
            """
        )
    return engine.frame(
        f"""
        SELECT isodow(ts) AS weekday,
               hour(ts) AS hour,
               avg(speed_kmh) AS speed_kmh,
               avg(volume) * {60 // READING_MINUTES} AS flow_vph,
               count(*) AS readings
        FROM {src}
        WHERE {_where(filters, "ts")}
        GROUP BY weekday, hour
        ORDER BY weekday, hour
        """
    )


# -- adaptive-signal pilot ------------------------------------------------------------------------


def pilot_daily(
    engine: QueryEngine, city_id: str, filters: Filters, start: dt.date | None
) -> pd.DataFrame:
    """Peak-hour (07-09, 17-19) weekday mean speed per day, pilot vs control detectors.

    Not cut by the filter dates (the before/after windows are fixed around the pilot start);
    the district filter applies. Empty when the pilot start is unknown.
    """
    columns = ["day", "group", "readings", "speed_kmh", "pilot_start"]
    if start is None:
        return pd.DataFrame(columns=columns)
    readings, grain = engine.plan(city_id, READINGS, ("detector_day",))
    detectors = engine.source(city_id, DETECTORS)
    hours = ", ".join(str(h) for h in PEAK_HOURS)
    if grain is not None:  # peak-hour sums per detector and day (same PEAK_HOURS)
        frame = engine.frame(
            f"""
            SELECT r.day AS day,
                   CASE WHEN d.pilot THEN 'pilot' ELSE 'control' END AS "group",
                   sum(r.peak_n_speed)::BIGINT AS readings,
                   sum(r.peak_speed_sum) / NULLIF(sum(r.peak_n_speed), 0) AS speed_kmh
            FROM {readings} AS r
            JOIN (SELECT detector_id, any_value(pilot) AS pilot FROM {detectors} GROUP BY 1) AS d
              ON r.detector_id = d.detector_id
            WHERE r.peak_n > 0 AND isodow(r.day) <= 5
              AND {_where(Filters(districts=filters.districts), None, "r.district")}
            GROUP BY ALL
            ORDER BY day, "group"
            """
        )
    else:
        frame = _pilot_daily_raw(engine, readings, detectors, hours, filters)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["day"] = pd.to_datetime(frame["day"])
    frame["pilot_start"] = pd.Timestamp(start)
    return frame[columns]


def _pilot_daily_raw(
    engine: QueryEngine, readings: str, detectors: str, hours: str, filters: Filters
) -> pd.DataFrame:
    return engine.frame(
        f"""
        SELECT CAST(r.ts AS DATE) AS day,
               CASE WHEN d.pilot THEN 'pilot' ELSE 'control' END AS "group",
               count(r.speed_kmh) AS readings,
               avg(r.speed_kmh) AS speed_kmh
        FROM {readings} AS r
        JOIN (SELECT detector_id, any_value(pilot) AS pilot FROM {detectors} GROUP BY 1) AS d
          ON r.detector_id = d.detector_id
        WHERE hour(r.ts) IN ({hours}) AND isodow(r.ts) <= 5
          AND {_where(Filters(districts=filters.districts), None, "r.district")}
        GROUP BY ALL
        ORDER BY day, "group"
        """
    )


def pilot_weekly(daily: pd.DataFrame) -> pd.DataFrame:
    """Weekly (Monday) readings-weighted mean of the daily frame, per group."""
    if daily.empty:
        return pd.DataFrame(columns=["week", "group", "readings", "speed_kmh"])
    days = daily["day"].to_numpy().astype("datetime64[D]").astype("int64")
    since_monday = (days + 3) % 7  # day 0, 1970-01-01, was a Thursday
    weeks = (daily["day"] - pd.to_timedelta(since_monday, unit="D")).to_numpy()
    group, groups = pd.factorize(daily["group"], sort=True)
    first_days, week = np.unique(weeks, return_inverse=True)
    cell = week * len(groups) + group
    cells, at = np.unique(cell, return_inverse=True)
    readings = daily["readings"].to_numpy()
    weighted = np.nan_to_num((daily["speed_kmh"] * daily["readings"]).to_numpy("float64"))
    total = np.bincount(at, weights=readings, minlength=len(cells))
    sums = np.bincount(at, weights=weighted, minlength=len(cells))
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = sums / total
    return pd.DataFrame(
        {
            "week": first_days[cells // len(groups)],
            "group": groups[cells % len(groups)],
            "readings": total.astype(readings.dtype),
            "speed_kmh": speed,
        }
    )


def pilot_windows(start: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """(before, after) windows, each (first day, last day): 12 weeks before the start, and 12
    weeks beginning 4 weeks after it."""
    before = (start - dt.timedelta(days=PILOT_BEFORE_DAYS), start - dt.timedelta(days=1))
    after_start = start + dt.timedelta(days=PILOT_RAMP_DAYS)
    return before, (after_start, after_start + dt.timedelta(days=PILOT_AFTER_DAYS - 1))


def did_summary(daily: pd.DataFrame) -> dict[str, float | None]:
    """Difference in differences of peak-hour mean speed.

    change = after / before - 1 for the pilot and the control detectors (readings-weighted
    means over each window); did = change of the pilot minus change of the control.
    """
    out: dict[str, float | None] = dict.fromkeys(
        ("pilot_before", "pilot_after", "control_before", "control_after")
    )
    if daily.empty:
        return {**out, "pilot_change": None, "control_change": None, "did": None}
    start = pd.Timestamp(daily["pilot_start"].iloc[0]).date()
    (b0, b1), (a0, a1) = pilot_windows(start)
    days = daily["day"].to_numpy().astype("datetime64[D]")
    groups = daily["group"].to_numpy(object)
    readings = daily["readings"].to_numpy()
    weighted = (daily["speed_kmh"] * daily["readings"]).to_numpy("float64")
    for group in ("pilot", "control"):
        for name, (lo, hi) in (("before", (b0, b1)), ("after", (a0, a1))):
            rows = (groups == group) & (days >= np.datetime64(lo)) & (days <= np.datetime64(hi))
            weight = readings[rows].sum()
            if weight > 0:
                out[f"{group}_{name}"] = float(np.nansum(weighted[rows]) / weight)

    def change(group: str) -> float | None:
        before, after = out[f"{group}_before"], out[f"{group}_after"]
        return after / before - 1 if before and after is not None else None

    pilot, control = change("pilot"), change("control")
    return {
        **out,
        "pilot_change": pilot,
        "control_change": control,
        "did": pilot - control if pilot is not None and control is not None else None,
    }


# -- incidents, emergency runs --------------------------------------------------------------------


def incident_points(
    engine: QueryEngine, city_id: str, filters: Filters, limit: int = INCIDENT_POINTS
) -> pd.DataFrame:
    """At most `limit` incidents (a deterministic sample by hashed id) and the total count."""
    src = engine.source(city_id, INCIDENTS)
    return engine.frame(
        f"""
        SELECT incident_id, lat, lon, type, source, severity, district, detected_at,
               date_diff('second', detected_at, cleared_at) / 60.0 AS clear_min,
               count(*) OVER () AS total
        FROM {src}
        WHERE {_where(filters, "detected_at")} AND lat IS NOT NULL AND lon IS NOT NULL
        ORDER BY hash(incident_id), incident_id
        LIMIT ?
        """,
        (int(limit),),
    )


def incident_clearance(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Per incident type: count and quartiles of the minutes from detection to clearance."""
    src = engine.source(city_id, INCIDENTS)
    return engine.frame(
        f"""
        SELECT type,
               count(*) AS incidents,
               quantile_cont(minutes, 0.25) AS p25_min,
               median(minutes) AS median_min,
               quantile_cont(minutes, 0.75) AS p75_min
        FROM (
            SELECT type, date_diff('second', detected_at, cleared_at) / 60.0 AS minutes
            FROM {src}
            WHERE {_where(filters, "detected_at")} AND cleared_at IS NOT NULL
        )
        GROUP BY type
        ORDER BY median_min, type
        """
    )


def emergency_by_distance(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Median travel minutes per 1-km distance bin, with and without signal priority.

    Rows with an empty `km_from` hold each group's totals: runs, median minutes, median
    minutes per km. Runs beyond EMERGENCY_MAX_KM share the last bin.
    """
    src = engine.source(city_id, RUNS)
    return engine.frame(
        f"""
        SELECT signal_priority AS priority,
               least(floor(distance_km), ?)::INTEGER AS km_from,
               count(*) AS runs,
               quantile_cont(travel_min, 0.25) AS p25_min,
               median(travel_min) AS median_min,
               quantile_cont(travel_min, 0.75) AS p75_min,
               median(travel_min / distance_km) AS min_per_km
        FROM {src}
        WHERE {_where(filters, "started_at")} AND distance_km > 0
        GROUP BY GROUPING SETS ((signal_priority, km_from), (signal_priority))
        ORDER BY priority, km_from NULLS FIRST
        """,
        (EMERGENCY_MAX_KM,),
    )


# -- real metro flows -----------------------------------------------------------------------------


def metro_flow(engine: QueryEngine, city_id: str, mode: str | None = "profile") -> pd.DataFrame:
    """Network inflow and outflow per 10 minutes (all stations), not filtered by the page.

    mode "days": one row per 10-minute slot over the whole dataset. mode "profile": the mean
    per time of day, weekdays (Mon-Fri) against weekends.
    """
    src = engine.source(city_id, METRO)
    if mode == "days":
        return engine.frame(
            f"""
            SELECT ts, sum(inflow)::BIGINT AS inflow, sum(outflow)::BIGINT AS outflow
            FROM {src}
            GROUP BY ts
            ORDER BY ts
            """
        )
    frame = engine.frame(
        f"""
        WITH network AS (
            SELECT ts, sum(inflow)::BIGINT AS inflow, sum(outflow)::BIGINT AS outflow
            FROM {src}
            GROUP BY ts
        )
        SELECT CASE WHEN isodow(ts) >= 6 THEN 'weekend' ELSE 'weekday' END AS day_type,
               hour(ts) * 60 + minute(ts) AS minute_of_day,
               avg(inflow) AS inflow,
               avg(outflow) AS outflow,
               count(*) AS days
        FROM network
        GROUP BY ALL
        ORDER BY day_type, minute_of_day
        """
    )
    minutes = frame["minute_of_day"].astype("int64")
    frame.insert(
        2,
        "time",
        [f"{m // 60:02d}:{m % 60:02d}" for m in minutes],
    )
    return frame
