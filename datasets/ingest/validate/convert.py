"""One column of one batch converted to its target type with vectorised Arrow kernels (numbers
in the file's style and unit, dates and times in their formats, derived timestamps, booleans),
with a mask of the values that did not convert and what was expected of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .. import detect
from ..detect.times import bool_mask
from ..mapping import Source
from ..settings import Settings
from .plan import ARROW_TYPES, Plan

TRUE_TEXT = detect.BOOL_TRUE | {"1"}
FALSE_TEXT = detect.BOOL_FALSE | {"0"}
SAMPLE_MOMENT = dt.datetime(2017, 1, 31, 8, 5, 0)


@dataclass
class Converted:
    array: pa.Array
    bad: np.ndarray  # values that could not be read
    what: str  # "a number", for messages
    found: Callable[[np.ndarray], list[str]]  # the text found at some row indices
    range_bad: np.ndarray | None = None
    converted: pa.Array | None = None  # numbers after unit conversion, for range messages
    what_for: Callable[[str], str] | None = None  # `what` depending on the value found


def _null(t: pa.DataType) -> pa.Scalar:
    return pa.scalar(None, t)


def _texts(arr: pa.Array) -> Callable[[np.ndarray], list[str]]:
    return lambda idx: [str(v) for v in arr.take(pa.array(idx, pa.int64())).to_pylist()]


def _source_array(batch: pa.RecordBatch, source: Source, n: int) -> pa.Array:
    if source.constant is not None:
        return pa.array([source.constant], pa.string()).take(pa.array(np.zeros(n, np.int64)))
    return batch.column(source.column)


def convert_column(plan: Plan, batch: pa.RecordBatch, settings: Settings) -> Converted:
    n = batch.num_rows
    if plan.source.parts:
        return _derived_time(plan, batch, settings)
    arr = _source_array(batch, plan.source, n)
    if plan.keep_type:
        return Converted(arr, np.zeros(n, bool), "", _texts(arr))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    logical = plan.logical
    if logical in {"integer", "number"}:
        return _numbers(plan, arr, settings)
    if logical in {"timestamp", "date"}:
        return _times(plan, arr)
    if logical == "boolean":
        return _booleans(arr)
    return Converted(_as_text(arr), np.zeros(n, bool), "text", _texts(arr))


def _as_text(arr: pa.Array) -> pa.Array:
    if pa.types.is_string(arr.type):
        return arr
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # lists, structs: as JSON
        return pa.array(
            [None if v is None else orjson.dumps(v, default=str).decode() for v in arr.to_pylist()],
            pa.string(),
        )


def _numbers(plan: Plan, arr: pa.Array, settings: Settings) -> Converted:
    fast = _whole_numbers(plan, arr)
    if fast is not None:
        return fast
    if pa.types.is_string(arr.type):
        values, bad = detect.parse_numbers(arr, settings.style)
        bad_mask = bool_mask(bad)
    elif (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_decimal(arr.type)
        or pa.types.is_boolean(arr.type)
    ):
        values = pc.cast(arr, pa.float64())
        bad_mask = np.zeros(len(arr), bool)
    else:
        values = pa.nulls(len(arr), pa.float64())
        bad_mask = bool_mask(pc.is_valid(arr))
    what = "a number"
    if plan.factor is not None:
        values = pc.add(pc.multiply(values, plan.factor), plan.offset)
    if plan.logical == "integer":
        fractional = pc.not_equal(pc.floor(values), values)
        if pc.any(fractional).as_py():
            bad_mask = bad_mask | (bool_mask(fractional) & ~bad_mask)
    if bad_mask.any():
        values = pc.if_else(pa.array(bad_mask), _null(pa.float64()), values)
    before_range = values
    range_bad = _outside(values, *bounds(plan))
    if range_bad is not None:
        values = pc.if_else(pa.array(range_bad), _null(pa.float64()), values)
    if pa.types.is_integer(plan.type):
        out = pc.cast(values, plan.type, safe=False)
    else:
        out = pc.cast(values, plan.type)
    conv = Converted(out, bad_mask, what, _texts(arr), range_bad, before_range)
    if plan.logical == "integer":
        conv.what_for = _whole_or_number
    return conv


def _outside(values: pa.Array, lo: float | None, hi: float | None) -> np.ndarray | None:
    """The values below `lo` or above `hi`, or None when there is none (the minimum and the
    maximum say so in one pass, for the usual column that is all in range)."""
    if lo is None and hi is None:
        return None
    mm = pc.min_max(values)
    low, high = mm["min"].as_py(), mm["max"].as_py()
    if low is None or ((lo is None or low >= lo) and (hi is None or high <= hi)):
        return None
    outside = None
    if lo is not None:
        outside = pc.less(values, lo)
    if hi is not None:
        above = pc.greater(values, hi)
        outside = above if outside is None else pc.or_(outside, above)
    mask = bool_mask(outside)
    return mask if mask.any() else None


def _whole_numbers(plan: Plan, arr: pa.Array) -> Converted | None:
    """Integers written as integers, in range: one cast and one min/max, no float detour."""
    if plan.logical != "integer" or plan.factor is not None or not pa.types.is_string(arr.type):
        return None
    try:
        ints = pc.cast(arr, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    lo, hi = bounds(plan)
    mm = pc.min_max(ints)
    low, high = mm["min"].as_py(), mm["max"].as_py()
    if low is not None and ((lo is not None and low < lo) or (hi is not None and high > hi)):
        return None
    n = len(arr)
    return Converted(pc.cast(ints, plan.type), np.zeros(n, bool), "a whole number", _texts(arr))


def _whole_or_number(found: str) -> str:
    try:
        float(found.replace(",", "."))
    except ValueError:
        return "a number"
    return "a whole number"


def bounds(plan: Plan) -> tuple[float | None, float | None]:
    """The range a plan's values must lie in: the kind's min and max; for an integer type,
    within what the type holds, and within ±2**53 where the kind gives no bound."""
    lo, hi = plan.min, plan.max
    if pa.types.is_integer(plan.type):
        info = np.iinfo(plan.type.to_pandas_dtype())
        lo = max(float(info.min), -(2.0**53)) if lo is None else max(lo, float(info.min))
        hi = min(float(info.max), 2.0**53) if hi is None else min(hi, float(info.max))
    return lo, hi


def _times(plan: Plan, arr: pa.Array) -> Converted:
    n = len(arr)
    unit = pa.timestamp(detect.TIMESTAMP_UNIT)
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is not None:  # an instant: stored as the city's local time
            local = pa.timestamp(arr.type.unit, plan.timezone)
            arr = pc.local_timestamp(pc.cast(arr, local))
        values = pc.cast(arr, unit, safe=False)
        bad = np.zeros(n, bool)
        what = "a date and time"
    elif pa.types.is_date(arr.type):
        values = pc.cast(pc.cast(arr, pa.date32()), unit)
        bad = np.zeros(n, bool)
        what = "a date"
    else:
        text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
        formats = plan.formats or detect.ISO_DEFAULT
        values, bad_arr = detect.parse_timestamps(text, formats, timezone=plan.timezone)
        bad = bool_mask(bad_arr)
        what = _like(plan.formats or detect.ISO_DEFAULT[:1], plan.logical)
    if plan.logical == "date":
        values = pc.cast(values, pa.date32())
    return Converted(values, bad, what, _texts(arr))


def _like(formats: tuple[str, ...], logical: str) -> str:
    noun = "a date" if logical == "date" else "a date and time"
    examples = []
    for fmt in formats[:2]:
        if fmt == detect.FRACTIONAL:
            examples.append("2017-01-31T08:05:00.000")
        elif fmt == detect.EXCEL_SERIAL:
            examples.append("42766 (an Excel serial)")
        else:
            examples.append(SAMPLE_MOMENT.strftime(fmt.replace("%z", "+08:00")))
    return f"{noun} like {' or '.join(examples)}" if examples else noun


def _booleans(arr: pa.Array) -> Converted:
    if pa.types.is_boolean(arr.type):
        return Converted(arr, np.zeros(len(arr), bool), "", _texts(arr))
    text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
    low = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    true = pc.is_in(low, pa.array(sorted(TRUE_TEXT)))
    false = pc.is_in(low, pa.array(sorted(FALSE_TEXT)))
    known = pc.or_(true, false)
    values = pc.if_else(known, true, _null(pa.bool_()))
    values = pc.if_else(pc.is_valid(arr), values, _null(pa.bool_()))
    bad = bool_mask(pc.and_(pc.is_valid(arr), pc.invert(known)))
    return Converted(values, bad, "true or false", _texts(arr))


def _derived_time(plan: Plan, batch: pa.RecordBatch, settings: Settings) -> Converted:
    parts = dict(plan.source.parts)
    n = batch.num_rows
    if "date" in parts:
        return _date_and_clock(plan, batch, parts, settings)
    numbers = {}
    bad = np.zeros(n, bool)
    present = np.ones(n, bool)
    for key in ("year", "month", "day", "hour", "minute", "second"):
        if key not in parts:
            continue
        col = batch.column(parts[key])
        if pa.types.is_string(col.type):
            values, b = detect.parse_numbers(col, settings.style)
            bad |= bool_mask(b)
        else:
            values = pc.cast(col, pa.float64())
        arr = values.to_numpy(zero_copy_only=False).astype(np.float64)
        present &= ~np.isnan(arr)
        numbers[key] = arr
    with np.errstate(invalid="ignore"):
        y = numbers["year"]
        m = numbers["month"]
        d = numbers["day"]
        h = numbers.get("hour", np.zeros(n))
        mi = numbers.get("minute", np.zeros(n))
        s = numbers.get("second", np.zeros(n))
        whole = np.ones(n, bool)
        for a in (y, m, d, h, mi, s):
            whole &= np.nan_to_num(a) == np.floor(np.nan_to_num(a))
        valid = (
            present
            & whole
            & (y >= 1000)
            & (y <= 9999)
            & (m >= 1)
            & (m <= 12)
            & (d >= 1)
            & (d <= 31)
            & (h >= 0)
            & (h <= 23)
            & (mi >= 0)
            & (mi <= 59)
            & (s >= 0)
            & (s <= 59)
        )
        yi = np.where(valid, y, 1970).astype(np.int64)
        mo = np.where(valid, m, 1).astype(np.int64)
        di = np.where(valid, d, 1).astype(np.int64)
        month_start = ((yi - 1970) * 12 + (mo - 1)).astype("datetime64[M]")
        day = month_start.astype("datetime64[D]") + (di - 1)
        valid &= day.astype("datetime64[M]") == month_start  # 30 February rolls into March
        stamp = day.astype("datetime64[s]") + (
            np.where(valid, h, 0).astype(np.int64) * 3600
            + np.where(valid, mi, 0).astype(np.int64) * 60
            + np.where(valid, s, 0).astype(np.int64)
        )
    bad |= present & ~valid
    values = pc.cast(pa.array(stamp, pa.timestamp("s"), mask=~valid), ARROW_TYPES["timestamp"])
    if plan.logical == "date":
        values = pc.cast(values, pa.date32())
    keys = [k for k in ("year", "month", "day", "hour", "minute", "second") if k in parts]

    def found(idx: np.ndarray) -> list[str]:
        cols = {k: batch.column(parts[k]).take(pa.array(idx, pa.int64())).to_pylist() for k in keys}
        return [" ".join(f"{k}={cols[k][i]}" for k in keys) for i in range(len(idx))]

    return Converted(values, bad, f"a valid date from {', '.join(parts[k] for k in keys)}", found)


def _date_and_clock(
    plan: Plan, batch: pa.RecordBatch, parts: dict[str, str], settings: Settings
) -> Converted:
    """A date column, with a time column (08:00, 9 pm) or an hour column (0–23) if any: the
    date and the time of day are read apart, so that each keeps every format it may have."""
    unit = pa.timestamp(detect.TIMESTAMP_UNIT)
    date = batch.column(parts["date"])
    names = [parts["date"]]
    dfs = plan.part_formats.get("date") or detect.ISO_DEFAULT
    if pa.types.is_timestamp(date.type) or pa.types.is_date(date.type):
        day = _times(replace(plan, logical="timestamp"), date).array
        bad = np.zeros(len(date), bool)
    else:
        text = date if pa.types.is_string(date.type) else pc.cast(date, pa.string())
        day, bad_arr = detect.parse_timestamps(text, dfs, timezone=plan.timezone)
        bad = bool_mask(bad_arr)
    since = None
    what = _like(dfs, "date")
    if "time" in parts or "hour" in parts:
        clock = batch.column(parts.get("time") or parts["hour"])
        names.append(parts.get("time") or parts["hour"])
        day = pc.floor_temporal(day, unit="day")
    if "time" in parts:
        clock_text = clock if pa.types.is_string(clock.type) else pc.cast(clock, pa.string())
        tfs = plan.part_formats.get("time") or ("%H:%M:%S", "%H:%M")
        at, clock_bad = detect.parse_timestamps(clock_text, tfs, fast=False)
        since = pc.subtract(at, pa.scalar(dt.datetime(1900, 1, 1), unit))
        bad |= bool_mask(clock_bad)
        what += f" and a time like {SAMPLE_MOMENT.strftime(tfs[0])}"
    elif "hour" in parts:
        if pa.types.is_string(clock.type):
            hours, hour_bad = detect.parse_numbers(clock, settings.style)
            bad |= bool_mask(hour_bad)
        else:
            hours = pc.cast(clock, pa.float64())
        whole = pc.and_(pc.equal(pc.floor(hours), hours), pc.less_equal(hours, 23))
        hour_ok = pc.and_(whole, pc.greater_equal(hours, 0))
        bad |= bool_mask(pc.and_(pc.is_valid(hours), pc.invert(hour_ok)))
        hours = pc.if_else(hour_ok, hours, None)
        since = pc.cast(pc.multiply(pc.cast(hours, pa.int64()), 3_600_000), pa.duration("ms"))
        what += " and an hour from 0 to 23"
    values = day if since is None else pc.add(day, since)
    if bad.any():
        values = pc.if_else(pa.array(bad), _null(unit), values)
    if plan.logical == "date":
        values = pc.cast(values, pa.date32())
    columns = [batch.column(name) for name in names]

    def found(idx: np.ndarray) -> list[str]:
        taken = [c.take(pa.array(idx, pa.int64())).to_pylist() for c in columns]
        return [" ".join(str(v) for v in row) for row in zip(*taken, strict=True)]

    return Converted(values, bad, f"{what} in {' + '.join(names)}", found)
