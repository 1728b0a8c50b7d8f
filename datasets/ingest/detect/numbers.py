"""Numbers as files write them: the decimal and thousands separators of a column, the markers
and sentinel values that stand for a missing value, and text parsed to float64 in one style.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

MISSING_TOKENS = (
    "",
    "NA",
    "N/A",
    "n/a",
    "na",
    "NaN",
    "nan",
    "null",
    "NULL",
    "Null",
    "None",
    "none",
    "-",
    "--",
    "?",
    "#N/A",
    "#NA",
    "#VALUE!",
    "#DIV/0!",
    "missing",
    "ND",
    "n.d.",
    "s/d",
    "S/D",
    "sin dato",
    "无",
    "缺测",
    "—",
)


SENTINELS = (-9999.0, -999.0, -99999.0, 9999.0, 99999.0, -9999.9)


def detect_missing(columns: dict[str, list[str]], decimal: str = ".") -> tuple[str, ...]:
    """Markers used for missing values in the sample: known tokens, and numeric sentinels such as
    `-9999` in a numeric column whose other values are far from them."""
    found: Counter[str] = Counter()
    for values in columns.values():
        present = [v.strip() for v in values]
        distinct = set(present)
        for token in MISSING_TOKENS:
            if token and token in distinct:
                found[token] += 1
        floats = {v: to_float(v, decimal) for v in distinct if v and v not in MISSING_TOKENS}
        numbers = [floats[v] for v in present if v in floats]
        parsed = [x for x in numbers if x is not None]
        if not parsed or len(parsed) < 0.9 * len(numbers):
            continue
        for sentinel in SENTINELS:
            if sentinel not in parsed:
                continue
            others = [abs(x) for x in parsed if x != sentinel]
            if others and max(others) < abs(sentinel) / 2:
                for v in present:
                    if to_float(v, decimal) == sentinel:
                        found[v] += 1
    return ("", *sorted(found, key=lambda t: (-found[t], t)))


def to_float(text: str, decimal: str = ".") -> float | None:
    """One cell as a number with `decimal` as its separator; None if it is not one."""
    if decimal == ",":
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


_DEC_COMMA = re.compile(r"^[+-]?\d+,(\d{1,2}|\d{4,})$")
_DEC_COMMA_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")
_AMBIGUOUS_COMMA = re.compile(r"^[+-]?\d{1,3},\d{3}$")
_DEC_POINT = re.compile(r"^[+-]?\d*\.\d+$")
_GROUPED_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_GROUPED_SPACE = re.compile(r"^[+-]?\d{1,3}([ \u00a0\u202f]\d{3})+([.,]\d+)?$")


@dataclass(frozen=True)
class NumberStyle:
    decimal: str = "."
    thousands: str | None = None


PLAIN_NUMBERS = NumberStyle()  # a point for decimals, no thousands separator


def detect_numbers(cells: list[str], delimiter: str = ",") -> NumberStyle:
    """Decimal comma or point, and a thousands separator, from the numeric-looking cells.

    Each distinct cell is matched once and counted as often as it occurs (a sample repeats
    its values: the 14,000 cells of a sample of readings hold 511 distinct ones)."""
    counts = Counter()
    for c, n in Counter(cell.strip() for cell in cells).items():
        if not c or not any(ch.isdigit() for ch in c):
            continue
        if _DEC_COMMA.match(c) or _DEC_COMMA_GROUPED.match(c):
            counts["comma"] += n
        elif _AMBIGUOUS_COMMA.match(c):
            counts["ambiguous_comma"] += n
        elif _DEC_POINT.match(c) and not _GROUPED_DOT.match(c):
            counts["point"] += n
        if _GROUPED_DOT.match(c) or _DEC_COMMA_GROUPED.match(c):
            counts["grouped_dot"] += n
        if _GROUPED_COMMA.match(c) and "," in c:
            counts["grouped_comma"] += n
        if _GROUPED_SPACE.match(c):
            counts["grouped_space"] += n
    comma = counts["comma"] + (counts["ambiguous_comma"] if delimiter != "," else 0)
    if comma > counts["point"]:
        thousands = None
        if counts["grouped_space"]:
            thousands = " "
        elif counts["grouped_dot"]:
            thousands = "."
        return NumberStyle(",", thousands)
    thousands = None
    if counts["grouped_comma"] and not counts["comma"]:
        thousands = ","
    elif counts["grouped_space"]:
        thousands = " "
    return NumberStyle(".", thousands)


_NUMBER = re.compile(r"(?i)^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf|infinity|nan)$")
NUMBER_PATTERN = _NUMBER.pattern


def parse_numbers(arr: pa.Array, style: NumberStyle = NumberStyle()) -> tuple[pa.Array, pa.Array]:
    """Strings → float64, and a boolean mask of the values that are not numbers (nulls are fine).

    Fast path: one cast. Only when it fails are the values trimmed, separators handled and each
    checked against a pattern, so a clean column costs a single pass.
    """
    s = arr
    if style.thousands:
        sep = re.escape(style.thousands)
        dec = re.escape(style.decimal)
        grouped = pc.match_substring_regex(s, rf"^[+-]?\d{{1,3}}({sep}\d{{3}})+({dec}\d*)?$")
        s = pc.if_else(grouped, pc.replace_substring(s, style.thousands, ""), s)
    if style.decimal == ",":
        s = pc.replace_substring(pc.replace_substring(s, ".", "\x00"), ",", ".")
    try:
        out = pc.cast(s, pa.float64())
        ok = None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        s = pc.utf8_trim_whitespace(s)
        ok = pc.match_substring_regex(s, NUMBER_PATTERN)
        out = pc.cast(pc.if_else(ok, s, pa.scalar(None, pa.string())), pa.float64())
    out = pc.if_else(pc.is_nan(out), pa.scalar(None, pa.float64()), out)
    if ok is None:
        bad = pc.fill_null(pc.and_(pc.is_valid(arr), pc.is_null(out)), False)
    else:
        bad = pc.fill_null(pc.and_(pc.is_valid(arr), pc.invert(ok)), False)
    return out, bad
