"""The scratch folder of good rows: its Parquet file, whose row groups do not depend on how the
reader cut its batches and where only the columns the queries filter on keep min/max
statistics; forgotten by `discard`, or by `cleanup_scratch` once nobody came back for it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ...schemas import Kind
from ..mapping import GENERIC
from .report import SCRATCH_FILE, Report

ROW_GROUP_ROWS = 128 * 1024


class ScratchWriter:
    """Good rows into one scratch Parquet file (zstd, row groups of exactly 128k rows but the
    last): the layout does not depend on how the reader cut its batches. Rows so wide that
    128k of them would take more than `max_pending` bytes are written in shorter row groups
    as soon as they reach it. Min/max statistics are kept for the `statistics` columns."""

    def __init__(
        self, folder: Path, schema: pa.Schema, statistics: list[str], max_pending: int
    ) -> None:
        self.path = folder / SCRATCH_FILE
        self.schema = schema
        self.writer = pq.ParquetWriter(
            self.path, schema, compression="zstd", write_statistics=statistics
        )
        self.pending: list[pa.RecordBatch] = []
        self.rows = 0
        self.bytes = 0
        self.max_pending = max_pending

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self.pending.append(batch)
        self.rows += batch.num_rows
        self.bytes += batch.nbytes
        if self.rows >= ROW_GROUP_ROWS:
            table = pa.Table.from_batches(self.pending, self.schema)
            whole = self.rows - self.rows % ROW_GROUP_ROWS
            self.writer.write_table(table.slice(0, whole), row_group_size=ROW_GROUP_ROWS)
            self.pending = table.slice(whole).to_batches()
            self.rows -= whole
            self.bytes = sum(b.nbytes for b in self.pending)
        elif self.bytes >= self.max_pending:
            table = pa.Table.from_batches(self.pending, self.schema)
            self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.pending, self.rows, self.bytes = [], 0, 0

    def close(self) -> None:
        if self.pending:
            table = pa.Table.from_batches(self.pending, self.schema)
            self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.pending, self.rows = [], 0
        self.writer.close()


def statistics_columns(kind: Kind, schema: pa.Schema, time_column: str | None) -> list[str]:
    """The columns whose row groups keep min/max statistics: those the queries of a known kind
    filter in the scan (time, district), which the statistics let skip, and the time span the
    catalog reads from them. The others' would cost a sixth of the part's writing for
    nothing; a generic table keeps them all (an analyst may filter on any column)."""
    if kind.id == GENERIC:
        return list(schema.names)
    return [c for c in (time_column, "district") if c is not None and c in schema.names]


def discard(report: Report) -> None:
    """Forget a report's staged rows (the analyst cancelled)."""
    if report.scratch is not None:
        shutil.rmtree(report.scratch, ignore_errors=True)
        report.scratch = None


def cleanup_scratch(scratch_dir: Path | None = None, older_than_hours: float = 24) -> list[Path]:
    """Remove scratch folders of reports nobody committed or discarded (a closed browser tab)."""
    import tempfile
    import time

    root = Path(scratch_dir or tempfile.gettempdir())
    limit = time.time() - older_than_hours * 3600
    removed = []
    for folder in root.glob("citylens-ingest-*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:
            continue
    return removed
