"""Speeds per detector and district: free-flow speed, sums per detector, travel time index."""

from __future__ import annotations

import numpy as np
import pandas as pd

from datasets.query import Filters, QueryEngine
from datasets.rollups import NIGHT_END_HOUR

from ..detector_days import SUMS, DetectorDays
from .common import FREE_FLOW_QUANTILE, READINGS, day_filter_sql, filter_sql


def free_flow_speeds(engine: QueryEngine, city_id: str) -> pd.DataFrame:
    """Free-flow speed per detector: 85th percentile of its night-time (00:00-04:59) speeds.

    A property of the detector, so it is computed over all the data (not the filters) and
    cached once for every period and district. The percentile is read from a histogram of the
    stored speeds (the `night_speed` rollup, or the same counts from the raw rows), interpolated
    as DuckDB's quantile_cont does: position q (n - 1) in the sorted values, in single
    precision like the column. A histogram is a grouped count, which DuckDB spills to disk when
    it outgrows memory; quantile_cont would hold every night reading of a detector at once, and
    at a megacity's billion readings it ran out of memory.
    """
    src, grain = engine.plan(city_id, READINGS, ("night_speed",))
    if grain is not None:
        histogram = (
            f"SELECT detector_id, speed_kmh AS v, sum(n)::BIGINT AS n FROM {src} GROUP BY ALL"
        )
        params: tuple = (FREE_FLOW_QUANTILE,)
    else:
        histogram = f"""
            SELECT detector_id, speed_kmh AS v, count(*)::BIGINT AS n
            FROM {src}
            WHERE hour(ts) < ? AND speed_kmh > 0
            GROUP BY ALL"""
        params = (NIGHT_END_HOUR, FREE_FLOW_QUANTILE)
    return engine.frame(
        f"""
        WITH histogram AS ({histogram}),
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
        params,
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
            WHERE {day_filter_sql(filters, "day")}
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
        WHERE {filter_sql(filters, "ts")}
        GROUP BY detector_id
        ORDER BY detector_id
        """
    )


def free_flow_of(engine: QueryEngine, city_id: str, detector_ids) -> np.ndarray:
    """Each detector's free-flow speed (`free_flow_speeds`), NaN where it has none."""
    free_flow = free_flow_speeds(engine, city_id)
    at = pd.Index(free_flow["detector_id"]).get_indexer(pd.Index(detector_ids))
    # one NaN past the end, where a detector without a free-flow speed points (also when none
    # has one: indexing an empty array would raise)
    speeds = np.append(free_flow["free_flow_kmh"].to_numpy("float64", na_value=np.nan), np.nan)
    return speeds[np.where(at >= 0, at, len(speeds) - 1)]


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


def tti_of(free_flow: np.ndarray, inverse_speed_sum: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Travel time index per detector: free-flow speed x mean(1 / speed) over its moving
    readings; NaN for a detector without free-flow speed or moving readings."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return free_flow * inverse_speed_sum / np.where(moving > 0, moving, np.nan)


def detector_tti(engine: QueryEngine, city_id: str, stats: pd.DataFrame) -> np.ndarray:
    """The travel time index of each row of a frame of per-detector sums (`detector_id`,
    `inverse_speed_sum`, `moving_readings`, as `detector_stats` gives)."""
    return tti_of(
        free_flow_of(engine, city_id, stats["detector_id"].tolist()),
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
