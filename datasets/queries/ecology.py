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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.aqi import STANDARDS, aqi_frame, category_for
from datasets.period import DEFAULT_COMPARISON, DEFAULT_DAYS, parse_comparison
from datasets.query import Filters, MissingDataset, QueryEngine

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


# -- helpers ---------------------------------------------------------------------------------


def standard_or_default(standard: str | None) -> str:
    return standard if standard in STANDARDS else DEFAULT_STANDARD


def columns_of(engine: QueryEngine, city_id: str, kind: str) -> frozenset[str]:
    """Columns of the current version of a dataset, from the catalog (no file is opened)."""
    return frozenset(c["name"] for c in engine.dataset(city_id, kind).current.columns)


def has_dataset(engine: QueryEngine, city_id: str, kind: str) -> bool:
    return engine.find(city_id, kind) is not None


def _col(name: str, present: frozenset[str], cast: str = "DOUBLE") -> str:
    return f"CAST({name} AS {cast})" if name in present else f"CAST(NULL AS {cast})"


def _ts(expr: str) -> str:
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


def _month_filters(filters: Filters) -> Filters:
    """Months that overlap the period: a month row is stamped with its first day."""
    start = filters.start.replace(day=1) if filters.start else None
    return Filters(start, filters.end, filters.districts)


# -- stations and daily AQI inputs -------------------------------------------------------------


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
    hourly_values = ",\n".join(f"AVG({_col(p, present)}) AS {p}" for p in HOURLY_POLLUTANTS)
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
        SELECT d.station_id, {_ts("d.day")} AS date,
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
    return _station_days(
        engine,
        city_id,
        ("ecology.station_days", ()),
        lambda: engine.frame(daily_inputs_sql(engine, city_id, Filters()))[columns],
        filters,
    )


def _station_days(engine, city_id, key, every, filters) -> pd.DataFrame:
    """The table of every station and day (`every()`), kept once per version of the hourly
    readings under `key` (namespace, parts), cut to the period and the stations of the
    selected districts."""
    namespace, parts = key
    whole = engine.memo_frame(namespace, city_id, ("air_quality_hourly",), parts, every)
    return _cut(engine, city_id, whole, filters)


