"""Inspection: how to read a file, detected from a sample of it (nothing is read whole, nothing
written): its format and settings, its columns with their types, a preview of the rows as they
will be published, and the suggested mapping onto a kind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from ..cells import short_text
from ..schemas import KINDS
from . import detect
from . import mapping as mapping_mod
from .detect import ColumnInfo
from .errors import IngestError, printable
from .mapping import GENERIC, ColumnFacts, Mapping
from .readers import open_reader
from .settings import PREVIEW_ROWS, Limits, Settings
from .table_reader import TableReader
from .uploads import check_size, safe_filename
from .validate.convert import convert_column
from .validate.plan import logical_type, plan_mapping
from .validate.report import Progress
from .whole_column import ORDERS, with_orders

HEAD_BYTES = 64 * 1024


@dataclass
class Inspection:
    """What a file looks like: the settings detected (each overridable), its columns, a preview
    of the parsed rows and the suggested mapping onto a kind."""

    path: Path
    file: str
    size: int
    settings: Settings
    columns: list[ColumnInfo]
    preview: list[dict]
    suggestion: Mapping
    candidates: list[dict]
    split: detect.TimeSplit | None
    notes: list[str]
    overrides: dict
    limits: Limits
    reader: TableReader = field(repr=False)

    @property
    def kind(self) -> str:
        return self.suggestion.kind

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "size": self.size,
            "settings": self.settings.to_json(),
            "columns": [c.to_json() for c in self.columns],
            # each row's "cells" as found and "parsed" as published (None: missing or unreadable)
            "preview": [
                {**row, "cells": [short_text(c) for c in row["cells"]]} for row in self.preview
            ],
            "suggestion": self.suggestion.to_json(),
            "candidates": self.candidates,
            "split": dict(self.split.parts) if self.split else None,
            "notes": self.notes,
            "line_label": self.reader.line_label,
        }


def inspect(
    path: Path | str,
    *,
    filename: str | None = None,
    overrides: dict | None = None,
    limits: Limits | None = None,
    on_progress: Progress | None = None,
) -> Inspection:
    """Detect how to read a file from a sample of it: nothing is read whole, nothing written.

    `filename` is the name the analyst gave (messages show it, made safe); `overrides` may set
    any of `settings.OVERRIDABLE`, plus `format`, `kind`, and per column `types`, `formats`,
    `units` ({column: value}).
    """
    path = Path(path)
    file = safe_filename(filename or path.name)
    overrides = dict(overrides or {})
    limits = limits or Limits.from_config()
    size = check_size(path, file, limits)
    if on_progress:
        on_progress(0.0, "inspect")
    fmt, notes = _format(path, file, overrides)
    reader = open_reader(path, file, fmt, overrides, limits)
    settings = reader.settings
    columns, settings = _columns(reader, settings, overrides)
    reader.settings = settings
    guesses = {c.name: detect.ColumnGuess(c.type, c.formats) for c in columns}
    split = detect.detect_time_split([c.name for c in columns], guesses)
    facts = [_facts(c, reader) for c in columns]
    suggestion, ranked = mapping_mod.suggest(facts, split)
    suggestion = _chosen_kind(file, overrides, facts, split) or suggestion
    if settings.encoding and settings.format in {"csv", "json", "ndjson", "geojson"}:
        notes.append(f"encoding: {detect.ENCODINGS.get(settings.encoding, settings.encoding)}")
    notes.extend(reader.notes)
    notes.extend(f"{c.name}: {c.note}" for c in columns if c.note)
    if on_progress:
        on_progress(1.0, "inspect")
    return Inspection(
        path=path,
        file=file,
        size=size,
        settings=settings,
        columns=columns,
        preview=_preview(reader, columns),
        suggestion=suggestion,
        candidates=[
            {
                "kind": c.kind,
                "complete": c.complete,
                "matched": c.matched,
                "missing": list(c.missing),
            }
            for c in ranked
        ],
        split=split,
        notes=list(dict.fromkeys(notes)),
        overrides=overrides,
        limits=limits,
        reader=reader,
    )


def _format(path: Path, file: str, overrides: dict) -> tuple[str, list[str]]:
    """The file's format (the override, else sniffed from its head and name) and the note the
    sniffing left; a blank or binary file is refused."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    guess = detect.sniff_format(head, Path(file).suffix)
    fmt = overrides.get("format") or guess.format
    if fmt == "empty":
        raise IngestError(file, expected="a file with data; this one is blank", reason="empty")
    if fmt == "binary":
        what = f" ({guess.note})" if guess.note else ""
        raise IngestError(
            file,
            expected=f"text (CSV, TSV, JSON) or an Excel or Parquet file; found binary data{what}",
            reason="binary",
        )
    return fmt, [guess.note] if guess.note else []


