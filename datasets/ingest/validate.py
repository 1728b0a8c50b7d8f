"""The validation report: the whole file converted to the target schema before anything is
published, with every bad value located.

One streaming pass reads the file, converts each batch with vectorised Arrow kernels (types,
units, dates, derived timestamps), checks ranges and required values, hashes the key columns for
duplicates, tracks time coverage, and writes the good rows to a private scratch Parquet file.
A UTF-8 CSV is first read straight into the column types the text path would convert to
(`typed_read_types`); at the first value, row or line that read would take otherwise, the pass
starts again on the text, so the report is the same either way.
The report says what was found; `commit` later links that scratch file into the catalog, so a
file is parsed once however large.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import rollups
from ..cells import short_text
from ..rollup_series import SeriesRollups
from ..schemas import KINDS, Kind
from . import detect
from .detect import ColumnInfo
from .errors import IngestError, RowProblem, printable, quoted
from .mapping import GENERIC, PART_KEYS, Mapping, Source, conversion, target_type
from .readers import (
    MB,
    PREVIEW_ROWS,
    Chunk,
    CsvReader,
    RestartExact,
    Settings,
    TableReader,
    TypedReadFailed,
)
from .whole_column import Question, Watch

MAX_PROBLEMS = 100
ROW_GROUP_ROWS = 128 * 1024
DAY_SPAN = 1 << 20  # days a batch may span for its distinct days to be marked, not sorted
SCRATCH_FILE = "part-0000.parquet"
ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp(detect.TIMESTAMP_UNIT),
    "time": pa.string(),
}
TRUE_TEXT = detect.BOOL_TRUE | {"1"}
FALSE_TEXT = detect.BOOL_FALSE | {"0"}
SAMPLE_MOMENT = dt.datetime(2017, 1, 31, 8, 5, 0)

Progress = Callable[[float, str], None]


@dataclass
class ColumnReport:
    name: str
    source: str
    type: str
    unit: str = ""
    note: str = ""
    values: int = 0
    nulls: int = 0
    errors: int = 0
    out_of_range: int = 0
    min: str | None = None
    max: str | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Report:
    """What validation found. `ok` when no row is bad; commit refuses bad rows unless told to
    drop them. Holds the scratch file of good rows until `commit` or `discard`."""

    file: str
    format: str
    kind: str
    mapping: Mapping
    settings: Settings
    columns: list[ColumnReport]
    schema: pa.Schema
    time_column: str | None
    units: dict[str, str]
    line_label: str = "line"
    rows_read: int = 0
    rows_ok: int = 0
    rows_bad: int = 0
    empty_rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    error_count: int = 0
    out_of_range_count: int = 0
    missing_count: int = 0
    shape_count: int = 0
    duplicates: int = 0
    duplicate_examples: list[list[int]] = field(default_factory=list)
    time_min: str | None = None
    time_max: str | None = None
    days_covered: int = 0
    span_days: int = 0
    unmapped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)  # readings the analyst must choose
    scratch: Path | None = None
    bytes: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rows_bad == 0 and self.rows_ok > 0 and not self.questions

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0

    def messages(self, limit: int = 10) -> list[str]:
        return [p.message(self.file) for p in self.problems[:limit]]

    def first_error(self) -> IngestError | None:
        if not self.problems:
            return None
        return IngestError.from_problem(self.file, self.problems[0])

    def summary(self) -> str:
        parts = [f"{self.rows_ok:,} rows ok", f"{self.rows_bad:,} bad"]
        if self.duplicates:
            parts.append(f"{self.duplicates:,} duplicates")
        if self.time_min:
            parts.append(f"{self.time_min} → {self.time_max}")
        return f"{self.file} as {self.kind}: " + ", ".join(parts)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "format": self.format,
            "kind": self.kind,
            "mapping": self.mapping.to_json(),
            "settings": self.settings.to_json(),
            "columns": [c.to_json() for c in self.columns],
            "line_label": self.line_label,
            "rows_read": self.rows_read,
            "rows_ok": self.rows_ok,
            "rows_bad": self.rows_bad,
            "empty_rows": self.empty_rows,
            "ok": self.ok,
            "problems": [p.as_dict(self.file) for p in self.problems],
            "problem_count": self.problem_count,
            "error_count": self.error_count,
            "out_of_range_count": self.out_of_range_count,
            "missing_count": self.missing_count,
            "shape_count": self.shape_count,
            "duplicates": self.duplicates,
            "duplicate_examples": self.duplicate_examples,
            "time_column": self.time_column,
            "time_min": self.time_min,
            "time_max": self.time_max,
            "days_covered": self.days_covered,
            "span_days": self.span_days,
            "unmapped": self.unmapped,
            "notes": self.notes,
            "preview": self.preview,
            "questions": [q.to_json() for q in self.questions],
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


# -- the plan: one entry per target column ----------------------------------------------------


@dataclass
class Plan:
    name: str
    type: pa.DataType
    logical: str  # string | integer | number | boolean | date | timestamp | time
    source: Source
    position: int | None  # 1-based position of the (first) source column in the file
    unit: str = ""
    factor: float | None = None
    offset: float = 0.0
    min: float | None = None
    max: float | None = None
    formats: tuple[str, ...] = ()
    part_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    not_null: bool = False
    keep_type: bool = False  # a typed source column kept as it is (generic Parquet)
    note: str = ""
    timezone: str = "UTC"  # the city's: times with a UTC offset are stored in its local time


def plan_mapping(
    reader: TableReader, columns: list[ColumnInfo], mapping: Mapping
) -> tuple[list[Plan], Kind | None]:
    """Check a mapping against the file and the kind, before any row is read."""
    file = reader.file
    info = {c.name: c for c in columns}
    kind = KINDS.get(mapping.kind)
    if kind is None:
        raise IngestError(
            file,
            expected=f"a kind among {', '.join(KINDS)}; got {printable(mapping.kind)!r}",
            reason="mapping",
        )
    for target, source in mapping.columns.items():
        for name in source.columns:
            if name not in info:
                raise IngestError(
                    file,
                    expected=f"a column named {printable(name)!r} for {printable(target)}; the "
                    f"file's columns are {', '.join(repr(printable(c)) for c in info)}",
                    reason="mapping",
                )
        if source.column is None and not source.parts and source.constant is None:
            raise IngestError(
                file,
                expected=f"a column, parts or a constant for {printable(target)}",
                reason="mapping",
            )
        bad_parts = [k for k, _ in source.parts if k not in PART_KEYS]
        if bad_parts:
            raise IngestError(
                file,
                expected=f"parts among {', '.join(PART_KEYS)} for {printable(target)}; "
                f"got {', '.join(map(repr, bad_parts))}",
                reason="mapping",
            )
    plans: list[Plan] = []
    if kind.id == GENERIC:
        if not mapping.columns:
            raise IngestError(file, expected="at least one column to import", reason="mapping")
        for target, source in mapping.columns.items():
            if not target.strip():
                raise IngestError(file, expected="a name for every column", reason="mapping")
            col = info.get(source.column) if source.column else None
            logical = source.type or (col.type if col else "string")
            if logical not in ARROW_TYPES:
                raise IngestError(
                    file,
                    expected=f"a type among {', '.join(ARROW_TYPES)} for {printable(target)}; "
                    f"got {printable(logical)!r}",
                    reason="mapping",
                )
            typed = reader.types.get(source.column or "")
            keep = typed is not None and _logical(typed) == logical
            plans.append(
                Plan(
                    name=target,
                    type=typed if keep else ARROW_TYPES[logical],
                    logical=logical,
                    source=source,
                    position=col.index if col else None,
                    unit=source.unit or (col.unit if col and col.unit else "") or "",
                    formats=source.formats or (col.formats if col else ()),
                    part_formats=_part_formats(source, info),
                    keep_type=keep,
                )
            )
        return plans, kind
    known = {c.name for c in kind.columns}
    extra = [t for t in mapping.columns if t not in known]
    if extra:
        raise IngestError(
            file,
            expected=f"columns of {kind.id} ({', '.join(known)}); "
            f"it has no {', '.join(repr(printable(e)) for e in extra)}",
            reason="mapping",
        )
    unmapped = [c.name for c in kind.columns if c.required and c.name not in mapping.columns]
    if unmapped:
        raise IngestError(
            file,
            expected=f"a source for {', '.join(unmapped)}, which {kind.id} requires: "
            "map a column (or give a constant) or choose another kind",
            reason="unmapped",
        )
    keys = set(kind.keys) | ({kind.time_column} if kind.time_column else set())
    for col in kind.columns:
        source = mapping.columns.get(col.name)
        if source is None:
            continue
        first = source.columns[0] if source.columns else None
        facts = info.get(first) if first else None
        plan = Plan(
            name=col.name,
            type=col.type,
            logical=target_type(col),
            source=source,
            position=facts.index if facts else None,
            unit=col.unit,
            min=col.min,
            max=col.max,
            formats=source.formats or (facts.formats if facts else ()),
            part_formats=_part_formats(source, info),
            not_null=col.name in keys,
        )
        source_unit = source.unit or (facts.unit if facts and source.column else None)
        source_unit = source_unit and (detect.normalize_unit(source_unit) or source_unit)
        if source_unit and col.unit and source_unit != col.unit:
            factor = conversion(source_unit, col.unit, col.name)
            if factor is None:
                raise IngestError(
                    file,
                    expected=f"{col.name} in {col.unit} or a unit CityLens converts; "
                    f"{printable(source.label)} is in {printable(source_unit)}",
                    reason="unit",
                )
            plan.factor, plan.offset = factor
            plan.note = f"converted from {source_unit} to {col.unit} (×{factor[0]:g}" + (
                f", {factor[1]:+g})" if factor[1] else ")"
            )
        plans.append(plan)
    return plans, kind


def _part_formats(source: Source, info: dict[str, ColumnInfo]) -> dict[str, tuple[str, ...]]:
    return {k: info[v].formats for k, v in source.parts if v in info}


def _logical(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_time(t):
        return "time"
    return "string"  # text, and nested values read as JSON text


# -- conversion of one batch --------------------------------------------------------------------


@dataclass
class Converted:
    array: pa.Array
    bad: np.ndarray  # values that could not be read
    what: str  # "a number", for messages
    found: Callable[[np.ndarray], list[str]]  # the text found at some row indices
    range_bad: np.ndarray | None = None
    converted: pa.Array | None = None  # numbers after unit conversion, for range messages
    what_for: Callable[[str], str] | None = None  # `what` depending on the value found


def _mask(arr) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


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
        bad_mask = _mask(bad)
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
        bad_mask = _mask(pc.is_valid(arr))
    what = "a number"
    if plan.factor is not None:
        values = pc.add(pc.multiply(values, plan.factor), plan.offset)
    if plan.logical == "integer":
        fractional = pc.not_equal(pc.floor(values), values)
        if pc.any(fractional).as_py():
            bad_mask = bad_mask | (_mask(fractional) & ~bad_mask)
    if bad_mask.any():
        values = pc.if_else(pa.array(bad_mask), _null(pa.float64()), values)
    before_range = values
    range_bad = _outside(values, *_bounds(plan))
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
    mask = _mask(outside)
    return mask if mask.any() else None


def _whole_numbers(plan: Plan, arr: pa.Array) -> Converted | None:
    """Integers written as integers, in range: one cast and one min/max, no float detour."""
    if plan.logical != "integer" or plan.factor is not None or not pa.types.is_string(arr.type):
        return None
    try:
        ints = pc.cast(arr, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    lo, hi = _bounds(plan)
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


def _bounds(plan: Plan) -> tuple[float | None, float | None]:
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
        bad = _mask(bad_arr)
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
    bad = _mask(pc.and_(pc.is_valid(arr), pc.invert(known)))
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
            bad |= _mask(b)
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
        bad = _mask(bad_arr)
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
        bad |= _mask(clock_bad)
        what += f" and a time like {SAMPLE_MOMENT.strftime(tfs[0])}"
    elif "hour" in parts:
        if pa.types.is_string(clock.type):
            hours, hour_bad = detect.parse_numbers(clock, settings.style)
            bad |= _mask(hour_bad)
        else:
            hours = pc.cast(clock, pa.float64())
        whole = pc.and_(pc.equal(pc.floor(hours), hours), pc.less_equal(hours, 23))
        hour_ok = pc.and_(whole, pc.greater_equal(hours, 0))
        bad |= _mask(pc.and_(pc.is_valid(hours), pc.invert(hour_ok)))
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


# -- the pass ----------------------------------------------------------------------------------


class _Duplicates:
    """Whether a good row repeats an earlier row's key, and the lines of a few that do.

    Files mostly come sorted by their key (readings by time then detector, or by detector
    then time): while every row's key is greater than the one before, in the order of the key
    columns or in the reverse order, no key can repeat, and that is one comparison a row. A
    file in neither order has its keys hashed at the end, by DuckDB from the rows written to
    the scratch file (the good rows, in order), and the hashes sorted and compared."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.orders = [keys, keys[::-1]] if len(keys) > 1 else [keys]
        self.last: pa.RecordBatch | None = None  # the key of the last row seen
        self.lines: list[np.ndarray] = []

    def add(self, batch: pa.RecordBatch, lines: np.ndarray) -> None:
        if not self.keys or batch.num_rows == 0:
            return
        self.lines.append(lines)
        if self.orders:
            keys = batch.select(self.keys)
            self.orders = [o for o in self.orders if _increasing(self.last, keys, o)]
            self.last = keys.slice(keys.num_rows - 1)

    def result(self, written: Path) -> tuple[int, list[list[int]]]:
        """How many rows repeat an earlier row's key, and the lines of a few such groups;
        `written` holds the good rows."""
        if not self.keys or not self.lines or self.orders:
            return 0, []
        cols = ", ".join('"' + k.replace('"', '""') + '"' for k in self.keys)
        with duckdb.connect() as con:
            sql = f"SELECT hash({cols}) AS h FROM read_parquet(?)"
            hashes = con.execute(sql, [str(written)]).fetchnumpy()["h"]
        return _repeats(hashes.astype(np.uint64), np.concatenate(self.lines))