def _cut(engine: QueryEngine, city_id: str, whole: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows of a frame of every station and day that lie in the period and belong to the
    stations of the selected districts (in the frame's order)."""
    keep = _in_period(whole["date"], filters)
    if filters.districts:
        chosen = stations(engine, city_id, Filters(districts=filters.districts))["station_id"]
        keep &= whole["station_id"].isin(chosen).to_numpy()
    return whole if keep.all() else whole[keep].reset_index(drop=True)


def _in_period(dates: pd.Series, filters: Filters) -> np.ndarray:
    """Which of these midnight timestamps fall in the filters' days (a mask, for a cut of a
    frame kept whole: numpy compares in microseconds what pandas takes milliseconds for)."""
    values = dates.to_numpy()
    keep = np.ones(len(values), dtype=bool)
    if filters.start:
        keep &= values >= np.datetime64(filters.start)
    if filters.end:
        keep &= values <= np.datetime64(filters.end)
    return keep


def _station_table(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame | None:
    try:
        return stations(engine, city_id, filters)
    except MissingDataset:
        return None


def _urban_only(daily: pd.DataFrame, table: pd.DataFrame | None) -> pd.DataFrame:
    """Drop background (control) stations from city means, as Chinese city statistics do,
    unless the selection holds nothing else."""
    if table is None or table.empty:
        return daily
    background = set(table.loc[table["kind"].eq("background").fillna(False), "station_id"])
    urban = daily[~daily["station_id"].isin(background)]
    return urban if not urban.empty else daily


def city_daily_aqi(
    engine: QueryEngine, city_id: str, filters: Filters, standard: str = DEFAULT_STANDARD
) -> pd.DataFrame:
    """Daily city AQI: station daily inputs averaged over the (urban) stations, then the index.

    Columns: date, the daily inputs, stations (how many stations had a PM2.5 mean), aqi,
    primary, category. Days without any valid pollutant are left out.
    """
    standard = standard_or_default(standard)
    return _by_day(engine, city_id, "ecology.city_daily_aqi", filters, standard, _city_aqi)


def _city_aqi(engine: QueryEngine, city_id: str, filters: Filters, standard: str):
    daily = _urban_only(
        station_daily_inputs(engine, city_id, filters), _station_table(engine, city_id, filters)
    )
    if daily.empty:
        return pd.DataFrame(
            columns=["date", *DAILY_INPUTS, "stations", "aqi", "primary", "category"]
        )
    days, row_day = np.unique(daily["date"].to_numpy(), return_inverse=True)
    means = {c: _group_mean(row_day, len(days), _floats(daily[c])) for c in DAILY_INPUTS}
    city = pd.DataFrame(
        {c: mean for c, (mean, _) in means.items()}, index=pd.Index(days, name="date")
    )
    city["stations"] = means["pm25"][1].astype("int64")
    city = city.join(aqi_frame(city, standard)).reset_index()
    # a day without an index had no valid pollutant at all: nothing to show or count
    return city[city["aqi"].notna()].reset_index(drop=True)


def station_daily_aqi(
    engine: QueryEngine, city_id: str, filters: Filters, standard: str = DEFAULT_STANDARD
) -> pd.DataFrame:
    """Daily AQI per station: `station_daily_inputs` with the index, category and primary
    pollutant of each row."""
    standard = standard_or_default(standard)
    if filters.districts and not has_dataset(engine, city_id, "air_stations"):
        return _by_day(
            engine, city_id, "ecology.station_daily_aqi", filters, standard, _station_aqi
        )
    return _station_days(
        engine,
        city_id,
        ("ecology.station_daily_aqi", (standard,)),
        lambda: _station_aqi(engine, city_id, Filters(), standard),
        filters,
    )


def _station_aqi(engine: QueryEngine, city_id: str, filters: Filters, standard: str):
    daily = station_daily_inputs(engine, city_id, filters)
    if daily.empty:
        return daily.assign(aqi=pd.Series(dtype="Int64"), primary="", category="")
    return daily.join(aqi_frame(daily, standard))


def _by_day(engine, city_id: str, namespace: str, filters: Filters, standard: str, compute):
    """Rows of a day each, whose values do not depend on the period asked, computed for every
    day once per dataset version, districts and standard (kept in this process), then cut to
    the filters' dates: most interactions change the dates, and then cost a slice."""
    undated = Filters(districts=filters.districts, sites=filters.sites)
    whole = engine.memo_frame(
        namespace,
        city_id,
        ("air_quality_hourly", "air_stations"),
        (undated, standard),
        lambda: compute(engine, city_id, undated, standard),
    )
    keep = _in_period(whole["date"], filters)
    return whole if keep.all() else whole[keep].reset_index(drop=True)


def _with_station_names(frame: pd.DataFrame, table: pd.DataFrame | None) -> pd.DataFrame:
    """The frame with each station's name and Chinese name (its id where it has none)."""
    ids = frame["station_id"]
    if table is None or table.empty:
        return frame.assign(name=ids, name_zh=ids)
    name = ids.map(dict(zip(table["station_id"], table["name"], strict=True))).fillna(ids)
    name_zh = ids.map(dict(zip(table["station_id"], table["name_zh"], strict=True)))
    return frame.assign(name=name, name_zh=name_zh.fillna(name))


def pollutant_daily(
    engine: QueryEngine, city_id: str, filters: Filters, pollutant: str = "pm25"
) -> pd.DataFrame:
    """Daily value of one pollutant per station (24-h mean; O3: daily max 8-h mean).

    Columns: date, station_id, name, name_zh, pollutant, value.
    """
    pollutant = pollutant if pollutant in POLLUTANT_DAILY else "pm25"
    daily = station_daily_inputs(engine, city_id, filters)
    out = daily[["date", "station_id"]].assign(
        pollutant=pollutant, value=daily[POLLUTANT_DAILY[pollutant]]
    )
    out = out.dropna(subset=["value"])
    if out.empty:
        return pd.DataFrame(columns=["date", "station_id", "name", "name_zh", "pollutant", "value"])
    out = _with_station_names(out, _station_table(engine, city_id, filters))
    return out[["date", "station_id", "name", "name_zh", "pollutant", "value"]].reset_index(
        drop=True
    )


def station_summary(
    engine: QueryEngine, city_id: str, filters: Filters, standard: str = DEFAULT_STANDARD
) -> pd.DataFrame:
    """Per station over the period: mean daily AQI and its category, share of days with
    AQI ≤ 100, mean PM2.5 and NO2, with name, district and coordinates (for the map)."""
    standard = standard_or_default(standard)
    table = _station_table(engine, city_id, filters)
    daily = station_daily_aqi(engine, city_id, filters, standard)
    columns = [
        "station_id",
        "name",
        "name_zh",
        "district",
        "lat",
        "lon",
        "kind",
        "days",
        "mean_aqi",
        "category",
        "good_share",
        "pm25",
        "no2",
    ]
    if table is None or table.empty or daily.empty:
        return pd.DataFrame(columns=columns)
    station, ids = pd.factorize(daily["station_id"], sort=True)
    aqi = _floats(daily["aqi"])
    good = np.where(np.isnan(aqi), np.nan, aqi <= GOOD_AQI)
    mean_aqi, days = _group_mean(station, len(ids), aqi)
    summary = pd.DataFrame(
        {
            "days": days.astype("int64"),
            "mean_aqi": mean_aqi,
            "good_share": _group_mean(station, len(ids), good)[0],
            "pm25": _group_mean(station, len(ids), _floats(daily["pm25"]))[0],
            "no2": _group_mean(station, len(ids), _floats(daily["no2"]))[0],
        },
        index=pd.Index(ids, name="station_id"),
    )
    summary = summary[summary["days"] > 0]
    if summary.empty:
        return pd.DataFrame(columns=columns)
    summary["category"] = [
        category_for(standard, round(value)).key for value in summary["mean_aqi"]
    ]
    at = summary.index.get_indexer(table["station_id"])
    found = at >= 0
    out = table[found].reset_index(drop=True)
    picked = summary.iloc[at[found]].reset_index(drop=True)
    return pd.concat([out, picked], axis=1)[columns]


def _group_mean(group: np.ndarray, groups: int, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """(mean, count) of the non-NaN values of each group (NaN mean where it has none)."""
    valid = ~np.isnan(values)
    count = np.bincount(group, weights=valid, minlength=groups)
    total = np.bincount(group, weights=np.where(valid, values, 0.0), minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count


def category_share(
    engine: QueryEngine,
    city_id: str,
    filters: Filters,
    standard: str = DEFAULT_STANDARD,
    by: str = "month",
) -> pd.DataFrame:
    """Days per AQI category per month (city AQI) or per station, with their shares.

    Columns: group (month timestamp or station id), name, name_zh, category, days, share.
    """
    standard = standard_or_default(standard)
    columns = ["group", "name", "name_zh", "category", "days", "share"]
    if by == "station":
        daily = station_daily_aqi(engine, city_id, filters, standard).dropna(subset=["aqi"])
        groups = daily["station_id"]
    else:
        daily = city_daily_aqi(engine, city_id, filters, standard).dropna(subset=["aqi"])
        months = daily["date"].to_numpy().astype("datetime64[M]")
        groups = pd.Series(months.astype(daily["date"].dtype), index=daily.index)
    if daily.empty:
        return pd.DataFrame(columns=columns)
    counts = _pair_counts(groups, daily["category"])
    if by == "station":
        counts = _with_station_names(
            counts.rename(columns={"group": "station_id"}),
            _station_table(engine, city_id, filters),
        ).rename(columns={"station_id": "group"})
    else:
        counts["name"] = None
        counts["name_zh"] = None
    return counts[columns]


def _pair_counts(groups: pd.Series, categories: pd.Series) -> pd.DataFrame:
    """Rows per (group, category) present, and each one's share of its group's rows; sorted
    by group, then category."""
    group, group_keys = pd.factorize(groups, sort=True)
    category, category_keys = pd.factorize(categories, sort=True)
    known = (group >= 0) & (category >= 0)
    width = len(category_keys)
    table = np.bincount(
        group[known] * width + category[known], minlength=len(group_keys) * width
    ).reshape(len(group_keys), width)
    at_group, at_category = np.nonzero(table)
    days = table[at_group, at_category]
    return pd.DataFrame(
        {
            "group": group_keys[at_group],
            "category": category_keys[at_category],
            "days": days,
            "share": days / table.sum(axis=1)[at_group],
        }
    )


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
            SELECT {_ts(f"CAST({column} AS DATE)")} AS date, SUM(volume_sum)::BIGINT AS volume
            FROM {src}
            WHERE {day_filter}
            GROUP BY 1
            ORDER BY 1
        """
        return engine.frame(sql)
    sql = f"""
        SELECT {_ts("CAST(ts AS DATE)")} AS date, SUM(volume)::BIGINT AS volume
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
    daily = _urban_only(
        station_daily_inputs(engine, city_id, filters), _station_table(engine, city_id, filters)
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
    mean, count = _group_mean(row_day, len(days), _floats(column))
    return days[count > 0], mean[count > 0]


def is_recycled(stream: pd.Series) -> pd.Series:
    return stream.str.lower().isin(RECYCLED_STREAMS)


def _floats(column: pd.Series) -> np.ndarray:
    return column.to_numpy("float64", na_value=np.nan)


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
        SELECT {_ts("date_trunc(?, date)")} AS period, sector,
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
    values = ",\n".join(f"AVG({_col(c, present)}) AS {c}" for c in MOBILITY_COLUMNS)
    sql = f"""
        SELECT {_ts("date_trunc(?, date)")} AS period, COUNT(*) AS days,
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
        SELECT {_ts("month")} AS month, stream, SUM(tonnes) AS tonnes
        FROM {engine.source(city_id, "waste_monthly")}
        WHERE {_month_filters(filters).where("month", None)}
        GROUP BY ALL
        ORDER BY month, stream
    """
    return engine.frame(sql)


# -- KPIs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiWindow:
    """The period the KPI cards describe and the one they are compared with."""

    current: Filters
    previous: Filters
    default: bool  # True when no dates were chosen (last 30 days of data)


def kpi_window(
    engine: QueryEngine, city_id: str, filters: Filters, comparison: str = DEFAULT_COMPARISON
) -> KpiWindow | None:
    """The chosen period and the one it is compared with (`period.comparison_period`); without
    chosen dates, the last 30 days of data (a missing start or end is taken from the data)."""
    if filters.start and filters.end:
        return KpiWindow(filters, filters.previous(comparison), False)
    spans = [
        span
        for kind in ("air_quality_hourly", "energy_daily", "mobility_daily", "waste_monthly")
        if (span := coverage(engine, city_id, kind))
    ]
    if not spans:
        return None
    first = min(s[0] for s in spans)
    last = max(s[1] for s in spans)
    if filters.start or filters.end:
        current = Filters(filters.start or first, filters.end or last, filters.districts)
        return KpiWindow(current, current.previous(comparison), False)
    end = last
    start = end - dt.timedelta(days=DEFAULT_KPI_DAYS - 1)
    current = Filters(start, end, filters.districts)
    return KpiWindow(current, current.previous(comparison), True)


# Each KPI reads both periods in one query (a period column: 0 the current one, 1 the one
# before), since a query's fixed cost is most of its time on these small tables.


def _span(window: KpiWindow) -> Filters:
    """The two periods of a window as one (the previous one ends the day before the current)."""
    return Filters(window.previous.start, window.current.end, window.current.districts)


def _period_sql(column: str, window: KpiWindow) -> str:
    return f"CASE WHEN {column} >= DATE '{window.current.start.isoformat()}' THEN 0 ELSE 1 END"


def _midmonth_filters(filters: Filters) -> str:
    """Months whose 15th day falls inside the period, so two adjacent periods never share one."""
    clauses = ["TRUE"]
    if filters.start:
        clauses.append(f"month + INTERVAL 14 DAY >= DATE '{filters.start.isoformat()}'")
    if filters.end:
        clauses.append(f"month + INTERVAL 14 DAY <= DATE '{filters.end.isoformat()}'")
    return " AND ".join(clauses)


def _air_kpis(engine, city_id, window: KpiWindow, standard) -> list[tuple]:
    """[(mean PM2.5, share of good days)] for the current and the previous period."""
    city = city_daily_aqi(engine, city_id, _span(window), standard)
    if city.empty:
        return [(None, None), (None, None)]
    current = city["date"].to_numpy() >= np.datetime64(window.current.start)
    pm25, aqi = _floats(city["pm25"]), _floats(city["aqi"])
    out = []
    for rows in (current, ~current):
        pm = pm25[rows][~np.isnan(pm25[rows])]
        days = aqi[rows][~np.isnan(aqi[rows])]
        good = float((days <= GOOD_AQI).mean()) if len(days) else None
        out.append((float(pm.mean()) if len(pm) else None, good))
    return out


def _table_kpis(engine, city_id, window: KpiWindow) -> dict[str, list]:
    """{kpi: [current, previous]} of the KPIs read from the energy, mobility and waste tables:
    one query for the three (each would cost about as much alone), leaving out the tables
    the city lacks. The recycled share is that of the streams named in RECYCLED_STREAMS."""
    span = _span(window)
    selects = []
    if has_dataset(engine, city_id, "energy_daily"):
        selects.append(f"""
            SELECT 'renewable' AS kpi, {_period_sql("date", window)} AS period,
                   SUM(renewable_gwh) / NULLIF(SUM(electricity_gwh), 0) AS value
            FROM {engine.source(city_id, "energy_daily")}
            WHERE {span.where("date", None)}
            GROUP BY 1, 2""")
    if has_dataset(engine, city_id, "mobility_daily") and "public_bike_trips" in columns_of(
        engine, city_id, "mobility_daily"
    ):
        selects.append(f"""
            SELECT 'bike_trips', {_period_sql("date", window)}, AVG(public_bike_trips)
            FROM {engine.source(city_id, "mobility_daily")}
            WHERE {span.where("date", None)}
            GROUP BY 1, 2""")
    if has_dataset(engine, city_id, "waste_monthly"):
        streams = ", ".join(f"'{stream}'" for stream in RECYCLED_STREAMS)
        selects.append(f"""
            SELECT 'recycled', {_period_sql("month + INTERVAL 14 DAY", window)},
                   COALESCE(SUM(CASE WHEN lower(stream) IN ({streams}) THEN tonnes END), 0)
                   / NULLIF(SUM(tonnes), 0)
            FROM {engine.source(city_id, "waste_monthly")}
            WHERE {_midmonth_filters(span)}
            GROUP BY 1, 2""")
    out: dict[str, list] = {}
    if not selects:
        return out
    frame = engine.arrow("\n            UNION ALL".join(selects)).to_pydict()
    for kpi, period, value in zip(frame["kpi"], frame["period"], frame["value"], strict=True):
        out.setdefault(kpi, [None, None])[period] = None if value is None else float(value)
    return out


KPI_IDS = ("pm25", "good_days", "renewable", "bike_trips", "recycled")


def kpis(
    engine: QueryEngine,
    city_id: str,
    filters: Filters,
    standard: str = DEFAULT_STANDARD,
    comparison: str = DEFAULT_COMPARISON,
) -> pd.DataFrame:
    """The headline figures for the period and the previous one.

    Columns: kpi, value, previous, start, end, previous_start, previous_end, default_window.
    A KPI whose dataset is missing has None values.
    """
    standard = standard_or_default(standard)
    comparison = parse_comparison(comparison)
    return engine.memo_frame(
        "ecology.kpis",
        city_id,
        ("air_quality_hourly", "air_stations", "energy_daily", "mobility_daily", "waste_monthly"),
        (filters, standard, comparison),
        lambda: _kpis(engine, city_id, filters, standard, comparison),
    )


def _kpis(
    engine: QueryEngine, city_id: str, filters: Filters, standard: str, comparison: str
) -> pd.DataFrame:
    window = kpi_window(engine, city_id, filters, comparison)
    columns = [
        "kpi",
        "value",
        "previous",
        "start",
        "end",
        "previous_start",
        "previous_end",
        "default_window",
    ]
    if window is None:
        return pd.DataFrame(columns=columns)

    try:
        air = _air_kpis(engine, city_id, window, standard)
    except MissingDataset:
        air = [(None, None)] * 2
    values = {
        "pm25": [air[0][0], air[1][0]],
        "good_days": [air[0][1], air[1][1]],
        **_table_kpis(engine, city_id, window),
    }
    rows = [
        {
            "kpi": kpi,
            "value": current,
            "previous": previous,
            "start": window.current.start,
            "end": window.current.end,
            "previous_start": window.previous.start,
            "previous_end": window.previous.end,
            "default_window": window.default,
        }
        for kpi in KPI_IDS
        for current, previous in [values.get(kpi, (None, None))]
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame[["value", "previous"]] = frame[["value", "previous"]].astype("float64")
    return frame
