"""Forecasts on the command line (wired into `python -m datasets`):

    python -m datasets forecast --dataset ID --column C [--by station|district|detector]
                                --horizon 72h [--until TS] [--json FILE] --data-dir D

Prints, per series, the model the backtest chose, its MASE against the seasonal-naive forecast
and the first hours with their 80 % and 95 % intervals; `--json` writes the whole forecast and
the skill per horizon. Exit 2 with one line on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .forecast import ForecastError, forecast
from .model import Forecast

SHOWN_HOURS = 6
HORIZON = re.compile(r"\s*(\d+)\s*([hd]?)\s*", re.IGNORECASE)


def parse_horizon(text: str) -> int:
    """`72h`, `72` (hours) or `3d` as a number of hours; ForecastError otherwise."""
    match = HORIZON.fullmatch(text or "")
    if not match:
        raise ForecastError(f"--horizon {text!r}: give hours or days, e.g. 72h or 3d")
    count = int(match.group(1))
    return count * 24 if match.group(2).lower() == "d" else count


def parse_until(text: str | None) -> pd.Timestamp | None:
    if not text:
        return None
    try:
        return pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ForecastError(
            f"--until {text!r} is not a date or time (e.g. 2017-06-30T23:00)"
        ) from None


def _number(value: float) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.2f}"


def _print(result: Forecast) -> None:
    if result.frame.empty:
        print("no series with enough data to forecast")
        return
    start = result.frame["ts"].min()
    print(
        f"{result.dataset_id} {result.column} by {result.by}: {result.horizon_h} h from "
        f"{start:%Y-%m-%d %H:%M}, mean [80 % interval] [95 % interval]"
    )
    at = min(24, result.horizon_h)
    for series, skill in result.skill.groupby("series", sort=True):
        row = skill.set_index("horizon_h")
        print(
            f"{series}: model {row['model'].iloc[0]}, MASE {_number(row['mase'].mean())} vs "
            f"seasonal naive {_number(row['mase_naive'].mean())} (mean over 1-{result.horizon_h} h)"
            f"; at {at} h {_number(row.at[at, 'mase'])} vs {_number(row.at[at, 'mase_naive'])}"
        )
        hours = result.frame[result.frame["series"] == series].head(SHOWN_HOURS)
        for r in hours.itertuples(index=False):
            print(
                f"  {r.ts:%Y-%m-%d %H:%M}  {_number(r.mean)}  [{_number(r.lo80)}, "
                f"{_number(r.hi80)}]  [{_number(r.lo95)}, {_number(r.hi95)}]"
            )


def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%S")
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict(orient="records")


def as_json(result: Forecast) -> dict:
    """The `--json` document: the forecast hours, the recent history and the skill."""
    return {
        "dataset": result.dataset_id,
        "column": result.column,
        "by": result.by,
        "horizon_h": result.horizon_h,
        "until": None if result.until is None else result.until.isoformat(),
        "frame": _records(result.frame),
        "history": _records(result.history),
        "skill": _records(result.skill),
    }


def cmd_forecast(args: argparse.Namespace) -> int:
    import config
    from datasets.workspace import Workspace

    try:
        horizon = parse_horizon(args.horizon)
        until = parse_until(args.until)
        data_dir = Path(args.data_dir or config.from_env().data_dir)
        if not (data_dir / "catalog.sqlite").is_file():
            raise ForecastError(f"{data_dir} holds no catalog")
        engine = Workspace.open(data_dir).engine
        result = forecast(engine, args.dataset, args.column, args.by, horizon, until)
    except ForecastError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    _print(result)
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(result), ensure_ascii=False, indent=1))
    return 0


def add_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register `forecast`; `add(name, help)` makes a subparser with --data-dir."""
    p = add("forecast", "hourly forecasts with 80/95 %% intervals, model chosen by backtest")
    p.add_argument("--dataset", required=True, help="dataset id (see `list`)")
    p.add_argument(
        "--column",
        required=True,
        help="air quality: pm25, pm10, no2, so2, co, o3, aqi (HJ 633), aqi_epa; traffic: "
        "volume (vehicles per hour), flow_vph (per detector), speed_kmh",
    )
    p.add_argument(
        "--by",
        choices=["station", "district", "detector"],
        help="one series per station or district (air quality), district or detector (traffic)",
    )
    p.add_argument("--horizon", default="72h", help="hours or days ahead: 72h (default), 3d")
    p.add_argument("--until", help="use only the data up to this time; forecast what follows")
    p.add_argument("--json", help="write the forecast, its history and skill to this file")
    p.set_defaults(run=cmd_forecast)
