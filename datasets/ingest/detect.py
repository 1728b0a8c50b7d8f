"""Detectors: what a messy file really is, guessed from a sample, each guess shown and overridable.

Every detector is a pure function of bytes or strings so it can be tested on its own:
format (by content, then by name), encoding, delimiter, header row after a preamble, decimal and
thousands separators, missing-value markers, units named in headers, and per column a type with
its date/time formats (several formats in one column are found greedily).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..cells import short_text

# -- format ------------------------------------------------------------------------------------

TEXT_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".tab": "csv"}
EXTENSIONS = {
    **TEXT_EXTENSIONS,
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".geojson": "geojson",
}
FORMATS = ("csv", "xlsx", "parquet", "json", "ndjson", "geojson")


@dataclass(frozen=True)
class FormatGuess:
    format: str  # csv | xlsx | parquet | json | ndjson | geojson | binary | empty
    note: str = ""


def sniff_format(head: bytes, suffix: str) -> FormatGuess:
    """The format from the first bytes, the name's suffix breaking ties between text formats.

    Content wins over the name for binary formats (a Parquet file named `.csv` is read as
    Parquet, with a note), and data that is neither a known binary format nor text is `binary`.
    """
    suffix = suffix.lower()
    named = EXTENSIONS.get(suffix)
    if not head.strip(b" \t\r\n\x00"):
        return FormatGuess("empty")
    if head.startswith(b"PAR1"):
        return _named_as(FormatGuess("parquet"), named, suffix)
    if head.startswith(b"PK\x03\x04"):
        return _named_as(FormatGuess("xlsx"), named, suffix)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return FormatGuess(
            "binary", "an old Excel .xls (or other OLE) file: save it as .xlsx or CSV first"
        )
    if head.startswith(b"\x1f\x8b"):
        return FormatGuess("binary", "a gzip archive: decompress it first")
    if not looks_like_text(head):
        return FormatGuess("binary")
    stripped = _strip_bom(head).lstrip()
    if stripped[:1] in (b"{", b"["):
        if named == "json":  # a .json file may hold GeoJSON or one object per line
            return FormatGuess(_json_flavour(stripped))
        if named in {"ndjson", "geojson"}:
            return FormatGuess(named)
        return _named_as(FormatGuess(_json_flavour(stripped)), named, suffix)
    if named in {"xlsx", "parquet"}:
        return FormatGuess("binary", f"named {suffix} but holds text")
    return FormatGuess("csv")


def _named_as(guess: FormatGuess, named: str | None, suffix: str) -> FormatGuess:
    if named is None or named == guess.format:
        return guess
    return FormatGuess(guess.format, f"named {suffix} but holds {guess.format}: read as such")


def _json_flavour(stripped: bytes) -> str:
    if stripped.startswith(b"{"):
        first, _, rest = stripped.partition(b"\n")
        if b'"FeatureCollection"' in stripped[:4096] or b'"Feature"' in stripped[:4096]:
            return "geojson"
        if rest.lstrip().startswith(b"{") and first.rstrip().endswith(b"}"):
            return "ndjson"
    return "json"


def _strip_bom(data: bytes) -> bytes:
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(bom):
            return data[len(bom) :]
    return data


def looks_like_text(sample: bytes) -> bool:
    """False for binary data: NUL bytes (outside UTF-16) or many C0 control bytes."""
    if not sample:
        return True
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(sample):
        return True
    if b"\x00" in sample:
        return False
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13, 27))
    return controls <= len(sample) * 0.01


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when every other byte is NUL (ASCII text in UTF-16)."""
    window = sample[:4096]
    if len(window) < 8:
        return None
    even, odd = window[0::2], window[1::2]
    if odd.count(0) > len(odd) * 0.7 and even.count(0) < len(even) * 0.1:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.7 and odd.count(0) < len(odd) * 0.1:
        return "utf-16-be"
    return None


# -- encoding ----------------------------------------------------------------------------------

ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 (with BOM)",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "ISO-8859-1 (Latin-1)",
    "gb18030": "GB18030 (Chinese)",
    "mixed": "UTF-8, with Windows-1252 for the bytes that are not UTF-8",
}
MIXED_ERRORS = "citylens-cp1252-fallback"


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: bytes that are not UTF-8 are read as Windows-1252 (else Latin-1)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(_cp1252_char(b) for b in bad), exc.end


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return bytes([byte]).decode("latin-1")


