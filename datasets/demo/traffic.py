"""Traffic demo data: detectors, 5-minute readings, incidents and emergency-vehicle runs.

Why: round table 1 of the forum ("big data facilitates urban governance") was argued through
intelligent traffic control. These tables carry the patterns a control room looks at (two
weekday peaks, flatter weekends, holiday dips, rain slowing traffic, BPR speed-flow behaviour)
and an adaptive-signal pilot that starts on a given date on some corridors only, so a
difference-in-differences (pilot minus control, after minus before) recovers the modelled
effect. All levels, roads and dates come from the city's demo.json; everything is modelled.

This module makes the detectors and their readings; `traffic_demand` holds the demand model
they share with the incidents and emergency runs of `traffic_events`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from shapely.geometry import LineString, Point

from datasets.cities import CityProfile
from datasets.demo.calendar import day_arrays, rain_weight
from datasets.demo.params import as_params, city_metadata, resolve
from datasets.demo.schema import DemoParams, Road

from .traffic_demand import (
    SLOT_S,
    SLOTS,
    DetectorArrays,
    count_calibrated,
    day_modifiers,
    day_type_factors,
    demand_profiles,
    detector_arrays,
    pilot_ramp,
    profile_index,
)
from .traffic_incidents import IncidentEffects, incident_effects, upstream_of

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
    Each incident of the `incidents` table slows its detector from onset to clearance and, a few
    minutes later, the detector upstream (`traffic_incidents`).
    Noise is drawn per detector/day and per slot from a generator seeded by (seed, date), so the
    output does not depend on `batch_days`.
    """
    model = _readings_model(resolve(params, days, detectors), detectors, days, rng_seed)
    step = max(1, batch_days)
    for b0 in range(0, len(model.ordinal), step):
        yield _readings_batch(model, slice(b0, min(len(model.ordinal), b0 + step)), rng_seed)


@dataclass(frozen=True)
class _ReadingsModel:
    """What every batch of readings shares: the detectors, the day factors, the profiles."""

    params: DemoParams
    det: DetectorArrays
    prof: np.ndarray  # demand profiles, float32
    pidx: np.ndarray  # each day's profile
    fac: np.ndarray  # (days, detectors) day factor, counted volumes calibrated
    w_rain: np.ndarray
    ramp: np.ndarray  # the pilot's effect per day, 0 before its start
    day_sec: np.ndarray
    ordinal: np.ndarray  # each day's ordinal: the seed of its noise
    dictionary: pa.Array  # the detector ids
    incidents: IncidentEffects  # where and when incidents slow the readings


def _readings_model(
    p: DemoParams, detectors: pa.Table, days: pa.Table, rng_seed: int
) -> _ReadingsModel:
    d = day_arrays(days)
    det = detector_arrays(p, detectors, rng_seed)
    profiles = demand_profiles(p)
    pidx = profile_index(d)
    kind_f = np.where(
        det.scenic[None, :],
        day_type_factors(p, d, scenic=True)[:, None],
        day_type_factors(p, d)[:, None],
    )
    fac = count_calibrated(profiles, det.peak_vc, pidx, d.month, kind_f)
    fac *= day_modifiers(p, d)[:, None]
    return _ReadingsModel(
        params=p,
        det=det,
        prof=profiles.astype(np.float32),
        pidx=pidx,
        fac=fac,
        w_rain=rain_weight(d.rain_mm, p),
        ramp=pilot_ramp(p, d),
        day_sec=d.epoch_seconds,
        ordinal=d.date.astype(np.int64),
        dictionary=pa.array(det.ids, pa.string()),
        incidents=incident_effects(p, d, det, upstream_of(detectors), rng_seed),
    )


