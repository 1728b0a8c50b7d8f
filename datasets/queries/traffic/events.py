"""Incidents, emergency runs and the metro's network flows."""

from __future__ import annotations

import pandas as pd

from datasets.query import Filters, QueryEngine

from .common import EMERGENCY_MAX_KM, INCIDENT_POINTS, INCIDENTS, METRO, RUNS, filter_sql

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
        WHERE {filter_sql(filters, "detected_at")} AND lat IS NOT NULL AND lon IS NOT NULL
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
            WHERE {filter_sql(filters, "detected_at")} AND cleared_at IS NOT NULL
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
        WHERE {filter_sql(filters, "started_at")} AND distance_km > 0
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
