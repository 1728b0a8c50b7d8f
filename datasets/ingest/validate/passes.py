"""One pass over a file's batches: each column converted and checked, the bad rows counted and
the first of them described, the good rows handed to `PassOutputs` (the scratch file, their
facts), and the report completed from what the pass and the reader found."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa

from ...cells import short_text
from ...schemas import Kind
from ..errors import RowProblem
from ..mapping import Mapping
from ..settings import PREVIEW_ROWS, Settings
from ..table_reader import Chunk, TableReader, TypedReadFailed
from ..whole_column import Watch
from .checks import MAX_PROBLEMS, check_column
from .convert import convert_column
from .outputs import PassOutputs, show_value
from .plan import Plan
from .report import ColumnReport, Progress, Report


def one_pass(
    reader: TableReader,
    plans: list[Plan],
    kind: Kind,
    schema: pa.Schema,
    time_column: str | None,
    folder: Path,
    on_progress: Progress | None,
    watch: Watch | None,
    chunks: Iterable[Chunk],
    typed: bool = False,
) -> Report:
    """One pass over `chunks`. A typed pass gives up (TypedReadFailed) at the first value its
    conversion calls bad: the message must quote the text, which only the text pass has.
    `watch` gathers what the whole file says about the guessed readings."""
    settings: Settings = reader.settings
    report = _new_report(reader, plans, kind, schema, time_column)
    memory = reader.limits.memory_bytes
    outputs = PassOutputs(kind, schema, plans, report.columns, time_column, folder, memory)
    problems: list[RowProblem] = []
    try:
        for chunk in chunks:
            if chunk.batch.num_rows == 0:
                continue
            out, good_lines = _converted(
                chunk, plans, schema, report, problems, settings, watch, typed
            )
            _add_preview(report, out, good_lines)
            outputs.add(out, good_lines)
            problems.sort(key=lambda p: (p.line or 0, p.column or 0))
            del problems[MAX_PROBLEMS:]
            if on_progress:
                on_progress(reader.fraction, "validate")
        outputs.finish()
    except BaseException:
        outputs.abort()
        raise
    finally:
        outputs.shutdown()
    _complete(report, reader, problems, outputs)
    if on_progress:
        on_progress(1.0, "validate")
    return report


def _new_report(
    reader: TableReader, plans: list[Plan], kind: Kind, schema: pa.Schema, time_column: str | None
) -> Report:
    """An empty report with one column report per plan."""
    col_reports = [
        ColumnReport(
            name=p.name,
            source=p.source.label,
            type=str(p.type),
            unit=p.unit,
            note=p.note,
        )
        for p in plans
    ]
    return Report(
        file=reader.file,
        format=reader.settings.format,
        kind=kind.id,
        mapping=Mapping(kind.id, {}),
        settings=reader.settings,
        columns=col_reports,
        schema=schema,
        time_column=time_column,
        units={p.name: p.unit for p in plans if p.unit},
        line_label=reader.line_label,
    )


def _converted(
    chunk: Chunk,
    plans: list[Plan],
    schema: pa.Schema,
    report: Report,
    problems: list[RowProblem],
    settings: Settings,
    watch: Watch | None,
    typed: bool,
) -> tuple[pa.RecordBatch, np.ndarray]:
    """The good rows of a batch converted to `schema`, and their lines; the bad ones counted on
    `report` and, while `problems` has room, described there."""
    batch, lines = chunk.batch, chunk.lines
    n = batch.num_rows
    report.rows_read += n
    row_bad = np.zeros(n, bool)
    room = len(problems) < MAX_PROBLEMS  # later batches only hold later lines
    arrays = []
    for i, (plan, cr) in enumerate(zip(plans, report.columns, strict=True)):
        conv = convert_column(plan, batch, settings)
        if watch:
            watch.see(i, plan, batch, conv.bad, settings.style)
        if typed and conv.bad.any():
            raise TypedReadFailed(f"a bad value in {plan.name}")
        arrays.append(conv.array)
        row_bad |= check_column(conv, plan, cr, report, problems if room else None, lines)
    out = pa.RecordBatch.from_arrays(arrays, schema=schema)
    if row_bad.any():
        good = ~row_bad
        out = out.filter(pa.array(good))
        good_lines = lines[good]
    else:
        good_lines = lines
    report.rows_bad += int(row_bad.sum())
    report.rows_ok += out.num_rows
    return out, good_lines


def _add_preview(report: Report, out: pa.RecordBatch, good_lines: np.ndarray) -> None:
    """The first good rows, as shown, until the preview is full."""
    if out.num_rows and len(report.preview) < PREVIEW_ROWS:
        for line, row in zip(good_lines, out.slice(0, PREVIEW_ROWS).to_pylist(), strict=False):
            if len(report.preview) >= PREVIEW_ROWS:
                break
            report.preview.append(
                {"line": int(line), **{k: short_text(show_value(v)) for k, v in row.items()}}
            )


def _complete(
    report: Report, reader: TableReader, problems: list[RowProblem], outputs: PassOutputs
) -> None:
    """The report's totals once the pass is over: the reader's shape problems joined to the
    values', duplicates, each column's min/max, and the time the file covers."""
    report.problem_count = report.error_count + report.out_of_range_count + report.missing_count
    report.shape_count = reader.problem_count
    if reader.problem_count:
        report.rows_bad += reader.problem_count
        report.rows_read += reader.problem_count
        report.problem_count += reader.problem_count
        problems.extend(reader.problems)
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        del problems[MAX_PROBLEMS:]
    report.problems = problems
    report.empty_rows = reader.empty_rows
    report.duplicates, report.duplicate_examples = outputs.duplicates()
    for cr in report.columns:
        lo, hi = outputs.stats[cr.name]
        cr.min, cr.max = show_value(lo), show_value(hi)
    if report.time_column:
        cr = next(c for c in report.columns if c.name == report.time_column)
        report.time_min, report.time_max = cr.min, cr.max
        report.days_covered = len(outputs.days)
        if outputs.days:
            report.span_days = max(outputs.days) - min(outputs.days) + 1
