"""Parquet files: the footer checked before any page is read (what each column chunk expands
to), then typed batches with the 1-based row of every row.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import IngestError, printable
from .settings import MB, SAMPLE_ROWS, Limits, Settings
from .table_reader import Chunk, TableReader, is_bytes
from .uploads import human_size


def check_parquet(path: Path, file: str, limits: Limits) -> pq.ParquetFile:
    """Open a Parquet file after checking both magic numbers and the footer: what each column
    chunk says it expands to, against the cell cap and the memory budget, before any page is
    decompressed (a page is decompressed whole: 7 KB of zstd can hold a 200 MB value).

    Text columns that a row group stores with a dictionary are read as dictionaries, so that
    a value repeated on many rows is measured before it is copied onto each of them.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    if size < 12 or head != b"PAR1" or tail != b"PAR1":
        raise IngestError(
            file,
            expected="a whole Parquet file; it does not end with the Parquet footer "
            "(cut off or damaged): export it again",
            reason="damaged",
        )
    try:
        # pages read as they are decoded, not a row group's chunks at once
        options = {"pre_buffer": False, "buffer_size": MB}
        pf = pq.ParquetFile(path, **options)
        dictionaries = _check_footer(pf.metadata, pf.schema_arrow, file, limits)
        if dictionaries:
            pf = pq.ParquetFile(path, read_dictionary=dictionaries, **options)
            _ = pf.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise IngestError(
            file,
            expected=f"a readable Parquet footer ({printable(exc, 200)})",
            reason="damaged",
        ) from None
    return pf


def _leaf_columns(metadata: pq.FileMetaData, names: list[str]) -> list[str | None]:
    """The top-level column of each leaf column chunk (a top-level name may hold dots)."""
    known = set(names)
    tops = []
    for i in range(metadata.num_columns):
        path = metadata.schema.column(i).path
        if path in known:
            tops.append(path)
            continue
        found = [n for n in names if path.startswith(n + ".")]
        tops.append(max(found, key=len, default=None))
    return tops


def _check_footer(
    metadata: pq.FileMetaData, schema: pa.Schema, file: str, limits: Limits
) -> list[str]:
    """Refuse a column chunk that expands past the memory budget, or to more per row than the
    cell cap (some value must then be longer); return the top-level text columns stored with
    a dictionary in some row group."""
    text = [f.name for f in schema if is_bytes(_plain_type(f.type))]
    dictionaries: set[str] = set()
    leaves = _leaf_columns(metadata, schema.names)
    first = 1
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        where = f"row group {g + 1} (rows {first:,} to {first + group.num_rows - 1:,})"
        for c in range(group.num_columns):
            chunk = group.column(c)
            name = printable(chunk.path_in_schema, 40)
            size = chunk.total_uncompressed_size
            if size > limits.max_chunk_bytes:
                raise IngestError(
                    file,
                    first,
                    None,
                    f"column chunks that expand to at most {human_size(limits.max_chunk_bytes)} "
                    f"(CITYLENS_INGEST_MEMORY_MB / 4); column {name!r} in {where} expands to "
                    f"{human_size(size)}: write the file with smaller row groups",
                    reason="too_large",
                )
            if size > limits.max_cell_bytes * max(1, group.num_rows):
                raise IngestError(
                    file,
                    first,
                    None,
                    f"values of at most {human_size(limits.max_cell_bytes)}; column {name!r} in "
                    f"{where} expands to {human_size(size)}, so a value is longer",
                    reason="too_large",
                )
            if chunk.has_dictionary_page and leaves[c] in text:
                dictionaries.add(leaves[c])
        first += group.num_rows
    return sorted(dictionaries)


