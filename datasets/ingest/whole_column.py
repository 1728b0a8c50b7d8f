"""What the whole file says about each column's reading guessed from its sample.

A sample can leave a guess open (every date in it has both fields ≤ 12, so `10/02/2012` reads
as 2 October or 10 February) or mislead it (whole numbers only, then `1019.5` further down; a
column empty in the sample). While validation streams the file, a `Watch` gathers per column
what settles the guess, in vectorised steps per batch: the largest value in each of the first
two fields of a date, the distinct dates (bounded), and whether refused values are numbers after
all. At the end it says which plans to revise (the pass then runs again with them: only such
files pay twice) and which questions stay open for the analyst.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import detect

ORDERS = ("mdy", "dmy", "ymd")
ORDER_NAMES = {"mdy": "month first", "dmy": "day first", "ymd": "year first"}
DISTINCT_DATES = 50_000  # distinct dates kept per column to judge regularity (a century of days)
_CLOCK = r"\d[ T]\d{1,2}:\d{2}"  # a date followed by a time of day
_FIELDS = r"^\s*(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{2,4})"
_DAY_MONTH = re.compile(r"(%d|%m)([/.\-])(%m|%d)\2(%Y|%y)")
_YEAR_FIRST = re.compile(r"%y([/.\-])%m\1%d")


# -- formats -----------------------------------------------------------------------------------


def order_of(fmt: str) -> str | None:
    """`dmy` or `mdy` when a format writes day and month as two numbers side by side before the
    year (the two readings a value may have), else None."""
    m = _DAY_MONTH.search(fmt)
    if not m or m.group(1) == m.group(3):
        return None
    return "dmy" if m.group(1) == "%d" else "mdy"


def with_order(fmt: str, order: str) -> str:
    """A format rewritten to read its numeric date in `order`; others are returned unchanged
    (year-first formats with a four-digit year are never ambiguous)."""
    m = _DAY_MONTH.search(fmt)
    if m and m.group(1) != m.group(3):
        sep, year = m.group(2), m.group(4)
        fields = {
            "mdy": f"%m{sep}%d{sep}{year}",
            "dmy": f"%d{sep}%m{sep}{year}",
            "ymd": f"%y{sep}%m{sep}%d" if year == "%y" else m.group(0),
        }
        return fmt[: m.start()] + fields[order] + fmt[m.end() :]
    y = _YEAR_FIRST.search(fmt)
    if y and order != "ymd":
        sep = y.group(1)
        fields = f"%m{sep}%d{sep}%y" if order == "mdy" else f"%d{sep}%m{sep}%y"
        return fmt[: y.start()] + fields + fmt[y.end() :]
    return fmt


def with_orders(formats: tuple[str, ...], order: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(with_order(f, order) for f in formats))


# -- day and month -----------------------------------------------------------------------------


@dataclass
class DayMonth:
    """The evidence on one date column whose formats read `a/b/y` with a guessed order."""

    column: str  # the plan's (target) name
    source: str  # the column in the file
    guess: str  # dmy | mdy, as the plan reads it now (its first format that has an order)
    mixed: bool = False  # its formats read some values day first, others month first
    max_a: int = 0
    max_b: int = 0
    keys: set[int] = field(default_factory=set)  # y*10000 + a*100 + b, bounded
    example: str | None = None  # a value whose two readings differ, for the question

    def add(self, text: pa.Array) -> None:
        parts = pc.extract_regex(text, _FIELDS)
        a = pc.cast(pc.struct_field(parts, "a"), pa.int64())
        b = pc.cast(pc.struct_field(parts, "b"), pa.int64())
        if a.null_count == len(a):
            return
        self.max_a = max(self.max_a, pc.max(a).as_py())
        self.max_b = max(self.max_b, pc.max(b).as_py())
        if self.example is None:
            differ = pc.fill_null(pc.not_equal(a, b), False)
            index = pc.index(differ, True).as_py()
            if index >= 0:
                self.example = pc.utf8_trim_whitespace(text[index : index + 1])[0].as_py()
        if len(self.keys) < DISTINCT_DATES:
            y = pc.cast(pc.struct_field(parts, "y"), pa.int64()).to_numpy(zero_copy_only=False)
            an = a.to_numpy(zero_copy_only=False)
            bn = b.to_numpy(zero_copy_only=False)
            ok = ~np.isnan(y.astype(float))
            y = np.where(y < 100, np.where(y < 69, y + 2000, y + 1900), y)  # as strptime's %y
            keys = y[ok].astype(np.int64) * 10000 + an[ok].astype(np.int64) * 100 + bn[ok]
            self.keys.update(np.unique(keys).tolist())

    def decide(self) -> tuple[str | None, str]:
        """The order the whole column settles (or None: undecidable), and why ("" when the
        file says nothing more than the guess did)."""
        if self.max_a > 12 and self.max_b <= 12:
            return "dmy", f"a first field up to {self.max_a} is a day"
        if self.max_b > 12 and self.max_a <= 12:
            return "mdy", f"a second field up to {self.max_b} is a day"
        if self.max_a > 12 or not self.keys:
            return self.guess, ""  # both above 12: neither reading fits all; errors say where
        keys = np.array(sorted(self.keys), np.int64)
        mdy, dmy = _regularity(keys, "mdy"), _regularity(keys, "dmy")
        if mdy >= 0.5 and mdy >= 2 * dmy:
            return "mdy", "read month first, the more regular series"
        if dmy >= 0.5 and dmy >= 2 * mdy:
            return "dmy", "read day first, the more regular series"
        return None, ""

    def readings(self) -> dict[str, str]:
        """The example's date under each reading, ISO."""
        m = re.match(_FIELDS, self.example or "")
        if not m:
            return {}
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        y = y + (2000 if y < 69 else 1900) if y < 100 else y
        return {"mdy": f"{y:04d}-{a:02d}-{b:02d}", "dmy": f"{y:04d}-{b:02d}-{a:02d}"}


