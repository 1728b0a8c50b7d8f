"""The benchmark's data: a demo city whose traffic readings hold about N rows, generated once
per data folder (with its rollups, as every publish builds them) and reused after."""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from datasets.demo.publish import generate_demo
from datasets.workspace import Workspace

SLOTS_PER_DAY = 288  # 5-minute readings
YEAR_DAYS = 365
REUSE_SHARE = 0.95  # an existing dataset within 5% below N (or larger) is reused


@dataclass(frozen=True)
class BenchData:
    data_dir: str
    rows: int
    detectors: int
    days: int
    generated: bool
    generate_s: float
    raw_bytes: int
    rollup_bytes: int


def plan_size(rows: int) -> tuple[int, int]:
    """(detectors, days) for about `rows` readings: a whole year once there are two detectors'
    worth, else fewer days (1,000 detectors x 365 days = 105,120,000 readings)."""
    detectors = max(2, math.ceil(rows / (YEAR_DAYS * SLOTS_PER_DAY)))
    days = max(7, min(YEAR_DAYS, math.ceil(rows / (detectors * SLOTS_PER_DAY))))
    return detectors, days


def _sizes(folder: Path) -> tuple[int, int]:
    raw = sum(p.stat().st_size for p in folder.glob("*.parquet"))
    rolled = sum(p.stat().st_size for p in (folder / "_rollups").rglob("*.parquet"))
    return raw, rolled


def ensure_data(data_dir: Path, rows: int, city: str, progress: bool = True) -> BenchData:
    """Reuse the folder's traffic readings when they hold at least ~`rows`, else generate the
    demo city at the planned size (replacing what was there)."""
    workspace = Workspace.open(data_dir)
    found = workspace.catalog.find(city, "traffic_readings")
    generated = False
    seconds = 0.0
    if found is None or found.current.rows < rows * REUSE_SHARE:
        detectors, days = plan_size(rows)
        started = time.perf_counter()
        generate_demo(
            workspace,
            city,
            detectors=detectors,
            days=days,
            progress=progress,
            only_missing=False,
        )
        seconds = time.perf_counter() - started
        generated = True
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        (Path(data_dir) / f".demo-{city}.done").write_text(stamp + "\n")
        found = workspace.catalog.find(city, "traffic_readings")
    detectors_found = workspace.catalog.find(city, "traffic_detectors")
    detectors = detectors_found.current.rows if detectors_found else 0
    first, last = found.current.time_min, found.current.time_max
    days = (dt.date.fromisoformat(last[:10]) - dt.date.fromisoformat(first[:10])).days + 1
    raw, rolled = _sizes(found.folder)
    workspace.engine.close()
    return BenchData(
        str(data_dir), found.current.rows, detectors, days, generated, seconds, raw, rolled
    )


def as_dict(data: BenchData) -> dict:
    return asdict(data)
