"""The traffic demand model shared by the readings, the hourly traffic index, incidents and
emergency runs: weekday and weekend profiles, day-type factors, holidays, rain, the pilot's ramp.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from datasets.demo.calendar import Days, day_arrays, rain_weight
from datasets.demo.params import resolve
from datasets.demo.schema import DemoParams

SLOTS = 288  # 5-minute slots per day
SLOT_S = 300


def _logistic(h: np.ndarray, centre: float, width: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(h - centre) / width))


def _shape(h: np.ndarray, spec: dict, pm_hour: float | None = None) -> np.ndarray:
    y = spec["night"] + spec["day"] * _logistic(h, *spec["day_start"]) * (
        1.0 - _logistic(h, *spec["day_end"])
    )
    am = spec.get("am_peak")
    if am:
        y = y + am["height"] * np.exp(-0.5 * ((h - am["hour"]) / am["width_h"]) ** 2)
    pm = spec.get("pm_peak")
    if pm:
        hour = pm.get("hour", pm_hour)
        y = y + pm["height"] * np.exp(-0.5 * ((h - hour) / pm["width_h"]) ** 2)
    pl = spec.get("plateau")
    if pl:
        edge = pl.get("edge_h", 0.5)
        y = y + pl["height"] * _logistic(h, pl["start"], edge) * (1 - _logistic(h, pl["end"], edge))
    return y


def demand_profiles(params: DemoParams) -> np.ndarray:
    """(24, 288) relative demand per 5-minute slot: rows 0-11 workdays by month, 12-23 off days.

    Workday rows peak at 1 (the road's `peak_vc` then sets peak demand over capacity); an off-day
    row carries the same daily total as that month's workday, so day factors (weekend 0.85,
    Spring Festival 0.4, ...) are ratios of daily traffic, as in demo.json.
    """
    prof = params.traffic.profile
    h = (np.arange(SLOTS) * SLOT_S + SLOT_S / 2) / 3600.0
    out = np.empty((24, SLOTS))
    off = _shape(h, prof.offday)
    for m in range(12):
        w = _shape(h, prof.workday, prof.pm_peak_hour_monthly[m])
        w = w / w.max()
        out[m] = w
        out[12 + m] = off * (w.sum() / off.sum())
    return out


def profile_index(d: Days) -> np.ndarray:
    return d.month + np.where(d.workday, 0, 12)


def day_type_factors(params: DemoParams, d: Days, scenic: bool = False) -> np.ndarray:
    """Daily vehicle count relative to a workday, by kind of day (demo.json).

    Why: weekends ~0.85x, Spring Festival ~0.4x, National Day ~0.6x on commuter roads (more on
    scenic roads, which fill up on weekends and holidays).
    """
    t = params.traffic
    table = t.scenic_factors if scenic else t.holiday_factors
    weekend = t.scenic_factors.get("weekend", t.weekend_factor) if scenic else t.weekend_factor
    f = np.ones(len(d))
    f[~d.workday & (d.holiday == "")] = weekend
    for kind in np.unique(d.holiday[d.holiday != ""]):
        f[d.holiday == kind] = params.holiday_factor(table, str(kind))
    return f


def day_modifiers(params: DemoParams, d: Days) -> np.ndarray:
    """Demand multipliers on top of the kind of day: the worst weeks just before a holiday
    (e.g. the Spring Festival), monthly seasonality, rain."""
    t = params.traffic
    f = np.ones(len(d))
    for pre in t.pre_holiday:
        for h in params.calendar.holidays:
            if h.kind != pre.kind:
                continue
            start = np.datetime64(h.start, "D")
            win = (d.date < start) & (d.date >= start - pre.days) & d.workday
            f[win] *= pre.factor
    f *= np.asarray(t.month_factors)[d.month]
    f *= 1.0 + t.rain_demand_change * rain_weight(d.rain_mm, params)
    return f


def day_factors(params: DemoParams, d: Days, scenic: bool = False) -> np.ndarray:
    """Daily traffic relative to a normal workday of the same month (before noise)."""
    return day_type_factors(params, d, scenic) * day_modifiers(params, d)


def count_calibrated(
    prof: np.ndarray, peak_vc: np.ndarray, pidx: np.ndarray, month: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Demand multipliers (days, detectors) that make *counted* daily volume hit `target`.

    Why: counts are capped at capacity, so a workday loses its excess peak demand while a weekend
    does not; scaling demand by 0.85 would count ~0.95 of a workday. Solving (bisection) for the
    multiplier per (profile, factor, detector) keeps weekend/holiday ratios of the counts at the
    values of demo.json.
    """
    out = np.ones_like(target)
    combos = np.unique(np.stack([np.repeat(pidx, target.shape[1]), target.ravel()], 1), axis=0)
    for k, f in combos:
        k = int(k)
        work = prof[month[pidx == k][0]] if k >= 12 else prof[k]
        if k < 12 and f == 1.0:
            continue
        cells = (pidx[:, None] == k) & (target == f)
        dets = np.flatnonzero(cells.any(axis=0))
        pvc = peak_vc[dets, None]
        goal = f * np.minimum(pvc * work[None, :], 1.0).sum(axis=1)
        shape = prof[k][None, :]
        lo = np.zeros(len(dets))
        hi = np.full(len(dets), 4.0 * max(1.0, f))
        for _ in range(40):
            mid = (lo + hi) / 2
            counted = np.minimum(pvc * mid[:, None] * shape, 1.0).sum(axis=1)
            below = counted < goal
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        g = (lo + hi) / 2
        rows, cols = np.nonzero(cells[:, dets])
        out[rows, dets[cols]] = g[cols]
    return out


