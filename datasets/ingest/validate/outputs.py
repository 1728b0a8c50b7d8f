"""Where a pass sends its good rows, on two threads of its own so that parsing never waits: the
scratch file (and the rollups built from it), and the facts taken from them (min/max and counts
per column, the days covered, the keys for duplicates, the series rollups' sums)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ... import rollups
from ...rollup_series import SeriesRollups
from ...schemas import Kind
from ..mapping import GENERIC
from ..settings import MB
from .duplicates import Duplicates
from .plan import Plan
from .report import SCRATCH_FILE, ColumnReport
from .scratch import ScratchWriter, statistics_columns

DAY_SPAN = 1 << 20  # days a batch may span for its distinct days to be marked, not sorted


class PassOutputs:
    """The good rows of one pass: written to the scratch file on the writer thread, their facts
    taken on the facts thread, each in order; `finish` builds the rollups beside the part,
    `abort` lets go of a pass that failed, `shutdown` waits for both threads either way."""

    def __init__(
        self,
        kind: Kind,
        schema: pa.Schema,
        plans: list[Plan],
        col_reports: list[ColumnReport],
        time_column: str | None,
        folder: Path,
        memory: int,
    ) -> None:
        keys = [k for k in kind.keys if k in schema.names] if kind.id != GENERIC else schema.names
        if kind.id != GENERIC and len(keys) != len(kind.keys):
            keys = []
        self.kind, self.folder = kind, folder
        self.plans, self.col_reports, self.time_column = plans, col_reports, time_column
        self.dupes = Duplicates(list(keys))
        self.series = SeriesRollups.for_schema(kind.id, schema, folder, SCRATCH_FILE)
        statistics = statistics_columns(kind, schema, time_column)
        self.writer = ScratchWriter(folder, schema, statistics, memory // 8)
        self.sink = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer")
        self.facts = ThreadPoolExecutor(1, thread_name_prefix="ingest-facts")
        self.pending: list[Future] = []
        # the rollups' DuckDB within half the ingest's memory budget
        limit = f"{max(64, memory // (2 * MB))}MB"
        self.database = (
            self.sink.submit(rollups.connect, None, limit) if rollups.grains_for(kind.id) else None
        )
        self.days: set[int] = set()
        self.stats: dict[str, list] = {p.name: [None, None] for p in plans}

    def add(self, out: pa.RecordBatch, good_lines: np.ndarray) -> None:
        """Queue a batch of good rows; waits while more than four tasks are in flight."""
        self.pending.append(self.sink.submit(self.writer.add, out))
        self.pending.append(self.facts.submit(self._take_facts, out, good_lines))
        while len(self.pending) > 4:
            self.pending.pop(0).result()

    def _take_facts(self, out: pa.RecordBatch, good_lines: np.ndarray) -> None:
        _stats(out, self.plans, self.stats, self.col_reports)
        if self.time_column:
            _days(out.column(self.time_column), self.days)
        self.dupes.add(out, good_lines)
        if self.series:
            self.series.add(out)

    def finish(self) -> None:
        """Close the part and build the rollups the commit links beside it: the series summed
        as we went, the other grains selected from the part by DuckDB once it is written."""
        kind, writer, series = self.kind.id, self.writer, self.series
        self.pending.append(self.sink.submit(writer.close))
        if series:
            self.pending.append(self.facts.submit(series.finish))
        skip = series.grains if series else ()
        database = self.database  # opened on the writer thread by now
        con = database.result() if database else None
        build = rollups.build_rollups
        self.pending.append(
            self.sink.submit(build, kind, writer.path, self.folder, skip=skip, con=con)
        )
        for future in self.pending:
            future.result()
        build(kind, writer.path, self.folder, con=con)  # any grain the series could not sum

    def abort(self) -> None:
        """Cancel what is queued, wait for what runs, and close the part and the series."""
        for future in self.pending:
            future.cancel()
        self.sink.shutdown(wait=True)
        self.facts.shutdown(wait=True)
        self.writer.writer.close()
        if self.series:
            self.series.stop()

    def shutdown(self) -> None:
        """Wait for both threads and close the rollups' database (when it opened)."""
        self.sink.shutdown(wait=True)
        self.facts.shutdown(wait=True)
        if self.database is not None and self.database.exception() is None:
            self.database.result().close()

    def duplicates(self) -> tuple[int, list[list[int]]]:
        """Rows repeating an earlier row's key, and a few groups' lines (once finished)."""
        return self.dupes.result(self.writer.path)


def _stats(out: pa.RecordBatch, plans: list[Plan], stats: dict, col_reports) -> None:
    for i, (plan, cr) in enumerate(zip(plans, col_reports, strict=True)):
        col = out.column(i)
        nulls = col.null_count
        cr.nulls += nulls
        cr.values += len(col) - nulls
        if plan.logical not in {"integer", "number", "timestamp", "date"} or nulls == len(col):
            continue
        if not (
            pa.types.is_integer(col.type)
            or pa.types.is_floating(col.type)
            or pa.types.is_temporal(col.type)
        ):
            continue
        mm = pc.min_max(col)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        cur = stats[plan.name]
        if lo is not None and (cur[0] is None or lo < cur[0]):
            cur[0] = lo
        if hi is not None and (cur[1] is None or hi > cur[1]):
            cur[1] = hi


def _days(col: pa.Array, days: set[int]) -> None:
    if pa.types.is_timestamp(col.type):
        seconds = pc.cast(col.drop_null(), pa.timestamp("s"), safe=False)  # days: no fractions
        secs = pc.cast(seconds, pa.int64()).to_numpy()
        _add_days(secs // 86400, days)
    elif pa.types.is_date(col.type):
        _add_days(pc.cast(col, pa.int32()).drop_null().to_numpy(), days)


def _add_days(day: np.ndarray, days: set[int]) -> None:
    """The distinct days of a batch: marked in an array spanning them (no sort) when the span
    is at most DAY_SPAN days, else sorted out."""
    if not len(day):
        return
    lo, hi = int(day.min()), int(day.max())
    if hi - lo >= DAY_SPAN:
        days.update(np.unique(day).tolist())
        return
    seen = np.zeros(hi - lo + 1, bool)
    seen[day - lo] = True
    days.update((np.flatnonzero(seen) + lo).tolist())


def show_value(value: object) -> str | None:
    """A value as the report shows it: floats to six significant digits, times in ISO 8601."""
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
