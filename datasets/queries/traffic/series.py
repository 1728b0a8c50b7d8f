"""Time series and the hour x weekday heatmap of the readings, from the coarsest rollup that
answers them.
"""

from __future__ import annotations

import pandas as pd

from datasets.query import BUCKETS, Filters, QueryEngine

from .common import (
    BUCKET_MINUTES,
    BUCKET_ORDER,
    GRAIN_TIME,
    MAX_POINTS,
    READING_MINUTES,
    READINGS,
    SERIES_GRAINS,
    coverage,
    filter_sql,
    grain_filter_sql,
    grain_time_sql,
)


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
            SELECT time_bucket({BUCKETS[used]}, {grain_time_sql(grain)}) AS period_start,
                   sum(volume_sum)::DOUBLE / NULLIF(sum(n_volume), 0)
                       * {60 // READING_MINUTES} AS flow_vph,
                   sum(speed_sum) / NULLIF(sum(n_speed), 0) AS speed_kmh,
                   sum(n)::BIGINT AS readings
            FROM {src}
            WHERE {grain_filter_sql(filters, grain)}
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
        WHERE {filter_sql(filters, "ts")}
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
            WHERE {grain_filter_sql(filters, grain)}
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
        WHERE {filter_sql(filters, "ts")}
        GROUP BY weekday, hour
        ORDER BY weekday, hour
        """
    )
