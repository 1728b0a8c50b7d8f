"""The typed read of a CSV: the Arrow type each column can be parsed as so that it accepts
exactly what the text path accepts, and the batches refused where they would read otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from .. import detect
from ..readers import CsvReader
from ..table_reader import Chunk, TableReader, TypedReadFailed
from .convert import FALSE_TEXT, TRUE_TEXT
from .plan import Plan


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
    of a date) stays text and goes through the text path's converters.
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


def typed_chunks(reader: CsvReader, types: dict[str, pa.DataType]) -> Iterator[Chunk]:
    """The CSV's batches read straight into `types`, booleans in the spellings the text path
    reads; a batch holding a value the text path would read otherwise raises TypedReadFailed."""
    words = {"true_values": _spellings(TRUE_TEXT), "false_values": _spellings(FALSE_TEXT)}
    return _checked(reader.typed_batches(types, **words))
