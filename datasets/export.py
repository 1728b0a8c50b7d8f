"""Downloads: CSV a spreadsheet cannot turn into formulas, and whole datasets streamed so a
multi-million-row dataset never sits in memory at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from .catalog import Dataset

BATCH_ROWS = 64 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
    scanner = pads.dataset(dataset.folder, format="parquet").scanner(batch_size=BATCH_ROWS)
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


def preview(dataset: Dataset, rows: int = 10):
    """The first rows of the current version, read from the first row group only."""
    return pads.dataset(dataset.folder, format="parquet").head(rows).to_pandas()


def parquet_file(dataset: Dataset, scratch_dir) -> str:
    """One Parquet file of the current version: the stored file, or, for a version made of
    several appended files, their rows streamed into one file in `scratch_dir`."""
    files = sorted(dataset.folder.glob("*.parquet"))
    if len(files) == 1:
        return str(files[0])
    source = pads.dataset(dataset.folder, format="parquet")
    target = scratch_dir / f"{dataset.id}-v{dataset.current_version}.parquet"
    with pq.ParquetWriter(target, source.schema, compression="zstd") as writer:
        for batch in source.to_batches(batch_size=BATCH_ROWS):
            writer.write_batch(batch)
    return str(target)
