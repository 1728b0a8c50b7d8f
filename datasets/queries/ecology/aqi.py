"""Daily AQI per station and for the city, and what the ecology page draws from it (pollutant
series, station summary, category shares).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datasets.aqi import aqi_frame, category_for
from datasets.query import Filters, QueryEngine

from .common import (
    DAILY_INPUTS,
    DEFAULT_STANDARD,
    GOOD_AQI,
    POLLUTANT_DAILY,
    as_floats,
    group_mean,
    has_dataset,
    in_period,
    standard_or_default,
)
from .inputs import station_daily_inputs, station_days, station_table, urban_only


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
    daily = urban_only(
        station_daily_inputs(engine, city_id, filters), station_table(engine, city_id, filters)
    )
    if daily.empty:
        return pd.DataFrame(
            columns=["date", *DAILY_INPUTS, "stations", "aqi", "primary", "category"]
        )
    days, row_day = np.unique(daily["date"].to_numpy(), return_inverse=True)
    means = {c: group_mean(row_day, len(days), as_floats(daily[c])) for c in DAILY_INPUTS}
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
    return station_days(
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
    keep = in_period(whole["date"], filters)
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
    out = _with_station_names(out, station_table(engine, city_id, filters))
    return out[["date", "station_id", "name", "name_zh", "pollutant", "value"]].reset_index(
        drop=True
    )


def station_summary(
    engine: QueryEngine, city_id: str, filters: Filters, standard: str = DEFAULT_STANDARD
) -> pd.DataFrame:
    """Per station over the period: mean daily AQI and its category, share of days with
    AQI ≤ 100, mean PM2.5 and NO2, with name, district and coordinates (for the map)."""
    standard = standard_or_default(standard)
    table = station_table(engine, city_id, filters)
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
    aqi = as_floats(daily["aqi"])
    good = np.where(np.isnan(aqi), np.nan, aqi <= GOOD_AQI)
    mean_aqi, days = group_mean(station, len(ids), aqi)
    summary = pd.DataFrame(
        {
            "days": days.astype("int64"),
            "mean_aqi": mean_aqi,
            "good_share": group_mean(station, len(ids), good)[0],
            "pm25": group_mean(station, len(ids), as_floats(daily["pm25"]))[0],
            "no2": group_mean(station, len(ids), as_floats(daily["no2"]))[0],
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
            station_table(engine, city_id, filters),
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
