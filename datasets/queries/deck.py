"""Queries only the forum deck needs: its playbacks draw what no dashboard chart shows.

No rollup holds them: the day playback needs each detector's sums per hour of the day (its
travel time index divides by the detector's own free-flow speed), and the rollups keep a
detector's sums per day, or a district's per hour.
"""

from __future__ import annotations

import pandas as pd

from datasets.queries.traffic import READINGS, detector_tti
from datasets.query import Filters, QueryEngine

HOURLY_COLUMNS = ["hour", "district", "detectors", "speed_kmh", "tti"]


def hourly_district_speeds(engine: QueryEngine, city_id: str, filters: Filters) -> pd.DataFrame:
    """Per weekday hour and district: detectors, mean speed (km/h), travel time index (the
    mean of the detectors' own), from Monday to Friday within the filters."""
    src = engine.source(city_id, READINGS)
    stats = engine.frame(
        f"""
        SELECT detector_id,
               any_value(district) AS district,
               hour(ts) AS hour,
               count(speed_kmh) AS readings,
               sum(speed_kmh) AS speed_sum,
               count(*) FILTER (WHERE speed_kmh > 0) AS moving_readings,
               sum(1.0 / speed_kmh) FILTER (WHERE speed_kmh > 0) AS inverse_speed_sum
        FROM {src}
        WHERE {filters.where("ts", "district")} AND isodow(ts) <= 5
        GROUP BY detector_id, hour(ts)
        ORDER BY hour, detector_id
        """
    )
    if stats.empty:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    per = stats.assign(tti=detector_tti(engine, city_id, stats))
    out = per.groupby(["hour", "district"], as_index=False).agg(
        detectors=("detector_id", "nunique"),
        readings=("readings", "sum"),
        speed_sum=("speed_sum", "sum"),
        tti=("tti", "mean"),
    )
    out["speed_kmh"] = out["speed_sum"] / out["readings"].where(out["readings"] > 0)
    out["district"] = out["district"].astype("int64")
    out["hour"] = out["hour"].astype("int64")
    return out[HOURLY_COLUMNS]
