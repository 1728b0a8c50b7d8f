"""Traffic demo data: detectors, 5-minute readings, incidents and emergency-vehicle runs.

Why: round table 1 of the forum ("big data facilitates urban governance") was argued through
intelligent traffic control. These tables carry the patterns a control room looks at (two
weekday peaks, flatter weekends, holiday dips, rain slowing traffic, BPR speed-flow behaviour)
and an adaptive-signal pilot that starts on a given date on some corridors only, so a
difference-in-differences (pilot minus control, after minus before) recovers the modelled
effect. All levels, roads and dates come from the city's demo.json; everything is modelled.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from shapely.geometry import LineString, Point

from datasets.cities import CityProfile
from datasets.demo.calendar import Days, day_arrays, rain_weight
from datasets.demo.params import INCIDENT_TYPES, DemoParams, Road, as_params, city_metadata, resolve

SLOTS = 288  # 5-minute slots per day
SLOT_S = 300

DETECTOR_SCHEMA = pa.schema(
    [
        ("detector_id", pa.string()),
        ("name", pa.string()),
        ("road", pa.string()),
        ("road_zh", pa.string()),
        ("road_type", pa.string()),
        ("district", pa.int32()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("lanes", pa.int8()),
        ("pilot", pa.bool_()),
        ("corridor", pa.string()),
    ]
)
READINGS_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("s")),
        ("detector_id", pa.dictionary(pa.int32(), pa.string())),
        ("district", pa.int32()),
        ("pilot", pa.bool_()),
        ("volume", pa.int16()),
        ("speed_kmh", pa.float32()),
        ("occupancy", pa.float32()),
    ]
)
INCIDENT_SCHEMA = pa.schema(
    [
        ("incident_id", pa.string()),
        ("detected_at", pa.timestamp("s")),
        ("cleared_at", pa.timestamp("s")),
        ("type", pa.string()),
        ("source", pa.string()),
        ("severity", pa.int8()),
        ("district", pa.int32()),
        ("road", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("detector_id", pa.string()),
    ]
)
EMERGENCY_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("started_at", pa.timestamp("s")),
        ("district", pa.int32()),
        ("vehicle", pa.string()),
        ("distance_km", pa.float32()),
        ("signals_passed", pa.int16()),
        ("travel_min", pa.float32()),
        ("signal_priority", pa.bool_()),
    ]
)


# --------------------------------------------------------------------------------------------
# demand model shared by readings, the hourly index, incidents and emergency runs


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


def _profile_index(d: Days) -> np.ndarray:
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


def _count_calibrated(
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
    hourly = prof[_profile_index(d)].reshape(len(d), 24, 12).mean(axis=2)
    values = hourly * day_factors(p, d)[:, None] / ref
    ts = (d.date.astype("datetime64[h]")[:, None] + np.arange(24)).ravel()
    return pd.Series(
        values.ravel(),
        index=pd.DatetimeIndex(ts.astype("datetime64[s]"), name="ts"),
        name="traffic_index",
    )


# --------------------------------------------------------------------------------------------
# detectors


def _allocate(weights: list[float], n: int) -> list[int]:
    """Largest-remainder split of n items by weight (deterministic)."""
    w = np.asarray(weights, dtype=np.float64)
    if n <= 0 or w.sum() <= 0:
        return [0] * len(weights)
    exact = w / w.sum() * n
    base = np.floor(exact).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: n - base.sum()]] += 1
    return base.tolist()


def _lineal_part(geom) -> LineString | None:
    if geom.is_empty:
        return None
    if geom.geom_type == "LineString":
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type == "LineString"]
    return max(parts, key=lambda g: g.length) if parts else None


def _sample_in(shape, rng: np.random.Generator, near=None, tries: int = 500) -> Point:
    """Rejection-sample a point inside `shape` (inside `near`'s buffer when given)."""
    region = shape
    if near is not None:
        for radius in (0.01, 0.03, 0.1):
            r = shape.intersection(near.buffer(radius))
            if not r.is_empty and r.area > 0:
                region = r
                break
    minx, miny, maxx, maxy = region.bounds
    for _ in range(tries):
        pt = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if region.contains(pt) and shape.contains(pt):
            return pt
    return shape.representative_point()


def _place_on_road(road: Road, k: int, shape, rng: np.random.Generator) -> list[Point]:
    line = LineString([(lon, lat) for lat, lon in road.line])
    part = _lineal_part(line.intersection(shape))
    out = []
    for i in range(k):
        pt = None
        if part is not None and part.length > 0:
            t = (i + 0.5 + rng.uniform(-0.3, 0.3)) / k
            base = part.interpolate(float(np.clip(t, 0.0, 1.0)), normalized=True)
            for jitter in (0.0004, 0.0002, 0.0001, 0.0):
                cand = Point(
                    round(base.x + rng.normal(0, jitter), 6),
                    round(base.y + rng.normal(0, jitter), 6),
                )
                if shape.contains(cand):
                    pt = cand
                    break
        if pt is None:
            cand = _sample_in(shape, rng, near=line)
            pt = Point(round(cand.x, 6), round(cand.y, 6))
            if not shape.contains(pt):
                pt = cand
        out.append(pt)
    return out


def traffic_detectors(
    city: CityProfile | DemoParams | None = None, n: int = 60, rng_seed: int = 0
) -> pa.Table:
    """`traffic_detectors`: n loop/video detectors on the city's named roads.

    Why: a control room sees the network through detectors; most sit on the urban-core roads
    listed in demo.json, about `pilot.detector_share` (1/3) on the adaptive-signal pilot
    corridors and the rest on control corridors, so pilot and control can be compared.
    Points lie on the road line clipped to its district polygon (checked with shapely).
    """
    p = as_params(city)
    if n < 2:
        raise ValueError("need at least 2 detectors (one pilot, one control)")
    roads = p.traffic.roads
    n_pilot = int(np.clip(round(n * p.traffic.pilot.detector_share), 1, n - 1))
    counts = [0] * len(roads)
    for is_pilot, total in ((True, n_pilot), (False, n - n_pilot)):
        idx = [i for i, r in enumerate(roads) if r.pilot == is_pilot]
        for i, c in zip(idx, _allocate([roads[i].weight for i in idx], total), strict=True):
            counts[i] = c
    rng = np.random.default_rng([rng_seed, 0xDE7])
    rows: list[dict] = []
    per_name: dict[str, int] = {}
    shapes: dict[int, object] = {}
    for road, k in zip(roads, counts, strict=True):
        if k == 0:
            continue
        shape = shapes.setdefault(road.district, p.city.district_shape(road.district))
        for pt in _place_on_road(road, k, shape, rng):
            per_name[road.name] = per_name.get(road.name, 0) + 1
            rows.append(
                {
                    "detector_id": f"D{len(rows) + 1:04d}",
                    "name": f"{road.name} #{per_name[road.name]}",
                    "road": road.name,
                    "road_zh": road.name_zh,
                    "road_type": road.road_type,
                    "district": road.district,
                    "lat": pt.y,
                    "lon": pt.x,
                    "lanes": road.lanes,
                    "pilot": road.pilot,
                    "corridor": road.corridor,
                }
            )
    return pa.Table.from_pylist(rows, schema=DETECTOR_SCHEMA.with_metadata(city_metadata(p)))


@dataclass(frozen=True)
class _Det:
    ids: list[str]
    district: np.ndarray
    pilot: np.ndarray
    scenic: np.ndarray
    lanes: np.ndarray
    cap5: np.ndarray  # capacity, vehicles per 5 minutes, all lanes
    free_flow: np.ndarray
    peak_vc: np.ndarray


def _detector_arrays(params: DemoParams, detectors: pa.Table, rng_seed: int) -> _Det:
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
    return _Det(
        ids=cols["detector_id"],
        district=np.asarray(cols["district"], dtype=np.int32),
        pilot=np.asarray(cols["pilot"], dtype=bool),
        scenic=scenic,
        lanes=np.asarray(cols["lanes"], dtype=np.float64),
        cap5=cap,
        free_flow=ff,
        peak_vc=pvc,
    )


def _smooth(e: np.ndarray, axis: int) -> np.ndarray:
    """Moving average of three slots (unit variance kept): demand noise persists ~15 minutes."""
    pad = [(0, 0)] * e.ndim
    pad[axis] = (1, 1)
    ep = np.pad(e, pad, mode="edge")
    n = e.shape[axis]
    s = (
        np.take(ep, range(0, n), axis=axis)
        + np.take(ep, range(1, n + 1), axis=axis)
        + np.take(ep, range(2, n + 2), axis=axis)
    )
    return s / np.float32(np.sqrt(3.0))


def traffic_readings(
    detectors: pa.Table,
    days: pa.Table,
    rng_seed: int,
    batch_days: int = 7,
    *,
    params: DemoParams | None = None,
) -> Iterator[pa.Table]:
    """`traffic_readings`: every detector every 5 minutes, yielded in time order, batch by batch.

    Why: demand = diurnal profile x day factor x road peak ratio (the day factor is solved so
    that *counted* weekend/holiday volumes keep demo.json's ratios); volume is demand capped at
    capacity; speed follows BPR, t = t0 (1 + a (v/c)^b) with v/c the demand ratio, so speed falls
    as volume nears capacity. Rain lowers free-flow speed and capacity. From the pilot start the
    pilot-corridor detectors get a smaller BPR delay term and a little more capacity (adaptive
    signals): peak speeds +10-15%, travel times -10-15% (DOMAIN.md), control corridors unchanged.
    Noise is drawn per detector/day and per slot from a generator seeded by (seed, date), so the
    output does not depend on `batch_days`.
    """
    p = resolve(params, days, detectors)
    t, nz = p.traffic, p.traffic.noise
    d = day_arrays(days)
    det = _detector_arrays(p, detectors, rng_seed)
    D = len(det.ids)
    profiles = demand_profiles(p)
    prof = profiles.astype(np.float32)
    pidx = _profile_index(d)
    kind_f = np.where(
        det.scenic[None, :],
        day_type_factors(p, d, scenic=True)[:, None],
        day_type_factors(p, d)[:, None],
    )
    fac = _count_calibrated(profiles, det.peak_vc, pidx, d.month, kind_f)
    fac *= day_modifiers(p, d)[:, None]
    w_rain = rain_weight(d.rain_mm, p)
    ramp = pilot_ramp(p, d)
    day_sec = d.epoch_seconds
    ordinal = d.date.astype(np.int64)
    slot_sec = np.arange(SLOTS, dtype=np.int64) * SLOT_S
    dictionary = pa.array(det.ids, pa.string())
    occ_len_km = t.occupancy_effective_length_m / 1000.0
    half = np.float32(0.5)

    for b0 in range(0, len(d), max(1, batch_days)):
        sl = slice(b0, min(len(d), b0 + max(1, batch_days)))
        B = sl.stop - sl.start
        z = np.stack(
            [
                np.random.default_rng([rng_seed, 0x7AF, int(o)]).standard_normal(
                    (3 * SLOTS + 2, D), dtype=np.float32
                )
                for o in ordinal[sl]
            ]
        )
        z_day, z_spd = z[:, 0, :], z[:, 1, :]
        e_dem = _smooth(z[:, 2 : 2 + SLOTS, :], axis=1)
        e_cnt = z[:, 2 + SLOTS : 2 + 2 * SLOTS, :]
        e_spd = z[:, 2 + 2 * SLOTS :, :]

        pil = det.pilot[None, :] * ramp[sl, None]  # (B, D)
        day_f = fac[sl] * np.exp(nz.day_sd * z_day - half * nz.day_sd**2)
        cap_eff = det.cap5[None, :] * (1 - t.rain_capacity_drop * w_rain[sl, None])
        cap_eff = (cap_eff * (1 + t.pilot.capacity_gain * pil)).astype(np.float32)
        demand = (
            prof[pidx[sl]][:, :, None]
            * (day_f * det.peak_vc[None, :] * det.cap5[None, :]).astype(np.float32)[:, None, :]
            * np.exp(nz.slot_sd * e_dem - half * nz.slot_sd**2)
        )
        ratio = demand / cap_eff[:, None, :]
        mean_vol = np.minimum(demand, cap_eff[:, None, :])
        vol = mean_vol + nz.count_dispersion * np.sqrt(mean_vol) * e_cnt
        vol = np.clip(np.rint(vol), 0, 32767).astype(np.int16)

        delay = (t.bpr_alpha * (1 - t.pilot.delay_reduction * pil)).astype(np.float32)
        v0 = det.free_flow[None, :] * (1 - t.rain_speed_drop * w_rain[sl, None])
        v0 = (v0 * np.exp(nz.day_speed_sd * z_spd)).astype(np.float32)
        speed = v0[:, None, :] / (1 + delay[:, None, :] * ratio ** np.float32(t.bpr_beta))
        speed = speed * np.exp(nz.speed_slot_sd * e_spd)
        speed = np.clip(speed, 2.0, v0[:, None, :] * 1.15).astype(np.float32)

        flow_lane_h = vol.astype(np.float32) * (12.0 / det.lanes.astype(np.float32))[None, None, :]
        occ = np.clip(flow_lane_h / speed * np.float32(occ_len_km * 100.0), 0.0, 100.0)

        ts = np.repeat((day_sec[sl, None] + slot_sec[None, :]).ravel(), D)
        n_rows = B * SLOTS
        yield pa.Table.from_arrays(
            [
                pa.array(ts, pa.timestamp("s")),
                pa.DictionaryArray.from_arrays(
                    pa.array(np.tile(np.arange(D, dtype=np.int32), n_rows)), dictionary
                ),
                pa.array(np.tile(det.district, n_rows)),
                pa.array(np.tile(det.pilot, n_rows)),
                pa.array(vol.ravel()),
                pa.array(np.round(speed, 1).ravel()),
                pa.array(np.round(occ, 1).astype(np.float32).ravel()),
            ],
            schema=READINGS_SCHEMA,
        )


# --------------------------------------------------------------------------------------------
# incidents and emergency runs


def _sample_rows(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per-row inverse-CDF sampling: cdf is (n, k) cumulative, u is (n,) uniform."""
    return np.minimum((u[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)


def _sample_slots(
    params: DemoParams, d: Days, day: np.ndarray, floor: float, u: np.ndarray
) -> np.ndarray:
    """A 5-minute slot per event, drawn from its day's demand profile plus a flat floor."""
    prof = demand_profiles(params)
    w = floor + prof / prof.max(axis=1, keepdims=True)
    cdf = np.cumsum(w, axis=1)
    cdf /= cdf[:, -1:]
    pidx = _profile_index(d)[day]
    slot = np.empty(len(day), dtype=np.int64)
    for k in np.unique(pidx):
        sel = pidx == k
        slot[sel] = np.minimum(np.searchsorted(cdf[k], u[sel], side="right"), SLOTS - 1)
    return slot


def _in_districts(params: DemoParams, district: np.ndarray, lon: np.ndarray, lat: np.ndarray):
    ok = np.zeros(len(district), dtype=bool)
    for code in np.unique(district):
        sel = district == code
        ok[sel] = shapely.contains_xy(params.city.district_shape(int(code)), lon[sel], lat[sel])
    return ok


def incidents(
    detectors: pa.Table,
    days: pa.Table,
    rng_seed: int,
    *,
    params: DemoParams | None = None,
) -> pa.Table:
    """`incidents`: crashes, breakdowns, congestion, illegal parking, roadworks, obstructions.

    Why: the control room counts incidents by type and source and times how fast they clear.
    About `per_day` (~50) a day, more at peaks (drawn from the demand profile), in rain and fewer
    on holidays; roadworks mostly at night. After the pilot start, incidents on pilot corridors
    are mostly found by video AI and clear faster (City Brain's automatic detection).
    """
    p = resolve(params, days, detectors)
    ip = p.incidents
    d = day_arrays(days)
    rng = np.random.default_rng([rng_seed, 0x1AC])
    cols = detectors.to_pydict()
    det = _detector_arrays(p, detectors, rng_seed)

    lam = np.full(len(d), ip.per_day)
    lam[d.offday] *= ip.offday_factor
    lam[d.holiday != ""] *= ip.holiday_factor
    lam *= 1 + ip.rain_increase * rain_weight(d.rain_mm, p)
    counts = rng.poisson(lam)
    day = np.repeat(np.arange(len(d)), counts)
    n = len(day)

    slot = _sample_slots(p, d, day, ip.night_floor, rng.random(n))
    detected = d.epoch_seconds[day] + slot * SLOT_S + rng.integers(0, SLOT_S, n)
    hour = slot // 12

    w_det = np.sqrt(det.cap5)
    di = _sample_rows(np.tile(np.cumsum(w_det / w_det.sum()), (n, 1)), rng.random(n))

    kinds = [k for k in INCIDENT_TYPES if k in ip.types]
    base = np.array([ip.types[k].weight for k in kinds])
    night_w = np.array([ip.types[k].night_weight for k in kinds])
    night = (hour < 6) | (hour >= 22)
    tw = base[None, :] * np.where(night[:, None], night_w[None, :], 1.0)
    tw = np.cumsum(tw, axis=1)
    ti = _sample_rows(tw / tw[:, -1:], rng.random(n))

    sev_cdf = np.cumsum(np.array([ip.types[k].severity for k in kinds]), axis=1)
    sev = _sample_rows(sev_cdf[ti], rng.random(n))

    effect = pilot_ramp(p, d)[day] * det.pilot[di]
    mix = (1 - effect[:, None]) * np.asarray(ip.source_mix)[None, :] + effect[:, None] * np.asarray(
        ip.pilot_source_mix
    )[None, :]
    si = _sample_rows(np.cumsum(mix, axis=1), rng.random(n))

    med = np.array([ip.types[k].clear_median_min for k in kinds])[ti]
    clear_min = (
        med
        * np.asarray(ip.severity_clear_factor)[sev]
        * (1 - (1 - ip.pilot_clear_factor) * effect)
        * np.exp(ip.clear_sd_log * rng.standard_normal(n))
    )
    cleared = detected + np.maximum(np.rint(clear_min * 60), 180).astype(np.int64)

    lat0 = np.asarray(cols["lat"])[di]
    lon0 = np.asarray(cols["lon"])[di]
    lat = np.round(lat0 + rng.normal(0, ip.location_jitter_deg, n), 6)
    lon = np.round(lon0 + rng.normal(0, ip.location_jitter_deg, n), 6)
    inside = _in_districts(p, det.district[di], lon, lat)
    lat, lon = np.where(inside, lat, lat0), np.where(inside, lon, lon0)

    order = np.argsort(detected, kind="stable")
    ids = np.asarray(det.ids, dtype=object)
    roads = np.asarray(cols["road"], dtype=object)
    return pa.Table.from_arrays(
        [
            pa.array([f"INC{i + 1:06d}" for i in range(n)], pa.string()),
            pa.array(detected[order], pa.timestamp("s")),
            pa.array(cleared[order], pa.timestamp("s")),
            pa.array(np.asarray(kinds, dtype=object)[ti][order], pa.string()),
            pa.array(np.asarray(ip.sources, dtype=object)[si][order], pa.string()),
            pa.array((sev[order] + 1).astype(np.int8)),
            pa.array(det.district[di][order]),
            pa.array(roads[di][order], pa.string()),
            pa.array(lat[order]),
            pa.array(lon[order]),
            pa.array(ids[di][order], pa.string()),
        ],
        schema=INCIDENT_SCHEMA,
    )


def emergency_runs(
    detectors: pa.Table,
    days: pa.Table,
    rng_seed: int,
    *,
    params: DemoParams | None = None,
) -> pa.Table:
    """`emergency_runs`: ambulance and fire runs with and without signal priority.

    Why: City Brain's most quoted result is emergency vehicles arriving in about half the time
    (a Xiaoshan test: 7 km through 21 signals in ~14 min instead of ~28-30). Travel time is
    driving at `speed_kmh` slowed by the hour's congestion plus a wait at each signal; runs
    whose route crosses a pilot corridor (districts holding pilot detectors) may get green-wave
    priority only after the pilot start, which removes most signal waits and congestion.
    Baseline median ~13 min (demo.json). Districts are drawn by population.
    """
    p = resolve(params, days, detectors)
    ep = p.emergency
    d = day_arrays(days)
    rng = np.random.default_rng([rng_seed, 0xE3E])
    districts = [x for x in p.city.districts if x.population]
    codes = np.array([x.code for x in districts], dtype=np.int32)
    pop = np.array([x.population for x in districts], dtype=np.float64)
    core = np.array([x.urban_core for x in districts])

    counts = rng.poisson(np.full(len(d), ep.per_day))
    day = np.repeat(np.arange(len(d)), counts)
    n = len(day)
    hw = np.cumsum(ep.hour_weights)
    hour = _sample_rows(np.tile(hw / hw[-1], (n, 1)), rng.random(n))
    started = d.epoch_seconds[day] + hour * 3600 + rng.integers(0, 3600, n)

    k = _sample_rows(np.tile(np.cumsum(pop / pop.sum()), (n, 1)), rng.random(n))
    vehicles = list(ep.vehicle_mix)
    vm = np.cumsum([ep.vehicle_mix[v] for v in vehicles])
    vi = _sample_rows(np.tile(vm, (n, 1)), rng.random(n))

    def per_district(key: str) -> np.ndarray:
        table = getattr(ep, key)
        v = np.where(core, table["urban_core"], table["other"])
        for j, code in enumerate(codes):
            if key in ep.district_overrides.get(int(code), {}):
                v[j] = ep.district_overrides[int(code)][key]
        return v

    dist = per_district("distance_median_km")[k] * np.exp(
        ep.distance_sd_log * rng.standard_normal(n)
    )
    dist = np.clip(dist, 0.3, None)
    signals = rng.poisson(dist * per_district("signals_per_km")[k])

    # congestion along the route: BPR-like in the hour's relative demand
    prof = demand_profiles(p)
    hourly = prof.reshape(24, 24, 12).mean(axis=2) / prof[:12].max(axis=1).mean()
    x = hourly[_profile_index(d)[day], hour] * day_factors(p, d)[day]
    cong = 1 + ep.congestion_gain * x**4

    pilot_districts = np.unique(
        np.asarray(detectors.column("district").to_numpy())[
            np.asarray(detectors.column("pilot").to_numpy(zero_copy_only=False), dtype=bool)
        ]
    )
    eligible = np.isin(codes[k], pilot_districts) * pilot_ramp(p, d)[day]
    prio = rng.random(n) < ep.priority_route_share * eligible

    speed = ep.speed_kmh * np.where(prio, ep.priority_speed_factor, 1.0)
    wait = np.where(prio, ep.priority_wait_per_signal_min, ep.wait_per_signal_min)
    c = np.where(prio, np.sqrt(cong), cong)
    travel = (
        (dist / speed * 60 + signals * wait) * c * np.exp(ep.time_sd_log * rng.standard_normal(n))
    )

    order = np.argsort(started, kind="stable")
    return pa.Table.from_arrays(
        [
            pa.array([f"EMR{i + 1:06d}" for i in range(n)], pa.string()),
            pa.array(started[order], pa.timestamp("s")),
            pa.array(codes[k][order]),
            pa.array(np.asarray(vehicles, dtype=object)[vi][order], pa.string()),
            pa.array(np.round(dist[order], 2).astype(np.float32)),
            pa.array(np.minimum(signals[order], 32767).astype(np.int16)),
            pa.array(np.round(travel[order], 1).astype(np.float32)),
            pa.array(prio[order]),
        ],
        schema=EMERGENCY_SCHEMA,
    )