class ParquetReader(TableReader):
    @classmethod
    def open(cls, path: Path, file: str, overrides: dict, limits: Limits) -> ParquetReader:
        pf = check_parquet(path, file, limits)
        reader = cls(path, file, Settings("parquet", has_header=True), limits, line_label="row")
        schema = pf.schema_arrow
        reader._set_names(schema.names, None)
        reader.types = {n: _plain_type(f.type) for n, f in zip(reader.names, schema, strict=True)}
        reader.rows = pf.metadata.num_rows
        if reader.rows == 0:
            raise IngestError(
                file, expected="rows of data; this Parquet file has none", reason="no_rows"
            )
        first = next(reader._chunks(pf, SAMPLE_ROWS), None)
        if first is not None:
            reader.sample = [
                (i + 1, [_text(v) for v in row.values()])
                for i, row in enumerate(first.batch.to_pylist())
            ]
        return reader

    rows: int = 0
    unpacked: int = 0  # bytes of text copied out of the file's dictionaries so far

    def batches(self, exact: bool = False) -> Iterator[Chunk]:
        pf = check_parquet(self.path, self.file, self.limits)
        self.unpacked = 0
        yield from self._chunks(pf)

    def _chunks(self, pf: pq.ParquetFile, limit: int | None = None) -> Iterator[Chunk]:
        """The rows (the first `limit` rows) of the columns validation reads, in batches sized
        to each row group's width; every value is checked against the cell cap before it is
        cast to its plain type."""
        names = [n for n in self.names if self.columns is None or n in self.columns] or [
            self.names[0]  # a mapping of constants only still counts the rows
        ]
        in_file = dict(zip(self.names, self.raw_names, strict=True))
        columns: list[str] | None = [in_file[n] for n in names]
        if len(set(self.raw_names)) < len(self.raw_names):  # names the file repeats: read all
            names, columns = self.names, None
        leaves = _leaf_columns(pf.metadata, self.raw_names)
        read = [i for i, top in enumerate(leaves) if columns is None or top in columns]
        done = 0
        group = 0
        try:
            for group in range(pf.num_row_groups):
                meta = pf.metadata.row_group(group)
                expands = sum(meta.column(c).total_uncompressed_size for c in read)
                size = self.limits.batch_rows(expands / max(1, meta.num_rows))
                if limit is not None:
                    size = min(size, limit)
                parts = pf.iter_batches(batch_size=size, row_groups=[group], columns=columns)
                for part in parts:
                    batch = pa.RecordBatch.from_arrays(part.columns, names=names)
                    lines = np.arange(done + 1, done + 1 + batch.num_rows, dtype=np.int64)
                    self._refuse_long_values(batch, lines)
                    for start, plain in self._plain(batch, lines):
                        yield Chunk(plain, lines[start : start + plain.num_rows])
                    done += batch.num_rows
                    self.fraction = done / max(1, self.rows)
                    if limit is not None and done >= limit:
                        return
        except (pa.ArrowException, OSError) as exc:
            raise IngestError(
                self.file,
                done + 1,
                None,
                f"readable data in row group {group + 1} ({printable(exc, 200)})",
                reason="damaged",
            ) from None

    def _plain(
        self, batch: pa.RecordBatch, lines: np.ndarray
    ) -> Iterator[tuple[int, pa.RecordBatch]]:
        """(first row, slice) of `batch` cast to plain types, each slice copying at most a
        batch's worth of text out of the dictionaries. Refused once the text copied out of
        them passes 4 × the memory budget or 64 × the file's size: short values repeated
        stay far below, a long value on every row (a decompression bomb) does not."""
        per_row = np.zeros(batch.num_rows, np.int64)
        widest, most = "", 0
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if pa.types.is_dictionary(column.type) and len(column.dictionary):
                lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
                lengths = pc.fill_null(lengths, 0).to_numpy(zero_copy_only=False)
                per_row += lengths
                if lengths.sum() > most:
                    widest, most = name, int(lengths.sum())
        total = int(per_row.sum())
        self.unpacked += total
        allowed = max(self.limits.max_unpacked_bytes, 64 * self.path.stat().st_size)
        if self.unpacked > allowed:
            raise IngestError(
                self.file,
                int(lines[0]),
                self.names.index(widest) + 1 if widest in self.names else None,
                f"text that expands to at most {human_size(allowed)}; by row {int(lines[-1]):,}"
                f" the values repeated in {printable(widest, 40)!r} and the other text columns "
                f"expand to {human_size(self.unpacked)} (a decompression bomb?)",
                reason="bomb",
            )
        cuts = [0, batch.num_rows]
        if total > self.limits.batch_bytes:
            steps = np.arange(self.limits.batch_bytes, total, self.limits.batch_bytes)
            cuts += np.searchsorted(np.cumsum(per_row), steps, "right").tolist()
        cuts = sorted(set(cuts))
        for start, end in itertools.pairwise(cuts):
            part = batch.slice(start, end - start)
            arrays = [
                pc.cast(c, self.types[n]) if c.type != self.types[n] else c
                for c, n in zip(part.columns, part.schema.names, strict=True)
            ]
            yield start, pa.RecordBatch.from_arrays(arrays, names=part.schema.names)


def _plain_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return _plain_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    return t


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value, default=str).decode()
    if hasattr(value, "isoformat"):
        return (
            value.isoformat(sep=" ")
            if hasattr(value, "hour") and hasattr(value, "day")
            else value.isoformat()
        )
    return str(value)
