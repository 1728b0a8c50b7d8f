"""Likely traffic incidents flagged from detector speeds alone, and their score against the
incidents a city recorded.

Why: a control room learns of most incidents from a caller or a patrol, minutes late; the
detectors see them first, as a speed far below what that detector usually shows at that time of
week, a drop the rest of its district does not share (rain and citywide peaks slow everyone) and
that reaches the detector upstream as the queue grows. Everything heavy runs in DuckDB over the
5-minute readings: one grouped scan makes the profile (median speed per detector, weekday or
weekend, 5-minute slot), one scan compares each reading with it and with its district, and only
the runs of low readings come back to pandas, where neighbouring runs are merged.

`detect_incidents` takes a window (`since`, `until`), so live alerts can call it on the last
hour of readings: the profile then comes from the weeks before the window.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.query import QueryEngine

SLOT_MIN = 5
DETECTION_COLUMNS = [
    "detector_id",
    "road",
    "district",
    "detected_at",
    "ended_at",
    "min_speed_ratio",
    "confidence",
]


@dataclass(frozen=True)
class Thresholds:
    """When a detector's readings, relative to its profile and to its district, are an incident.

    Speed and volume are both compared: a blockage slows traffic and lets fewer vehicles by,
    while a busier than usual peak slows it with as many or more (volume then stays at
    capacity), the commonest false alarm otherwise. A reading with speed below `strong` and
    volume below `volume`, or `k` consecutive readings with speed below `low` and volume below
    `volume`, trigger; the run lasts while speed stays below `end`; runs apart by at most
    `merge_gap_min` are one. A district needs `district_min` detectors reporting to be its own
    reference (else the city). The profile uses the `profile_days` before the scanned window.
    Runs on neighbouring detectors within `neighbour_window_min` merge (`merge_neighbours`).
    Tuned on the demo city (`python -m bench.incidents`).
    """

    strong: float = 0.65
    low: float = 0.78
    k: int = 2
    volume: float = 0.92
    end: float = 0.85
    merge_gap_min: int = 15
    district_min: int = 4
    profile_days: int = 56
    neighbour_window_min: int = 20
    depth_slack: float = 0.0


DEFAULT = Thresholds()


def _stamp(value: str | dt.date | dt.datetime | pd.Timestamp | None) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    return pd.Timestamp(value)


def data_range(engine: QueryEngine, city_id: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(first, last) reading time of the city's detector readings, None when there are none."""
    src = engine.source(city_id, "traffic_readings")
    row = engine.scan(f"SELECT min(ts) AS lo, max(ts) AS hi FROM {src}").to_pylist()[0]
    if row["lo"] is None:
        return None
    return pd.Timestamp(row["lo"]), pd.Timestamp(row["hi"])


def _windows(
    engine: QueryEngine, city_id: str, since, until, th: Thresholds
) -> tuple[tuple[pd.Timestamp, pd.Timestamp], tuple[pd.Timestamp, pd.Timestamp]] | None:
    """The scanned window and the profile's window: the `profile_days` before the scanned one
    when the data reach back there, else the scanned window itself (a median barely moves for
    the few percent of readings incidents touch)."""
    span = data_range(engine, city_id)
    if span is None:
        return None
    first, last = span
    lo = max(_stamp(since) or first, first)
    hi = min(_stamp(until) or last + pd.Timedelta(minutes=SLOT_MIN), last + pd.Timedelta(days=1))
    if lo >= hi:
        return None
    history = (max(first, lo - pd.Timedelta(days=th.profile_days)), lo)
    if history[1] - history[0] < pd.Timedelta(days=7):
        history = (lo, hi)
    return (lo, hi), history