def pilot_ramp(params: DemoParams, d: Days) -> np.ndarray:
    """0 before the pilot start, rising linearly to 1 over `ramp_days` (adaptive signals tuning)."""
    p = params.traffic.pilot
    since = (d.date - np.datetime64(p.start, "D")).astype(np.float64)
    if p.ramp_days <= 0:
        return (since >= 0).astype(np.float64)
    return np.clip((since + 1) / p.ramp_days, 0.0, 1.0) * (since >= 0)


def hourly_traffic_index(days: pa.Table, *, params: DemoParams | None = None) -> pd.Series:
    """City-wide relative traffic volume per hour (1 = the average hour of a normal workday).

    Why: air quality (NO2 follows traffic) and emergency runs need the traffic level without
    aggregating millions of detector rows; this is the same diurnal/holiday/rain demand model
    the detector readings use, averaged per hour.
    """
    p = resolve(params, days)
    d = day_arrays(days)
    prof = demand_profiles(p)
    ref = prof[:12].mean()
    hourly = prof[profile_index(d)].reshape(len(d), 24, 12).mean(axis=2)
    values = hourly * day_factors(p, d)[:, None] / ref
    ts = (d.date.astype("datetime64[h]")[:, None] + np.arange(24)).ravel()
    return pd.Series(
        values.ravel(),
        index=pd.DatetimeIndex(ts.astype("datetime64[s]"), name="ts"),
        name="traffic_index",
    )


@dataclass(frozen=True)
class DetectorArrays:
    ids: list[str]
    district: np.ndarray
    pilot: np.ndarray
    scenic: np.ndarray
    lanes: np.ndarray
    cap5: np.ndarray  # capacity, vehicles per 5 minutes, all lanes
    free_flow: np.ndarray
    peak_vc: np.ndarray


def detector_arrays(params: DemoParams, detectors: pa.Table, rng_seed: int) -> DetectorArrays:
    t = params.traffic
    by_key = {(r.name, r.district): r for r in t.roads}
    by_name = {r.name: r for r in t.roads}
    cols = detectors.to_pydict()
    n = len(cols["detector_id"])
    ff, cap, pvc, scenic = np.empty(n), np.empty(n), np.empty(n), np.zeros(n, dtype=bool)
    nz = t.noise
    for i in range(n):
        rt = t.road_types[cols["road_type"][i]]
        road = by_key.get((cols["road"][i], cols["district"][i])) or by_name.get(cols["road"][i])
        # per-detector static character, seeded by the detector id so it is stable whatever
        # the table's order or size
        rng = np.random.default_rng([rng_seed, 0x57A7, zlib.crc32(cols["detector_id"][i].encode())])
        z = rng.standard_normal(2)
        ff[i] = rt.free_flow_kmh * np.exp(nz.detector_speed_sd * z[0])
        cap[i] = cols["lanes"][i] * rt.capacity_veh_h_lane / 12.0
        pvc[i] = (road.peak_vc if road else 1.5) * np.exp(nz.detector_scale_sd * z[1])
        scenic[i] = bool(road.scenic) if road else False
    return DetectorArrays(
        ids=cols["detector_id"],
        district=np.asarray(cols["district"], dtype=np.int32),
        pilot=np.asarray(cols["pilot"], dtype=bool),
        scenic=scenic,
        lanes=np.asarray(cols["lanes"], dtype=np.float64),
        cap5=cap,
        free_flow=ff,
        peak_vc=pvc,
    )
