"""Interventions on the command line (wired into `python -m datasets`):

    python -m datasets add-intervention --city C --name N --start DATE [--end DATE]
        --treated IDS [--control IDS] [--unit detector|corridor|district|station]
        --outcome KIND.COLUMN [--hours 7-9,17-19] [--weekdays] [--data-dir D]
    python -m datasets list-interventions [--city C] [--json]
    python -m datasets remove-intervention ID

`add-intervention` checks the intervention against the data first (`panel.check_intervention`)
and stores nothing when it finds a problem: it prints each on a line and exits with 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .interventions import CATALOG_FILE, UNIT_KINDS, InterventionError, InterventionStore, to_json
from .model import Intervention

HOURS_HELP = (
    "hours of day kept, as ranges with the end excluded: '7-9,17-19' keeps 07:00-08:59 and "
    "17:00-18:59 (hours 7, 8, 17, 18: the peak hours of the signal pilot); a single hour "
    "'12' keeps 12:00-12:59; default: every hour"
)


class UsageError(ValueError):
    """A value on the command line that cannot be read."""


def parse_hours(text: str | None) -> tuple[int, ...]:
    """`"7-9,17-19"` -> (7, 8, 17, 18): each range's end is excluded; `"12"` -> (12,)."""
    if not text:
        return ()
    hours: set[int] = set()
    for item in text.split(","):
        first, dash, last = item.strip().partition("-")
        try:
            lo = int(first)
            hi = int(last) if dash else lo + 1
        except ValueError:
            raise UsageError(f"--hours: {item.strip()!r} is not HOUR or FROM-TO") from None
        if not (0 <= lo < hi <= 24):
            raise UsageError(f"--hours: {item.strip()!r} is not within 0-24, from before to")
        hours.update(range(lo, hi))
    return tuple(sorted(hours))


def _ids(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u.strip() for u in (text or "").split(",") if u.strip()))


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def _data_dir(args: argparse.Namespace) -> Path:
    import config

    return Path(args.data_dir or config.from_env().data_dir)


def _intervention(args: argparse.Namespace, city_id: str) -> Intervention:
    return Intervention(
        id="",
        city=city_id,
        name=args.name,
        start=_date(args.start, "--start"),
        end=_date(args.end, "--end"),
        treated=_ids(args.treated),
        control=_ids(args.control),
        outcome=args.outcome,
        unit=args.unit,
        hours=parse_hours(args.hours),
        weekdays=args.weekdays,
        created_by="cli",
    )


def cmd_add_intervention(args: argparse.Namespace) -> int:
    import config
    from datasets.workspace import Workspace, city_profile

    from .panel import check_intervention, suggest_controls

    city_id = args.city or config.from_env().city
    data_dir = _data_dir(args)
    try:
        iv = _intervention(args, city_id)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    city = city_profile(data_dir, city_id) if data_dir.is_dir() else None
    if city is None or not (data_dir / CATALOG_FILE).exists():
        print(f"no city {city_id!r} with data in {data_dir}", file=sys.stderr)
        return 2
    workspace = Workspace.open(data_dir)
    if not iv.control and iv.treated:
        iv = replace(iv, control=tuple(suggest_controls(workspace.engine, city, iv)))
    problems = check_intervention(workspace.engine, city, iv)
    if problems:
        for problem in problems:
            print(problem.message, file=sys.stderr)
        return 2
    try:
        stored = InterventionStore(data_dir).add(iv)
    except InterventionError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if not args.control:
        print(f"suggested controls: {','.join(stored.control)}", file=sys.stderr)
    print(stored.id)
    return 0


def cmd_list_interventions(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    if not (data_dir / CATALOG_FILE).exists():
        found = []
    else:
        found = InterventionStore(data_dir).list(args.city)
    if args.json:
        print(json.dumps([to_json(iv) for iv in found], ensure_ascii=False, indent=2))
        return 0
    for iv in found:
        end = iv.end.isoformat() if iv.end else "…"
        print(
            f"{iv.id:<40} {iv.city:<16} {iv.start.isoformat()} → {end:<10} "
            f"{len(iv.treated):>3} treated {len(iv.control):>3} control  {iv.outcome}"
        )
    return 0


def cmd_remove_intervention(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    try:
        if not (data_dir / CATALOG_FILE).exists():
            raise KeyError(args.id)
        InterventionStore(data_dir).remove(args.id)
    except KeyError:
        print(f"no intervention {args.id!r}", file=sys.stderr)
        return 2
    print(f"intervention {args.id} removed")
    return 0


def add_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register the intervention subcommands; `add(name, help)` makes a subparser with
    --data-dir."""
    p = add("add-intervention", "record an intervention to evaluate; prints its id")
    p.add_argument("--city", help="city id (default CITYLENS_CITY, the configured city)")
    p.add_argument("--name", required=True, help="what was done, e.g. 'Adaptive signals'")
    p.add_argument("--start", required=True, help="first day of the intervention (YYYY-MM-DD)")
    p.add_argument("--end", help="last day, for one that ended (YYYY-MM-DD)")
    p.add_argument("--treated", required=True, help="treated unit ids, comma-separated")
    p.add_argument(
        "--control",
        help="control unit ids, comma-separated (default: the 10 untreated units most like "
        "the treated ones before the start, printed on stderr)",
    )
    p.add_argument("--unit", choices=UNIT_KINDS, default="detector", help="default detector")
    p.add_argument("--outcome", required=True, help="KIND.COLUMN, e.g. traffic_readings.speed_kmh")
    p.add_argument("--hours", help=HOURS_HELP)
    p.add_argument("--weekdays", action="store_true", help="keep Monday to Friday only")
    p.set_defaults(run=cmd_add_intervention)

    p = add("list-interventions", "print the recorded interventions, newest first")
    p.add_argument("--city", help="only this city's")
    p.add_argument("--json", action="store_true", help="one JSON array with every field")
    p.set_defaults(run=cmd_list_interventions)

    p = add("remove-intervention", "delete a recorded intervention")
    p.add_argument("id")
    p.set_defaults(run=cmd_remove_intervention)