def _runs_sql(src: str, det_src: str, th: Thresholds) -> str:
    """Runs of low readings per detector: (detector_id, road, district, detected_at, ended_at,
    min ratio, min relative ratio, readings) for runs with a trigger. Parameters: profile
    window (lo, hi), scanned window (lo, hi). Volumes (+5 vehicles, so a quiet night's few
    cars do not swing the ratio) count as low where a table has none: speed alone decides."""
    slot = "(hour(ts) * 12 + minute(ts) // 5)"
    offday = "(isodow(ts) >= 6)"
    return f"""
    WITH prof AS (
        SELECT detector_id::VARCHAR AS detector_id, {offday} AS offday, {slot} AS slot,
               median(speed_kmh) AS typical, median(volume) AS typical_volume
        FROM {src} WHERE ts >= ? AND ts < ? AND speed_kmh > 0
        GROUP BY ALL
    ),
    r AS (
        SELECT x.ts, x.detector_id::VARCHAR AS detector_id, x.district,
               x.speed_kmh / p.typical AS ratio,
               coalesce((x.volume + 5) / (p.typical_volume + 5), 0) AS vratio
        FROM {src} x JOIN prof p
          ON p.detector_id = x.detector_id::VARCHAR AND p.offday = {offday} AND p.slot = {slot}
        WHERE x.ts >= ? AND x.ts < ? AND p.typical > 0
    ),
    dref AS (
        SELECT ts, district, median(ratio) AS d_ref, median(vratio) AS d_vref, count(*) AS n
        FROM r GROUP BY ALL
    ),
    cref AS (SELECT ts, median(ratio) AS c_ref, median(vratio) AS c_vref FROM r GROUP BY ALL),
    rel AS (
        SELECT r.ts, r.detector_id, r.district, r.ratio,
               r.ratio / least(greatest(
                   CASE WHEN d.n >= {th.district_min} THEN d.d_ref ELSE c.c_ref END, 0.05), 1.0)
                   AS rel,
               r.vratio / greatest(
                   CASE WHEN d.n >= {th.district_min} THEN d.d_vref ELSE c.c_vref END, 0.05)
                   AS vrel
        FROM r JOIN dref d USING (ts, district) JOIN cref c USING (ts)
    ),
    flagged AS (
        SELECT *,
               (rel < {th.strong} AND vrel < {th.volume}) OR max(greatest(
                   rel / {th.low}, vrel / {th.volume})) OVER (
                   PARTITION BY detector_id ORDER BY ts
                   ROWS BETWEEN {th.k - 1} PRECEDING AND CURRENT ROW) < 1 AS trigger
        FROM rel
    ),
    low AS (
        SELECT *, ts - lag(ts) OVER (PARTITION BY detector_id ORDER BY ts) AS gap
        FROM flagged WHERE rel < {th.end}
    ),
    runs AS (
        SELECT *, sum(CASE WHEN gap IS NULL OR gap > INTERVAL {th.merge_gap_min} MINUTES
                      THEN 1 ELSE 0 END)
                  OVER (PARTITION BY detector_id ORDER BY ts) AS run
        FROM low
    )
    SELECT runs.detector_id, any_value(d.road) AS road, any_value(runs.district) AS district,
           min(ts) FILTER (WHERE trigger) + INTERVAL {SLOT_MIN} MINUTES AS detected_at,
           max(ts) + INTERVAL {SLOT_MIN} MINUTES AS ended_at,
           min(ratio) AS min_speed_ratio, min(rel) AS min_rel, count(*) AS readings
    FROM runs LEFT JOIN (SELECT detector_id::VARCHAR AS detector_id, road FROM {det_src}) d
      ON d.detector_id = runs.detector_id
    GROUP BY runs.detector_id, run
    HAVING bool_or(trigger)
    ORDER BY detected_at, runs.detector_id
    """


def neighbours(detectors: pd.DataFrame) -> dict[str, set[str]]:
    """Detectors next to each other on the same road (in detector id order, the order they
    are numbered along a road), where a queue passes from one to the other."""
    out: dict[str, set[str]] = {}
    if detectors.empty:
        return out
    ordered = detectors.sort_values("detector_id")
    for _, grp in ordered.groupby(ordered["road"].fillna(""), sort=False):
        ids = grp["detector_id"].tolist()
        for a, b in itertools.pairwise(ids):
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out


