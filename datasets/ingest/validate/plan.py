"""The plan: one entry per target column, checked against the file and the kind before any row
is read (sources exist, required columns are mapped, units convert).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from ...schemas import KINDS, Column, Kind
from .. import detect
from ..detect import ColumnInfo
from ..errors import IngestError, printable
from ..mapping import GENERIC, PART_KEYS, Mapping, Source, conversion, target_type
from ..table_reader import TableReader

ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp(detect.TIMESTAMP_UNIT),
    "time": pa.string(),
}


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
    _check_sources(file, mapping, info)
    if kind.id == GENERIC:
        return _generic_plans(reader, mapping, info), kind
    return _kind_plans(file, kind, mapping, info), kind


def _check_sources(file: str, mapping: Mapping, info: dict[str, ColumnInfo]) -> None:
    """Refuse a source naming a column the file lacks, a target with no source, or a part
    that is not one of PART_KEYS."""
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


def _generic_plans(
    reader: TableReader, mapping: Mapping, info: dict[str, ColumnInfo]
) -> list[Plan]:
    """A generic table's plans: each target takes the type the analyst gave or the one
    detected; a typed source column already of that type is kept as it is."""
    file = reader.file
    plans: list[Plan] = []
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
        keep = typed is not None and logical_type(typed) == logical
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
    return plans


def _kind_plans(file: str, kind: Kind, mapping: Mapping, info: dict[str, ColumnInfo]) -> list[Plan]:
    """A known kind's plans, in the kind's column order: every target one of its columns,
    every required column mapped, keys and time never null, units converted to the kind's."""
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
    plans: list[Plan] = []
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
        _convert_unit(file, plan, col, source, facts)
        plans.append(plan)
    return plans


def _convert_unit(
    file: str, plan: Plan, col: Column, source: Source, facts: ColumnInfo | None
) -> None:
    """Set `plan`'s factor and offset when the source's unit differs from the column's;
    refuse a unit CityLens cannot convert."""
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


def _part_formats(source: Source, info: dict[str, ColumnInfo]) -> dict[str, tuple[str, ...]]:
    return {k: info[v].formats for k, v in source.parts if v in info}


def logical_type(t: pa.DataType) -> str:
    """The CityLens type (integer, number, date…) an Arrow type reads as."""
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