def _chosen_kind(
    file: str, overrides: dict, facts: list[ColumnFacts], split: detect.TimeSplit | None
) -> Mapping | None:
    """The mapping onto the kind the analyst chose (None when they left it to the suggestion);
    an unknown kind is refused."""
    kind = overrides.get("kind")
    if not kind or kind == "auto":
        return None
    if kind not in KINDS:
        raise IngestError(
            file, expected=f"a kind among auto, {', '.join(KINDS)}; got {kind!r}", reason="kind"
        )
    if kind == GENERIC:
        return mapping_mod.generic_mapping(facts, split)
    return mapping_mod.match_kind(KINDS[kind], facts, split).mapping


def _columns(
    reader: TableReader, settings: Settings, overrides: dict
) -> tuple[list[ColumnInfo], Settings]:
    """Each column's facts from the sample (type, formats, unit), the analyst's overrides
    applied, and the settings completed with the number style and missing markers."""
    names = reader.names
    values: dict[str, list[str | None]] = {n: [] for n in names}
    for _, cells in reader.sample:
        for name, cell in zip(names, cells, strict=False):
            values[name].append(cell)
    typed_formats = {"parquet"}
    if settings.format not in typed_formats:
        settings = _number_settings(settings, values, overrides)
    _check_column_overrides(reader, values, overrides)
    missing_set = set(settings.missing)
    columns = []
    for index, (name, raw) in enumerate(zip(names, reader.raw_names, strict=True), start=1):
        present = [v for v in values[name] if v is not None and v not in missing_set]
        columns.append(_column(reader, settings, overrides, index, name, raw, present))
    return columns, settings


def _number_settings(
    settings: Settings, values: dict[str, list[str | None]], overrides: dict
) -> Settings:
    """`settings` with the decimal and thousands separators and the missing markers of a text
    format: the analyst's where given, else detected on the sample."""
    cells = [v for vs in values.values() for v in vs if v]
    style = detect.detect_numbers(cells, settings.delimiter or ",")
    decimal = overrides.get("decimal") or style.decimal
    thousands = overrides.get("thousands", style.thousands if decimal == style.decimal else None)
    missing = overrides.get("missing")
    if missing is None:
        text_values = {n: [v or "" for v in vs] for n, vs in values.items()}
        missing = detect.detect_missing(text_values, decimal)
    return replace(
        settings,
        decimal=decimal,
        thousands=thousands or None,
        missing=tuple(dict.fromkeys(["", *missing])),
    )


def _check_column_overrides(
    reader: TableReader, values: dict[str, list[str | None]], overrides: dict
) -> None:
    """Refuse a date order CityLens does not know, or a per-column override naming a column
    the file lacks."""
    date_order = overrides.get("date_order")
    if date_order is not None and date_order not in ORDERS:
        raise IngestError(
            reader.file,
            expected=f"a date order among {', '.join(ORDERS)}; got {printable(date_order)!r}",
            reason="override",
        )
    types = overrides.get("types") or {}
    formats = overrides.get("formats") or {}
    units = overrides.get("units") or {}
    for name in [*types, *formats, *units]:
        if name not in values:
            raise IngestError(
                reader.file,
                expected=f"a column named {printable(name)!r} to override; the columns are "
                + ", ".join(repr(n) for n in reader.names),
                reason="override",
            )


