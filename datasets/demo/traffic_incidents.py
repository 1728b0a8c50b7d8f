"""How the demo's incidents show in the detector readings: slower, emptier, fuller loops.

Why: a control room finds incidents in its detector data (a speed drop far below the usual one
for that time of week, a queue reaching the detector upstream), so the demo's recorded incidents
must leave that trace, or nothing could be detected from the readings. An incident on a detector
blocks part of the road from its true onset (`started_at`) to its clearance: speed falls to a
fraction set by its severity and kind, fewer vehicles pass (volume falls) and those there wait
(occupancy rises, derived from both). Its queue reaches the previous detector on the same road
(traffic runs along the road's line, the order detectors are placed and numbered in) some
minutes later and lasts a little past the clearance, with a smaller drop.

The incidents are drawn from the seed alone (`traffic_events.draw_incidents`), before any
reading, and turned here into a short sorted list of (day, slot, detector, factors): a few
thousand entries a year, applied batch by batch, so the readings stay the same whatever
`batch_days` is and cost about the same to make.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from datasets.demo.calendar import Days
from datasets.demo.schema import DemoParams

from .traffic_demand import SLOT_S, SLOTS, DetectorArrays
from .traffic_events import draw_incidents

# speed during the incident as a share of what it would have been, by severity (1, 2, 3)
SEVERITY_SPEED = (0.5, 0.4, 0.3)
# kinds that block less of the road keep more of the speed (multiplier of the drop)
KIND_DROP = {"illegal_parking": 0.8, "breakdown": 0.9, "roadworks": 0.9}
SPEED_SD_LOG = 0.12
# the share of the speed drop that passes into the volume (a bottleneck still lets cars by)
VOLUME_SHARE = 0.5
# the queue upstream: its delay (minutes, median and log spread), the share of the drop it
# carries, how long it outlasts the clearance
UPSTREAM_DELAY_MIN = 8.0
UPSTREAM_DELAY_SD_LOG = 0.3
UPSTREAM_SHARE = 0.6
UPSTREAM_TAIL_MIN = 5.0


@dataclass(frozen=True)
class IncidentEffects:
    """Slot factors sorted by `key` = (day * SLOTS + slot) * detectors + detector, one entry
    per key (the strongest when two incidents overlap)."""

    key: np.ndarray
    speed: np.ndarray  # float32 multipliers
    volume: np.ndarray

    def batch(
        self, days: slice, n_det: int
    ) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
        """The entries of the days `days`: (batch day, slot, detector) indices and factors."""
        per_day = SLOTS * n_det
        lo, hi = np.searchsorted(self.key, [days.start * per_day, days.stop * per_day])
        k = self.key[lo:hi] - days.start * per_day
        index = (k // per_day, (k // n_det) % SLOTS, k % n_det)
        return index, self.speed[lo:hi], self.volume[lo:hi]


def upstream_of(detectors: pa.Table) -> np.ndarray:
    """Index of the previous detector on the same road in the same district, -1 for the first."""
    roads = detectors.column("road").to_pylist()
    districts = detectors.column("district").to_pylist()
    last: dict[tuple, int] = {}
    out = np.full(len(roads), -1, dtype=np.int64)
    for i, key in enumerate(zip(roads, districts, strict=True)):
        out[i] = last.get(key, -1)
        last[key] = i
    return out


def incident_effects(
    p: DemoParams, d: Days, det: DetectorArrays, upstream: np.ndarray, rng_seed: int
) -> IncidentEffects:
    """The slot factors of every incident of the days `d` (see the module's docstring)."""
    x, _ = draw_incidents(p, d, det, rng_seed)
    rng = np.random.default_rng([rng_seed, 0x1AC, 0xEFF])
    n = len(x.day)
    drop = 1 - np.asarray(SEVERITY_SPEED)[x.severity]
    drop *= np.array([KIND_DROP.get(k, 1.0) for k in x.kinds] or [1.0])[x.kind]
    speed = np.clip(1 - drop * np.exp(SPEED_SD_LOG * rng.standard_normal(n)), 0.15, 0.9)
    delay = UPSTREAM_DELAY_MIN * 60 * np.exp(UPSTREAM_DELAY_SD_LOG * rng.standard_normal(n))
    up = upstream[x.det]
    has_up = (up >= 0) & (x.started + delay < x.cleared)
    up_speed = 1 - UPSTREAM_SHARE * (1 - speed[has_up])
    return _slot_factors(
        d,
        len(det.ids),
        start=np.concatenate([x.started, x.started[has_up] + np.rint(delay[has_up]).astype(int)]),
        end=np.concatenate([x.cleared, x.cleared[has_up] + int(UPSTREAM_TAIL_MIN * 60)]),
        detector=np.concatenate([x.det, up[has_up]]),
        speed=np.concatenate([speed, up_speed]),
    )


def _slot_factors(
    d: Days, n_det: int, start: np.ndarray, end: np.ndarray, detector: np.ndarray, speed: np.ndarray
) -> IncidentEffects:
    """Spread each [start, end) over the 5-minute slots it touches, weighted by how much of the
    slot it covers (an onset late in a slot lowers that slot's mean speed a little)."""
    first = start // SLOT_S
    count = np.maximum(-(-end // SLOT_S) - first, 0)
    which = np.repeat(np.arange(len(start)), count)
    offset = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    slot_t = (first[which] + offset) * SLOT_S
    covered = np.minimum(end[which], slot_t + SLOT_S) - np.maximum(start[which], slot_t)
    frac = covered / SLOT_S
    drop = (1 - speed[which]) * frac
    day = np.searchsorted(d.epoch_seconds, slot_t, side="right") - 1
    slot = (slot_t - d.epoch_seconds[np.maximum(day, 0)]) // SLOT_S
    keep = (day >= 0) & (slot < SLOTS) & (frac > 0)
    key = ((day * SLOTS + slot) * n_det + detector[which])[keep]
    drop = drop[keep]
    order = np.lexsort((-drop, key))
    key, drop = key[order], drop[order]
    first_of_key = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    key, drop = key[first_of_key], drop[first_of_key]
    return IncidentEffects(
        key=key,
        speed=(1 - drop).astype(np.float32),
        volume=(1 - VOLUME_SHARE * drop).astype(np.float32),
    )
