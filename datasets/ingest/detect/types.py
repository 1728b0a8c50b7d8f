"""A column's type guessed from its sample: integer, number, boolean, date, timestamp, time or
string, with the date/time formats that read it (several in one column are found greedily).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ...cells import short_text
from .numbers import PLAIN_NUMBERS, NumberStyle, parse_numbers
from .times import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    EXCEL_NAME,
    EXCEL_RANGE,
    EXCEL_SERIAL,
    FRACTIONAL,
    TIME_FORMATS,
    parse_timestamps,
)


@dataclass(frozen=True)
class ColumnInfo:
    """One source column as inspected: name, type, formats, unit, examples, and what is odd."""

    index: int  # 1-based position in the file
    name: str  # unique, printable
    raw_name: str  # as written in the file
    type: str  # one of TYPES
    formats: tuple[str, ...] = ()
    unit: str | None = None
    note: str = ""
    examples: tuple[str, ...] = ()
    arrow_type: str | None = None  # for typed formats (Parquet)

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "name": self.name,
            "raw_name": self.raw_name,
            "type": self.type,
            "formats": list(self.formats),
            "unit": self.unit,
            "note": self.note,
            "examples": [short_text(e) for e in self.examples],
            "arrow_type": self.arrow_type,
        }


TYPES = ("string", "integer", "number", "boolean", "date", "timestamp", "time")
BOOL_TRUE = frozenset({"true", "yes", "y", "t", "si", "sí", "oui", "vrai", "是", "真"})
BOOL_FALSE = frozenset({"false", "no", "n", "f", "non", "faux", "否", "假"})
DATE_HINTS = re.compile(
    r"date|time|fecha|hora|jour|heure|datum|zeit|日期|时间|時間|timestamp", re.I
)


ID_HINTS = re.compile(
    r"(^|[\s_\-])(id|code|codigo|código|identif\w*|ident|ref|zip|cp|postal)($|[\s_\-])"
    r"|编号|代码|编码|_id$|^id",
    re.I,
)


_MANGLED = re.compile(r"^[+-]?\d{1,3}(\.\d{3}){2,}$")
_LOOSE_NUMBER = re.compile(r"^[+-]?[\d.,\s\u00a0\u202f]*\d[\d.,\s\u00a0\u202f]*([eE][+-]?\d+)?$")
_ISO_FRACTION = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\.\d+$")
_ISO_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$")  # a fraction or not


@dataclass(frozen=True)
class ColumnGuess:
    type: str
    formats: tuple[str, ...] = ()
    note: str = ""
    bad: tuple[str, ...] = ()  # sample values that do not fit the type


def infer_type(
    values: list[str | None], style: NumberStyle = PLAIN_NUMBERS, name: str = ""
) -> ColumnGuess:
    """The type a column's sample values fit, and its date/time formats.

    A column is numeric when at least 90 % of its values look like numbers (the rest become
    line-numbered errors, so a column of mixed types is shown rather than silently read as text).
    """
    present = [v.strip() for v in values if v is not None and v.strip() != ""]
    if not present:
        return ColumnGuess("string", note="no values in the sample")
    lowered = {v.lower() for v in present}
    if lowered <= (BOOL_TRUE | BOOL_FALSE) and lowered & BOOL_TRUE and lowered & BOOL_FALSE:
        return ColumnGuess("boolean")
    serial = _excel_serials(present, name)
    if serial:
        return serial
    digits_only = all(v.isdigit() for v in present)
    if not digits_only or DATE_HINTS.search(name):
        guess = _infer_temporal(present)
        if guess:
            return guess
    loose = [v for v in present if _LOOSE_NUMBER.match(v)]
    coded = ID_HINTS.search(name) and (
        len(loose) < len(present) or any(len(v) > 1 and v[0] == "0" and v.isdigit() for v in loose)
    )
    if len(loose) >= 0.95 * len(present) and not coded:
        arr, bad = parse_numbers(pa.array(present, pa.string()), style)
        bad_values = tuple(v for v, b in zip(present, bad.to_pylist(), strict=True) if b)
        if len(bad_values) == len(present):
            return ColumnGuess("number", note=_bad_note(bad_values, len(present)), bad=bad_values)
        good = [x for x in arr.to_pylist() if x is not None]
        integral = all(float(x).is_integer() for x in good) and all(
            style.decimal not in v for v in loose if v not in bad_values
        )
        kind = "integer" if integral and good else "number"
        note = _bad_note(bad_values, len(present)) if bad_values else ""
        return ColumnGuess(kind, note=note, bad=bad_values)
    return ColumnGuess("string")


def _excel_serials(present: list[str], name: str) -> ColumnGuess | None:
    """A column named like a date holding numbers in the range of spreadsheet day serials (a
    date exported from Excel without its format): dates, or timestamps when they have fractions
    of a day."""
    if not EXCEL_NAME.search(name):
        return None
    try:
        numbers = pc.cast(pa.array(present, pa.string()), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    low, high = EXCEL_RANGE
    mm = pc.min_max(numbers)
    if mm["min"].as_py() < low or mm["max"].as_py() >= high:
        return None
    whole = pc.all(pc.equal(pc.floor(numbers), numbers)).as_py()
    note = "numbers read as Excel serial dates (days since 1899-12-30)"
    return ColumnGuess("date" if whole else "timestamp", (EXCEL_SERIAL,), note)


def _bad_note(bad: tuple[str, ...], total: int) -> str:
    note = f"{len(bad)} of {total} sample values are not numbers, e.g. {bad[0]!r}"
    if sum(1 for v in bad if _MANGLED.match(v)) >= 0.9 * len(bad):
        note += (
            " (digits grouped by dots, as a spreadsheet export leaves them: the decimal point is"
            " lost, so the numbers cannot be recovered; read the column as text or export again)"
        )
    return note


def _infer_temporal(present: list[str]) -> ColumnGuess | None:
    arr = pa.array(present, pa.string())
    fractions = [v.rpartition(".")[2] for v in present if _ISO_FRACTION.match(v)]
    if fractions and sum(1 for v in present if _ISO_SECONDS.match(v)) >= 0.9 * len(present):
        finer = any(f[3:].strip("0") for f in fractions)
        note = "fractions of a second below the millisecond are dropped" if finer else ""
        return ColumnGuess("timestamp", (FRACTIONAL,), note)
    timed = any(":" in v or "时" in v or len(v) >= 12 for v in present[:50])
    candidates = [(f, "timestamp") for f in DATETIME_FORMATS if timed]
    candidates += [(f, "date") for f in DATE_FORMATS] + [(f, "time") for f in TIME_FORMATS]
    hits: dict[str, pa.Array] = {}
    kinds: dict[str, str] = {}
    for fmt, kind in candidates:
        parsed, _ = parse_timestamps(arr, (fmt,), fast=False)
        valid = pc.is_valid(parsed)
        if kind != "time":
            years = pc.year(parsed)
            valid = pc.and_kleene(
                valid, pc.and_(pc.greater_equal(years, 1900), pc.less(years, 2200))
            )
        count = pc.sum(pc.cast(pc.fill_null(valid, False), pa.int64())).as_py() or 0
        if count:
            hits[fmt] = pc.fill_null(valid, False)
            kinds[fmt] = kind
    if not hits:
        return None
    chosen: list[str] = []
    covered = pa.array([False] * len(present))
    total = len(present)
    for _ in range(3):
        best, gain = None, 0
        for fmt, valid in hits.items():
            if fmt in chosen or (
                chosen and kinds[fmt] != kinds[chosen[0]] and kinds[fmt] != "date"
            ):
                continue
            g = pc.sum(pc.cast(pc.and_(valid, pc.invert(covered)), pa.int64())).as_py() or 0
            if g > gain:
                best, gain = fmt, g
        if best is None or gain < max(1, 0.01 * total):
            break
        chosen.append(best)
        covered = pc.or_(covered, hits[best])
        if pc.all(covered).as_py():
            break
    share = pc.sum(pc.cast(covered, pa.int64())).as_py() / total
    if share < 0.9:
        return None
    kind = "timestamp" if any(kinds[f] == "timestamp" for f in chosen) else kinds[chosen[0]]
    notes = []
    if any("%z" in f for f in chosen):
        notes.append("times with a UTC offset are converted to the city's local time")
    if len(chosen) > 1:
        notes.append(f"{len(chosen)} formats in one column: {', '.join(chosen)}")
    for fmt in chosen:
        swapped = _swap_day_month(fmt)
        if swapped and swapped in hits and pc.all(pc.equal(hits[swapped], hits[fmt])).as_py():
            notes.append(f"{fmt} or {swapped}: ambiguous, read day first; override if not")
    bad = tuple(v for v, c in zip(present, covered.to_pylist(), strict=True) if not c)
    return ColumnGuess(kind, tuple(chosen), "; ".join(notes), bad)


def _swap_day_month(fmt: str) -> str | None:
    if "%d/%m" in fmt:
        return fmt.replace("%d/%m", "%m/%d")
    return None


PART_NAMES = {
    "year": ("year", "yr", "yyyy", "año", "ano", "annee", "année", "jahr", "年", "年份"),
    "month": ("month", "mon", "mm", "mes", "mois", "monat", "月", "月份"),
    "day": ("day", "dd", "dia", "día", "jour", "tag", "日"),
    "hour": ("hour", "hr", "hh", "hora", "heure", "stunde", "时", "時", "小时", "小時"),
    "minute": ("minute", "min", "minuto", "minuto", "分", "分钟"),
}


@dataclass(frozen=True)
class TimeSplit:
    """How a timestamp is spread over columns: {"date": c, "time": c} or year/month/day/hour."""

    parts: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return " + ".join(f"{k}={v}" for k, v in self.parts.items())


def detect_time_split(names: list[str], types: dict[str, ColumnGuess]) -> TimeSplit | None:
    """A timestamp spread over columns: integer year/month/day[/hour[/minute]] columns, one
    date column and one time column, or one date column and an integer hour column."""
    folded = {_fold(n): n for n in names}
    parts: dict[str, str] = {}
    for part, aliases in PART_NAMES.items():
        for alias in aliases:
            name = folded.get(_fold(alias))
            if name and types.get(name, ColumnGuess("string")).type == "integer":
                parts[part] = name
                break
    if {"year", "month", "day"} <= parts.keys():
        return TimeSplit(parts)
    dates = [n for n in names if types.get(n) and types[n].type == "date"]
    times = [n for n in names if types.get(n) and types[n].type == "time"]
    if len(dates) >= 1 and len(times) >= 1:
        return TimeSplit({"date": dates[0], "time": times[0]})
    if len(dates) >= 1 and "hour" in parts:  # hourly files: a date column and an hour number
        return TimeSplit({"date": dates[0], "hour": parts["hour"]})
    return None


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", unicodedata.normalize("NFKC", name).casefold())