def _increasing(last: pa.RecordBatch | None, keys: pa.RecordBatch, order: list[str]) -> bool:
    """Whether each row's key, `last`'s first, is greater than the row's before it, comparing
    the columns in `order`. Nulls and NaN, which compare as neither, count as not."""
    rows = pa.Table.from_batches([keys] if last is None else [last, keys])
    n = rows.num_rows
    greater = equal = None
    try:
        for name in order:
            column = rows.column(name)
            if column.null_count:
                return False
            after, before = column.slice(1), column.slice(0, n - 1)
            more, same = pc.greater(after, before), pc.equal(after, before)
            if greater is None:
                greater, equal = more, same
            else:
                greater = pc.or_(greater, pc.and_(equal, more))
                equal = pc.and_(equal, same)
    except pa.ArrowNotImplementedError:  # a type with no order
        return False
    return greater is None or pc.all(greater).as_py() is not False


def _repeats(hashes: np.ndarray, lines: np.ndarray, examples: int = 5) -> tuple[int, list]:
    """How many rows repeat an earlier row's hash, and the lines of the first groups."""
    order = np.argsort(hashes, kind="stable")
    hs = hashes[order]
    repeat = np.zeros(len(hs), bool)
    repeat[1:] = hs[1:] == hs[:-1]
    count = int(np.count_nonzero(repeat))
    groups: list[list[int]] = []
    starts = np.flatnonzero(repeat & ~np.concatenate(([False], repeat[:-1])))
    for start in starts[: examples * 4]:
        end = start
        while end < len(hs) and repeat[end]:
            end += 1
        groups.append(sorted(int(x) for x in lines[order[start - 1 : end]][:10]))
    groups.sort()
    return count, groups[:examples]