def merge_neighbours(
    runs: pd.DataFrame, near: dict[str, set[str]], window_min: int, depth_slack: float = 0.0
) -> pd.DataFrame:
    """One incident per queue: a run on a neighbouring detector that starts while an earlier
    one is on (or within `window_min` after it) and drops no deeper (a queue thins out as it
    spreads; `depth_slack` of noise allowed) is that incident spreading, not a new one: it
    confirms the earlier run (`spread` True) instead of being reported."""
    runs = runs.sort_values(["detected_at", "detector_id"]).reset_index(drop=True)
    window = np.timedelta64(window_min * 60, "s")
    start = runs["detected_at"].to_numpy().astype("datetime64[s]")
    end = runs["ended_at"].to_numpy().astype("datetime64[s]")
    who = runs["detector_id"].astype(str).tolist()
    depth = runs["min_rel"].to_numpy(dtype=float)
    keep = np.ones(len(runs), dtype=bool)
    spread = np.zeros(len(runs), dtype=bool)
    open_runs: list[int] = []
    for i in range(len(runs)):
        open_runs = [j for j in open_runs if end[j] + window >= start[i]]
        owner = next(
            (
                j
                for j in open_runs
                if who[i] in near.get(who[j], ()) and depth[i] >= depth[j] - depth_slack
            ),
            None,
        )
        if owner is None:
            open_runs.append(i)
            continue
        keep[i] = False
        spread[owner] = True
        end[owner] = max(end[owner], end[i])
    runs = runs.assign(ended_at=end, spread=spread)
    return runs[keep].reset_index(drop=True)


def _confidence(runs: pd.DataFrame, th: Thresholds) -> pd.Series:
    """0-1: how deep the drop (relative to the district), how long it lasted, whether it spread
    upstream."""
    depth = ((th.end - runs["min_rel"]) / (th.end - 0.3)).clip(0, 1)
    length = (runs["readings"] / 6).clip(0, 1)
    return (0.5 * depth + 0.25 * length + 0.25 * runs["spread"].astype(float)).round(2)


def detect_incidents(
    engine: QueryEngine,
    city_id: str,
    since: str | dt.date | dt.datetime | None = None,
    until: str | dt.date | dt.datetime | None = None,
    thresholds: Thresholds = DEFAULT,
) -> pd.DataFrame:
    """Likely incidents in [since, until) (default: all the readings), earliest first.

    Columns: `detector_id`, `road`, `district`, `detected_at` (the end of the reading that
    triggered: when a live system would have known), `ended_at`, `min_speed_ratio` (lowest
    speed over the detector's profile) and `confidence` (0-1). Raises `MissingDataset` when the
    city has no readings.
    """
    windows = _windows(engine, city_id, since, until, thresholds)
    if windows is None:
        return _empty()
    (lo, hi), (p_lo, p_hi) = windows
    src = engine.source(city_id, "traffic_readings")
    det_src = engine.source(city_id, "traffic_detectors")
    sql = _runs_sql(src, det_src, thresholds)
    runs = engine.scan(sql, [p_lo, p_hi, lo, hi]).to_pandas()
    if runs.empty:
        return _empty()
    runs["detector_id"] = runs["detector_id"].astype(str)
    detectors = engine.scan(f"SELECT detector_id, road FROM {det_src}").to_pandas()
    merged = merge_neighbours(
        runs, neighbours(detectors), thresholds.neighbour_window_min, thresholds.depth_slack
    )
    merged["confidence"] = _confidence(merged, thresholds)
    merged["min_speed_ratio"] = merged["min_speed_ratio"].astype(float).round(3)
    return merged[DETECTION_COLUMNS]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "detector_id": pd.Series(dtype=str),
            "road": pd.Series(dtype=str),
            "district": pd.Series(dtype="int32"),
            "detected_at": pd.Series(dtype="datetime64[s]"),
            "ended_at": pd.Series(dtype="datetime64[s]"),
            "min_speed_ratio": pd.Series(dtype=float),
            "confidence": pd.Series(dtype=float),
        }
    )


