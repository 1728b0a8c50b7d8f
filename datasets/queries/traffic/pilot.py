"""The adaptive-signal pilot: peak-hour speeds of pilot and control detectors and the
difference in differences around the pilot start.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from datasets.cache import LRU
from datasets.cities import CityProfile
from datasets.query import Filters, QueryEngine
from datasets.rollups import PEAK_HOURS

from .common import (
    DETECTORS,
    PILOT_AFTER_DAYS,
    PILOT_BEFORE_DAYS,
    PILOT_RAMP_DAYS,
    READINGS,
    filter_sql,
)

_PILOT_STARTS = LRU(16)  # by demo.json path and mtime: (start or None,)


def _demo_pilot_start(path: Path, mtime: float) -> str | None:
    kept = _PILOT_STARTS.get((path, mtime))
    if kept is None:
        data = json.loads(path.read_text(encoding="utf-8"))
        kept = (data.get("traffic", {}).get("pilot", {}).get("start"),)
        _PILOT_STARTS.put((path, mtime), kept)
    return kept[0]


def pilot_start(city: CityProfile) -> dt.date | None:
    """Start of the adaptive-signal pilot: the profile's `traffic_pilot_start`, else the
    `traffic.pilot.start` of the city's demo.json; None when neither names one."""
    raw = city.extra.get("traffic_pilot_start")
    path = city.folder / "demo.json"
    if raw is None and path.exists():
        raw = _demo_pilot_start(path, path.stat().st_mtime)
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


def pilot_daily(
    engine: QueryEngine, city_id: str, filters: Filters, start: dt.date | None
) -> pd.DataFrame:
    """Peak-hour (07-09, 17-19) weekday mean speed per day, pilot vs control detectors.

    Not cut by the filter dates (the before/after windows are fixed around the pilot start);
    the district filter applies. Empty when the pilot start is unknown.
    """
    columns = ["day", "group", "readings", "speed_kmh", "pilot_start"]
    if start is None:
        return pd.DataFrame(columns=columns)
    readings, grain = engine.plan(city_id, READINGS, ("detector_day",))
    detectors = engine.source(city_id, DETECTORS)
    hours = ", ".join(str(h) for h in PEAK_HOURS)
    if grain is not None:  # peak-hour sums per detector and day (same PEAK_HOURS)
        frame = engine.frame(
            f"""
            SELECT r.day AS day,
                   CASE WHEN d.pilot THEN 'pilot' ELSE 'control' END AS "group",
                   sum(r.peak_n_speed)::BIGINT AS readings,
                   sum(r.peak_speed_sum) / NULLIF(sum(r.peak_n_speed), 0) AS speed_kmh
            FROM {readings} AS r
            JOIN (SELECT detector_id, any_value(pilot) AS pilot FROM {detectors} GROUP BY 1) AS d
              ON r.detector_id = d.detector_id
            WHERE r.peak_n > 0 AND isodow(r.day) <= 5
              AND {filter_sql(Filters(districts=filters.districts), None, "r.district")}
            GROUP BY ALL
            ORDER BY day, "group"
            """
        )
    else:
        frame = _pilot_daily_raw(engine, readings, detectors, hours, filters)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["day"] = pd.to_datetime(frame["day"])
    frame["pilot_start"] = pd.Timestamp(start)
    return frame[columns]


def _pilot_daily_raw(
    engine: QueryEngine, readings: str, detectors: str, hours: str, filters: Filters
) -> pd.DataFrame:
    return engine.frame(
        f"""
        SELECT CAST(r.ts AS DATE) AS day,
               CASE WHEN d.pilot THEN 'pilot' ELSE 'control' END AS "group",
               count(r.speed_kmh) AS readings,
               avg(r.speed_kmh) AS speed_kmh
        FROM {readings} AS r
        JOIN (SELECT detector_id, any_value(pilot) AS pilot FROM {detectors} GROUP BY 1) AS d
          ON r.detector_id = d.detector_id
        WHERE hour(r.ts) IN ({hours}) AND isodow(r.ts) <= 5
          AND {filter_sql(Filters(districts=filters.districts), None, "r.district")}
        GROUP BY ALL
        ORDER BY day, "group"
        """
    )


def pilot_weekly(daily: pd.DataFrame) -> pd.DataFrame:
    """Weekly (Monday) readings-weighted mean of the daily frame, per group."""
    if daily.empty:
        return pd.DataFrame(columns=["week", "group", "readings", "speed_kmh"])
    days = daily["day"].to_numpy().astype("datetime64[D]").astype("int64")
    since_monday = (days + 3) % 7  # day 0, 1970-01-01, was a Thursday
    weeks = (daily["day"] - pd.to_timedelta(since_monday, unit="D")).to_numpy()
    group, groups = pd.factorize(daily["group"], sort=True)
    first_days, week = np.unique(weeks, return_inverse=True)
    cell = week * len(groups) + group
    cells, at = np.unique(cell, return_inverse=True)
    readings = daily["readings"].to_numpy()
    weighted = np.nan_to_num((daily["speed_kmh"] * daily["readings"]).to_numpy("float64"))
    total = np.bincount(at, weights=readings, minlength=len(cells))
    sums = np.bincount(at, weights=weighted, minlength=len(cells))
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = sums / total
    return pd.DataFrame(
        {
            "week": first_days[cells // len(groups)],
            "group": groups[cells % len(groups)],
            "readings": total.astype(readings.dtype),
            "speed_kmh": speed,
        }
    )


def pilot_windows(start: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """(before, after) windows, each (first day, last day): 12 weeks before the start, and 12
    weeks beginning 4 weeks after it."""
    before = (start - dt.timedelta(days=PILOT_BEFORE_DAYS), start - dt.timedelta(days=1))
    after_start = start + dt.timedelta(days=PILOT_RAMP_DAYS)
    return before, (after_start, after_start + dt.timedelta(days=PILOT_AFTER_DAYS - 1))


def did_summary(daily: pd.DataFrame) -> dict[str, float | None]:
    """Difference in differences of peak-hour mean speed.

    change = after / before - 1 for the pilot and the control detectors (readings-weighted
    means over each window); did = change of the pilot minus change of the control.
    """
    out: dict[str, float | None] = dict.fromkeys(
        ("pilot_before", "pilot_after", "control_before", "control_after")
    )
    if daily.empty:
        return {**out, "pilot_change": None, "control_change": None, "did": None}
    start = pd.Timestamp(daily["pilot_start"].iloc[0]).date()
    (b0, b1), (a0, a1) = pilot_windows(start)
    days = daily["day"].to_numpy().astype("datetime64[D]")
    groups = daily["group"].to_numpy(object)
    readings = daily["readings"].to_numpy()
    weighted = (daily["speed_kmh"] * daily["readings"]).to_numpy("float64")
    for group in ("pilot", "control"):
        for name, (lo, hi) in (("before", (b0, b1)), ("after", (a0, a1))):
            rows = (groups == group) & (days >= np.datetime64(lo)) & (days <= np.datetime64(hi))
            weight = readings[rows].sum()
            if weight > 0:
                out[f"{group}_{name}"] = float(np.nansum(weighted[rows]) / weight)

    def change(group: str) -> float | None:
        before, after = out[f"{group}_before"], out[f"{group}_after"]
        return after / before - 1 if before and after is not None else None

    pilot, control = change("pilot"), change("control")
    return {
        **out,
        "pilot_change": pilot,
        "control_change": control,
        "did": pilot - control if pilot is not None and control is not None else None,
    }