def _readings_batch(m: _ReadingsModel, sl: slice, rng_seed: int) -> pa.Table:
    """The readings of the days `sl`: noise drawn per day from (seed, date), then volumes,
    speeds and occupancies."""
    t, nz, det = m.params.traffic, m.params.traffic.noise, m.det
    D = len(det.ids)
    half = np.float32(0.5)
    z = np.stack(
        [
            np.random.default_rng([rng_seed, 0x7AF, int(o)]).standard_normal(
                (3 * SLOTS + 2, D), dtype=np.float32
            )
            for o in m.ordinal[sl]
        ]
    )
    z_day, z_spd = z[:, 0, :], z[:, 1, :]
    e_dem = _smooth(z[:, 2 : 2 + SLOTS, :], axis=1)
    e_cnt = z[:, 2 + SLOTS : 2 + 2 * SLOTS, :]
    e_spd = z[:, 2 + 2 * SLOTS :, :]

    pil = det.pilot[None, :] * m.ramp[sl, None]  # (B, D)
    day_f = m.fac[sl] * np.exp(nz.day_sd * z_day - half * nz.day_sd**2)
    cap_eff = det.cap5[None, :] * (1 - t.rain_capacity_drop * m.w_rain[sl, None])
    cap_eff = (cap_eff * (1 + t.pilot.capacity_gain * pil)).astype(np.float32)
    demand = (
        m.prof[m.pidx[sl]][:, :, None]
        * (day_f * det.peak_vc[None, :] * det.cap5[None, :]).astype(np.float32)[:, None, :]
        * np.exp(nz.slot_sd * e_dem - half * nz.slot_sd**2)
    )
    ratio = demand / cap_eff[:, None, :]
    mean_vol = np.minimum(demand, cap_eff[:, None, :])
    at, inc_speed, inc_volume = m.incidents.batch(sl, D)
    mean_vol[at] *= inc_volume
    vol = mean_vol + nz.count_dispersion * np.sqrt(mean_vol) * e_cnt
    vol = np.clip(np.rint(vol), 0, 32767).astype(np.int16)

    delay = (t.bpr_alpha * (1 - t.pilot.delay_reduction * pil)).astype(np.float32)
    v0 = det.free_flow[None, :] * (1 - t.rain_speed_drop * m.w_rain[sl, None])
    v0 = (v0 * np.exp(nz.day_speed_sd * z_spd)).astype(np.float32)
    speed = v0[:, None, :] / (1 + delay[:, None, :] * ratio ** np.float32(t.bpr_beta))
    speed = speed * np.exp(nz.speed_slot_sd * e_spd)
    speed[at] *= inc_speed
    speed = np.clip(speed, 2.0, v0[:, None, :] * 1.15).astype(np.float32)
    return _readings_table(m, sl, vol, speed)


def _readings_table(m: _ReadingsModel, sl: slice, vol: np.ndarray, speed: np.ndarray) -> pa.Table:
    det, D = m.det, len(m.det.ids)
    occ_len_km = m.params.traffic.occupancy_effective_length_m / 1000.0
    flow_lane_h = vol.astype(np.float32) * (12.0 / det.lanes.astype(np.float32))[None, None, :]
    occ = np.clip(flow_lane_h / speed * np.float32(occ_len_km * 100.0), 0.0, 100.0)
    slot_sec = np.arange(SLOTS, dtype=np.int64) * SLOT_S
    ts = np.repeat((m.day_sec[sl, None] + slot_sec[None, :]).ravel(), D)
    n_rows = (sl.stop - sl.start) * SLOTS
    return pa.Table.from_arrays(
        [
            pa.array(ts, pa.timestamp("s")),
            pa.DictionaryArray.from_arrays(
                pa.array(np.tile(np.arange(D, dtype=np.int32), n_rows)), m.dictionary
            ),
            pa.array(np.tile(det.district, n_rows)),
            pa.array(np.tile(det.pilot, n_rows)),
            pa.array(vol.ravel()),
            pa.array(np.round(speed, 1).ravel()),
            pa.array(np.round(occ, 1).astype(np.float32).ravel()),
        ],
        schema=READINGS_SCHEMA,
    )
