"""Incidents and emergency-vehicle runs of the traffic demo, drawn where and when the modelled
demand is high; runs on pilot corridors after the pilot start get signal priority.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely

from datasets.demo.calendar import Days, day_arrays, rain_weight
from datasets.demo.params import resolve
from datasets.demo.schema import INCIDENT_TYPES, DemoParams, EmergencyParams

from .traffic_demand import (
    SLOT_S,
    SLOTS,
    DetectorArrays,
    day_factors,
    demand_profiles,
    detector_arrays,
    pilot_ramp,
    profile_index,
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
        ("started_at", pa.timestamp("s")),
    ]
)
# minutes from onset to the operator's log, by source (median; log-normal spread)
REPORT_LAG_MIN = {"video_ai": 1.0, "gps_probe": 3.0, "police_report": 6.0, "citizen_call": 8.0}
REPORT_LAG_DEFAULT_MIN = 5.0
REPORT_LAG_SD_LOG = 0.5
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
    pidx = profile_index(d)[day]
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


@dataclass(frozen=True)
class IncidentDraws:
    """Every incident's when, where and what, drawn from the seed alone (not from the
    readings), so the readings can show them and the `incidents` table can record them."""

    day: np.ndarray  # index of the day it was logged
    started: np.ndarray  # true onset, epoch seconds
    detected: np.ndarray  # logged by the operator, epoch seconds
    cleared: np.ndarray
    det: np.ndarray  # detector index
    kind: np.ndarray  # index into `kinds`
    severity: np.ndarray  # 0-2
    source: np.ndarray  # index into the params' sources
    kinds: list[str]


def draw_incidents(
    p: DemoParams, d: Days, det: DetectorArrays, rng_seed: int
) -> tuple[IncidentDraws, np.random.Generator]:
    """The incidents of the days `d` and the generator left to place them (lat/lon)."""
    ip = p.incidents
    rng = np.random.default_rng([rng_seed, 0x1AC])
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

    w_det = np.cumsum(np.sqrt(det.cap5))
    di = np.minimum(np.searchsorted(w_det / w_det[-1], rng.random(n)), len(w_det) - 1)

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
    started = detected - report_lag_s(ip.sources, si, rng_seed)
    draws = IncidentDraws(day, started, detected, cleared, di, ti, sev, si, kinds)
    return draws, rng


def report_lag_s(sources: tuple[str, ...], si: np.ndarray, rng_seed: int) -> np.ndarray:
    """Seconds from an incident's onset to the operator's log, by who reported it: video AI
    sees it within a minute or two, a citizen's call takes longest. A generator of its own,
    so the other draws stay as they were."""
    rng = np.random.default_rng([rng_seed, 0x1AC, 0x1A6])
    median = np.array([REPORT_LAG_MIN.get(s, REPORT_LAG_DEFAULT_MIN) for s in sources])[si]
    lag = median * np.exp(REPORT_LAG_SD_LOG * rng.standard_normal(len(si)))
    return np.rint(np.clip(lag, 0.5, 30.0) * 60).astype(np.int64)


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
    `detected_at` is when the operator logged it, `started_at` its true onset (the readings
    slow down from then on, see `traffic_incidents`), the truth a detector is scored against.
    """
    p = resolve(params, days, detectors)
    ip = p.incidents
    cols = detectors.to_pydict()
    det = detector_arrays(p, detectors, rng_seed)
    x, rng = draw_incidents(p, day_arrays(days), det, rng_seed)
    di, ti = x.det, x.kind

    lat, lon = _incident_places(p, cols, det, di, rng)
    roads = np.asarray(cols["road"], dtype=object)
    columns = [
        (x.detected, pa.timestamp("s")),
        (x.cleared, pa.timestamp("s")),
        (np.asarray(x.kinds, dtype=object)[ti], pa.string()),
        (np.asarray(ip.sources, dtype=object)[x.source], pa.string()),
        ((x.severity + 1).astype(np.int8), None),
        (det.district[di], None),
        (roads[di], pa.string()),
        (lat, None),
        (lon, None),
        (np.asarray(det.ids, dtype=object)[di], pa.string()),
        (x.started, pa.timestamp("s")),
    ]
    return _events_table(INCIDENT_SCHEMA, "INC", np.argsort(x.detected, kind="stable"), columns)


def _incident_places(
    p: DemoParams, cols: dict, det: DetectorArrays, di: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of each incident: its detector's place, jittered, kept there when the jitter
    would leave the detector's district."""
    n = len(di)
    lat0 = np.asarray(cols["lat"])[di]
    lon0 = np.asarray(cols["lon"])[di]
    lat = np.round(lat0 + rng.normal(0, p.incidents.location_jitter_deg, n), 6)
    lon = np.round(lon0 + rng.normal(0, p.incidents.location_jitter_deg, n), 6)
    inside = _in_districts(p, det.district[di], lon, lat)
    return np.where(inside, lat, lat0), np.where(inside, lon, lon0)


def _events_table(
    schema: pa.Schema,
    prefix: str,
    order: np.ndarray,
    columns: list[tuple[np.ndarray, pa.DataType | None]],
) -> pa.Table:
    """Events in time order (`order`), numbered from 1 in that order (`INC000001`, …), then
    the `columns` (values, Arrow type or None to infer it)."""
    ids = pa.array([f"{prefix}{i + 1:06d}" for i in range(len(order))], pa.string())
    arrays = [pa.array(values[order], kind) for values, kind in columns]
    return pa.Table.from_arrays([ids, *arrays], schema=schema)


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

    dist = _per_district(ep, core, codes, "distance_median_km")[k] * np.exp(
        ep.distance_sd_log * rng.standard_normal(n)
    )
    dist = np.clip(dist, 0.3, None)
    signals = rng.poisson(dist * _per_district(ep, core, codes, "signals_per_km")[k])

    # congestion along the route: BPR-like in the hour's relative demand
    prof = demand_profiles(p)
    hourly = prof.reshape(24, 24, 12).mean(axis=2) / prof[:12].max(axis=1).mean()
    x = hourly[profile_index(d)[day], hour] * day_factors(p, d)[day]
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

    columns = [
        (started, pa.timestamp("s")),
        (codes[k], None),
        (np.asarray(vehicles, dtype=object)[vi], pa.string()),
        (np.round(dist, 2).astype(np.float32), None),
        (np.minimum(signals, 32767).astype(np.int16), None),
        (np.round(travel, 1).astype(np.float32), None),
        (prio, None),
    ]
    return _events_table(EMERGENCY_SCHEMA, "EMR", np.argsort(started, kind="stable"), columns)


def _per_district(ep: EmergencyParams, core: np.ndarray, codes: np.ndarray, key: str) -> np.ndarray:
    """A value per district of an `EmergencyParams` table (`urban_core` or `other`), with the
    district overrides of demo.json."""
    table = getattr(ep, key)
    v = np.where(core, table["urban_core"], table["other"])
    for j, code in enumerate(codes):
        if key in ep.district_overrides.get(int(code), {}):
            v[j] = ep.district_overrides[int(code)][key]
    return v
