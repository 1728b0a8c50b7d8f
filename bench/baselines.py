"""The same data interactions done without CityLens's means, for comparison.

    python -m bench.baselines --data-dir D --filters F.json --way naive|duckdb --out R.json

naive: what a dashboard that scans on every click does: read the raw Parquet wholly into pandas,
filter, group. duckdb: the CityLens queries on the raw rows (no rollups, no cache), i.e. a plain
DuckDB scan of the Parquet with the filters and group-bys pushed into it. Each runs in its own
process (`bench.__main__` starts it) so that its memory is measured apart from the app's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from datasets.queries import ecology as eq
from datasets.queries import traffic as q
from datasets.query import Filters, QueryEngine
from datasets.workspace import Workspace

# The interactions whose data comes from the traffic readings (the big table), in the order the
# report lists them; each is replayed with the same filters by CityLens and the baselines.
DATA_INTERACTIONS = (
    "traffic.district_map",
    "traffic.hour_weekday",
    "traffic.volume_speed",
    "traffic.volume_speed_zoom",
    "traffic.pilot",
    "traffic.kpis",
    "ecology.no2_traffic",
)
ZOOM_BUCKET = "5min"


def filters_from_json(item: dict) -> Filters:
    return Filters(
        dt.date.fromisoformat(item["from"]) if item.get("from") else None,
        dt.date.fromisoformat(item["to"]) if item.get("to") else None,
        tuple(int(d) for d in item.get("district") or ()),
    )


# -- plain DuckDB: the CityLens queries with rollups and caches off -----------------------------


def duckdb_runner(workspace: Workspace, city) -> dict[str, Callable[[Filters], object]]:
    engine = QueryEngine(workspace.catalog, cache_size=0, shared=None, use_rollups=False)
    start = q.pilot_start(city)
    return {
        "traffic.district_map": lambda f: q.district_speeds(engine, city.id, f),
        "traffic.hour_weekday": lambda f: q.hour_weekday(engine, city.id, f),
        "traffic.volume_speed": lambda f: q.volume_speed(engine, city.id, f, "day"),
        "traffic.volume_speed_zoom": lambda f: q.volume_speed(engine, city.id, f, ZOOM_BUCKET),
        "traffic.pilot": lambda f: q.pilot_daily(engine, city.id, f, start),
        "traffic.kpis": lambda f: q.kpis(engine, city.id, f),
        "ecology.no2_traffic": lambda f: eq.traffic_daily_volume(engine, city.id, f),
    }


# -- naive pandas: read everything, then filter and group ----------------------------------------


def _within(frame: pd.DataFrame, f: Filters, column: str = "ts") -> pd.DataFrame:
    keep = np.ones(len(frame), dtype=bool)
    if f.start:
        keep &= (frame[column] >= pd.Timestamp(f.start)).to_numpy()
    if f.end:
        keep &= (frame[column] < pd.Timestamp(f.end + dt.timedelta(days=1))).to_numpy()
    if f.districts and "district" in frame:
        keep &= frame["district"].isin(f.districts).to_numpy()
    return frame[keep]


def _free_flow(frame: pd.DataFrame) -> pd.Series:
    night = frame[(frame["ts"].dt.hour < q.NIGHT_END_HOUR) & (frame["speed_kmh"] > 0)]
    return night.groupby("detector_id", observed=True)["speed_kmh"].quantile(q.FREE_FLOW_QUANTILE)


def _detector_stats(rows: pd.DataFrame, free_flow: pd.Series) -> pd.DataFrame:
    moving = rows[rows["speed_kmh"] > 0]
    stats = rows.groupby("detector_id", observed=True).agg(
        district=("district", "first"),
        readings=("speed_kmh", "count"),
        speed_sum=("speed_kmh", "sum"),
        vehicles=("volume", "sum"),
    )
    inverse = (1.0 / moving["speed_kmh"]).groupby(moving["detector_id"], observed=True).mean()
    stats["tti"] = inverse * free_flow.reindex(inverse.index)
    return stats


def naive_runner(workspace: Workspace, city) -> dict[str, Callable[[Filters], object]]:
    catalog = workspace.catalog
    readings = catalog.find(city.id, "traffic_readings").folder
    detectors = catalog.find(city.id, "traffic_detectors").folder
    start = q.pilot_start(city)

    def load() -> pd.DataFrame:  # every click reads the whole table again
        return pd.read_parquet(readings)

    def district_map(f: Filters):
        frame = load()
        stats = _detector_stats(_within(frame, f), _free_flow(frame))
        out = stats.groupby("district").agg(
            readings=("readings", "sum"), speed_sum=("speed_sum", "sum"), tti=("tti", "mean")
        )
        out["speed_kmh"] = out["speed_sum"] / out["readings"]
        return out

    def hour_weekday(f: Filters):
        rows = _within(load(), f)
        keys = [rows["ts"].dt.day_of_week + 1, rows["ts"].dt.hour]
        return rows.groupby(keys).agg(speed=("speed_kmh", "mean"), volume=("volume", "mean"))

    def series(f: Filters, freq: str):
        rows = _within(load(), f)
        return rows.groupby(rows["ts"].dt.floor(freq)).agg(
            speed=("speed_kmh", "mean"), volume=("volume", "mean"), n=("volume", "size")
        )

    def pilot(f: Filters):
        rows = _within(load(), Filters(districts=f.districts))
        peak = rows[rows["ts"].dt.hour.isin(q.PEAK_HOURS) & (rows["ts"].dt.day_of_week < 5)]
        flags = pd.read_parquet(detectors, columns=["detector_id", "pilot"])
        merged = peak.merge(flags, on="detector_id", how="inner", suffixes=("_r", ""))
        daily = merged.groupby([merged["ts"].dt.floor("D"), "pilot"]).agg(
            readings=("speed_kmh", "count"), speed=("speed_kmh", "mean")
        )
        return daily.assign(pilot_start=start)

    def kpis(f: Filters):
        frame = load()
        free_flow = _free_flow(frame)
        periods = q.kpi_periods(QueryEngine(catalog, shared=None), city.id, f)
        out = []
        for period in (periods.current, periods.previous):
            if period is None:
                continue
            stats = _detector_stats(_within(frame, period), free_flow)
            out.append((stats["speed_sum"].sum() / stats["readings"].sum(), stats["tti"].mean()))
        return out

    def daily_volume(f: Filters):
        rows = _within(load(), f)
        return rows.groupby(rows["ts"].dt.floor("D"))["volume"].sum()

    return {
        "traffic.district_map": district_map,
        "traffic.hour_weekday": hour_weekday,
        "traffic.volume_speed": lambda f: series(f, "D"),
        "traffic.volume_speed_zoom": lambda f: series(f, "5min"),
        "traffic.pilot": pilot,
        "traffic.kpis": kpis,
        "ecology.no2_traffic": daily_volume,
    }


class PeakRSS:
    """The largest resident set size seen, sampled every 20 ms (getrusage's maximum would
    include the parent's, which the process inherits at fork)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, me.memory_info().rss)
            self._stop.wait(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak / 1024**2, 1)


def naive_needs_mb(workspace: Workspace, city) -> float:
    """The memory the naive way needs to hold the readings in pandas: their uncompressed size
    as the Parquet footers record it (what `read_parquet` materialises, before any copy)."""
    import pyarrow.parquet as pq

    folder = workspace.catalog.find(city.id, "traffic_readings").folder
    total = 0
    for path in sorted(Path(folder).rglob("*.parquet")):
        meta = pq.ParquetFile(path).metadata
        total += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return round(total / 1024**2, 1)


def run(data_dir: Path, city_id: str, way: str, plan: dict, rounds: int) -> dict:
    """Each interaction's times; an interaction that fails (e.g. DuckDB out of memory) is
    reported with its error and the others still run. The naive way is not attempted when the
    readings would not fit in the memory available: the memory it would need is reported."""
    peak = PeakRSS()
    workspace = Workspace.open(data_dir)
    city = workspace.city(city_id)
    result: dict = {"way": way, "times_ms": {}, "failed": {}}
    if way == "naive":
        needs = naive_needs_mb(workspace, city)
        available = psutil.virtual_memory().available / 1024**2
        result["needs_mb"] = needs
        if needs * NAIVE_COPIES > available:
            result["failed"]["*"] = (
                f"not run: holding the readings in pandas needs ~{needs * NAIVE_COPIES:,.0f} MB,"
                f" {available:,.0f} MB available"
            )
            result["peak_rss_mb"] = peak.stop()
            return result
    runner = (naive_runner if way == "naive" else duckdb_runner)(workspace, city)
    for name in DATA_INTERACTIONS:
        for item in plan[name][:rounds]:
            started = time.perf_counter()
            try:
                runner[name](filters_from_json(item))
            except Exception as exc:  # one failing interaction must not lose the others
                result["failed"][name] = f"{type(exc).__name__}: {str(exc)[:300]}"
                break
            result["times_ms"].setdefault(name, []).append((time.perf_counter() - started) * 1000)
    result["peak_rss_mb"] = peak.stop()
    return result


# The naive way holds the table and a filtered copy or two at once.
NAIVE_COPIES = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--city", default="hangzhou-2017")
    parser.add_argument("--filters", type=Path, required=True, help="JSON {interaction: [..]}")
    parser.add_argument("--way", choices=["naive", "duckdb"], required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    plan = json.loads(args.filters.read_text())
    result = run(args.data_dir, args.city, args.way, plan, args.rounds)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
