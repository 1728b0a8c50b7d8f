"""Air-quality demo data: the national monitoring stations and their hourly concentrations.

Why: air quality is the headline indicator of round table 2 (smart applications and ecological
development) and SDG 11.6.2. The stations, coordinates and relative levels are the real ones
listed in demo.json; concentrations are modelled to reproduce the published picture: PM2.5
peaking in winter (monthly means averaging ~45 ug/m3 for 2017), O3 peaking on summer afternoons,
NO2 following traffic (more at near-road stations), rain washing particles out, roughly 270
"good" days a year under HJ 633-2012.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from shapely.geometry import Point

from datasets.cities import CityProfile
from datasets.demo.calendar import Days, day_arrays, monthly_curve, rain_weight
from datasets.demo.params import as_params, city_metadata, resolve
from datasets.demo.schema import POLLUTANTS, AirParams, DemoParams

STATION_SCHEMA = pa.schema(
    [
        ("station_id", pa.string()),
        ("name", pa.string()),
        ("name_zh", pa.string()),
        ("district", pa.int32()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("kind", pa.string()),
        ("near_road", pa.bool_()),
    ]
)
AIR_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("s")),
        ("station_id", pa.string()),
        ("district", pa.int32()),
        *[(k, pa.float32()) for k in POLLUTANTS],
    ]
)


def _district_of(params: DemoParams, lat: float, lon: float) -> int:
    pt = Point(lon, lat)
    shapes = {d.code: params.city.district_shape(d.code) for d in params.city.districts}
    for code, shape in shapes.items():
        if shape.contains(pt):
            return code
    return min(shapes, key=lambda c: shapes[c].distance(pt))


def air_stations(city: CityProfile | DemoParams | None = None) -> pa.Table:
    """`air_stations`: the monitoring sites from demo.json, with the district that contains each.

    Why: maps and per-district views need the station's district; it is computed from the
    coordinates with shapely (nearest district if a point falls just outside every polygon)
    rather than typed in, so a second city's file cannot disagree with its boundaries.
    """
    p = as_params(city)
    st = p.air.stations
    return pa.Table.from_arrays(
        [
            pa.array([s.id for s in st], pa.string()),
            pa.array([s.name for s in st], pa.string()),
            pa.array([s.name_zh for s in st], pa.string()),
            pa.array([_district_of(p, s.lat, s.lon) for s in st], pa.int32()),
            pa.array([s.lat for s in st], pa.float64()),
            pa.array([s.lon for s in st], pa.float64()),
            pa.array([s.kind for s in st], pa.string()),
            pa.array([s.near_road for s in st], pa.bool_()),
        ],
        schema=STATION_SCHEMA.with_metadata(city_metadata(p)),
    )


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Unit-variance AR(1) series: pollution episodes last several days."""
    e = rng.standard_normal(n)
    out = np.empty(n)
    if n == 0:
        return out
    out[0] = e[0]
    s = np.sqrt(1 - phi * phi)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + s * e[i]
    return out


def _daily_z(rng_seed: int, tag: int, d: Days, phi: float) -> np.ndarray:
    """Persistent daily anomalies (unit variance), standardised within each calendar month.

    Drawn per calendar year from (seed, tag, year), so a sub-range equals the same days of the
    full year; standardising per month keeps the monthly means of demo.json (the calibration
    target, e.g. 2017 annual PM2.5 ~45) instead of letting one random episode shift a year.
    """
    out = np.empty(len(d))
    years = d.date.astype("datetime64[Y]").astype(np.int64) + 1970
    for y in np.unique(years):
        dates = np.arange(np.datetime64(f"{y}-01-01"), np.datetime64(f"{y + 1}-01-01"))
        z = _ar1(np.random.default_rng([rng_seed, tag, int(y)]), len(dates), phi)
        month = dates.astype("datetime64[M]").astype(np.int64) % 12
        for m in range(12):
            sel = month == m
            z[sel] = (z[sel] - z[sel].mean()) / z[sel].std()
        sel = years == y
        z_idx = (d.date[sel] - np.datetime64(f"{y}-01-01")).astype(np.int64)
        out[sel] = z[z_idx]
    return out


def _lognormal(z: np.ndarray, sd: float) -> np.ndarray:
    """Mean-one multiplicative noise from standard normals."""
    return np.exp(sd * z - 0.5 * sd * sd)


def _month_normalised(x: np.ndarray, d: Days) -> np.ndarray:
    """Divide by the month's mean so a modulating effect keeps the monthly means of demo.json."""
    out = np.empty_like(x)
    for m in np.unique(d.month):
        sel = d.month == m
        out[sel] = x[sel] / x[sel].mean()
    return out


