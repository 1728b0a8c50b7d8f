"""The traffic link (NO2 against daily traffic volume), energy, green mobility and waste."""

from __future__ import annotations

import numpy as np
import pandas as pd

from datasets.query import Filters, QueryEngine

from .common import (
    BUCKETS,
    MOBILITY_COLUMNS,
    RECYCLED_STREAMS,
    as_floats,
    bucket_for,
    column_or_null,
    columns_of,
    coverage,
    group_mean,
    month_filters,
    ts_sql,
)
from .inputs import station_daily_inputs, station_table, urban_only

# -- traffic link ------------------------------------------------------------------------------


def traffic_daily_volume(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Vehicles counted per day by all detectors in the selected districts."""
    src, grain = engine.plan(
        city_id, "traffic_readings", ("district_day", "district_hour", "district_5min")
    )
    if grain is not None:  # daily sums per district (datasets.rollups)
        column = {"district_day": "day", "district_hour": "hour_start"}.get(grain, "ts")
        day_filter = filters.where(None)  # districts; dates as DATEs on a DATE column (pruning)
        if column == "day":
            if filters.start:
                day_filter += f" AND day >= DATE '{filters.start.isoformat()}'"
            if filters.end:
                day_filter += f" AND day <= DATE '{filters.end.isoformat()}'"
        else:
            day_filter = filters.where(column)
        sql = f"""
            SELECT {ts_sql(f"CAST({column} AS DATE)")} AS date, SUM(volume_sum)::BIGINT AS volume
            FROM {src}
            WHERE {day_filter}
            GROUP BY 1
            ORDER BY 1
        """
        return engine.frame(sql)
    sql = f"""
        SELECT {ts_sql("CAST(ts AS DATE)")} AS date, SUM(volume)::BIGINT AS volume
        FROM {src}
        WHERE {filters.where("ts")}
        GROUP BY 1
        ORDER BY 1
    """
    return engine.frame(sql)


def no2_vs_traffic(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Daily city NO2 (24-h mean over the urban stations) beside the day's traffic volume.

    Columns: date, no2, volume, weekend.
    """
    traffic = traffic_daily_volume(engine, city_id, filters)
    daily = urban_only(
        station_daily_inputs(engine, city_id, filters), station_table(engine, city_id, filters)
    )
    days, no2 = _daily_mean(daily["date"], daily["no2"])
    volume = traffic["volume"].to_numpy()
    _, mine, theirs = np.intersect1d(days, traffic["date"].to_numpy(), return_indices=True)
    keep = volume[theirs] > 0
    mine, theirs = mine[keep], theirs[keep]
    dates = pd.Series(days[mine], name="date")
    return pd.DataFrame(
        {
            "date": dates,
            "no2": no2[mine],
            "volume": volume[theirs],
            "weekend": (dates.dt.day_of_week >= 5).to_numpy(),
        }
    )


def _daily_mean(dates: pd.Series, column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(days, mean over the rows of each day) for the days with a value, days in order."""
    days, row_day = np.unique(dates.to_numpy(), return_inverse=True)
    mean, count = group_mean(row_day, len(days), as_floats(column))
    return days[count > 0], mean[count > 0]


def is_recycled(stream: pd.Series) -> pd.Series:
    return stream.str.lower().isin(RECYCLED_STREAMS)


# -- energy, mobility, waste -------------------------------------------------------------------


def energy_by_sector(
    engine: QueryEngine, city_id: str, filters: Filters, bucket: str | None = None
) -> pd.DataFrame:
    """Electricity and renewable electricity per sector, as GWh per day averaged per bucket.

    Columns: period, sector, days, electricity_gwh_day, renewable_gwh_day.
    """
    bucket = (
        bucket
        if bucket in BUCKETS
        else bucket_for(filters, coverage(engine, city_id, "energy_daily"))
    )
    sql = f"""
        SELECT {ts_sql("date_trunc(?, date)")} AS period, sector,
               COUNT(DISTINCT date) AS days,
               SUM(electricity_gwh) / COUNT(DISTINCT date) AS electricity_gwh_day,
               SUM(renewable_gwh) / COUNT(DISTINCT date) AS renewable_gwh_day
        FROM {engine.source(city_id, "energy_daily")}
        WHERE {filters.where("date", None)}
        GROUP BY ALL
        ORDER BY period, sector
    """
    return engine.frame(sql, (bucket,))


def mobility(
    engine: QueryEngine, city_id: str, filters: Filters, bucket: str | None = None
) -> pd.DataFrame:
    """Green-mobility counts per day, averaged per bucket (week by default).

    Columns: period, days, metro_riders, bus_riders, public_bike_trips, ev_charging_sessions.
    """
    bucket = (
        bucket
        if bucket in BUCKETS
        else bucket_for(
            filters, coverage(engine, city_id, "mobility_daily"), week_after=62, month_after=730
        )
    )
    present = columns_of(engine, city_id, "mobility_daily")
    values = ",\n".join(f"AVG({column_or_null(c, present)}) AS {c}" for c in MOBILITY_COLUMNS)
    sql = f"""
        SELECT {ts_sql("date_trunc(?, date)")} AS period, COUNT(*) AS days,
               {values}
        FROM {engine.source(city_id, "mobility_daily")}
        WHERE {filters.where("date", None)}
        GROUP BY 1
        ORDER BY 1
    """
    frame = engine.frame(sql, (bucket,))
    return frame.dropna(axis=1, how="all") if not frame.empty else frame


def waste_by_stream(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Tonnes per month and stream, for the months that overlap the period.

    Columns: month, stream, tonnes.
    """
    sql = f"""
        SELECT {ts_sql("month")} AS month, stream, SUM(tonnes) AS tonnes
        FROM {engine.source(city_id, "waste_monthly")}
        WHERE {month_filters(filters).where("month", None)}
        GROUP BY ALL
        ORDER BY month, stream
    """
    return engine.frame(sql)
