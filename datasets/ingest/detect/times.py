"""Dates and times: the formats CityLens knows, text parsed to timestamps in a format (ISO weeks,
Excel serial days and fractional seconds included), and a time split over several columns.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .numbers import NUMBER_PATTERN

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y%m%d",
    "%G-W%V-%u",
    "%GW%V%u",
)


ISO_WEEK_FORMATS = frozenset({"%G-W%V-%u", "%GW%V%u"})  # Arrow's strptime lacks %G %V: read here
TIME_FORMATS = (
    "%H:%M:%S",
    "%H:%M",
    "%I:%M:%S %p",
    "%I:%M %p",
    "%H时%M分",
    "%Hh%M",
    "%I %p",
    "%I%p",
)


DATETIME_FORMATS = (
    *(
        f"{d}{sep}{t}"
        for d in DATE_FORMATS
        if d != "%Y%m%d" and d not in ISO_WEEK_FORMATS
        for sep in (" ", "T")
        if sep == " " or d == "%Y-%m-%d"
        for t in TIME_FORMATS[:4]
    ),
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y%m%d%H%M",
    "%Y%m%d %H:%M",
)


ISO_FORMATS = frozenset(
    {"%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"}
)


ISO_DEFAULT = (  # when nothing was detected: ISO 8601, the first one shown in messages
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
)


FRACTIONAL = "ISO8601"  # ISO timestamps with fractional seconds, read by a cast
EXCEL_SERIAL = "Excel serial"  # days since 1899-12-30, as spreadsheets store dates
EXCEL_EPOCH_DAYS = -25569  # 1899-12-30 in days since 1970-01-01
EXCEL_RANGE = (21916, 73051)  # serials of 1960-01-01 … 2100-01-01: other numbers are not dates
EXCEL_NAME = re.compile(r"date|fecha|datum|data|jour|day|日期", re.I)
TIMESTAMP_UNIT = "ms"  # what Parquet stores: fractions of a second are kept to the millisecond
_DIRECTIVES = {
    "%Y": r"\d{4}",
    "%m": r"\d{1,2}",
    "%d": r"(?P<day>\d{1,2})",
    "%y": r"\d{2}",
    "%H": r"\d{1,2}",
    "%I": r"\d{1,2}",
    "%M": r"\d{1,2}",
    "%S": r"\d{1,2}",
    "%p": r"[AaPp][Mm]",
    "%z": r"(?:Z|[+-]\d{2}:?\d{2})",
}


def _format_regex(fmt: str) -> str:
    out, i = [], 0
    while i < len(fmt):
        token = fmt[i : i + 2]
        if token in _DIRECTIVES:
            out.append(_DIRECTIVES[token])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "^" + "".join(out) + "$"


def parse_timestamps(
    arr: pa.Array, formats: tuple[str, ...], fast: bool = True, timezone: str | None = None
) -> tuple[pa.Array, pa.Array]:
    """Strings → timestamp[ms] trying each format in turn, and a mask of the values none fits.

    ISO values take one validating cast; other formats go through strptime, whose rollover of
    impossible days (31 April → 1 May) is caught by comparing the day written with the day read.
    Values with a UTC offset are converted to the local time of `timezone` (the city's; UTC
    when None), which is how timestamps are stored.
    """
    target = pa.timestamp(TIMESTAMP_UNIT)
    if arr.type != pa.string():
        arr = pc.cast(arr, pa.string())
    result = None
    if fast and formats and set(formats) <= (ISO_FORMATS | {FRACTIONAL}):
        result = _iso_cast(arr, target)
    if result is None:
        parts = []
        for fmt in formats:
            if fmt == FRACTIONAL:
                parts.append(_fractional(arr))
            elif fmt in ISO_WEEK_FORMATS:
                parts.append(_iso_week(arr, fmt))
            elif fmt == EXCEL_SERIAL:
                parts.append(_excel_days(arr))
            else:
                parts.append(_strptime(arr, fmt, timezone))
        result = pc.coalesce(*parts) if parts else pa.nulls(len(arr), target)
    bad = pc.fill_null(pc.and_(pc.is_valid(arr), pc.is_null(result)), False)
    return result, bad


def _whole_seconds(arr: pa.Array, target: pa.DataType) -> pa.Array:
    return pc.cast(arr, target)


def _fractional_seconds(arr: pa.Array, target: pa.DataType) -> pa.Array:
    return pc.cast(pc.cast(arr, pa.timestamp("ns")), target, safe=False)


def _iso_cast(arr: pa.Array, target: pa.DataType) -> pa.Array | None:
    """ISO text in one validating cast, or None. A failing cast costs ~1 µs a value (Arrow
    formats its error), 25 times a successful one, so the cast that fits the first values is
    tried first on the whole array."""
    casts = [_whole_seconds, _fractional_seconds]
    try:
        _whole_seconds(arr[:64], target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        casts.reverse()
    for cast in casts:
        try:
            return cast(arr, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return None


def _fractional(arr: pa.Array) -> pa.Array:
    """ISO timestamps with a fraction of a second, kept to the millisecond."""
    whole = pc.replace_substring_regex(arr, r"\.\d+$", "")
    seconds = pc.coalesce(
        _strptime(whole, "%Y-%m-%dT%H:%M:%S"), _strptime(whole, "%Y-%m-%d %H:%M:%S")
    )
    digits = pc.struct_field(pc.extract_regex(arr, r"\.(?P<f>\d+)$"), "f")
    millis = pc.utf8_slice_codeunits(pc.utf8_rpad(digits, 3, "0"), 0, 3)
    millis = pc.fill_null(pc.cast(millis, pa.int64()), 0)
    return pc.add(seconds, pc.cast(millis, pa.duration(TIMESTAMP_UNIT)))


_ISO_WEEK_RE = {
    "%G-W%V-%u": r"^(?P<y>\d{4})-W(?P<w>\d{2})-(?P<d>[1-7])$",
    "%GW%V%u": r"^(?P<y>\d{4})W(?P<w>\d{2})(?P<d>[1-7])$",
}


def _iso_week(arr: pa.Array, fmt: str) -> pa.Array:
    """ISO 8601 week dates (2017-W49-4: Thursday of week 49): week 1 is the week of 4 January,
    weeks start on Monday, and a week belongs to the year of its Thursday."""
    found = pc.extract_regex(arr, _ISO_WEEK_RE[fmt])
    valid = bool_mask(pc.is_valid(found))

    def part(name: str) -> np.ndarray:
        values = pc.cast(pc.struct_field(found, name), pa.int64())
        return np.asarray(pc.fill_null(values, 1).to_numpy(zero_copy_only=False), np.int64)

    year, week, weekday = part("y"), part("w"), part("d")
    jan4 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) + 3
    monday = jan4 - (jan4 + 3) % 7  # 1970-01-01 was a Thursday
    thursday = monday + (week - 1) * 7 + 3
    year_of_thursday = thursday.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    valid &= (week >= 1) & (week <= 53) & (year_of_thursday + 1970 == year)
    days = monday + (week - 1) * 7 + (weekday - 1)
    return pa.array(days * 86_400_000, pa.timestamp(TIMESTAMP_UNIT), mask=~valid)


def _excel_days(arr: pa.Array) -> pa.Array:
    """Spreadsheet day serials (45000, or 45000.5 for noon) in the range of plausible dates."""
    numeric = pc.match_substring_regex(pc.utf8_trim_whitespace(arr), NUMBER_PATTERN)
    numbers = pc.cast(pc.if_else(numeric, pc.utf8_trim_whitespace(arr), None), pa.float64())
    low, high = EXCEL_RANGE
    inside = pc.and_(pc.greater_equal(numbers, low), pc.less(numbers, high))
    millis = pc.round(pc.multiply(pc.add(numbers, EXCEL_EPOCH_DAYS), 86_400_000.0))
    millis = pc.if_else(inside, millis, None)
    return pc.cast(pc.cast(millis, pa.int64()), pa.timestamp(TIMESTAMP_UNIT))


def bool_mask(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a NumPy mask, nulls false."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _strptime(arr: pa.Array, fmt: str, timezone: str | None = None) -> pa.Array:
    """One strptime format; a value with a UTC offset becomes the local time of `timezone`."""
    if "%G" in fmt or "%V" in fmt or fmt.startswith(EXCEL_SERIAL):
        # Arrow reads %G/%V as 1 January 1900 instead of failing: only _iso_week reads them
        return pa.nulls(len(arr), pa.timestamp(TIMESTAMP_UNIT))
    offset = "%z" in fmt
    naive = arr
    if offset:  # read as written first, so that the day check below sees the day written
        naive = pc.replace_substring_regex(arr, r"(Z|[+-]\d{2}:?\d{2})$", "")
    plain = fmt.replace("%z", "")
    parsed = pc.strptime(naive, format=plain, unit="s", error_is_null=True)
    if "%d" in plain:
        suspicious = pc.fill_null(pc.less_equal(pc.day(parsed), 3), False)
        if pc.any(suspicious).as_py():
            written = pc.struct_field(pc.extract_regex(naive, _format_regex(plain)), "day")
            same = pc.equal(pc.cast(written, pa.int64()), pc.cast(pc.day(parsed), pa.int64()))
            keep = pc.or_(pc.invert(suspicious), pc.fill_null(same, False))
            parsed = pc.if_else(keep, parsed, pa.scalar(None, parsed.type))
    if offset:
        instant = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
        local = pc.local_timestamp(pc.cast(instant, pa.timestamp("s", timezone or "UTC")))
        parsed = pc.if_else(pc.is_valid(parsed), local, pa.scalar(None, local.type))
    return pc.cast(parsed, pa.timestamp(TIMESTAMP_UNIT))
