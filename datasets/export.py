"""Downloads: CSV a spreadsheet cannot turn into formulas, and whole datasets streamed so a
multi-million-row dataset never sits in memory at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from .cache import LRU
from .catalog import Dataset
from .cells import short_sql
from .cities import CityProfile
from .query import QueryEngine, ident
from .schemas import KINDS

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


FLOAT_TYPES = (pa.float16(), pa.float32())  # written at their own precision, not as float64
ESTIMATE_ROWS = 2000  # rows written to measure a CSV's average row width


def district_names(dataset: Dataset, city: CityProfile | None, lang: str) -> dict[int, str] | None:
    """The names a CSV writes beside district codes, in `lang`; None when the dataset's kind has
    no district code (a generic upload's `district` column may be anything) or its city is gone."""
    kind = KINDS.get(dataset.meta.kind)
    if city is None or kind is None or "district" not in kind.schema.names:
        return None
    return city.district_names(lang)


def csv_chunks(dataset: Dataset, district_names: dict[int, str] | None = None) -> Iterator[str]:
    """The current version as CSV text chunks, formula-looking cells neutralised. Floats stored
    as float32 are written as float32 reads (`43.9`), not as the float64 nearest to it
    (`43.900001525878906`); with `district_names`, a `district_name` column follows `district`."""
    scanner = pads.dataset(dataset.folder, format="parquet").scanner(**SCAN)
    yield from _csv_text(scanner.to_batches(), district_names)


def _csv_text(
    batches: Iterable[pa.RecordBatch], district_names: dict[int, str] | None
) -> Iterator[str]:
    first = True
    for batch in batches:
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        names = batch.schema.names
        header = list(names)
        columns = [_cells(column) for column in batch.columns]
        if district_names is not None and "district" in names:
            at = names.index("district") + 1  # the name right after the code it names
            header.insert(at, "district_name")
            codes = batch.column("district").to_pylist()
            columns.insert(at, [neutralise(district_names.get(code, "")) for code in codes])
        if first:
            out.writerow([neutralise(name) for name in header])
            first = False
        out.writerows(zip(*columns, strict=True))
        yield buffer.getvalue()


def _cells(column: pa.Array) -> list:
    """A column's cells for csv.writer: float32 as their shortest round-tripping text (Arrow's
    cast), every other value as Python's, text neutralised."""
    if column.type in FLOAT_TYPES:
        return column.cast(pa.string()).to_pylist()
    return [neutralise(value) for value in column.to_pylist()]


def csv_size_estimate(dataset: Dataset, district_names: dict[int, str] | None = None) -> int:
    """The bytes `csv_chunks` would send, from the average width of the first rows written the
    same way times the catalogued row count: an estimate, known before anything is streamed."""
    names = tuple(sorted(district_names.items())) if district_names is not None else None
    header_bytes, row_bytes = _csv_widths(dataset.folder, dataset.current.created_at, names)
    return header_bytes + round(row_bytes * dataset.current.rows)


_WIDTHS = LRU(256)  # by folder, publication time and district names


def _csv_widths(
    folder: Path, published: str, names: tuple[tuple[int, str], ...] | None
) -> tuple[int, float]:
    """(header bytes, average bytes of a row) of the CSV of the first rows in `folder`, kept:
    a version's files never change once `published` (a folder reused after a delete is not)."""
    key = (folder, published, names)
    widths = _WIDTHS.get(key)
    if widths is None:
        widths = _measure_widths(folder, names)
        _WIDTHS.put(key, widths)
    return widths


def _measure_widths(folder: Path, names: tuple[tuple[int, str], ...] | None) -> tuple[int, float]:
    head = pads.dataset(folder, format="parquet").head(ESTIMATE_ROWS)
    district_names = dict(names) if names is not None else None
    text = "".join(_csv_text(head.to_batches(), district_names)).encode()
    header_bytes = text.index(b"\n") + 1 if text else 0
    return header_bytes, (len(text) - header_bytes) / max(head.num_rows, 1)


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