def _traffic_matrix(index: pd.Series | pa.Table, d: Days) -> np.ndarray:
    if isinstance(index, pa.Table):
        names = index.column_names
        ts_col = "ts" if "ts" in names else names[0]
        val_col = next(c for c in names if c != ts_col)
        index = pd.Series(
            index.column(val_col).to_numpy(),
            index=pd.DatetimeIndex(index.column(ts_col).to_numpy()),
        )
    want = (d.date.astype("datetime64[h]")[:, None] + np.arange(24)).ravel()
    s = pd.Series(np.asarray(index, dtype=np.float64), index=pd.DatetimeIndex(index.index))
    s = s[~s.index.duplicated()]
    values = s.reindex(pd.DatetimeIndex(want.astype("datetime64[ns]"))).to_numpy()
    if np.isnan(values).any():
        raise ValueError("hourly_traffic_index does not cover every hour of `days`")
    return values.reshape(len(d), 24)


def _norm(shape: tuple[float, ...]) -> np.ndarray:
    a = np.asarray(shape, dtype=np.float64)
    return a / a.mean()


def _o3_shape(shape: tuple[float, ...]) -> np.ndarray:
    """Hourly O3 shape scaled so its maximum 8-hour running mean is 1 (MDA8 = daily level)."""
    a = np.asarray(shape, dtype=np.float64)
    run = np.convolve(a, np.ones(8) / 8, mode="valid")
    return a / run.max()


def air_quality_hourly(
    stations: pa.Table,
    days: pa.Table,
    hourly_traffic_index: pd.Series | pa.Table,
    rng_seed: int,
    *,
    params: DemoParams | None = None,
) -> pa.Table:
    """`air_quality_hourly`: PM2.5, PM10, NO2, SO2, O3 (ug/m3) and CO (mg/m3) per station-hour.

    Why each pattern:
    - PM2.5: monthly means from demo.json (winter peak, 2017 annual ~45) times persistent
      lognormal daily noise (episodes reach 115-150 in winter), rain washout, station scaling
      by relative AQI, a diurnal shape; PM10 ~1.6x PM2.5.
    - NO2: monthly level times a background share plus a share that follows the hourly
      traffic index, so daily NO2 tracks traffic (holidays, weekends); near-road stations more.
    - O3: daily MDA8 from the monthly table (summer peak), lower on rainy days, spread over the
      hours with an afternoon maximum.
    - SO2 and CO: monthly levels sharing the PM meteorology. About `missing_rate` values NaN.
    """
    p = resolve(params, days, stations)
    ap = p.air
    d = day_arrays(days)
    n, S = len(d), stations.num_rows
    ti = _traffic_matrix(hourly_traffic_index, d)
    factors = _station_factors(ap, stations)
    rng = np.random.default_rng([rng_seed, 0xA1])
    levels = _daily_levels(p, d, rng_seed)
    # (day, hour, station) arrays
    st_day = _lognormal(rng.standard_normal((n, 1, S)), ap.station_daily_sd_log)
    values = _hourly_values(ap, d, ti, levels, st_day, factors, rng)
    return _air_table(ap, stations, d, values, rng)


def _station_factors(ap: AirParams, stations: pa.Table) -> dict[str, np.ndarray]:
    """Per pollutant, each station's factor: its scale (not for O3), near a road, its kind."""
    ids = stations.column("station_id").to_pylist()
    by_id = {s.id: s for s in ap.stations}
    kinds = stations.column("kind").to_pylist()
    near = np.asarray(stations.column("near_road").to_pylist(), dtype=bool)
    scale = np.array([by_id[i].scale if i in by_id else 1.0 for i in ids])

    def station_factor(pollutant: str) -> np.ndarray:
        f = scale.copy() if pollutant != "o3" else np.ones(len(ids))
        f *= np.where(near, ap.near_road_factors.get(pollutant, 1.0), 1.0)
        for k in set(kinds):
            kf = ap.kind_factors.get(k, {}).get(pollutant, 1.0)
            f[np.asarray(kinds) == k] *= kf
        return f

    return {pollutant: station_factor(pollutant) for pollutant in POLLUTANTS}


@dataclass(frozen=True)
class _DailyLevels:
    pm: np.ndarray  # PM2.5 per day, washout included
    met_gas: np.ndarray  # the meteorology the gases share
    o3: np.ndarray  # O3 MDA8 per day


