"""Validation of a whole file against a mapping: the plan, the typed pass over a CSV when it can
(else, or when it gives up, the text pass, exact when the fast one cannot place a row), then,
when the whole file settles a reading the sample guessed otherwise, the passes again with the
plan revised.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from ...schemas import Kind
from .. import detect
from ..detect import ColumnInfo
from ..errors import IngestError
from ..mapping import GENERIC, Mapping
from ..table_reader import RestartExact, TableReader, TypedReadFailed
from ..whole_column import Watch
from .passes import one_pass
from .plan import ARROW_TYPES, Plan, plan_mapping
from .report import Progress, Report
from .typed import typed_chunks, typed_read_types


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
            report = one_pass(reader, *args, reader.batches(exact=False))
        except RestartExact:
            _empty(folder)
            report = one_pass(reader, *args, reader.batches(exact=True))
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
    try:
        chunks = typed_chunks(reader, types)
        args = (plans, kind, schema, time_column, folder, on_progress, watch)
        return one_pass(reader, *args, chunks, True)
    except TypedReadFailed:
        _empty(folder)
        reader.problems, reader.problem_count, reader.empty_rows = [], 0, 0
        reader.fraction = 0.0
        return None
