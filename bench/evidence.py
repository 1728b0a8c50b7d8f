"""`python -m bench.evidence`: does the evaluation's 95 % interval mean what it says, and how
long does an evaluation take.

    python -m bench.evidence [--seeds 100] [--units 60] [--big-units 1000] [--days 365]
                             [--demo-detectors 60] [--data-dir D] [--json FILE]

1. Coverage: for each seed, a panel of `--units` units × `--days` days
   (`datasets.evidence.simulate.make_panel`: unit levels, weekly profile, common daily shocks,
   AR(1) noise per unit, 30 % of units treated) with a known +12 % effect from the start, and
   one with none. Counted: how often the DiD's 95 % interval (in percent) covers 12 % and
   excludes 0, how often it covers 0 without effect, and how often the pre-trend test
   rejects (p < 0.05) on those panels, whose trends are parallel by construction.
   Targets: ≥ 93/100 cover, ≥ 90/100 exclude 0, ≥ 93/100 cover 0.
2. Speed: `evaluate_panel` (DiD, event study, placebos with 500 permutations, synthetic
   control) on a `--big-units` × `--days` panel, the size of the 100 M-reading city's detector
   days (target ≤ 5 s); and `evaluate` on a demo city's signal pilot from its data folder
   (the DuckDB query included, caches emptied or off), generated with `--demo-detectors` detectors
   in a scratch folder unless `--data-dir` holds one (e.g. the 105 M-reading city of
   `python -m bench --rows 105120000 --data-dir D`).

Prints a table; `--json FILE` writes the figures. `--seeds 3 --big-units 50 --skip-demo` is
the smoke test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from datasets.evidence.did import did_estimate
from datasets.evidence.event_study import event_study
from datasets.evidence.simulate import make_panel

START = "2017-07-01"
EFFECT = 0.12
DEMO_CITY = "hangzhou-2017"


def coverage(seeds: int, units: int, days: int) -> dict:
    """Counts over `seeds` seeds: cover / exclude-zero with the effect, cover-zero without."""
    counts = {"cover": 0, "exclude_zero": 0, "cover_zero": 0, "pre_trend_reject": 0}
    estimates = []
    for seed in range(seeds):
        with_effect = make_panel(seed=seed, units=units, days=days, effect=EFFECT)
        lo, hi = did_estimate(with_effect, START)["ci95_pct"]
        counts["cover"] += lo <= 100 * EFFECT <= hi
        counts["exclude_zero"] += lo > 0 or hi < 0
        without = make_panel(seed=100_000 + seed, units=units, days=days, effect=0.0)
        result = did_estimate(without, START)
        lo0, hi0 = result["ci95_pct"]
        counts["cover_zero"] += lo0 <= 0 <= hi0
        _, pre_p = event_study(without, START)
        counts["pre_trend_reject"] += pre_p is not None and pre_p < 0.05
        estimates.append(result["estimate_pct"])
    return {
        "seeds": seeds,
        "units": units,
        "days": days,
        **{k: int(v) for k, v in counts.items()},
        "null_estimate_sd_pct": statistics.pstdev(estimates) if len(estimates) > 1 else 0.0,
    }


def _iv(start: str = START):
    import datetime as dt

    from datasets.evidence.model import Intervention

    return Intervention(
        id="bench",
        city="bench",
        name="bench",
        start=dt.date.fromisoformat(start),
        treated=(),
        control=(),
        outcome="traffic_readings.speed_kmh",
    )


def big_panel_time(units: int, days: int, rounds: int = 3) -> dict:
    """Seconds of `evaluate_panel` on a units × days panel (best and median of `rounds`, after
    one untimed run that pays the imports)."""
    from datasets.evidence.evaluate import evaluate_panel

    panel = make_panel(seed=7, units=units, days=days, effect=EFFECT)
    iv = _iv()
    evaluate_panel(panel, iv)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        evaluate_panel(panel, iv)
        times.append(time.perf_counter() - began)
    return {"units": units, "days": days, "rows": len(panel), "best_s": min(times),
            "median_s": statistics.median(times)}  # fmt: skip


def demo_time(data_dir: Path | None, detectors: int, rounds: int = 3) -> dict:
    """Seconds of `evaluate(workspace, pilot)` with the engine's shared result cache off and
    its own and the evaluation's caches emptied before each round (the panel query runs each
    time)."""
    from datasets.evidence import evaluate as evaluate_module
    from datasets.evidence.interventions import pilot_intervention
    from datasets.workspace import Workspace

    scratch = None
    if data_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="bench-evidence-")
        data_dir = Path(scratch.name)
    workspace = Workspace.open(data_dir)
    workspace.engine.shared = None
    if workspace.engine.find(DEMO_CITY, "traffic_readings") is None:
        from datasets.demo import generate_demo

        generate_demo(workspace, DEMO_CITY, detectors=detectors, days=365)
    iv = pilot_intervention(workspace, workspace.city(DEMO_CITY))
    readings = workspace.engine.find(DEMO_CITY, "traffic_readings").current.rows
    times = []
    for _ in range(rounds + 1):
        workspace.engine.clear_cache()
        evaluate_module.clear_cache()
        began = time.perf_counter()
        evaluate_module.evaluate(workspace, iv)
        times.append(time.perf_counter() - began)
    if scratch is not None:
        scratch.cleanup()
    times = times[1:]  # the first pays the imports and opens the files
    return {"readings": readings, "treated": len(iv.treated), "control": len(iv.control),
            "best_s": min(times), "median_s": statistics.median(times)}  # fmt: skip


def table(result: dict) -> str:
    cov = result["coverage"]
    n = cov["seeds"]
    lines = [
        f"Coverage over {n} seeds ({cov['units']} units × {cov['days']} days, +12 % effect)",
        f"  95 % CI covers +12 %          {cov['cover']:>4}/{n}   (target ≥ 93/100)",
        f"  95 % CI excludes 0            {cov['exclude_zero']:>4}/{n}   (target ≥ 90/100)",
        f"  no effect: CI covers 0        {cov['cover_zero']:>4}/{n}   (target ≥ 93/100)",
        f"  no effect: pre-trend p < 0.05 {cov['pre_trend_reject']:>4}/{n}   (nominal 5/100)",
    ]
    big = result.get("big_panel")
    if big:
        lines.append(
            f"evaluate_panel, {big['units']} units × {big['days']} days ({big['rows']:,} rows): "
            f"best {big['best_s']:.2f} s, median {big['median_s']:.2f} s (target ≤ 5 s)"
        )
    demo = result.get("demo")
    if demo:
        lines.append(
            f"evaluate on the demo pilot ({demo['readings']:,} readings, {demo['treated']} "
            f"treated, {demo['control']} control): best {demo['best_s']:.2f} s, "
            f"median {demo['median_s']:.2f} s"
        )
    lines.append(f"load average {result['load_before']} → {result['load_after']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--units", type=int, default=60, help="units per coverage panel (default 60)")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--big-units", type=int, default=1000, help="units of the timed panel")
    p.add_argument("--demo-detectors", type=int, default=60)
    p.add_argument("--data-dir", help="a data folder holding the demo city to time")
    p.add_argument("--skip-demo", action="store_true", help="no demo city timing")
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)

    result: dict = {"load_before": [round(x, 2) for x in os.getloadavg()]}
    result["coverage"] = coverage(args.seeds, args.units, args.days)
    if args.big_units > 0:
        result["big_panel"] = big_panel_time(args.big_units, args.days)
    if not args.skip_demo:
        data_dir = Path(args.data_dir) if args.data_dir else None
        result["demo"] = demo_time(data_dir, args.demo_detectors)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