class _Writer:
    """Good rows into one scratch Parquet file (zstd, row groups of exactly 128k rows but the
    last): the layout does not depend on how the reader cut its batches. Rows so wide that
    128k of them would take more than `max_pending` bytes are written in shorter row groups
    as soon as they reach it. Min/max statistics are kept for the `statistics` columns."""

    def __init__(
        self, folder: Path, schema: pa.Schema, statistics: list[str], max_pending: int
    ) -> None:
        self.path = folder / SCRATCH_FILE
        self.schema = schema
        self.writer = pq.ParquetWriter(
            self.path, schema, compression="zstd", write_statistics=statistics
        )
        self.pending: list[pa.RecordBatch] = []
        self.rows = 0
        self.bytes = 0
        self.max_pending = max_pending

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self.pending.append(batch)
        self.rows += batch.num_rows
        self.bytes += batch.nbytes
        if self.rows >= ROW_GROUP_ROWS:
            table = pa.Table.from_batches(self.pending, self.schema)
            whole = self.rows - self.rows % ROW_GROUP_ROWS
            self.writer.write_table(table.slice(0, whole), row_group_size=ROW_GROUP_ROWS)
            self.pending = table.slice(whole).to_batches()
            self.rows -= whole
            self.bytes = sum(b.nbytes for b in self.pending)
        elif self.bytes >= self.max_pending:
            table = pa.Table.from_batches(self.pending, self.schema)
            self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.pending, self.rows, self.bytes = [], 0, 0

    def close(self) -> None:
        if self.pending:
            table = pa.Table.from_batches(self.pending, self.schema)
            self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.pending, self.rows = [], 0
        self.writer.close()