codecs.register_error(MIXED_ERRORS, _cp1252_fallback)


def decoder(encoding: str) -> codecs.IncrementalDecoder:
    """An incremental decoder for one of `ENCODINGS`."""
    if encoding == "mixed":
        return codecs.getincrementaldecoder("utf-8")(errors=MIXED_ERRORS)
    if encoding == "latin-1":
        return codecs.getincrementaldecoder("latin-1")()
    return codecs.getincrementaldecoder(encoding)(errors="strict")


def decode(data: bytes, encoding: str, final: bool = True) -> str:
    return decoder(encoding).decode(data, final)


@dataclass(frozen=True)
class EncodingGuess:
    encoding: str
    note: str = ""


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def detect_encoding(samples: list[bytes], at_start: bool = True, complete: bool = False) -> str:
    """The encoding of a file from samples of it (the first one is its start).

    UTF-8 if every sample decodes; else GB18030 when the non-ASCII bytes come in pairs that
    decode to Chinese; else `mixed` when real UTF-8 sequences sit beside bytes that are not
    (files pasted together from two systems); else Windows-1252, else Latin-1 (decodes anything).
    """
    return detect_encoding_guess(samples, at_start, complete).encoding


def detect_encoding_guess(
    samples: list[bytes], at_start: bool = True, complete: bool = False
) -> EncodingGuess:
    head = samples[0] if samples else b""
    if at_start:
        if head.startswith(codecs.BOM_UTF8):
            return EncodingGuess("utf-8-sig")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return EncodingGuess("utf-16")
        utf16 = _utf16_without_bom(head)
        if utf16:
            return EncodingGuess(utf16)
    if all(_utf8_ok(s, first=(i == 0 and at_start), final=complete) for i, s in enumerate(samples)):
        return EncodingGuess("utf-8")
    data = b"\n".join(samples)
    runs = _HIGH_RUN.findall(data)
    high = sum(len(r) for r in runs)
    paired = sum(len(r) for r in runs if len(r) >= 2 and len(r) % 2 == 0)
    if high and paired / high >= 0.8 and _mostly_chinese(data):
        return EncodingGuess("gb18030")
    utf8_sequences = len(_UTF8_MULTIBYTE.findall(data))
    if utf8_sequences >= 2:  # by chance in Latin-1 text only as rare pairs like "Ã©"
        return EncodingGuess(
            "mixed", f"{utf8_sequences} UTF-8 sequences beside bytes that are not UTF-8"
        )
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return EncodingGuess("latin-1")
    return EncodingGuess("cp1252")


def _utf8_ok(sample: bytes, first: bool, final: bool) -> bool:
    if sample.isascii():
        return True
    if not first:  # a sample from the middle may start inside a character
        sample = sample.lstrip(bytes(range(0x80, 0xC0)))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_chinese(data: bytes) -> bool:
    text = data.decode("gb18030", errors="replace")
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return False
    cjk = sum(1 for ch in wide if _is_cjk(ch))
    return cjk / len(wide) >= 0.9


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF


# -- dialect: delimiter and header row ----------------------------------------------------------

DELIMITERS = ("\t", ";", "|", ",")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_LINES = 400


