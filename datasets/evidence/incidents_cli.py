"""Incident detection on the command line (wired into `python -m datasets`):

    python -m datasets detect-incidents --city C [--since DATE] [--until DATE] [--json FILE]
        [--data-dir D]

Prints the likely incidents found in the detector readings of [since, until) and, when the
city records incidents, how they compare (recall, false alarms per detector-week, median
delay from the incident's onset). Exit 2 with one line on an unknown city, a date that cannot
be read, an empty window or a city without detector readings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..query import MissingDataset
from . import incidents


class UsageError(ValueError):
    """A value on the command line that cannot be used."""


def _date(text: str | None, option: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a date (YYYY-MM-DD[THH:MM])") from None


def _workspace(args: argparse.Namespace):
    import config

    from ..workspace import Workspace

    return Workspace.open(Path(args.data_dir or config.from_env().data_dir))


def run_detection(args: argparse.Namespace) -> dict:
    """The incidents found and their score, as plain values (what `--json` writes)."""
    since, until = _date(args.since, "--since"), _date(args.until, "--until")
    if since and until and since >= until:
        raise UsageError(f"--since {args.since} is not before --until {args.until}")
    workspace = _workspace(args)
    try:
        city = workspace.city(args.city).id
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    engine = workspace.engine
    span = incidents.data_range(engine, city)
    if span is None:
        raise UsageError(f"{city} has no detector readings")
    if (since and since > span[1]) or (until and until <= span[0]):
        raise UsageError(f"{city}'s readings run from {span[0]} to {span[1]}: the window is empty")
    found = incidents.detect_incidents(engine, city, since, until)
    recorded = incidents.recorded_incidents(engine, city, since, until)
    score = None
    if recorded is not None and len(recorded):
        weeks = incidents.detector_weeks(engine, city, since, until)
        score = incidents.score_detections(found, recorded, weeks)
    return {"city": city, "incidents": _records(found), "score": score}


def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.astype({"detected_at": str, "ended_at": str}).to_dict(orient="records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in out]


def _print(result: dict) -> None:
    rows = result["incidents"]
    print(f"{len(rows)} likely incidents in {result['city']}")
    for r in rows:
        print(
            f"{r['detected_at']}  {r['detector_id']:<8} {str(r['road'])[:28]:<28} "
            f"until {r['ended_at'][11:16]}  speed x{r['min_speed_ratio']:.2f}  "
            f"confidence {r['confidence']:.2f}"
        )
    score = result["score"]
    if score:
        recall = score["recall"]
        fa = score["false_alarms_per_detector_week"]
        delay = score["median_delay_min"]
        print(
            f"against {score['recorded']} recorded incidents: recall "
            f"{recall:.1%}, {fa:.2f} false alarms per detector-week, median delay "
            + (f"{delay:.1f} min" if delay is not None else "-")
        )


def cmd_detect_incidents(args: argparse.Namespace) -> int:
    try:
        result = run_detection(args)
    except (UsageError, MissingDataset) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    _print(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    return 0


def add_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register `detect-incidents`; `add(name, help)` makes a subparser with --data-dir."""
    p = add("detect-incidents", "flag likely traffic incidents from detector readings")
    p.add_argument("--city", required=True, help="city id")
    p.add_argument("--since", help="first day scanned (YYYY-MM-DD; default: the first reading)")
    p.add_argument("--until", help="day after the last scanned (default: after the last reading)")
    p.add_argument("--json", help="also write the incidents and the score to this JSON file")
    p.set_defaults(run=cmd_detect_incidents)