def run(
    reader: TableReader,
    columns: list[ColumnInfo],
    mapping: Mapping,
    *,
    scratch_dir: Path | None = None,
    on_progress: Progress | None = None,
    notes: list[str] | None = None,
    settled: frozenset[str] = frozenset(),
    timezone: str = "UTC",
) -> Report:
    """Validate the whole file against `mapping`; the good rows go to a scratch file.

    Readings guessed from the sample are checked against the whole file: a date order the
    whole column settles otherwise, or a type it widens, reads the file again with the plan
    revised; a date order it leaves open becomes one of the report's `questions`. `settled`
    names the columns whose date order or type the analyst chose: those are never revised.
    Times with a UTC offset are stored in the local time of `timezone` (the city's)."""
    plans, kind = plan_mapping(reader, columns, mapping)
    for plan in plans:
        plan.timezone = timezone
    reader = copy.copy(reader)  # counters and notes of this pass only: an inspection is reusable
    reader.notes = list(reader.notes)
    settled = settled | {s.column for s in mapping.columns.values() if s.formats and s.column}
    widenable = {c.name for c in columns if c.type in {"integer", "date"} or not c.examples}
    widenable -= settled
    watch = Watch.for_plans(plans, settled, widenable if kind.id == GENERIC else set())
    used = {name for p in plans for name in p.source.columns}
    unmapped = [c.name for c in columns if c.name not in used]
    reader.columns = tuple(n for n in reader.names if n in used)
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="citylens-ingest-", dir=scratch_dir))
    try:
        report = _passes(reader, plans, kind, folder, on_progress, watch)
        revised, revisions, questions = watch.revise(plans, ARROW_TYPES)
        if revised is not None:
            _empty(folder)
            plans = revised
            report = _passes(reader, plans, kind, folder, on_progress, None)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    report.questions = questions
    report.mapping = mapping
    report.unmapped = unmapped
    report.notes = list(dict.fromkeys([*(notes or []), *mapping.notes, *reader.notes, *revisions]))
    for p in plans:
        if p.note and not any(f"for {p.name}" in n for n in mapping.notes):
            report.notes.append(f"{p.name}: {p.note}")
    report.notes.extend(_time_notes(plans, timezone))
    if reader.empty_rows:
        report.notes.append(f"{reader.empty_rows:,} empty rows skipped")
    report.scratch = folder
    report.seconds = time.perf_counter() - started
    report.bytes = reader.path.stat().st_size
    if report.rows_read == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise IngestError(reader.file, expected="rows of data; none were found", reason="no_rows")
    return report


