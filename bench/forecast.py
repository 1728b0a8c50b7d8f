"""`python -m bench.forecast`: forecast skill on held-out real air quality, and forecast speed.

    python -m bench.forecast [--quick] [--data-dir D] [--json FILE]

1. Skill: the real hourly PM2.5 of Beijing's Aotizhongxin station (tests/fixtures/real, UCI
   Beijing Multi-Site Air-Quality data). From rolling origins over the file's last months (one
   every 25 h, so they fall at every hour of the day) the forecast is made exactly as the app
   makes it (`forecast_values`: 8 weeks of history, the model chosen by its own backtest before
   the origin) and compared with what followed, as is the seasonal-naive forecast. Reported per
   horizon (1, 6, 12, 24, 48, 72 h): the MASE of both (errors scaled by the 8 weeks' mean
   absolute 24-h difference, averaged over origins) and their ratio; also the MASE of the whole
   first 24 h and 72 h, the share of hours inside the 80 % and 95 % intervals, and the models
   chosen. Target: ratio at 24 h <= 0.85.
2. Speed: every station of the demo city (PM2.5 and AQI, 72 h) and every district (flow and
   speed, 24 h), from a cold start (no cached result), in seconds. Target: stations <= 10 s.

`--quick` uses the last 3 weeks of origins and a small demo city (the smoke test).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from datasets.evidence import forecast as fc

ROOT = Path(__file__).resolve().parent.parent
PRSA = ROOT / "tests" / "fixtures" / "real" / "PRSA_Data_Aotizhongxin_20130301-20170228.csv"
HORIZONS = (1, 6, 12, 24, 48, 72)
HORIZON = 72
TARGET_RATIO_24H = 0.85
CITY = "hangzhou-2017"


def load_prsa(path: Path = PRSA, column: str = "PM2.5") -> pd.Series:
    """The station's hourly values on a gap-free hourly index (NaN where missing)."""
    raw = pd.read_csv(path, usecols=["year", "month", "day", "hour", column])
    ts = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    values = pd.Series(raw[column].to_numpy(dtype=float), index=pd.DatetimeIndex(ts))
    return values[~values.index.duplicated()].asfreq("h")


def _origin_errors(values: pd.Series, origin: int, settings: fc.Settings) -> dict | None:
    """Scaled absolute errors of the chosen model and of seasonal naive from one origin."""
    history = values.iloc[origin - settings.weeks * 168 : origin]
    actual = values.iloc[origin : origin + HORIZON].to_numpy(dtype=float)
    scale = fc._scale(history.to_numpy(dtype=float))
    result = fc.forecast_values(history, HORIZON, log_scale=True, settings=settings)
    if result is None or not np.isfinite(scale) or not np.isfinite(actual).any():
        return None
    naive = fc.predict("snaive", fc._filled(history).to_numpy(dtype=float), HORIZON).mean
    p = result.paths
    return {
        "model": result.model,
        "err": np.abs(actual - p.mean) / scale,
        "err_naive": np.abs(actual - naive) / scale,
        "in80": np.where(np.isnan(actual), np.nan, (actual >= p.lo80) & (actual <= p.hi80)),
        "in95": np.where(np.isnan(actual), np.nan, (actual >= p.lo95) & (actual <= p.hi95)),
    }


