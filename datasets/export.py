"""Downloads: CSV a spreadsheet cannot turn into formulas, and whole datasets streamed so a
multi-million-row dataset never sits in memory at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from .catalog import Dataset
from .cells import short_sql
from .query import QueryEngine, ident

BATCH_ROWS = 64 * 1024
# One row group read ahead, not pyarrow's default of several per file across several files: a
# download of 12 M rows peaked at 884 MB (RSS) with the defaults, 432 MB with this.
SCAN = {"batch_size": BATCH_ROWS, "batch_readahead": 1, "fragment_readahead": 1}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_TYPES = {"string", "large_string", "binary", "large_binary"}  # Arrow's names, as catalogued


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would evaluate with a quote (CSV injection); numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> str:
    text_columns = [
        c
        for c in frame.columns
        if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])
    ]
    if text_columns:
        frame = frame.assign(**{c: frame[c].map(neutralise) for c in text_columns})
    frame = frame.rename(columns={c: neutralise(str(c)) for c in frame.columns})
    return frame.to_csv(index=False)


def csv_chunks(dataset: Dataset) -> Iterator[str]:
    """The current version as CSV text chunks, formula-looking cells neutralised."""
    scanner = pads.dataset(dataset.folder, format="parquet").scanner(**SCAN)
    first = True
    for batch in scanner.to_batches():
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        if first:
            out.writerow([neutralise(name) for name in batch.schema.names])
            first = False
        columns = [column.to_pylist() for column in batch.columns]
        for row in zip(*columns, strict=True):
            out.writerow([neutralise(value) for value in row])
        yield buffer.getvalue()


def preview(engine: QueryEngine, dataset: Dataset, rows: int = 10) -> pd.DataFrame:
    """The first rows of the current version, text cut short by DuckDB (`datasets.cells`): a
    16 MB value never leaves the scan."""
    src = engine.source(dataset.meta.city, dataset.meta.kind, dataset.id)
    columns = ", ".join(
        f"{short_sql(ident(c['name']))} AS {ident(c['name'])}"
        if c["type"] in TEXT_TYPES
        else ident(c["name"])
        for c in dataset.current.columns
    )
    return engine.frame(f"SELECT {columns} FROM {src} LIMIT {int(rows)}")


def stored_parquet_file(dataset: Dataset) -> Path | None:
    """The current version's Parquet file, to send as it is stored; None when appends made the
    version several files."""
    files = sorted(dataset.folder.glob("*.parquet"))
    return files[0] if len(files) == 1 else None


class _TakenChunks:
    """A write-only file for ParquetWriter that keeps what it is given until it is taken."""

    closed = False

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def parquet_chunks(dataset: Dataset) -> Iterator[bytes]:
    """The current version's files as one Parquet file, in the pieces written as each batch of
    rows is: a download never lands in a temporary file, nor whole in memory."""
    source = pads.dataset(dataset.folder, format="parquet")
    sink = _TakenChunks()
    with pq.ParquetWriter(sink, source.schema, compression="zstd") as writer:
        for batch in source.to_batches(**SCAN):
            writer.write_batch(batch)
            if chunk := sink.take():
                yield chunk
    if footer := sink.take():
        yield footer