def _time_notes(plans: list[Plan], timezone: str) -> list[str]:
    """How the report says times were stored: offsets converted, fractions kept."""
    notes = []
    for plan in plans:
        formats = [*plan.formats, *(f for fs in plan.part_formats.values() for f in fs)]
        if any("%z" in f for f in formats):
            notes.append(
                f"{plan.name}: times with a UTC offset converted to {timezone} local time "
                "(the city's), as timestamps are stored"
            )
        if detect.FRACTIONAL in formats and plan.logical == "timestamp":
            notes.append(f"{plan.name}: fractions of a second kept, to the millisecond")
    return notes


def _passes(reader, plans, kind, folder, on_progress, watch) -> Report:
    """The typed pass over a CSV when it can, else (or when it gives up) the text pass."""
    reader.problems, reader.problem_count, reader.empty_rows = [], 0, 0
    schema = pa.schema([pa.field(p.name, p.type) for p in plans])
    args = (plans, kind, schema, _time_column(kind, plans), folder, on_progress, watch)
    report = _typed_pass(reader, *args)
    if report is None:
        try:
            report = _pass(reader, *args, reader.batches(exact=False))
        except RestartExact:
            _empty(folder)
            report = _pass(reader, *args, reader.batches(exact=True))
    return report


def _time_column(kind: Kind, plans: list[Plan]) -> str | None:
    if kind.id != GENERIC:
        return kind.time_column
    return next((p.name for p in plans if p.logical in {"timestamp", "date"}), None)


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def _typed_pass(
    reader, plans, kind, schema, time_column, folder, on_progress, watch
) -> Report | None:
    """The pass over a CSV read straight into its types, when the mapping allows it; None when
    it does not, or when the typed read gave up (the text pass then starts afresh)."""
    types = typed_read_types(reader, plans)
    if types is None:
        return None
    words = {"true_values": _spellings(TRUE_TEXT), "false_values": _spellings(FALSE_TEXT)}
    try:
        chunks = _checked(reader.typed_batches(types, **words))
        args = (plans, kind, schema, time_column, folder, on_progress, watch)
        return _pass(reader, *args, chunks, True)
    except TypedReadFailed:
        _empty(folder)
        reader.problems, reader.problem_count, reader.empty_rows = [], 0, 0
        reader.fraction = 0.0
        return None