def _daily_levels(p: DemoParams, d: Days, rng_seed: int) -> _DailyLevels:
    """Each day's city-wide levels: monthly curves times persistent daily noise, rain."""
    ap = p.air
    w = rain_weight(d.rain_mm, p)
    z_met = _daily_z(rng_seed, 0xA2, d, ap.pm25_daily_ar)
    z_o3 = _daily_z(rng_seed, 0xA3, d, ap.o3_daily_ar)
    z_gas = 0.7 * z_met + np.sqrt(1 - 0.49) * _daily_z(rng_seed, 0xA4, d, 0.3)
    washout = _month_normalised(np.exp(-ap.rain_washout * w), d)

    pm_day = monthly_curve(ap.pm25_monthly, d.date) * _lognormal(z_met, ap.pm25_daily_sd_log)
    pm_day *= washout
    met_gas = _lognormal(z_gas, ap.meteo_daily_sd_log) * np.sqrt(washout)
    o3_rain = _month_normalised(np.exp(-ap.o3_rain_drop * w), d)
    o3_day = monthly_curve(ap.o3_mda8_monthly, d.date) * _lognormal(z_o3, ap.o3_daily_sd_log)
    o3_day *= o3_rain
    return _DailyLevels(pm_day, met_gas, o3_day)


def _hourly_values(
    ap: AirParams,
    d: Days,
    ti: np.ndarray,
    levels: _DailyLevels,
    st_day: np.ndarray,
    factors: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """(day, hour, station) values of each pollutant; the draws keep their order in `rng`."""
    n, h, S = len(d), 24, st_day.shape[2]

    def hourly_noise(sd: float) -> np.ndarray:
        return _lognormal(rng.standard_normal((n, h, S)), sd)

    hs = ap.hourly_sd_log
    pm25 = (
        levels.pm[:, None, None]
        * _norm(ap.diurnal_pm)[None, :, None]
        * st_day
        * factors["pm25"][None, None, :]
        * hourly_noise(hs)
    )
    ratio = ap.pm10_ratio * _lognormal(rng.standard_normal((n, 1, S)), ap.pm10_ratio_sd_log)
    pm10 = pm25 * ratio * (factors["pm10"] / factors["pm25"])[None, None, :]
    pm10 *= hourly_noise(hs / 2)

    bg = ap.no2_background_share
    traffic = bg + (1 - bg) * ti  # (n, 24)
    no2 = (
        (monthly_curve(ap.no2_monthly, d.date) * levels.met_gas)[:, None, None]
        * (_norm(ap.diurnal_boundary_layer)[None, :] * traffic)[:, :, None]
        * st_day
        * factors["no2"][None, None, :]
        * hourly_noise(hs)
    )
    so2 = (
        (monthly_curve(ap.so2_monthly, d.date) * np.sqrt(levels.met_gas))[:, None, None]
        * _norm(ap.diurnal_pm)[None, :, None]
        * factors["so2"][None, None, :]
        * hourly_noise(hs)
    )
    co = (
        (monthly_curve(ap.co_monthly, d.date) * levels.met_gas**0.6)[:, None, None]
        * (0.6 + 0.4 * ti)[:, :, None]
        * _norm(ap.diurnal_boundary_layer)[None, :, None]
        * factors["co"][None, None, :]
        * hourly_noise(hs / 2)
    )
    o3 = (
        levels.o3[:, None, None]
        * _o3_shape(ap.diurnal_o3)[None, :, None]
        * factors["o3"][None, None, :]
        * hourly_noise(hs * 0.6)
    )
    return {"pm25": pm25, "pm10": pm10, "no2": no2, "so2": so2, "o3": o3, "co": co}


def _air_table(
    ap: AirParams,
    stations: pa.Table,
    d: Days,
    values: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> pa.Table:
    """The table, with gaps: half as whole station-hours (outages), half as single values."""
    ids = stations.column("station_id").to_pylist()
    n, h, S = len(d), 24, len(ids)
    outage = rng.random((n, h, S)) < ap.missing_rate / 2
    cols = {}
    for k in POLLUTANTS:
        v = np.round(values[k], 3 if k == "co" else 1).astype(np.float32)
        v[outage | (rng.random((n, h, S)) < ap.missing_rate / 2)] = np.nan
        cols[k] = v.ravel()

    ts = np.repeat((d.epoch_seconds[:, None] + np.arange(h) * 3600).ravel(), S)
    district = np.asarray(stations.column("district").to_numpy(), dtype=np.int32)
    return pa.Table.from_arrays(
        [
            pa.array(ts, pa.timestamp("s")),
            pa.array(np.tile(np.asarray(ids, dtype=object), n * h), pa.string()),
            pa.array(np.tile(district, n * h)),
            *[pa.array(cols[k], pa.float32(), from_pandas=True) for k in POLLUTANTS],
        ],
        schema=AIR_SCHEMA,
    )
