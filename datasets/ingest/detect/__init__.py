"""Detectors: what a messy file really is, guessed from a sample, each guess shown and overridable.

Every detector is a pure function of bytes or strings so it can be tested on its own:
format (by content, then by name), encoding, delimiter, header row after a preamble, decimal and
thousands separators, missing-value markers, units named in headers, and per column a type with
its date/time formats (several formats in one column are found greedily).

The package, by concern: `formats`, `encodings`, `layout` (delimiter, header, names), `units`,
`numbers`, `times` (date/time formats and parsing) and `types` (a column's type).
"""

from .encodings import (
    ENCODINGS,
    MIXED_ERRORS,
    EncodingGuess,
    decode,
    decoder,
    detect_encoding,
    detect_encoding_guess,
)
from .formats import (
    EXTENSIONS,
    FORMATS,
    TEXT_EXTENSIONS,
    FormatGuess,
    looks_like_text,
    sniff_format,
)
from .layout import (
    DELIMITER_NAMES,
    DELIMITERS,
    SAMPLE_LINES,
    clean_names,
    detect_delimiter,
    detect_header,
    split_lines,
)
from .numbers import (
    MISSING_TOKENS,
    SENTINELS,
    NumberStyle,
    detect_missing,
    detect_numbers,
    parse_numbers,
    to_float,
)
from .times import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    EXCEL_EPOCH_DAYS,
    EXCEL_NAME,
    EXCEL_RANGE,
    EXCEL_SERIAL,
    FRACTIONAL,
    ISO_DEFAULT,
    ISO_FORMATS,
    ISO_WEEK_FORMATS,
    TIME_FORMATS,
    TIMESTAMP_UNIT,
    parse_timestamps,
)
from .types import (
    BOOL_FALSE,
    BOOL_TRUE,
    DATE_HINTS,
    ID_HINTS,
    PART_NAMES,
    TYPES,
    ColumnGuess,
    ColumnInfo,
    TimeSplit,
    detect_time_split,
    infer_type,
)
from .units import UNIT_ALIASES, normalize_unit, split_unit

__all__ = [
    "BOOL_FALSE",
    "BOOL_TRUE",
    "DATETIME_FORMATS",
    "DATE_FORMATS",
    "DATE_HINTS",
    "DELIMITERS",
    "DELIMITER_NAMES",
    "ENCODINGS",
    "EXCEL_EPOCH_DAYS",
    "EXCEL_NAME",
    "EXCEL_RANGE",
    "EXCEL_SERIAL",
    "EXTENSIONS",
    "FORMATS",
    "FRACTIONAL",
    "ID_HINTS",
    "ISO_DEFAULT",
    "ISO_FORMATS",
    "ISO_WEEK_FORMATS",
    "MISSING_TOKENS",
    "MIXED_ERRORS",
    "PART_NAMES",
    "SAMPLE_LINES",
    "SENTINELS",
    "TEXT_EXTENSIONS",
    "TIMESTAMP_UNIT",
    "TIME_FORMATS",
    "TYPES",
    "UNIT_ALIASES",
    "ColumnGuess",
    "ColumnInfo",
    "EncodingGuess",
    "FormatGuess",
    "NumberStyle",
    "TimeSplit",
    "clean_names",
    "decode",
    "decoder",
    "detect_delimiter",
    "detect_encoding",
    "detect_encoding_guess",
    "detect_header",
    "detect_missing",
    "detect_numbers",
    "detect_time_split",
    "infer_type",
    "looks_like_text",
    "normalize_unit",
    "parse_numbers",
    "parse_timestamps",
    "sniff_format",
    "split_lines",
    "split_unit",
    "to_float",
]