def typed_read_types(reader: TableReader, plans: list[Plan]) -> dict[str, pa.DataType] | None:
    """The Arrow type each column of a CSV can be read as, so that the values it accepts are
    exactly those the text path accepts and read alike (None when the file must be read as
    text).

    Numbers are read as float64, whole ones too: Arrow's integer parser takes hexadecimal
    (0x10), which the text path refuses once a value in the same batch sent it to its number
    pattern, and its float parser takes what that pattern takes. Timestamps and dates in ISO
    formats are read as timestamp[ns] by the parser the text path casts with (a year outside
    1677-2262 fails and sends the file to the text path). Booleans take only the spellings the
    text path knows. Everything else (a column feeding several targets differently, or parts
    of a date) stays text and is converted as before.
    """
    if not isinstance(reader, CsvReader) or not reader.can_read_typed:
        return None
    if reader.settings.decimal != "." or reader.settings.thousands:
        return None
    wanted: dict[str, set] = {}
    for plan in plans:
        for name in plan.source.columns:
            typed = plan.source.column == name and not plan.source.parts
            wanted.setdefault(name, set()).add(_read_type(plan) if typed else pa.string())
    return {
        name: next(iter(wanted[name])) if len(wanted.get(name, ())) == 1 else pa.string()
        for name in reader.names
    }


def _read_type(plan: Plan) -> pa.DataType:
    if plan.logical in {"integer", "number"}:
        return pa.float64()
    if plan.logical == "boolean":
        return pa.bool_()
    if plan.logical in {"timestamp", "date"}:
        formats = set(plan.formats or detect.ISO_DEFAULT)
        if formats <= detect.ISO_FORMATS | {detect.FRACTIONAL}:
            return pa.timestamp("ns")
    return pa.string()


def _spellings(words: frozenset[str]) -> tuple[str, ...]:
    """The spellings of boolean words the text path reads (it lowercases them)."""
    return tuple(sorted({v for w in words for v in (w, w.upper(), w.capitalize())}))


def _checked(chunks) -> Iterator[Chunk]:
    """Typed batches, refused where the text path would read a value otherwise: "nan" is a
    float to Arrow, a bad number to the text path."""
    for chunk in chunks:
        for column in chunk.batch.columns:
            if pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
                raise TypedReadFailed("nan")
        yield chunk