def skill(values: pd.Series, days: int, step_h: int = 25) -> dict:
    """Rolling-origin evaluation over the last `days` days of `values`."""
    settings = fc.DEFAULT
    last = len(values) - HORIZON
    origins = range(last - days * 24, last + 1, step_h)
    rows = []
    with fc._one_blas_thread():
        for origin in origins:
            row = _origin_errors(values, origin, settings)
            if row is not None:
                rows.append(row)
    err = np.nanmean(np.vstack([r["err"] for r in rows]), axis=0)
    naive = np.nanmean(np.vstack([r["err_naive"] for r in rows]), axis=0)
    per_h = {
        str(h): {
            "mase": round(float(err[h - 1]), 3),
            "mase_naive": round(float(naive[h - 1]), 3),
            "ratio": round(float(err[h - 1] / naive[h - 1]), 3),
        }
        for h in HORIZONS
    }
    return {
        "origins": len(rows),
        "first_origin": str(values.index[origins[0]]),
        "last_origin": str(values.index[origins[-1]]),
        "per_horizon": per_h,
        "window_24h_ratio": round(float(err[:24].mean() / naive[:24].mean()), 3),
        "window_72h_ratio": round(float(err.mean() / naive.mean()), 3),
        "coverage80": round(float(np.nanmean(np.vstack([r["in80"] for r in rows]))), 3),
        "coverage95": round(float(np.nanmean(np.vstack([r["in95"] for r in rows]))), 3),
        "models": dict(Counter(r["model"] for r in rows)),
        "target_ratio_24h": TARGET_RATIO_24H,
        "met": bool(per_h["24"]["ratio"] <= TARGET_RATIO_24H),
    }


def _timed(engine, dataset_id: str, column: str, by: str, horizon: int) -> dict:
    fc.clear_cache()
    engine.clear_cache()
    start = time.perf_counter()
    result = fc.forecast(engine, dataset_id, column, by, horizon)
    seconds = time.perf_counter() - start
    return {
        "column": column,
        "by": by,
        "horizon_h": horizon,
        "series": int(result.frame["series"].nunique()),
        "seconds": round(seconds, 2),
        "models": dict(Counter(result.skill.drop_duplicates("series")["model"])),
    }


def speed(data_dir: Path | None, quick: bool) -> dict:
    """Cold forecasts of every station and district of the demo city."""
    from datasets.demo import generate_demo
    from datasets.query import QueryEngine
    from datasets.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="citylens-forecast-") as scratch:
        folder = Path(data_dir) if data_dir else Path(scratch)
        workspace = Workspace.open(folder)
        if workspace.engine.find(CITY, "air_quality_hourly") is None:
            generate_demo(workspace, CITY, detectors=8 if quick else 60, days=365)
        engine = QueryEngine(workspace.catalog, shared=None)
        air = engine.dataset(CITY, "air_quality_hourly").id
        traffic = engine.dataset(CITY, "traffic_readings")
        runs = [
            _timed(engine, air, "pm25", "station", 72),
            _timed(engine, air, "aqi", "station", 72),
            _timed(engine, traffic.id, "volume", "district", 24),
            _timed(engine, traffic.id, "speed_kmh", "district", 24),
        ]
        engine.close()
        return {"readings": traffic.current.rows, "runs": runs}


def report(result: dict) -> None:
    s = result["skill"]
    print(
        f"Skill: real hourly PM2.5, Beijing Aotizhongxin, {s['origins']} origins "
        f"{s['first_origin'][:10]} to {s['last_origin'][:10]} (models chosen: {s['models']})"
    )
    print("  horizon   MASE   naive   ratio")
    for h, row in s["per_horizon"].items():
        print(f"  {h:>5} h  {row['mase']:5.3f}  {row['mase_naive']:5.3f}  {row['ratio']:6.3f}")
    print(f"  whole first 24 h: ratio {s['window_24h_ratio']}; whole 72 h: {s['window_72h_ratio']}")
    print(f"  interval coverage: 80 % -> {s['coverage80']:.1%}, 95 % -> {s['coverage95']:.1%}")
    print(f"  target ratio at 24 h <= {s['target_ratio_24h']}: {'met' if s['met'] else 'NOT met'}")
    sp = result["speed"]
    print(f"Speed: demo city, {sp['readings']:,} traffic readings, cold start")
    for run in sp["runs"]:
        print(
            f"  {run['column']:<10} by {run['by']:<8} {run['horizon_h']:>3} h: "
            f"{run['series']:>3} series in {run['seconds']:.2f} s  {run['models']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few origins, small demo city")
    parser.add_argument("--data-dir", help="a data folder holding the demo city (else a temp one)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    values = load_prsa()
    result = {
        "skill": skill(values, days=21 if args.quick else 182, step_h=73 if args.quick else 25),
        "speed": speed(Path(args.data_dir) if args.data_dir else None, args.quick),
    }
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