def _column(
    reader: TableReader,
    settings: Settings,
    overrides: dict,
    index: int,
    name: str,
    raw: str,
    present: list[str],
) -> ColumnInfo:
    """One column's facts: its type (the typed format's, else guessed from the `present`
    values, unless overridden), formats, unit and a few examples."""
    types = overrides.get("types") or {}
    formats = overrides.get("formats") or {}
    units = overrides.get("units") or {}
    date_order = overrides.get("date_order")
    arrow = reader.types.get(name)
    if arrow is not None and not _is_text(arrow):
        guess = detect.ColumnGuess(logical_type(arrow))
    else:
        guess = detect.infer_type(present, settings.style, raw)
    _, unit = detect.split_unit(raw)
    kind = types.get(name, guess.type)
    if kind not in detect.TYPES:
        raise IngestError(
            reader.file,
            expected=f"a type among {', '.join(detect.TYPES)} for {printable(name)!r}; "
            f"got {printable(kind)!r}",
            reason="override",
        )
    col_formats = tuple(formats.get(name) or guess.formats)
    if date_order and name not in formats:
        col_formats = with_orders(col_formats, date_order)
    if name in units:
        unit = detect.normalize_unit(units[name]) or units[name] or None
    return ColumnInfo(
        index=index,
        name=name,
        raw_name=raw,
        type=kind,
        formats=col_formats,
        unit=unit,
        note=guess.note if kind == guess.type else "",
        examples=tuple(dict.fromkeys(present))[:5],
        arrow_type=str(arrow) if arrow is not None else None,
    )


def _preview(reader: TableReader, columns: list[ColumnInfo]) -> list[dict]:
    """The first rows, each cell as found and as it will be published: read by the converters
    the whole file goes through, so a misreading (a day taken for a month) shows here first."""
    rows = reader.sample[:PREVIEW_ROWS]
    missing = set(reader.settings.missing)
    width = len(columns)
    by_column = [
        [
            None if i >= len(cells) or cells[i] is None or cells[i] in missing else str(cells[i])
            for _, cells in rows
        ]
        for i in range(width)
    ]
    batch = pa.RecordBatch.from_arrays(
        [pa.array(values, pa.string()) for values in by_column], names=[c.name for c in columns]
    )
    # Source(column=…) alone: each column read as its (possibly overridden) type and formats
    generic = Mapping(GENERIC, {c.name: mapping_mod.Source(column=c.name) for c in columns})
    parsed: list[list] = [[None] * width for _ in rows]
    try:
        plans, _ = plan_mapping(reader, columns, generic)
    except IngestError:  # the check reports it, line and all
        plans = []
    for i, plan in enumerate(plans):
        try:
            conv = convert_column(plan, batch, reader.settings)
        except (pa.ArrowException, ValueError):  # that column unreadable here; the check says why
            continue
        for r, value in enumerate(conv.array.to_pylist()):
            if not conv.bad[r]:
                parsed[r][i] = _shown(value)
    return [
        {"line": line, "cells": cells, "parsed": parsed[r]} for r, (line, cells) in enumerate(rows)
    ]


def _shown(value):
    """A parsed value as plain JSON: numbers stay numbers, dates and times in ISO 8601."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _is_text(t) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _facts(column: ColumnInfo, reader: TableReader) -> ColumnFacts:
    numbers: list[float] = []
    if column.type in {"integer", "number"}:
        position = column.index - 1
        for _, cells in reader.sample[:500]:
            cell = cells[position] if position < len(cells) else None
            value = detect.to_float(cell, reader.settings.decimal) if cell else None
            if value is not None:
                numbers.append(value)
    return ColumnFacts(column.name, column.type, column.unit, column.formats, tuple(numbers))