def recorded_incidents(
    engine: QueryEngine, city_id: str, since=None, until=None
) -> pd.DataFrame | None:
    """The city's recorded incidents with a detector whose onset (`started_at` where the table
    has it, else `detected_at`) lies in [since, until); None when the city records none."""
    found = engine.find(city_id, "incidents")
    if found is None:
        return None
    src = engine.source(city_id, "incidents")
    cols = set(engine.scan(f"SELECT * FROM {src} LIMIT 0").column_names)
    onset = "started_at" if "started_at" in cols else "detected_at"
    sql = (
        f"SELECT detector_id, {onset} AS started_at, detected_at, cleared_at FROM {src} "
        f"WHERE detector_id IS NOT NULL AND {onset} >= ? AND {onset} < ? ORDER BY {onset}"
    )
    lo = _stamp(since) or pd.Timestamp.min.ceil("s")
    hi = _stamp(until) or pd.Timestamp.max.floor("s")
    return engine.scan(sql, [lo, hi]).to_pandas()


def score_detections(
    detected: pd.DataFrame, recorded: pd.DataFrame, detector_weeks: float
) -> dict[str, float | int | None]:
    """How the detections compare with the recorded incidents.

    A detection finds a recorded incident on the same detector when their times overlap (the
    detection from `detected_at` to `ended_at`, the incident from its onset, `started_at` where
    given, else `detected_at`, to `cleared_at`; one reading of slack on each side). Recall is the
    share of recorded incidents found; a false alarm is a detection that finds none, counted per
    detector-week scanned; the delay runs from the onset to the first detection that found it (0
    when a detection was already on).
    """
    slack = pd.Timedelta(minutes=SLOT_MIN)
    rec = recorded.reset_index(drop=True)
    onset_col = "started_at" if "started_at" in rec.columns else "detected_at"
    rec = pd.DataFrame(
        {
            "rec": np.arange(len(rec)),
            "detector_id": rec["detector_id"].astype(str),
            "onset": pd.to_datetime(rec[onset_col]),
            "cleared": pd.to_datetime(rec["cleared_at"]),
        }
    )
    det = pd.DataFrame(
        {
            "det": np.arange(len(detected)),
            "detector_id": detected["detector_id"].astype(str).to_numpy(),
            "start": pd.to_datetime(detected["detected_at"]).to_numpy(),
            "end": pd.to_datetime(detected["ended_at"]).to_numpy(),
        }
    )
    pairs = rec.merge(det, on="detector_id")
    pairs = pairs[
        (pairs["start"] <= pairs["cleared"] + slack) & (pairs["end"] >= pairs["onset"] - slack)
    ]
    delay = ((pairs["start"] - pairs["onset"]).dt.total_seconds() / 60).clip(lower=0)
    per_incident = delay.groupby(pairs["rec"]).min()
    false_alarms = len(det) - pairs["det"].nunique()
    return {
        "recorded": len(rec),
        "detected": len(det),
        "found": len(per_incident),
        "recall": len(per_incident) / len(rec) if len(rec) else None,
        "false_alarms": int(false_alarms),
        "detector_weeks": round(float(detector_weeks), 2),
        "false_alarms_per_detector_week": (
            false_alarms / detector_weeks if detector_weeks > 0 else None
        ),
        "median_delay_min": float(per_incident.median()) if len(per_incident) else None,
    }


def detector_weeks(engine: QueryEngine, city_id: str, since=None, until=None) -> float:
    """Detector-weeks of readings in [since, until): readings / (12 x 24 x 7)."""
    src = engine.source(city_id, "traffic_readings")
    lo = _stamp(since) or pd.Timestamp.min.ceil("s")
    hi = _stamp(until) or pd.Timestamp.max.floor("s")
    row = engine.scan(f"SELECT count(*) AS n FROM {src} WHERE ts >= ? AND ts < ?", [lo, hi])
    return row.to_pylist()[0]["n"] / (12 * 24 * 7)