def split_lines(
    text: str, delimiter: str, quotechar: str = '"', limit: int | None = None
) -> list[tuple[int, list[str]]]:
    """Rows of a text sample with the 1-based line each starts on (quoted newlines kept), the
    first `limit` of them when given."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar)
    rows = []
    line = 1
    try:
        for row in itertools.islice(reader, limit):
            rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error:
        pass  # a sample cut inside a quoted field: keep what parsed
    return rows


def detect_delimiter(text: str, hint: str | None = None) -> str:
    """The delimiter that splits the most lines into the same number (≥ 2) of fields.

    Ties go to the one giving more fields, then to tab, `;`, `|`, `,` in that order (a `;` file
    with decimal commas splits consistently on `,` too, but into fewer or as many fields).
    """
    lines = text.split("\n")[:SAMPLE_LINES]
    sample = "\n".join(lines)
    best, best_score = hint or ",", (0.0, 0, 0)
    for rank, delimiter in enumerate(reversed(DELIMITERS)):
        if delimiter not in sample:
            continue
        rows = [r for _, r in split_lines(sample, delimiter) if any(c.strip() for c in r)]
        if not rows:
            continue
        tail = rows[len(rows) // 3 :] or rows
        modal, _ = Counter(len(r) for r in tail).most_common(1)[0]
        if modal < 2:
            continue
        consistency = sum(1 for r in rows if len(r) == modal) / len(rows)
        score = (round(consistency, 2), modal, rank + (10 if delimiter == hint else 0))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def detect_header(rows: list[list[str]]) -> tuple[int, bool]:
    """(index of the header row, whether there is a header) after any metadata preamble.

    The table's width is the usual field count of the later rows; the header is the first row
    of that width whose cells are mostly filled and from which the rows keep that width. A first
    row that looks like data (numbers, dates where the next row has them too) is no header.
    """
    filled = [r for r in rows if any(c.strip() for c in r)]
    if not filled:
        return 0, True
    tail = filled[len(filled) // 3 :] or filled
    width, _ = Counter(len(r) for r in tail).most_common(1)[0]
    index = 0
    for i, row in enumerate(rows):
        cells = [c for c in row if c.strip()]
        if len(row) < width or len(cells) < max(1, (width + 1) // 2):
            continue
        following = [r for r in rows[i + 1 : i + 21] if any(c.strip() for c in r)]
        if following and sum(1 for r in following if len(r) == width) < 0.5 * len(following):
            continue
        index = i
        break
    header = rows[index] if index < len(rows) else []
    nxt = next((r for r in rows[index + 1 :] if any(c.strip() for c in r)), None)
    data_like = [
        j
        for j, c in enumerate(header)
        if c.strip() and _value_like(c) and nxt is not None and j < len(nxt) and _value_like(nxt[j])
    ]
    has_header = len(data_like) < max(1, len([c for c in header if c.strip()])) * 0.5
    return index, has_header


_VALUE_LIKE = re.compile(r"^\s*[+-]?[\d.,:/\-\s]+(?:[eE][+-]?\d+)?\s*$")


def _value_like(cell: str) -> bool:
    return bool(_VALUE_LIKE.match(cell)) and any(ch.isdigit() for ch in cell)


# -- column names ------------------------------------------------------------------------------


def clean_names(raw: list[str]) -> tuple[list[str], list[str]]:
    """Unique, non-empty, printable column names, and a note for each one changed."""
    names: list[str] = []
    notes: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(raw, start=1):
        clean = " ".join(
            "".join(
                ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(name or "")
            ).split()
        )
        if not clean:
            clean = f"column_{i}"
            notes.append(f"column {i} has no name: read as {clean!r}")
        key = clean.casefold()
        if key in seen:
            n = 2
            while f"{key}_{n}" in seen:
                n += 1
            first = seen[key]
            renamed = f"{clean}_{n}"
            notes.append(
                f"column {i} repeats the name {clean!r} of column {first}: read as {renamed!r}"
            )
            clean, key = renamed, f"{key}_{n}"
        seen[key] = i
        names.append(clean)
    return names, notes


# -- units in headers --------------------------------------------------------------------------

UNIT_ALIASES: dict[str, str] = {}


def _aliases(canonical: str, *names: str) -> None:
    for name in (canonical, *names):
        UNIT_ALIASES[_unit_key(name)] = canonical


def _unit_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("μ", "µ").replace("³", "3").replace("²", "2").replace("^", "")
    return re.sub(r"[\s_.·]+", "", text)


_aliases("µg/m³", "ug/m3", "µg/m3", "mcg/m3", "ugm3", "ug/m³", "ug m-3", "微克/立方米", "μg/m3")
_aliases("mg/m³", "mg/m3", "mgm3", "mg m-3", "毫克/立方米")
_aliases("ppb", "ppbv")
_aliases("ppm", "ppmv")
_aliases("km/h", "kmh", "kph", "km/hr", "kmph", "km h-1", "公里/小时", "千米/小时", "km/u")
_aliases("m/s", "ms-1", "m s-1", "米/秒")
_aliases("mph", "mi/h")
_aliases("°C", "degc", "c", "celsius", "℃", "摄氏度", "ºc", "grados")
_aliases("°F", "degf", "f", "fahrenheit", "℉", "ºf")
_aliases("%", "percent", "pct", "百分比")
_aliases("mm", "millimetres", "millimeters", "毫米")
_aliases("kWh", "千瓦时")
_aliases("MWh", "兆瓦时")
_aliases("GWh", "吉瓦时")
_aliases("t", "tonnes", "tons", "tonne", "吨", "toneladas")
_aliases("kg", "kilograms", "千克", "公斤")
_aliases("km", "kilometres", "kilometers", "公里", "千米")
_aliases("m", "metres", "meters", "米")
_aliases("min", "minutes", "minutos", "分钟")
_aliases("h", "hours", "hr", "horas", "小时")
_aliases("veh/h", "vehicles/h", "veh/hour", "vph", "辆/小时")

_BRACKETED = re.compile(r"^(?P<base>.*?)\s*[(\[{（【](?P<unit>[^()\[\]{}（）【】]+)[)\]}）】]\s*$")
_SUFFIXED = re.compile(r"^(?P<base>.+?)[\s_]+(?:in\s+|en\s+)?(?P<unit>[^\s_]+)$", re.IGNORECASE)
_SUFFIX_UNITS = {"ugm3", "µg/m3", "ug/m3", "mg/m3", "mgm3", "kmh", "km/h", "kph", "ms-1"}


def normalize_unit(text: str) -> str | None:
    """The canonical spelling of a unit (`ug/m3` → `µg/m³`), or None if it is not one we know."""
    return UNIT_ALIASES.get(_unit_key(text))


def split_unit(header: str) -> tuple[str, str | None]:
    """`PM2.5 (µg/m³)` → (`PM2.5`, `µg/m³`); `speed_kmh` → (`speed`, `km/h`); else (header, None).

    Only units we know are taken, so `Station (name)` stays whole.
    """
    m = _BRACKETED.match(header)
    if m and m.group("base").strip():
        unit = normalize_unit(m.group("unit"))
        if unit:
            return m.group("base").strip(), unit
    m = _SUFFIXED.match(header)
    if m and _unit_key(m.group("unit")) in _SUFFIX_UNITS:
        return m.group("base").strip(), normalize_unit(m.group("unit"))
    return header, None


# -- missing markers ---------------------------------------------------------------------------

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
        floats = {v: _to_float(v, decimal) for v in distinct if v and v not in MISSING_TOKENS}
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
                    if _to_float(v, decimal) == sentinel:
                        found[v] += 1
    return ("", *sorted(found, key=lambda t: (-found[t], t)))


def _to_float(text: str, decimal: str = ".") -> float | None:
    if decimal == ",":
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


# -- numbers: decimal and thousands separators ---------------------------------------------------

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


# -- column types and date/time formats --------------------------------------------------------


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
    values: list[str | None], style: NumberStyle = NumberStyle(), name: str = ""
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


# -- vectorised parsers shared with validation --------------------------------------------------

_NUMBER = re.compile(r"(?i)^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf|infinity|nan)$")
_NUMBER_RE = _NUMBER.pattern


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
        ok = pc.match_substring_regex(s, _NUMBER_RE)
        out = pc.cast(pc.if_else(ok, s, pa.scalar(None, pa.string())), pa.float64())
    out = pc.if_else(pc.is_nan(out), pa.scalar(None, pa.float64()), out)
    if ok is None:
        bad = pc.fill_null(pc.and_(pc.is_valid(arr), pc.is_null(out)), False)
    else:
        bad = pc.fill_null(pc.and_(pc.is_valid(arr), pc.invert(ok)), False)
    return out, bad


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
    valid = _mask(pc.is_valid(found))

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
    numeric = pc.match_substring_regex(pc.utf8_trim_whitespace(arr), _NUMBER_RE)
    numbers = pc.cast(pc.if_else(numeric, pc.utf8_trim_whitespace(arr), None), pa.float64())
    low, high = EXCEL_RANGE
    inside = pc.and_(pc.greater_equal(numbers, low), pc.less(numbers, high))
    millis = pc.round(pc.multiply(pc.add(numbers, EXCEL_EPOCH_DAYS), 86_400_000.0))
    millis = pc.if_else(inside, millis, None)
    return pc.cast(pc.cast(millis, pa.int64()), pa.timestamp(TIMESTAMP_UNIT))


def _mask(arr: pa.Array) -> np.ndarray:
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


# -- split date and time ---------------------------------------------------------------------

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
