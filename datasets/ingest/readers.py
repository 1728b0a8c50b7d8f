"""The CSV reader, which most uploads go through, and `open_reader`, which picks the reader for a
format. Every reader streams where its format allows and yields the same thing: Arrow record
batches of the file's columns (text, or typed for Parquet and the CSV typed read) with the
1-based line of every row, so any bad value can be reported as `file:line:column`.

The other readers live beside this module (`xlsx_reader`, `parquet_reader`, `json_reader`), on
`table_reader.TableReader`. The CSV block and slice sizes are read from this module's globals
when a file is read, so a test can shrink them here to make a small file span many batches.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import detect
from .errors import IngestError, RowProblem, printable, quoted
from .json_reader import JsonReader
from .parquet_reader import ParquetReader
from .settings import BATCH_ROWS, CSV_BLOCK, FIELD_LIMIT, MB, SAMPLE_ROWS, Limits, Settings
from .table_reader import Chunk, RestartExact, TableReader, TypedReadFailed, filled, string_batch
from .text_stream import TextStream, decode_sample, read_samples
from .xlsx_reader import XlsxReader

__all__ = ["CSV_BLOCK", "SAMPLE_LINES", "TYPED_SLICE", "CsvReader", "open_reader"]

SAMPLE_LINES = 3 * SAMPLE_ROWS  # rows of a CSV head split to find its header and sample
TYPED_SLICE = 16 * MB  # bytes of CSV parsed at once by the typed read


class CsvReader(TableReader):
    """Delimited text: detection on a 1 MB sample, then pyarrow's streaming reader.

    Line numbers are exact: on the fast path each row is one line, which is checked at the end
    (rows read = lines read). Rows with the wrong number of fields, a quote never closed, or
    newlines inside quoted values send the read to the exact path, Python's csv module, which
    knows the line of every record.
    """

    data_line: int = 1

    @classmethod
    def open(cls, path: Path, file: str, overrides: dict, limits: Limits) -> CsvReader:
        head, spread, complete = read_samples(path)
        encoding = (
            overrides.get("encoding")
            or detect.detect_encoding_guess([head, *spread], complete=complete).encoding
        )
        if encoding not in detect.ENCODINGS:
            raise IngestError(
                file,
                expected=f"an encoding among {', '.join(detect.ENCODINGS)}; got {encoding!r}",
                reason="override",
            )
        text = decode_sample(head, encoding, complete, file)
        if not complete:
            cut = text.rfind("\n")
            if cut < 0:
                raise IngestError(
                    file,
                    1,
                    None,
                    "a line break in the first 1 MB: is this a table?",
                    reason="shape",
                )
            text = text[: cut + 1]
        if not text.strip():
            raise IngestError(file, expected="a file with data; this one is blank", reason="empty")
        hint = "\t" if Path(file).suffix.lower() in {".tsv", ".tab"} else None
        delimiter = overrides.get("delimiter") or detect.detect_delimiter(text, hint)
        quotechar = overrides.get("quotechar") or '"'
        # the header, any preamble before it and the sample rows are all a reader needs: the
        # rest of the 1 MB head would only cost time (half of a 100 MB upload's inspection)
        skip = int(overrides.get("skip_lines", 0))
        rows = detect.split_lines(text, delimiter, quotechar, limit=max(skip, 0) + SAMPLE_LINES)
        if "skip_lines" in overrides or "has_header" in overrides:
            has_header = bool(overrides.get("has_header", True))
            index = next((i for i, (line, _) in enumerate(rows) if line > skip), len(rows))
        else:
            index, has_header = detect.detect_header([r for _, r in rows])
            skip = rows[index][0] - 1 if index < len(rows) else 0
        settings = Settings("csv", encoding, delimiter, quotechar, skip, has_header)
        reader = cls(path, file, settings, limits)
        if index >= len(rows):
            raise IngestError(
                file, skip + 1, None, "a table after the skipped lines", reason="shape"
            )
        header_line, header = rows[index]
        if has_header:
            reader._set_names(header, header_line)
            data = rows[index + 1 :]
            reader.data_line = data[0][0] if data else header_line + 1
        else:
            reader._set_names([f"column_{i}" for i in range(1, len(header) + 1)], header_line)
            data = rows[index:]
            reader.data_line = header_line
        reader.sample = [(line, cells) for line, cells in data[:SAMPLE_ROWS] if filled(cells)]
        if not reader.sample and complete:
            raise IngestError(
                file,
                header_line,
                None,
                "rows of data after the header; the file has a header and nothing else",
                reason="no_rows",
            )
        return reader

    def batches(self, exact: bool = False) -> Iterator[Chunk]:
        if exact:
            yield from self._exact()
        else:
            yield from self._fast()

    def _stream(self) -> TextStream:
        return TextStream(
            self.path,
            self.file,
            self.settings.encoding or "utf-8",
            skip_lines=self.data_line - 1,
            max_bytes=self.limits.max_bytes,
        )

    def _fast(self) -> Iterator[Chunk]:
        s = self.settings
        stream = self._stream()
        invalid: list[tuple[int, int, str]] = []

        def on_invalid(row) -> str:
            invalid.append((row.expected_columns, row.actual_columns, row.text))
            return "skip"

        reader = None
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=self.names, block_size=CSV_BLOCK, use_threads=True
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=s.delimiter or ",",
                    quote_char=s.quotechar or False,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(self.names, pa.string()),
                    null_values=list(s.missing),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    check_utf8=False,
                ),
            )
            line = self.data_line
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                if invalid:
                    raise RestartExact()
                lines = line + np.arange(batch.num_rows, dtype=np.int64)
                line += batch.num_rows
                batch, lines = self._drop_empty(batch, lines)
                self.fraction = stream.fraction
                yield Chunk(batch, lines)
            if invalid or stream.physical_lines != line - self.data_line:
                # ragged rows, or newlines inside quoted values: lines need the exact reader
                raise RestartExact()
            self.notes.extend(n for n in stream.notes if n not in self.notes)
        except RestartExact:
            raise
        except Exception as exc:
            if stream.error is not None and stream.error is not exc:
                raise stream.error from None
            if isinstance(exc, pa.ArrowInvalid):
                raise RestartExact() from exc
            raise
        finally:
            stream.close()

    @property
    def can_read_typed(self) -> bool:
        """Whether `typed_batches` may be tried: UTF-8 text (checked by Arrow as it reads), and
        missing markers that hold no line break (a null hides what it held)."""
        s = self.settings
        return s.encoding in {"utf-8", "utf-8-sig"} and not any(
            "\n" in m or "\r" in m for m in s.missing
        )

    def typed_batches(
        self,
        types: dict[str, pa.DataType],
        true_values: tuple[str, ...] = (),
        false_values: tuple[str, ...] = (),
    ) -> Iterator[Chunk]:
        """The file read straight into `types` ({name: Arrow type}, every column), in slices of
        the memory-mapped file parsed on every core: no text pass, no cast after.

        Raises `TypedReadFailed` (the caller reads again as text) on the first thing the text
        path would see differently: a value that does not parse as its type, a row with the
        wrong number of fields, bytes that are not UTF-8, or a line break that does not end a
        row. Line breaks inside quoted values are not followed across Arrow's blocks here
        (that serialises the read), so a text value holding one, or a carriage return not
        followed by a newline, ends the typed read: without them, row n is line n.
        """
        if not self.can_read_typed:
            raise TypedReadFailed("not UTF-8, or a missing marker holding a line break")
        text = [n for n in self.names if pa.types.is_string(types[n])]
        options = self._typed_options(types, true_values, false_values)
        size, ranges = self._typed_ranges()
        source = pa.memory_map(str(self.path))
        parsed = _parsed(source.read_buffer(), ranges, options)
        try:
            line = self.data_line
            for end, table in parsed:
                self.fraction = end / size
                for batch in table.to_batches():
                    if any(_breaks_a_line(batch.column(n)) for n in text):
                        raise TypedReadFailed("a line break inside a value")
                    lines = line + np.arange(batch.num_rows, dtype=np.int64)
                    line += batch.num_rows
                    yield Chunk(*self._drop_empty(batch, lines))
        finally:
            parsed.close()  # waits for a slice still being parsed, before the file is unmapped
            source.close()

    def _typed_ranges(self) -> tuple[int, list[tuple[int, int]]]:
        """The file's size and the byte ranges of its data, in slices that end on a newline."""
        with open(self.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > self.limits.max_bytes or size == 0:
                raise TypedReadFailed("a size the text path refuses")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                start = self._data_offset(mm)
                if mm.find(b"\r", start) >= 0 and _LONE_CR.search(mm, start):
                    raise TypedReadFailed("a carriage return alone")
                return size, list(_slices(mm, start))

    def _data_offset(self, mm: mmap.mmap) -> int:
        """Where the data starts: after a UTF-8 byte order mark and the lines before the data,
        as `TextStream` skips them."""
        pos = 3 if self.settings.encoding == "utf-8-sig" and mm[:3] == codecs.BOM_UTF8 else 0
        for _ in range(self.data_line - 1):
            nl = mm.find(b"\n", pos)
            if nl < 0:
                return len(mm)
            pos = nl + 1
        return pos

    def _typed_options(self, types, true_values, false_values) -> tuple:
        s = self.settings
        return (
            pacsv.ReadOptions(column_names=self.names, block_size=CSV_BLOCK, use_threads=True),
            pacsv.ParseOptions(
                delimiter=s.delimiter or ",",
                quote_char=s.quotechar or False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            pacsv.ConvertOptions(
                column_types=types,
                null_values=list(s.missing),
                true_values=list(true_values),
                false_values=list(false_values),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                check_utf8=True,
            ),
        )

    def _drop_empty(self, batch: pa.RecordBatch, lines: np.ndarray):
        """Rows with no value at all (blank lines, `;;;;`) are skipped, and counted."""
        if batch.num_columns == 0 or batch.num_rows == 0:
            return batch, lines
        if any(col.null_count == 0 for col in batch.columns):
            return batch, lines  # a column full in every row: no row is empty
        empty = None
        for col in batch.columns:
            nulls = col.is_null()
            empty = nulls if empty is None else pc.and_(empty, nulls)
        if not pc.any(empty).as_py():
            return batch, lines
        keep = pc.invert(empty)
        mask = keep.to_numpy(zero_copy_only=False)
        self.empty_rows += int((~mask).sum())
        return batch.filter(keep), lines[mask]

    def _exact(self) -> Iterator[Chunk]:
        """Python's csv module: slower, but every record's line and every ragged row is known."""
        s = self.settings
        self.problems.clear()
        self.problem_count = 0
        self.empty_rows = 0
        stream = self._stream()
        text = io.TextIOWrapper(io.BufferedReader(stream, CSV_BLOCK), encoding="utf-8", newline="")
        csv.field_size_limit(FIELD_LIMIT)
        reader = csv.reader(text, delimiter=s.delimiter or ",", quotechar=s.quotechar, strict=True)
        width = len(self.names)
        missing = set(s.missing)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        lines: list[int] = []
        base = self.data_line - 1
        start = 0
        try:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    error = _csv_error(self.file, base + start + 1, base + reader.line_num, exc)
                    raise error from None
                line = base + start + 1
                start = reader.line_num
                if len(row) != width:
                    if not filled(row):
                        self.empty_rows += 1
                        continue
                    found = len(row)
                    self._add_problem(
                        RowProblem(
                            line,
                            min(found, width) + 1,
                            "",
                            f"expected {width} fields, found {found}"
                            + (f": {quoted(s.delimiter.join(row))}" if found < width else ""),
                            kind="shape",
                        )
                    )
                    continue
                values = [None if v in missing else v for v in row]
                if all(v is None for v in values):
                    self.empty_rows += 1
                    continue
                for col, value in zip(columns, values, strict=True):
                    col.append(value)
                lines.append(line)
                if len(lines) >= BATCH_ROWS:
                    self.fraction = stream.fraction
                    yield Chunk(string_batch(self.names, columns), np.array(lines, np.int64))
                    columns = [[] for _ in range(width)]
                    lines = []
            if lines:
                yield Chunk(string_batch(self.names, columns), np.array(lines, np.int64))
            self.notes.extend(n for n in stream.notes if n not in self.notes)
        except UnicodeDecodeError:
            raise stream.error or IngestError(self.file, expected="readable text") from None
        finally:
            stream.close()
        self.fraction = 1.0


_LONE_CR = re.compile(rb"\r(?!\n)")


def _slices(mm: mmap.mmap, start: int) -> Iterator[tuple[int, int]]:
    """[begin, end) byte ranges of about TYPED_SLICE from `start`, each ending after a newline
    (or at the end of the file): a slice is parsed whole, on every core, then let go."""
    size = len(mm)
    begin = start
    while begin < size:
        end = begin + TYPED_SLICE
        if end >= size:
            end = size
        else:
            cut = mm.rfind(b"\n", begin, end)
            if cut < 0:
                cut = mm.find(b"\n", end)
            end = size if cut < 0 else cut + 1
        yield begin, end
        begin = end


def _parsed(buffer: pa.Buffer, ranges: list[tuple[int, int]], options: tuple):
    """(end, table) of each byte range of `buffer` parsed as CSV; the next range is parsed (by
    Arrow, on every core) while the caller converts and writes this one."""

    def parse(begin: int, end: int) -> pa.Table:
        return pacsv.read_csv(pa.BufferReader(buffer.slice(begin, end - begin)), *options)

    with ThreadPoolExecutor(1, thread_name_prefix="ingest-csv") as pool:
        ahead = pool.submit(parse, *ranges[0]) if ranges else None
        for i, (_, end) in enumerate(ranges):
            try:
                table = ahead.result()
            except pa.ArrowInvalid as exc:
                raise TypedReadFailed(str(exc)) from None
            ahead = pool.submit(parse, *ranges[i + 1]) if i + 1 < len(ranges) else None
            yield end, table


def _breaks_a_line(column: pa.Array) -> bool:
    """Whether a text column's bytes hold a line break (all of its data buffer is looked at,
    which may say yes for a value outside the slice: the text path then reads the file)."""
    data = column.buffers()[2]
    if data is None:
        return False
    raw = np.frombuffer(data, np.uint8)
    return bool(np.any((raw == 10) | (raw == 13)))


def _csv_error(file: str, start: int, end: int, exc: csv.Error) -> IngestError:
    message = str(exc)
    if "unexpected end of data" in message:
        return IngestError(
            file,
            start,
            None,
            "a closing quote: the quoted field that starts on this line never ends "
            "(was the file cut off?)",
            reason="parse",
        )
    if "field larger than field limit" in message:
        return IngestError(
            file,
            start,
            None,
            f"fields under {FIELD_LIMIT // MB} MB: a field is longer",
            reason="parse",
        )
    if "NUL" in message:
        return IngestError(
            file, end, None, "text; found a NUL byte (binary data?)", reason="binary"
        )
    return IngestError(file, end, None, f"well-formed CSV ({printable(message)})", reason="parse")


def open_reader(path: Path, file: str, fmt: str, overrides: dict, limits: Limits) -> TableReader:
    if fmt == "csv":
        return CsvReader.open(path, file, overrides, limits)
    if fmt == "xlsx":
        return XlsxReader.open(path, file, overrides, limits)
    if fmt == "parquet":
        return ParquetReader.open(path, file, overrides, limits)
    if fmt in {"json", "ndjson", "geojson"}:
        return JsonReader.open(path, file, overrides, limits, fmt)
    raise IngestError(file, expected=f"a format among {', '.join(detect.FORMATS)}", reason="format")