def _pass(
    reader, plans, kind, schema, time_column, folder, on_progress, watch, chunks, typed=False
) -> Report:
    """One pass over `chunks`. A typed pass gives up (TypedReadFailed) at the first value its
    conversion calls bad: the message must quote the text, which only the text pass has.
    `watch` gathers what the whole file says about the guessed readings."""
    settings: Settings = reader.settings
    col_reports = [
        ColumnReport(
            name=p.name,
            source=p.source.label,
            type=str(p.type),
            unit=p.unit,
            note=p.note,
        )
        for p in plans
    ]
    report = Report(
        file=reader.file,
        format=settings.format,
        kind=kind.id,
        mapping=Mapping(kind.id, {}),
        settings=settings,
        columns=col_reports,
        schema=schema,
        time_column=time_column,
        units={p.name: p.unit for p in plans if p.unit},
        line_label=reader.line_label,
    )
    keys = [k for k in kind.keys if k in schema.names] if kind.id != GENERIC else schema.names
    if kind.id != GENERIC and len(keys) != len(kind.keys):
        keys = []
    dupes = _Duplicates(list(keys))
    series = SeriesRollups.for_schema(kind.id, schema, folder, SCRATCH_FILE)
    memory = reader.limits.memory_bytes
    writer = _Writer(folder, schema, _statistics(kind, schema, time_column), memory // 8)
    # the rows are written, and their statistics, days, keys and rollup sums taken, while we
    # parse: on two threads of their own, each in order, so neither waits for the other
    sink = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer")
    facts = ThreadPoolExecutor(1, thread_name_prefix="ingest-facts")
    pending: list[Future] = []
    # the rollups' DuckDB within half the ingest's memory budget
    limit = f"{max(64, memory // (2 * MB))}MB"
    database = sink.submit(rollups.connect, None, limit) if rollups.grains_for(kind.id) else None

    days: set[int] = set()
    stats: dict[str, list] = {p.name: [None, None] for p in plans}

    def take_facts(out: pa.RecordBatch, good_lines: np.ndarray) -> None:
        _stats(out, plans, stats, col_reports)
        if time_column:
            _days(out.column(time_column), days)
        dupes.add(out, good_lines)
        if series:
            series.add(out)

    problems: list[RowProblem] = []
    try:
        for chunk in chunks:
            batch, lines = chunk.batch, chunk.lines
            n = batch.num_rows
            if n == 0:
                continue
            report.rows_read += n
            row_bad = np.zeros(n, bool)
            room = len(problems) < MAX_PROBLEMS  # later batches only hold later lines
            arrays = []
            for i, (plan, cr) in enumerate(zip(plans, col_reports, strict=True)):
                conv = convert_column(plan, batch, settings)
                if watch:
                    watch.see(i, plan, batch, conv.bad, settings.style)
                if typed and conv.bad.any():
                    raise TypedReadFailed(f"a bad value in {plan.name}")
                arrays.append(conv.array)
                row_bad |= _check(conv, plan, cr, report, problems if room else None, lines)
            out = pa.RecordBatch.from_arrays(arrays, schema=schema)
            if row_bad.any():
                good = ~row_bad
                out = out.filter(pa.array(good))
                good_lines = lines[good]
            else:
                good_lines = lines
            report.rows_bad += int(row_bad.sum())
            report.rows_ok += out.num_rows
            if out.num_rows and len(report.preview) < PREVIEW_ROWS:
                for line, row in zip(
                    good_lines, out.slice(0, PREVIEW_ROWS).to_pylist(), strict=False
                ):
                    if len(report.preview) >= PREVIEW_ROWS:
                        break
                    report.preview.append(
                        {"line": int(line), **{k: short_text(_show(v)) for k, v in row.items()}}
                    )
            pending.append(sink.submit(writer.add, out))
            pending.append(facts.submit(take_facts, out, good_lines))
            while len(pending) > 4:
                pending.pop(0).result()
            problems.sort(key=lambda p: (p.line or 0, p.column or 0))
            del problems[MAX_PROBLEMS:]
            if on_progress:
                on_progress(reader.fraction, "validate")
        # the rollups the commit will link beside the part: the series summed as we went, the
        # other grains selected from the part by DuckDB once it is written (side by side)
        pending.append(sink.submit(writer.close))
        if series:
            pending.append(facts.submit(series.finish))
        skip = series.grains if series else ()
        con = database.result() if database else None  # opened on the writer thread by now
        build = rollups.build_rollups
        pending.append(sink.submit(build, kind.id, writer.path, folder, skip=skip, con=con))
        for future in pending:
            future.result()
        build(kind.id, writer.path, folder, con=con)  # any grain the series could not sum
    except BaseException:
        for future in pending:
            future.cancel()
        sink.shutdown(wait=True)
        facts.shutdown(wait=True)
        writer.writer.close()
        if series:
            series.stop()
        raise
    finally:
        sink.shutdown(wait=True)
        facts.shutdown(wait=True)
        if database is not None and database.exception() is None:
            database.result().close()
    report.problem_count = report.error_count + report.out_of_range_count + report.missing_count
    report.shape_count = reader.problem_count
    if reader.problem_count:
        report.rows_bad += reader.problem_count
        report.rows_read += reader.problem_count
        report.problem_count += reader.problem_count
        problems.extend(reader.problems)
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        del problems[MAX_PROBLEMS:]
    report.problems = problems
    report.empty_rows = reader.empty_rows
    report.duplicates, report.duplicate_examples = dupes.result(writer.path)
    for cr in col_reports:
        lo, hi = stats[cr.name]
        cr.min, cr.max = _show(lo), _show(hi)
    if time_column:
        cr = next(c for c in col_reports if c.name == time_column)
        report.time_min, report.time_max = cr.min, cr.max
        report.days_covered = len(days)
        if days:
            report.span_days = max(days) - min(days) + 1
    if on_progress:
        on_progress(1.0, "validate")
    return report


def _statistics(kind: Kind, schema: pa.Schema, time_column: str | None) -> list[str]:
    """The columns whose row groups keep min/max statistics: those the queries of a known kind
    filter in the scan (time, district), which the statistics let skip, and the time span the
    catalog reads from them. The others' would cost a sixth of the part's writing for
    nothing; a generic table keeps them all (an analyst may filter on any column)."""
    if kind.id == GENERIC:
        return list(schema.names)
    return [c for c in (time_column, "district") if c is not None and c in schema.names]


def _check(conv, plan, cr, report, problems, lines) -> np.ndarray:
    """Count one column's bad values; describe the first ones (when `problems` has room)."""
    bad = conv.bad
    row_bad = bad.copy()
    if bad.any():
        count = int(bad.sum())
        cr.errors += count
        report.error_count += count
        if problems is not None:
            label = plan.source.label
            for line, found in _first(lines, bad, conv.found):
                problems.append(
                    RowProblem(
                        line,
                        plan.position,
                        label,
                        f"expected {conv.what_for(found) if conv.what_for else conv.what} in "
                        f"{label}, found {quoted(found)}",
                        "error",
                    )
                )
    if conv.range_bad is not None:
        count = int(conv.range_bad.sum())
        cr.out_of_range += count
        report.out_of_range_count += count
        row_bad |= conv.range_bad
        if problems is not None:
            _collect_values(problems, lines, conv.range_bad, conv.converted, plan)
    if plan.not_null:
        missing = _mask(pc.is_null(conv.array)) & ~row_bad
        if missing.any():
            count = int(missing.sum())
            report.missing_count += count
            cr.errors += count
            row_bad |= missing
            if problems is not None:
                for line, _ in _first(lines, missing, lambda idx: [""] * len(idx)):
                    problems.append(
                        RowProblem(
                            line,
                            plan.position,
                            plan.source.label,
                            f"expected a value in {plan.source.label} "
                            f"({plan.name} identifies each row), found none",
                            "missing",
                        )
                    )
    return row_bad


def _first(lines: np.ndarray, mask: np.ndarray, found) -> list[tuple[int, str]]:
    idx = np.flatnonzero(mask)[:MAX_PROBLEMS]
    if not len(idx):
        return []
    return [(int(lines[i]), v) for i, v in zip(idx, found(idx), strict=True)]


def _collect_values(problems, lines, mask, values, plan) -> None:
    lo, hi = _bounds(plan)
    idx = np.flatnonzero(mask)[:MAX_PROBLEMS]
    if not len(idx) or values is None:
        return
    found = values.take(pa.array(idx, pa.int64())).to_pylist()
    unit = f" {plan.unit}" if plan.unit else ""
    for i, value in zip(idx, found, strict=True):
        if lo is not None and hi is not None:
            want = f"between {lo:g} and {hi:g}{unit}"
        elif lo is not None:
            want = f"at least {lo:g}{unit}"
        else:
            want = f"at most {hi:g}{unit}"
        origin = "" if plan.source.label == plan.name else f" (from {plan.source.label})"
        problems.append(
            RowProblem(
                int(lines[i]),
                plan.position,
                plan.source.label,
                f"expected {plan.name} {want}, found {value:g}{origin}",
                "range",
            )
        )


def _stats(out: pa.RecordBatch, plans: list[Plan], stats: dict, col_reports) -> None:
    for i, (plan, cr) in enumerate(zip(plans, col_reports, strict=True)):
        col = out.column(i)
        nulls = col.null_count
        cr.nulls += nulls
        cr.values += len(col) - nulls
        if plan.logical not in {"integer", "number", "timestamp", "date"} or nulls == len(col):
            continue
        if not (
            pa.types.is_integer(col.type)
            or pa.types.is_floating(col.type)
            or pa.types.is_temporal(col.type)
        ):
            continue
        mm = pc.min_max(col)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        cur = stats[plan.name]
        if lo is not None and (cur[0] is None or lo < cur[0]):
            cur[0] = lo
        if hi is not None and (cur[1] is None or hi > cur[1]):
            cur[1] = hi


def _days(col: pa.Array, days: set[int]) -> None:
    if pa.types.is_timestamp(col.type):
        seconds = pc.cast(col.drop_null(), pa.timestamp("s"), safe=False)  # days: no fractions
        secs = pc.cast(seconds, pa.int64()).to_numpy()
        _add_days(secs // 86400, days)
    elif pa.types.is_date(col.type):
        _add_days(pc.cast(col, pa.int32()).drop_null().to_numpy(), days)


def _add_days(day: np.ndarray, days: set[int]) -> None:
    """The distinct days of a batch: marked in an array spanning them (no sort) when the span
    is at most DAY_SPAN days, else sorted out."""
    if not len(day):
        return
    lo, hi = int(day.min()), int(day.max())
    if hi - lo >= DAY_SPAN:
        days.update(np.unique(day).tolist())
        return
    seen = np.zeros(hi - lo + 1, bool)
    seen[day - lo] = True
    days.update((np.flatnonzero(seen) + lo).tolist())


def _show(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
