"""Incident detection against the demo city's recorded incidents:

    python -m bench.incidents [--detectors 60] [--days 120] [--seed 2017] [--json FILE]

Generates a demo city into a scratch folder, flags incidents from its detector readings
(`datasets.evidence.incidents.detect_incidents`, the whole period at once, then again on the
days after the profile's 8 weeks with a profile from before them only, as live alerts would
run) and scores them against the incidents the generator drew, timed from their true onset
(`started_at`): recall, false alarms per detector-week, median detection delay. Targets:
recall >= 80 %, <= 1 false alarm per detector-week, median delay <= 10 min (exit 1 if missed).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from datasets.demo.calendar import day_table
from datasets.demo.publish import DEMO_START, SEED, generate_demo
from datasets.demo.traffic import traffic_detectors
from datasets.demo.traffic_events import incidents as generated_incidents
from datasets.evidence import incidents
from datasets.workspace import Workspace

CITY = "hangzhou-2017"
TARGETS = {"recall": 0.8, "false_alarms_per_detector_week": 1.0, "median_delay_min": 10.0}


def truth(workspace: Workspace, detectors: int, days: int, seed: int) -> pd.DataFrame:
    """The incidents exactly as the demo drew them, with their true onset."""
    city = workspace.city(CITY)
    table = generated_incidents(
        traffic_detectors(city, detectors, seed), day_table(city, DEMO_START, days, seed), seed
    )
    return table.to_pandas()


def _held_out(workspace: Workspace, recorded: pd.DataFrame, days: int) -> dict | None:
    """The score on the days after the first `profile_days`, whose profile comes only from
    the weeks before them (as live alerts would run); None when the period is too short."""
    history = incidents.DEFAULT.profile_days
    if days < history + 14:
        return None
    since = pd.Timestamp(DEMO_START) + pd.Timedelta(days=history)
    found = incidents.detect_incidents(workspace.engine, CITY, since=since)
    weeks = incidents.detector_weeks(workspace.engine, CITY, since=since)
    later = recorded[recorded["started_at"] >= since]
    return {"since": str(since.date()), **incidents.score_detections(found, later, weeks)}


def run(detectors: int, days: int, seed: int = SEED) -> dict:
    with tempfile.TemporaryDirectory(prefix="citylens-incidents-") as tmp:
        workspace = Workspace.open(Path(tmp))
        t0 = time.perf_counter()
        generate_demo(workspace, CITY, detectors=detectors, days=days, seed=seed)
        generated_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = incidents.detect_incidents(workspace.engine, CITY)
        detect_s = time.perf_counter() - t0
        weeks = incidents.detector_weeks(workspace.engine, CITY)
        recorded = truth(workspace, detectors, days, seed)
        score = incidents.score_detections(found, recorded, weeks)
        held_out = _held_out(workspace, recorded, days)
        workspace.engine.close()
    met = {
        "recall": (score["recall"] or 0) >= TARGETS["recall"],
        "false_alarms_per_detector_week": (score["false_alarms_per_detector_week"] or 0)
        <= TARGETS["false_alarms_per_detector_week"],
        "median_delay_min": score["median_delay_min"] is not None
        and score["median_delay_min"] <= TARGETS["median_delay_min"],
    }
    return {
        "detectors": detectors,
        "days": days,
        "readings": detectors * days * 288,
        "seed": seed,
        **score,
        "generate_s": round(generated_s, 2),
        "detect_s": round(detect_s, 2),
        "held_out": held_out,
        "targets": TARGETS,
        "targets_met": met,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.incidents", description=__doc__)
    ap.add_argument("--detectors", type=int, default=60)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    if args.detectors < 2 or args.days < 1:
        ap.error("need at least 2 detectors and 1 day")
    r = run(args.detectors, args.days, args.seed)
    print(
        f"{r['detectors']} detectors x {r['days']} days ({r['readings']:,} readings), "
        f"{r['recorded']} recorded incidents, {r['detected']} detected"
    )
    print(f"recall                          {r['recall']:.1%}  (target >= 80 %)")
    print(
        f"false alarms per detector-week  {r['false_alarms_per_detector_week']:.2f}  (target <= 1)"
    )
    delay = r["median_delay_min"]
    print(f"median delay from onset         {delay:.1f} min  (target <= 10 min)")
    print(
        f"detection took                  {r['detect_s']:.1f} s"
        f" (generation {r['generate_s']:.1f} s)"
    )
    held = r["held_out"]
    if held:
        print(
            f"from {held['since']}, profile from the weeks before only: recall "
            f"{held['recall']:.1%}, {held['false_alarms_per_detector_week']:.2f} false alarms "
            f"per detector-week, median delay {held['median_delay_min']:.1f} min"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1), encoding="utf-8")
    return 0 if all(r["targets_met"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
