"""The air stations and their daily AQI inputs (24-h means, 8-h maxima) computed in SQL."""

from __future__ import annotations

import pandas as pd

from datasets.query import Filters, MissingDataset, QueryEngine

from .common import (
    DAILY_INPUTS,
    HOURLY_POLLUTANTS,
    MIN_HOURS,
    MIN_HOURS_8H,
    MIN_WINDOWS_8H,
    column_or_null,
    columns_of,
    has_dataset,
    in_period,
    ts_sql,
)


def stations(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """The monitoring stations in the selected districts."""

    def compute() -> pd.DataFrame:
        present = columns_of(engine, city_id, "air_stations")
        name_zh = "COALESCE(name_zh, name)" if "name_zh" in present else "name"
        kind = "kind" if "kind" in present else "CAST(NULL AS VARCHAR)"
        near_road = "near_road" if "near_road" in present else "CAST(NULL AS BOOLEAN)"
        return engine.frame(f"""
            SELECT station_id, name, {name_zh} AS name_zh, CAST(district AS INTEGER) AS district,
                   lat, lon, {kind} AS kind, {near_road} AS near_road
            FROM {engine.source(city_id, "air_stations")}
            WHERE {filters.where(None)}
            ORDER BY station_id
        """)

    return engine.memo_frame(
        "ecology.stations", city_id, ("air_stations",), (filters.districts,), compute
    )


def _hourly_where(engine: QueryEngine, city_id: str, filters: Filters) -> str:
    """Conditions on the hourly scan: dates, and the stations of the selected districts."""
    clauses = [filters.where("ts", None)]
    if filters.districts:
        if has_dataset(engine, city_id, "air_stations"):
            clauses.append(
                f"station_id IN (SELECT station_id FROM {engine.source(city_id, 'air_stations')}"
                f" WHERE {filters.where(None)})"
            )
        elif "district" in columns_of(engine, city_id, "air_quality_hourly"):
            clauses.append(filters.where(None, "district"))
    return " AND ".join(clauses)


def daily_inputs_sql(engine: QueryEngine, city_id: str, filters: Filters) -> str:
    """SQL of the daily AQI inputs per station and day (see the module docstring).

    Hours are averaged first (so duplicate or sub-hourly rows count once per hour). Means and
    daily maxima come straight from those hours; the 8-h moving means of O3 and CO run as a
    window function over a dense grid of 24 hours per station and day, so that "8 rows" means
    "8 hours" even where an hour is missing. Windows ending 07:00-23:00 lie inside their day.
    """
    present = columns_of(engine, city_id, "air_quality_hourly")
    hourly_values = ",\n".join(
        f"AVG({column_or_null(p, present)}) AS {p}" for p in HOURLY_POLLUTANTS
    )
    means = ",\n".join(
        f"CASE WHEN COUNT({p}) >= {MIN_HOURS} THEN AVG({p}) END AS {p}"
        for p in ("pm25", "pm10", "no2", "so2", "co")
    )
    # CASE inside the aggregates: several times faster in DuckDB than FILTER (WHERE …)
    max_8h = ",\n".join(
        f"CASE WHEN SUM(CASE WHEN {p}_n >= {MIN_HOURS_8H} THEN 1 ELSE 0 END)"
        f" >= {MIN_WINDOWS_8H}"
        f" THEN MAX(CASE WHEN {p}_n >= {MIN_HOURS_8H} THEN {p}_m END) END AS {p}_8h"
        for p in ("o3", "co")
    )
    return f"""
        WITH hourly AS (
            SELECT station_id, date_trunc('hour', ts) AS hour,
                   {hourly_values}
            FROM {engine.source(city_id, "air_quality_hourly")}
            WHERE {_hourly_where(engine, city_id, filters)}
            GROUP BY ALL
        ),
        daily AS (
            SELECT station_id, CAST(hour AS DATE) AS day,
                   {means},
                   MAX(o3) AS o3_1h, MAX(no2) AS no2_1h, MAX(so2) AS so2_1h
            FROM hourly
            GROUP BY ALL
        ),
        grid AS (
            SELECT d.station_id, d.day, CAST(r.h AS INTEGER) AS h,
                   CAST(d.day AS TIMESTAMP) + to_hours(CAST(r.h AS INTEGER)) AS hour
            FROM daily d CROSS JOIN range(24) AS r(h)
        ),
        moving AS (
            SELECT g.station_id, g.day, g.h,
                   AVG(v.o3) OVER w AS o3_m, COUNT(v.o3) OVER w AS o3_n,
                   AVG(v.co) OVER w AS co_m, COUNT(v.co) OVER w AS co_n
            FROM grid g LEFT JOIN hourly v ON v.station_id = g.station_id AND v.hour = g.hour
            -- Each day present has its 24 grid rows, so for h >= 7 the 8 rows of a window
            -- are that day's; one partition per station keeps the window operator fast.
            WINDOW w AS (PARTITION BY g.station_id ORDER BY g.day, g.h
                         ROWS BETWEEN 7 PRECEDING AND CURRENT ROW)
        ),
        max_8h AS (
            SELECT station_id, day,
                   {max_8h}
            FROM moving
            WHERE h >= 7
            GROUP BY ALL
        )
        SELECT d.station_id, {ts_sql("d.day")} AS date,
               d.pm25, d.pm10, d.no2, d.so2, d.co, m.o3_8h, d.o3_1h, d.no2_1h, d.so2_1h, m.co_8h
        FROM daily d JOIN max_8h m ON m.station_id = d.station_id AND m.day = d.day
        ORDER BY d.station_id, d.day
    """


def station_daily_inputs(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """One row per station and day: 24-h means, O3/CO daily max 8-h means, daily max hours.

    A station's values for a day depend on that station and day only (whole days, 8-h windows
    inside the day), so the table of every station and day is computed once per version (and
    cached, shared by the server's workers), then cut to the period and the stations of the
    selected districts: the same rows as `daily_inputs_sql` with these filters, in the same
    order. Without a stations table the district filter runs in the SQL instead.
    """
    if filters.districts and not has_dataset(engine, city_id, "air_stations"):
        frame = engine.frame(daily_inputs_sql(engine, city_id, filters))
        return frame[["station_id", "date", *DAILY_INPUTS]]
    columns = ["station_id", "date", *DAILY_INPUTS]
    return station_days(
        engine,
        city_id,
        ("ecology.station_days", ()),
        lambda: engine.frame(daily_inputs_sql(engine, city_id, Filters()))[columns],
        filters,
    )


def station_days(engine, city_id, key, every, filters) -> pd.DataFrame:
    """The table of every station and day (`every()`), kept once per version of the hourly
    readings under `key` (namespace, parts), cut to the period and the stations of the
    selected districts."""
    namespace, parts = key
    whole = engine.memo_frame(namespace, city_id, ("air_quality_hourly",), parts, every)
    return _cut(engine, city_id, whole, filters)


def _cut(engine: QueryEngine, city_id: str, whole: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows of a frame of every station and day that lie in the period and belong to the
    stations of the selected districts (in the frame's order)."""
    keep = in_period(whole["date"], filters)
    if filters.districts:
        chosen = stations(engine, city_id, Filters(districts=filters.districts))["station_id"]
        keep &= whole["station_id"].isin(chosen).to_numpy()
    return whole if keep.all() else whole[keep].reset_index(drop=True)


def station_table(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame | None:
    try:
        return stations(engine, city_id, filters)
    except MissingDataset:
        return None


def urban_only(daily: pd.DataFrame, table: pd.DataFrame | None) -> pd.DataFrame:
    """Drop background (control) stations from city means, as Chinese city statistics do,
    unless the selection holds nothing else."""
    if table is None or table.empty:
        return daily
    background = set(table.loc[table["kind"].eq("background").fillna(False), "station_id"])
    urban = daily[~daily["station_id"].isin(background)]
    return urban if not urban.empty else daily
