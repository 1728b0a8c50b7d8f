"""The inputs (`fetch_*`): one small frame per kind of data, read through the query engine."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..cities import CityProfile
from ..queries import ecology as q
from ..queries import traffic as tq
from ..query import Filters, MissingDataset, QueryEngine
from .model import CRASH_TYPES, Inputs


def _present(engine: QueryEngine, city_id: str, kind: str) -> frozenset[str]:
    return frozenset(c["name"] for c in engine.dataset(city_id, kind).current.columns)


def _stations(engine: QueryEngine, city_id: str) -> pd.DataFrame | None:

    try:
        return q.stations(engine, city_id, Filters())
    except MissingDataset:
        return None


def fetch_air_stations_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    """Station-day 24-h means (≥ 20 valid hours) of the urban stations, with their district."""

    daily = q.station_daily_inputs(engine, city.id, Filters())
    table = _stations(engine, city.id)
    if table is not None and not table.empty:
        background = set(table.loc[table["kind"].eq("background").fillna(False), "station_id"])
        urban = daily[~daily["station_id"].isin(background)]
        daily = urban if not urban.empty else daily
        daily = daily.merge(table[["station_id", "district"]], on="station_id", how="left")
    else:
        daily = daily.assign(district=pd.NA)
    return daily[["date", "station_id", "district", "pm25", "pm10", "no2"]]


def fetch_air_city_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    """City-day values (mean over the urban stations) and the HJ 633-2012 AQI."""

    daily = q.city_daily_aqi(engine, city.id, Filters(), "hj633")
    out = daily[["date", "pm25", "aqi", "stations"]].copy()
    out["aqi"] = out["aqi"].astype("float64")
    return out


def fetch_traffic_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:

    src = engine.source(city.id, "traffic_readings")
    frame = engine.frame(
        f"""
        SELECT CAST(CAST(ts AS DATE) AS TIMESTAMP) AS date, detector_id,
               count(*) FILTER (WHERE speed_kmh > 0) AS moving,
               sum(1.0 / speed_kmh) FILTER (WHERE speed_kmh > 0) AS inverse_speed_sum
        FROM {src}
        GROUP BY ALL
        ORDER BY date, detector_id
        """
    )
    free_flow = tq.free_flow_speeds(engine, city.id)[["detector_id", "free_flow_kmh"]]
    return frame.merge(free_flow, on="detector_id", how="left")


def fetch_crashes_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    src = engine.source(city.id, "incidents")
    types = ", ".join(f"'{t}'" for t in CRASH_TYPES)
    return engine.frame(
        f"""
        SELECT CAST(CAST(detected_at AS DATE) AS TIMESTAMP) AS date,
               count(*) FILTER (WHERE lower(type) IN ({types})) AS crashes
        FROM {src}
        GROUP BY 1
        ORDER BY 1
        """
    )


def fetch_runs(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    src = engine.source(city.id, "emergency_runs")
    return engine.frame(
        f"""
        SELECT CAST(CAST(started_at AS DATE) AS TIMESTAMP) AS date, travel_min, signal_priority
        FROM {src}
        ORDER BY started_at
        """
    )


def fetch_mobility_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    present = _present(engine, city.id, "mobility_daily")
    columns = [c for c in ("metro_riders", "bus_riders", "public_bike_trips") if c in present]
    select = ", ".join(f"SUM(CAST({c} AS DOUBLE)) AS {c}" for c in columns)
    frame = engine.frame(
        f"""
        SELECT CAST(date AS TIMESTAMP) AS date{", " + select if select else ""}
        FROM {engine.source(city.id, "mobility_daily")}
        GROUP BY 1
        ORDER BY 1
        """
    )
    for column in ("metro_riders", "bus_riders", "public_bike_trips"):
        if column not in frame:
            frame[column] = np.nan
    return frame


def fetch_energy_daily(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    return engine.frame(
        f"""
        SELECT CAST(date AS TIMESTAMP) AS date,
               SUM(electricity_gwh) AS electricity_gwh, SUM(renewable_gwh) AS renewable_gwh
        FROM {engine.source(city.id, "energy_daily")}
        GROUP BY 1
        ORDER BY 1
        """
    )


def fetch_waste_monthly(engine: QueryEngine, city: CityProfile) -> pd.DataFrame:
    return engine.frame(
        f"""
        SELECT CAST(date_trunc('month', month) AS TIMESTAMP) AS date, stream,
               SUM(tonnes) AS tonnes
        FROM {engine.source(city.id, "waste_monthly")}
        GROUP BY ALL
        ORDER BY 1, 2
        """
    )


FETCH: dict[str, Callable[[QueryEngine, CityProfile], pd.DataFrame]] = {
    "air_stations_daily": fetch_air_stations_daily,
    "air_city_daily": fetch_air_city_daily,
    "traffic_daily": fetch_traffic_daily,
    "crashes_daily": fetch_crashes_daily,
    "runs": fetch_runs,
    "mobility_daily": fetch_mobility_daily,
    "energy_daily": fetch_energy_daily,
    "waste_monthly": fetch_waste_monthly,
}


def event_days(datasets: list) -> pd.DatetimeIndex:
    """Every day of the time span the catalog records for event datasets."""
    spans = [
        (d.current.time_min[:10], d.current.time_max[:10])
        for d in datasets
        if d.current.time_min and d.current.time_max
    ]
    if not spans:
        return pd.DatetimeIndex([])
    return pd.date_range(min(s[0] for s in spans), max(s[1] for s in spans), freq="D")


def city_inputs(city: CityProfile) -> Inputs:
    districts = {d.code: d.population for d in city.districts if d.population}
    population = city.population or (
        sum(districts.values()) if districts and len(districts) == len(city.districts) else None
    )
    return Inputs(population=population, district_population=districts)