def _regularity(keys: np.ndarray, order: str) -> float:
    """How evenly the distinct dates under `order` fill their span at their usual step (1.0: a
    date at every step, as a daily, weekly or monthly series has): by days, and by months when
    every date falls on the same day of the month."""
    year, a, b = keys // 10000, keys // 100 % 100, keys % 100
    month, day = (a, b) if order == "mdy" else (b, a)
    months = (year - 1970) * 12 + month - 1
    start = months.astype("datetime64[M]").astype("datetime64[D]")
    days = np.unique((start + (day - 1)).astype(np.int64))
    if len(days) < 3:
        return 0.0
    values, counts = np.unique(np.diff(days), return_counts=True)
    step = int(values[np.argmax(counts)])
    by_day = len(days) / (int(days[-1] - days[0]) // step + 1)
    by_month = 0.0
    if len(np.unique(day)) == 1:
        distinct = np.unique(months)
        by_month = len(distinct) / (int(distinct[-1] - distinct[0]) + 1)
    return max(by_day, by_month)


# -- numbers -----------------------------------------------------------------------------------


@dataclass
class Widening:
    """Whether a column read as whole numbers (or as text, being empty in the sample) holds
    numbers that need a wider type."""

    column: str
    logical: str  # integer | string, as the plan reads it now
    fractional: bool = False  # a whole-number column met a decimal
    numbers: bool = True  # a text column: every value seen is a number
    integral: bool = True
    seen: int = 0
    first: str | None = None  # the first value that widened the column

    def add(self, text: pa.Array, bad: np.ndarray, style: detect.NumberStyle) -> None:
        if self.logical == "integer":
            if not bad.any() or self.fractional:
                return
            refused = pa.array(text.filter(pa.array(bad)), pa.string())
            values, not_numbers = detect.parse_numbers(refused, style)
            numeric = pc.invert(not_numbers)
            if pc.any(numeric).as_py():
                self.fractional = True
                self.first = refused.filter(numeric)[0].as_py()
            return
        if not self.numbers or text.null_count == len(text):
            return
        values, not_numbers = detect.parse_numbers(text, style)
        if pc.any(not_numbers).as_py():
            self.numbers = False
            return
        present = values.drop_null()
        self.seen += len(present)
        if self.first is None and len(present):
            self.first = text.drop_null()[0].as_py()
        if self.integral and len(present):
            self.integral = pc.all(pc.equal(pc.floor(present), present)).as_py()

    def wider(self) -> str | None:
        if self.logical == "integer":
            return "number" if self.fractional else None
        if self.numbers and self.seen:
            return "integer" if self.integral else "number"
        return None


# -- dates with times -----------------------------------------------------------------------------


@dataclass
class Timing:
    """Whether a column read as dates holds dates with a time of day further down."""

    column: str
    formats: tuple[str, ...]  # the date formats the plan reads now
    timed: dict[str, None] = field(default_factory=dict)  # the formats that read them, in order
    first: str | None = None

    def add(self, source: pa.Array) -> None:
        """One batch of the column: text, or timestamps when read typed (ISO dates), whose
        times a date would drop without a word."""
        if self.timed:
            return
        if pa.types.is_timestamp(source.type):
            timed = pc.fill_null(pc.not_equal(pc.floor_temporal(source, unit="day"), source), False)
            if pc.any(timed).as_py():
                self.timed.update(dict.fromkeys(sorted(f for f in detect.ISO_FORMATS if "%H" in f)))
                self.first = str(source.filter(timed)[0].as_py())
            return
        timed = pc.fill_null(pc.match_substring_regex(source, _CLOCK), False)
        if not pc.any(timed).as_py():
            return
        refused = pa.array(source.filter(timed), pa.string())
        for fmt in self.candidates():
            if not len(refused):
                break
            _, unread = detect.parse_timestamps(refused, (fmt,), fast=False)
            read = pc.invert(unread)
            if pc.any(read).as_py():
                self.timed[fmt] = None
                self.first = self.first or refused.filter(read)[0].as_py()
                refused = refused.filter(unread)

    def candidates(self) -> list[str]:
        return [
            f"{d}{sep}{t}"
            for d in self.formats
            if d != detect.FRACTIONAL
            for sep in (" ", "T")
            for t in detect.TIME_FORMATS[:4]
        ]


# -- the watch over one pass -------------------------------------------------------------------


@dataclass
class Question:
    """A reading the whole file leaves open: the analyst chooses."""

    column: str
    source: str
    example: str
    readings: dict[str, str]  # order → the example's date (ISO) so read
    formats: dict[str, list[str]]  # order → the column's formats so read

    def message(self) -> str:
        mdy, dmy = self.readings.get("mdy", "?"), self.readings.get("dmy", "?")
        return (
            f"{self.source}: {self.example} — {mdy} (month first) or {dmy} (day first)? "
            "Every date in the file fits both readings: choose one "
            f"(on the command line: --date-order {'|'.join(ORDERS)})"
        )

    def to_json(self) -> dict:
        return {
            "column": self.column,
            "source": self.source,
            "example": self.example,
            "readings": self.readings,
            "formats": self.formats,
            "message": self.message(),
        }


class Watch:
    """The evidence gathered over one validation pass, for the plans whose reading was guessed."""

    def __init__(
        self,
        orders: dict[int, DayMonth],
        widenings: dict[int, Widening],
        timings: dict[int, Timing],
    ) -> None:
        self.orders = orders  # by plan index
        self.widenings = widenings
        self.timings = timings

    @classmethod
    def for_plans(cls, plans, settled: set[str], widenable: set[str]) -> Watch:
        """`settled`: source columns whose date order the analyst gave; `widenable`: source
        columns whose type was guessed (not chosen) and may widen."""
        orders, widenings, timings = {}, {}, {}
        for i, plan in enumerate(plans):
            column = plan.source.column
            if column is None or plan.source.parts or plan.keep_type:
                continue
            guessed = plan.source.type is None and column in widenable
            if plan.logical in {"date", "timestamp"} and column not in settled:
                orders_read = [o for o in map(order_of, plan.formats) if o is not None]
                if orders_read:
                    mixed = len(set(orders_read)) > 1
                    orders[i] = DayMonth(plan.name, column, orders_read[0], mixed=mixed)
                if plan.logical == "date" and guessed and plan.formats:
                    timings[i] = Timing(plan.name, plan.formats)
            elif (
                plan.logical in {"integer", "string"}
                and column in widenable
                and plan.source.type is None
            ):
                widenings[i] = Widening(plan.name, plan.logical)
        return cls(orders, widenings, timings)

    def __bool__(self) -> bool:
        return bool(self.orders or self.widenings or self.timings)

    def see(self, index: int, plan, batch: pa.RecordBatch, bad: np.ndarray, style) -> None:
        """One batch of plan `index`'s source column and the values its conversion refused."""
        if index not in self.orders and index not in self.widenings and index not in self.timings:
            return
        source = batch.column(plan.source.column)
        if isinstance(source, pa.ChunkedArray):
            source = source.combine_chunks()
        if index in self.timings:
            self.timings[index].add(source)
        if not pa.types.is_string(source.type):  # read typed: nothing was guessed from text
            return
        if index in self.orders:
            self.orders[index].add(source)
        if index in self.widenings:
            self.widenings[index].add(source, bad, style)

    def revise(
        self, plans: list, types: dict[str, pa.DataType]
    ) -> tuple[list | None, list[str], list[Question]]:
        """Plans revised by the evidence (None if none changes), the notes saying how, and the
        questions left open. `types`: the Arrow type of each logical type a plan may take."""
        revised = list(plans)
        notes: list[str] = []
        questions: list[Question] = []
        for i, evidence in self.orders.items():
            order, why = evidence.decide()
            plan = plans[i]
            if order is None:
                questions.append(
                    Question(
                        plan.name,
                        evidence.source,
                        evidence.example or "",
                        evidence.readings(),
                        {o: list(with_orders(plan.formats, o)) for o in ("mdy", "dmy")},
                    )
                )
            elif why and (order != evidence.guess or evidence.mixed):
                formats = with_orders(plan.formats, order)
                revised[i] = replace(plan, formats=formats)
                was = "partly day first" if evidence.mixed else ORDER_NAMES[evidence.guess]
                notes.append(
                    f"{evidence.source}: read {ORDER_NAMES[order]} ({', '.join(formats)}), "
                    f"not {was} as its sample suggested: {why}"
                )
        for i, widening in self.widenings.items():
            wider = widening.wider()
            if wider is None:
                continue
            plan = plans[i]
            revised[i] = replace(plan, logical=wider, type=types[wider])
            was = "whole numbers" if widening.logical == "integer" else "text (empty in its sample)"
            now = "decimal numbers" if wider == "number" else "whole numbers"
            notes.append(
                f"{plan.source.label}: read as {now}, not {was} as its sample suggested: "
                f"the file holds {widening.first!r} further down"
            )
        for i, timing in self.timings.items():
            if not timing.timed:
                continue
            plan = revised[i]
            formats = (*plan.formats, *timing.timed)
            order = self.orders[i].decide()[0] if i in self.orders else None
            if order is not None:  # the times were found reading the guessed order
                formats = with_orders(formats, order)
            revised[i] = replace(
                plan, logical="timestamp", type=types["timestamp"], formats=formats
            )
            notes.append(
                f"{plan.source.label}: read as dates with times, not dates as its sample "
                f"suggested: the file holds {timing.first!r} further down"
            )
        changed = any(r is not p for r, p in zip(revised, plans, strict=True))
        return (revised if changed else None), notes, questions
