"""One reader per format, each streaming where the format allows, all yielding the same thing:
Arrow record batches of the file's columns (text, or typed for Parquet) with the 1-based line of
every row, so any bad value can be reported as `file:line:column`.

Also here: receiving an upload into a bounded file (size checked while streaming, a short
upload refused), file names made safe, the guards that run before a file is opened (what a
Parquet footer or a workbook's zip directory says the file expands to), and the cap on any one
value (`Limits.max_cell_bytes`, the CSV reader's field limit), checked batch by batch.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import csv
import io
import itertools
import mmap
import os
import re
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import detect
from .errors import IngestError, RowProblem, printable, quoted

MB = 1024 * 1024
SAMPLE_BYTES = 1 * MB
SPREAD_SAMPLES = 8
SPREAD_BYTES = 64 * 1024
SAMPLE_ROWS = 2000
SAMPLE_LINES = 3 * SAMPLE_ROWS  # rows of a CSV head split to find its header and sample
PREVIEW_ROWS = 20
BATCH_ROWS = 65536
CSV_BLOCK = 4 * MB
TYPED_SLICE = 16 * MB  # bytes of CSV parsed at once by the typed read
FIELD_LIMIT = 16 * MB


@dataclass(frozen=True)
class Limits:
    """What a file may be: checked before it is read (size) or as soon as the header is known.

    `memory_bytes` is what one ingest may hold; the limits left at None derive from it, so
    that one setting (CITYLENS_INGEST_MEMORY_MB) bounds every format: a compressed file can
    say it expands a thousandfold, and only what it expands to costs memory.
    """

    max_bytes: int = 1024 * MB
    max_columns: int = 1000
    memory_bytes: int = 1024 * MB
    max_cell_bytes: int = FIELD_LIMIT  # one value, in any format: the CSV reader's field limit
    max_ratio: int = 200  # compression ratio of one workbook part bigger than 16 MB
    # a workbook's parts once decompressed: openpyxl streams the sheets, so this bounds time
    max_unpacked_bytes: int | None = None  # default 4 × memory
    # a workbook's shared strings, which openpyxl holds as Python strings (~4× their XML)
    max_shared_strings_bytes: int | None = None  # default memory / 16
    # a whole JSON/GeoJSON document is parsed at once: its Python objects take ~10× its text
    max_document_bytes: int | None = None  # default memory / 16
    # one Parquet column chunk once decompressed: a page of it is decompressed whole
    max_chunk_bytes: int | None = None  # default memory / 4
    # the rows read at once (a few batches are in flight: parsed, converted, being written)
    batch_bytes: int | None = None  # default memory / 64

    def __post_init__(self) -> None:
        derived = {
            "max_unpacked_bytes": 4 * self.memory_bytes,
            "max_shared_strings_bytes": self.memory_bytes // 16,
            "max_document_bytes": self.memory_bytes // 16,
            "max_chunk_bytes": self.memory_bytes // 4,
            "batch_bytes": self.memory_bytes // 64,
        }
        for name, value in derived.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)

    @classmethod
    def from_config(cls, cfg=None) -> Limits:
        import config

        cfg = cfg or config.from_env()
        return cls(
            max_bytes=cfg.max_upload_mb * MB,
            max_columns=cfg.max_upload_columns,
            memory_bytes=cfg.ingest_memory_mb * MB,
        )

    def batch_rows(self, row_bytes: float) -> int:
        """Rows per batch for rows of about `row_bytes`: BATCH_ROWS, fewer for wide rows."""
        return int(max(1, min(BATCH_ROWS, self.batch_bytes // max(1.0, row_bytes))))


@dataclass(frozen=True)
class Settings:
    """How a file is read. Each field is detected, shown, and can be overridden."""

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str = '"'
    skip_lines: int = 0  # lines (sheet rows) before the header, or before the data if no header
    has_header: bool = True
    decimal: str = "."
    thousands: str | None = None
    missing: tuple[str, ...] = ("",)
    sheet: str | None = None
    sheets: tuple[str, ...] = ()

    @property
    def header_line(self) -> int | None:
        return self.skip_lines + 1 if self.has_header else None

    @property
    def style(self) -> detect.NumberStyle:
        return detect.NumberStyle(self.decimal, self.thousands)

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "encoding_label": detect.ENCODINGS.get(self.encoding or "", ""),
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "skip_lines": self.skip_lines,
            "has_header": self.has_header,
            "header_line": self.header_line,
            "decimal": self.decimal,
            "thousands": self.thousands,
            "missing": list(self.missing),
            "sheet": self.sheet,
            "sheets": list(self.sheets),
        }


OVERRIDABLE = (
    "encoding",
    "delimiter",
    "quotechar",
    "skip_lines",
    "has_header",
    "decimal",
    "thousands",
    "missing",
    "sheet",
)


# -- names ---------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,]+")


def safe_filename(name: str | None, default: str = "upload") -> str:
    """The last component of a client-supplied name, stripped of anything that could escape a
    folder or trouble a terminal: `../../x.csv` → `x.csv`, `C:\\a\\b.csv` → `b.csv`."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name or name in {".", ".."}:
        name = default
    stem, dot, ext = name.rpartition(".")
    if dot and len(name) > 120:
        name = stem[: 120 - len(ext) - 1] + "." + ext[:16]
    return name[:120]


# -- receiving uploads -------------------------------------------------------------------------


def receive(
    stream: BinaryIO,
    filename: str,
    folder: Path,
    max_bytes: int,
    expected_bytes: int | None = None,
    chunk: int = MB,
) -> Path:
    """Copy an upload into `folder` under a fresh name, never holding it whole in memory.

    Refused (and nothing left behind) when it grows past `max_bytes` or stops short of
    `expected_bytes` (the declared length: an upload cut off half way).
    """
    display = safe_filename(filename)
    if expected_bytes is not None and expected_bytes > max_bytes:
        raise _too_large(display, expected_bytes, max_bytes)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(display).suffix.lower()[:16]
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=suffix, dir=folder)
    path = Path(tmp)
    received = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                block = stream.read(chunk)
                if not block:
                    break
                received += len(block)
                if received > max_bytes:
                    raise _too_large(display, received, max_bytes, at_least=True)
                out.write(block)
        if expected_bytes is not None and received != expected_bytes:
            raise IngestError(
                display,
                expected=f"the whole upload of {expected_bytes:,} bytes; only {received:,} "
                "arrived (cut off?): send it again",
                reason="cut_off",
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def receive_data_url(contents: str, filename: str, folder: Path, max_bytes: int) -> Path:
    """The `data:…;base64,…` string a browser upload component sends, decoded in chunks.

    The size is checked from the string's length before decoding; a string cut off half way
    (not a whole number of base64 quanta, or bad padding) is refused.
    """
    display = safe_filename(filename)
    _, _, payload = contents.partition(",") if contents.startswith("data:") else ("", "", contents)
    estimate = len(payload) * 3 // 4 - len(payload[-2:]) + len(payload[-2:].rstrip("="))
    if estimate > max_bytes:
        raise _too_large(display, estimate, max_bytes)
    if len(payload) % 4:
        raise IngestError(
            display,
            expected="a complete upload; the data ends half way (cut off?): send it again",
            reason="cut_off",
        )

    class _Decoded(io.RawIOBase):
        def __init__(self) -> None:
            self.pos = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            n = 4 * MB if n is None or n < 0 else max(4, n // 3 * 4)
            part = payload[self.pos : self.pos + n]
            self.pos += len(part)
            try:
                return base64.b64decode(part, validate=True)
            except binascii.Error as exc:
                raise IngestError(
                    display,
                    expected=f"base64 data; the upload is damaged or cut off ({exc})",
                    reason="cut_off",
                ) from None

    return receive(_Decoded(), display, folder, max_bytes)


def _too_large(file: str, size: int, limit: int, at_least: bool = False) -> IngestError:
    more = "more than " if at_least else ""
    return IngestError(
        file,
        expected=f"a file of at most {human_size(limit)}; this one is {more}{human_size(size)} "
        "(the limit is set by CITYLENS_MAX_UPLOAD_MB)",
        reason="too_large",
    )


def human_size(n: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:,.0f} {unit}" if unit == "bytes" or n >= 100 else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} MB"


def check_size(path: Path, file: str, limits: Limits) -> int:
    """The file's size from the file system, refused before anything is read if too large."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise _too_large(file, size, limits.max_bytes)
    if size == 0:
        raise IngestError(file, expected="a file with data; this one is empty", reason="empty")
    return size


# -- text streaming ------------------------------------------------------------------------


class TextStream(io.RawIOBase):
    """A file read as UTF-8 bytes whatever its encoding, after skipping its first lines.

    UTF-8 input is only validated (ASCII blocks cost one `isascii`); a byte that is not UTF-8
    switches the rest of the file to the `mixed` reading and is remembered as a note. Other
    encodings are decoded and re-encoded by block. Counts raw bytes (progress, size limit) and
    counts the lines it emits, so a reader can tell whether rows and lines matched.
    """

    def __init__(
        self,
        path: Path,
        file: str,
        encoding: str,
        skip_lines: int = 0,
        max_bytes: int | None = None,
        block: int = CSV_BLOCK,
    ) -> None:
        self.fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.file = file
        self.encoding = encoding
        self.size = os.fstat(self.fh.fileno()).st_size
        self.max_bytes = max_bytes
        self.block = block
        self.raw_read = 0
        self.lines_out = 0  # newlines emitted, for error positions
        self.to_skip = skip_lines
        self._last = b""
        self.notes: list[str] = []
        self.error: BaseException | None = None
        self._pending = b""
        self._eof = False
        self._passthrough = encoding in {"utf-8", "utf-8-sig"}
        self._bom = encoding == "utf-8-sig"
        self._decoder = None if self._passthrough else detect.decoder(encoding)
        self._utf8_tail = b""

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.fh.close()
        super().close()

    @property
    def fraction(self) -> float:
        return min(1.0, self.raw_read / self.size) if self.size else 1.0

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        try:
            return self._read(n)
        except BaseException as exc:
            self.error = exc
            raise

    def _read(self, n: int) -> bytes:
        want = float("inf") if n is None or n < 0 else n
        while len(self._pending) < want and not self._eof:
            self._fill()
        if n is None or n < 0:
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def _fill(self) -> None:
        raw = self.fh.read(self.block)
        self.raw_read += len(raw)
        if self.max_bytes is not None and self.raw_read > self.max_bytes:
            raise _too_large(self.file, self.raw_read, self.max_bytes, at_least=True)
        final = not raw
        self._eof = final
        if self._bom and self.raw_read <= self.block and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        out = self._convert(raw, final)
        if self.to_skip:
            out = self._skip(out)
        self.lines_out += out.count(b"\n")
        if out:
            self._last = out[-1:]
        self._pending += out

    @property
    def physical_lines(self) -> int:
        """Lines emitted after the skipped ones (a last line without a newline counts)."""
        return self.lines_out + (1 if self._last not in (b"", b"\n") else 0)

    def _convert(self, raw: bytes, final: bool) -> bytes:
        if self._passthrough:
            data = self._utf8_tail + raw
            if data.isascii():
                self._utf8_tail = b""
                return data
            try:
                _, consumed = codecs.utf_8_decode(data, "strict", final)
            except UnicodeDecodeError as exc:
                line = self.lines_out + data[: exc.start].count(b"\n") + 1 + self._skipped
                self.notes.append(
                    f"from line {line} on, bytes that are not UTF-8 (first {data[exc.start]:#04x})"
                    " were read as Windows-1252"
                )
                self._passthrough = False
                self._decoder = detect.decoder("mixed")
                self._utf8_tail = b""
                return self._decoder.decode(data, final).encode("utf-8")
            self._utf8_tail = data[consumed:]
            return data[:consumed]
        try:
            text = self._decoder.decode(raw, final)
        except UnicodeDecodeError as exc:
            line = self.lines_out + 1 + self._skipped
            raise IngestError(
                self.file,
                line,
                None,
                f"text in {detect.ENCODINGS.get(self.encoding, self.encoding)}; found bytes "
                f"that are not ({exc.reason} at byte {exc.object[exc.start]:#04x}): "
                "choose another encoding",
                reason="encoding",
            ) from None
        if self._first and text:
            self._first = False
            text = text.removeprefix("\ufeff")
        return text.encode("utf-8")

    _skipped = 0
    _first = True

    def _skip(self, out: bytes) -> bytes:
        pos = 0
        while self.to_skip:
            nl = out.find(b"\n", pos)
            if nl < 0:
                return b""
            pos = nl + 1
            self.to_skip -= 1
            self._skipped += 1
        return out[pos:]


def read_samples(path: Path) -> tuple[bytes, list[bytes], bool]:
    """The head of a file, a few blocks spread through the rest, and whether the head is all."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        spread = []
        if size > SAMPLE_BYTES:
            step = (size - SAMPLE_BYTES) // SPREAD_SAMPLES
            for i in range(1, SPREAD_SAMPLES + 1):
                fh.seek(min(size - SPREAD_BYTES, SAMPLE_BYTES + i * step - SPREAD_BYTES))
                spread.append(fh.read(SPREAD_BYTES))
    return head, spread, size <= SAMPLE_BYTES


# -- the common reader interface ----------------------------------------------------------------


@dataclass
class Chunk:
    batch: pa.RecordBatch
    lines: np.ndarray  # int64, the 1-based line (row, record) of each row


class RestartExact(Exception):
    """The fast path met rows it cannot place exactly: read again with the exact reader."""


class TypedReadFailed(Exception):
    """The typed read met a value, a row or a line it cannot take as declared: the file is
    read again as text, so that every problem is found and worded as the text path words it."""


@dataclass
class TableReader:
    """A file opened for reading: its columns, a sample of rows as text, then batches."""

    path: Path
    file: str
    settings: Settings
    limits: Limits
    raw_names: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sample: list[tuple[int, list[str | None]]] = field(default_factory=list)
    types: dict[str, pa.DataType] = field(default_factory=dict)  # typed formats only
    problems: list[RowProblem] = field(default_factory=list)  # rows the reader could not split
    problem_count: int = 0
    empty_rows: int = 0
    line_label: str = "line"
    fraction: float = 0.0
    columns: tuple[str, ...] | None = None  # those validation reads (None: all)

    def batches(self, exact: bool = False) -> Iterator[Chunk]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_names(self, raw: list[str], line: int | None) -> None:
        if len(raw) > self.limits.max_columns:
            raise IngestError(
                self.file,
                line,
                None,
                f"at most {self.limits.max_columns:,} columns (CITYLENS_MAX_UPLOAD_COLUMNS); "
                f"this table has {len(raw):,}",
                reason="too_many_columns",
            )
        self.raw_names = [str(r) if r is not None else "" for r in raw]
        self.names, notes = detect.clean_names(self.raw_names)
        self.notes.extend(notes)

    def _add_problem(self, problem: RowProblem, keep: int = 100) -> None:
        self.problem_count += 1
        if len(self.problems) < keep:
            self.problems.append(problem)

    def _refuse_long_values(self, batch: pa.RecordBatch, lines: np.ndarray) -> None:
        """Refuse a batch holding a text or binary value over the cell cap (the CSV reader's
        field limit), naming its line and column: one vectorised pass over the lengths (over
        the dictionary's values, for a dictionary column)."""
        cap = self.limits.max_cell_bytes
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            values = column.dictionary if pa.types.is_dictionary(column.type) else column
            if not _is_bytes(values.type) or values.nbytes <= cap:
                continue  # not text, or all of it shorter than the cap
            lengths = pc.binary_length(values)
            longest = pc.max(lengths).as_py() or 0
            if longest <= cap:
                continue
            index = pc.index(lengths, longest).as_py()
            if values is not column:
                index = pc.index(column.indices, index).as_py()
            raise IngestError(
                self.file,
                int(lines[index]) if 0 <= index < len(lines) else None,
                self.names.index(name) + 1 if name in self.names else None,
                f"values of at most {human_size(cap)}; {printable(name, 40)!r} holds one of "
                f"{human_size(longest)}",
                reason="too_large",
            )

    def _text_chunk(self, columns: list[list[str | None]], lines: list[int]) -> Chunk:
        """Values read as text, in a batch refused if one is over the cell cap."""
        chunk = Chunk(_string_batch(self.names, columns), np.array(lines, np.int64))
        self._refuse_long_values(chunk.batch, chunk.lines)
        return chunk

    def _refuse_long_sample(self) -> None:
        """The sample refused, as the batches would be, if a value is over the cell cap."""
        if self.sample:
            columns = [list(c) for c in zip(*(cells for _, cells in self.sample), strict=True)]
            lines = np.array([line for line, _ in self.sample], np.int64)
            self._refuse_long_values(_string_batch(self.names, columns), lines)


def _is_bytes(t: pa.DataType) -> bool:
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    )


def _string_batch(names: list[str], columns: list[list[str | None]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)


# -- CSV -----------------------------------------------------------------------------------------


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
        text = _decode_sample(head, encoding, complete, file)
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
        reader.sample = [(line, cells) for line, cells in data[:SAMPLE_ROWS] if _filled(cells)]
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
                    if not _filled(row):
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
                    yield Chunk(_string_batch(self.names, columns), np.array(lines, np.int64))
                    columns = [[] for _ in range(width)]
                    lines = []
            if lines:
                yield Chunk(_string_batch(self.names, columns), np.array(lines, np.int64))
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


def _filled(cells) -> bool:
    return any(c is not None and str(c).strip() for c in cells)


def _decode_sample(head: bytes, encoding: str, complete: bool, file: str) -> str:
    try:
        text = detect.decoder(encoding).decode(head, complete)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        column = exc.start - (head.rfind(b"\n", 0, exc.start) + 1) + 1
        raise IngestError(
            file,
            line,
            column,
            f"text in {detect.ENCODINGS.get(encoding, encoding)}; found byte "
            f"{exc.object[exc.start]:#04x}: choose another encoding",
            reason="encoding",
        ) from None
    return text.lstrip("\ufeff")


# -- Excel ---------------------------------------------------------------------------------------


def check_workbook(path: Path, file: str, limits: Limits) -> None:
    """Refuse a damaged workbook or a zip bomb from the zip directory alone, before opening it.

    Python's zipfile never inflates an entry past its declared size, so the declared sizes
    bound what openpyxl can be made to read.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(
            file,
            expected=f"an Excel workbook (.xlsx, a zip archive); it is damaged or cut off ({exc})",
            reason="damaged",
        ) from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise IngestError(
            file,
            expected="an Excel workbook (.xlsx); this zip archive holds no xl/workbook.xml",
            reason="format",
        )
    if len(infos) > 10_000:
        raise IngestError(
            file,
            expected=f"a workbook of at most 10,000 parts; it has {len(infos):,}",
            reason="bomb",
        )
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > 16 * MB and ratio > limits.max_ratio:
            raise IngestError(
                file,
                expected=f"a workbook whose parts compress at most {limits.max_ratio}:1; "
                f"{printable(info.filename)} expands {ratio:,.0f}:1 to "
                f"{info.file_size / MB:,.0f} MB (a zip bomb?)",
                reason="bomb",
            )
    if total > limits.max_unpacked_bytes:
        raise IngestError(
            file,
            expected=f"a workbook expanding to at most {limits.max_unpacked_bytes / MB:,.0f} MB; "
            f"this one expands to {total / MB:,.0f} MB (a zip bomb?)",
            reason="bomb",
        )
    with zipfile.ZipFile(path) as zf:
        whole = _parsed_whole(zf, infos, limits)
        for info in infos:
            if info.filename in whole and info.file_size > limits.max_shared_strings_bytes:
                raise IngestError(
                    file,
                    expected="a workbook whose strings and styles take at most "
                    f"{human_size(limits.max_shared_strings_bytes)} (they are read into memory "
                    f"at once; CITYLENS_INGEST_MEMORY_MB / 16); {printable(info.filename)} "
                    f"takes {human_size(info.file_size)}: save the sheet as CSV",
                    reason="too_large",
                )
            if info.file_size > limits.max_cell_bytes and info.filename.endswith(".xml"):
                longest = _longest_text(zf, info, limits.max_cell_bytes)
                if longest > limits.max_cell_bytes:
                    raise IngestError(
                        file,
                        expected=f"values of at most {human_size(limits.max_cell_bytes)}; "
                        f"{printable(info.filename)} holds {human_size(longest)} of text "
                        "between two tags",
                        reason="too_large",
                    )


SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _parsed_whole(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits) -> set[str]:
    """The parts openpyxl reads whole even in read-only mode (it streams only the sheets): the
    content types, the workbook, the styles, the relationships and the shared strings, found
    as openpyxl finds them (by content type), whatever they are named."""
    whole = {"[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml"}
    whole |= {i.filename for i in infos if i.filename.endswith(".rels")}
    types = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
    if types is None or types.file_size > limits.max_shared_strings_bytes:
        return whole  # refused by size, or openpyxl refuses a package without it
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(zf.read(types))
    except (ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return whole  # openpyxl cannot open it either, and says so
    for item in root:
        if item.get("ContentType") == SHARED_STRINGS:
            whole.add(item.get("PartName", "").lstrip("/"))
    return whole


def _longest_text(zf: zipfile.ZipFile, info: zipfile.ZipInfo, enough: int) -> int:
    """The longest stretch of a part without a `<` (a cell's text, or a tag's attributes),
    found as the part is inflated block by block; stops once it passes `enough`."""
    longest = run = 0
    try:
        with zf.open(info) as fh:
            while block := fh.read(4 * MB):
                marks = np.flatnonzero(np.frombuffer(block, np.uint8) == ord("<"))
                if len(marks) == 0:
                    run += len(block)
                else:
                    gaps = int(np.diff(marks).max(initial=0))
                    longest = max(longest, run + int(marks[0]), gaps)
                    run = len(block) - int(marks[-1])
                if max(longest, run) > enough:
                    break
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        pass  # a damaged part: openpyxl refuses the workbook, and says where
    return max(longest, run)


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        text = (
            value.isoformat(sep=" ")
            if hasattr(value, "hour") and hasattr(value, "day")
            else value.isoformat()
        )
        return text.removesuffix(" 00:00:00") if hasattr(value, "hour") else text
    text = str(value)
    return text if text.strip() else None


class XlsxReader(TableReader):
    """A workbook sheet through openpyxl's read-only mode; lines are the sheet's row numbers."""

    sheet_rows: int = 0

    @classmethod
    def open(cls, path: Path, file: str, overrides: dict, limits: Limits) -> XlsxReader:
        check_workbook(path, file, limits)
        wb = _load_workbook(path, file)
        try:
            sheets = tuple(wb.sheetnames)
            sheet = overrides.get("sheet") or _first_table(wb, sheets)
            if sheet not in sheets:
                raise IngestError(
                    file,
                    expected=f"a sheet named {sheet!r}; the workbook has "
                    + ", ".join(repr(s) for s in sheets),
                    reason="sheet",
                )
            ws = wb[sheet]
            rows = []
            for row in ws.iter_rows(min_row=1, values_only=True):
                rows.append([_cell_text(v) for v in row])
                if len(rows) >= SAMPLE_ROWS + 50:
                    break
            sheet_rows = ws.max_row or 0
        finally:
            wb.close()
        if not any(_filled(r) for r in rows):
            raise IngestError(
                file, expected=f"data in sheet {sheet!r}; it is empty", reason="empty"
            )
        settings = Settings("xlsx", sheet=sheet, sheets=sheets)
        reader = cls(path, file, settings, limits)
        reader.sheet_rows = sheet_rows
        if len(sheets) > 1 and not overrides.get("sheet"):
            reader.notes.append(
                f"{len(sheets)} sheets ({', '.join(sheets)}): reading {sheet!r}; choose another"
            )
        texts = [[c or "" for c in r] for r in rows]
        if "skip_lines" in overrides or "has_header" in overrides:
            index = int(overrides.get("skip_lines", 0))
            has_header = bool(overrides.get("has_header", True))
        else:
            index, has_header = detect.detect_header(_trim_rows(texts))
        reader.settings = Settings(
            "xlsx", skip_lines=index, has_header=has_header, sheet=sheet, sheets=sheets
        )
        header = _trim(rows[index]) if index < len(rows) else []
        widths = [len(_trim(r)) for r in rows[index:] if _filled(r)]
        width = len(header) if has_header else max(widths, key=widths.count, default=0)
        if has_header:
            reader._set_names([h or "" for h in header] + [""] * (width - len(header)), index + 1)
            first = index + 1
        else:
            reader._set_names([f"column_{i}" for i in range(1, width + 1)], index + 1)
            first = index
        reader.data_line = first + 1
        reader.sample = [
            (i + 1, (r + [None] * width)[:width])
            for i, r in enumerate(rows[first : first + SAMPLE_ROWS], start=first)
            if _filled(r)
        ]
        if not reader.sample and len(rows) < SAMPLE_ROWS:
            raise IngestError(
                file,
                index + 1,
                None,
                f"rows of data after the header in sheet {sheet!r}; there are none",
                reason="no_rows",
            )
        reader._refuse_long_sample()
        return reader

    data_line: int = 2

    def batches(self, exact: bool = False) -> Iterator[Chunk]:
        wb = _load_workbook(self.path, self.file)
        width = len(self.names)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        lines: list[int] = []
        missing = set(self.settings.missing) - {""}
        try:
            ws = wb[self.settings.sheet]
            rows = ws.iter_rows(min_row=self.data_line, values_only=True)
            for number, row in enumerate(rows, start=self.data_line):
                cells = [_cell_text(v) for v in row]
                if not _filled(cells):
                    self.empty_rows += 1 if number <= self.sheet_rows else 0
                    continue
                extra = [i for i, c in enumerate(cells[width:], start=width + 1) if c is not None]
                if extra:
                    self._add_problem(
                        RowProblem(
                            number,
                            extra[0],
                            "",
                            f"expected {width} columns, found a value in column {extra[0]}",
                            kind="shape",
                        )
                    )
                    continue
                cells = (cells + [None] * width)[:width]
                for col, value in zip(columns, cells, strict=True):
                    col.append(None if value in missing else value)
                lines.append(number)
                if len(lines) >= BATCH_ROWS // 4:
                    self.fraction = min(1.0, number / max(1, self.sheet_rows))
                    yield self._text_chunk(columns, lines)
                    columns = [[] for _ in range(width)]
                    lines = []
            if lines:
                yield self._text_chunk(columns, lines)
        except IngestError:
            raise
        except Exception as exc:  # openpyxl raises many kinds on damaged sheets
            raise IngestError(
                self.file, expected=f"a readable sheet ({printable(exc, 200)})", reason="damaged"
            ) from None
        finally:
            wb.close()
        self.fraction = 1.0


def _first_table(wb, sheets: tuple[str, ...]) -> str:
    """The first sheet with at least two filled rows (a header and data), else the first."""
    for name in sheets:
        filled = 0
        for row in wb[name].iter_rows(min_row=1, max_row=50, values_only=True):
            filled += any(v is not None and str(v).strip() for v in row)
            if filled >= 2:
                return name
    return sheets[0]


def _load_workbook(path: Path, file: str):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, zipfile errors…
        raise IngestError(
            file,
            expected=f"a readable Excel workbook ({type(exc).__name__}: {printable(exc, 200)})",
            reason="damaged",
        ) from None


def _trim(row: list) -> list:
    end = len(row)
    while end and (row[end - 1] is None or str(row[end - 1]).strip() == ""):
        end -= 1
    return list(row[:end])


def _trim_rows(rows: list[list[str]]) -> list[list[str]]:
    width = max((len(_trim(r)) for r in rows), default=0)
    return [(r + [""] * width)[:width] if _filled(r) else [] for r in rows]


# -- Parquet -------------------------------------------------------------------------------------


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
    text = [f.name for f in schema if _is_bytes(_plain_type(f.type))]
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


# -- JSON, NDJSON, GeoJSON -------------------------------------------------------------------


class JsonReader(TableReader):
    """JSON records: an array of objects (or an object holding one), NDJSON (one object per
    line, streamed), or a GeoJSON FeatureCollection (properties plus lon/lat of each point,
    of the centroid otherwise). Values are read as text and typed like CSV cells."""

    records: list | None = None
    keys: tuple[str, ...] = ()

    @classmethod
    def open(cls, path: Path, file: str, overrides: dict, limits: Limits, fmt: str) -> JsonReader:
        head, spread, complete = read_samples(path)
        encoding = overrides.get("encoding") or detect.detect_encoding(
            [head, *spread], complete=complete
        )
        settings = Settings(fmt, encoding=encoding)
        reader = cls(
            path, file, settings, limits, line_label="line" if fmt == "ndjson" else "record"
        )
        if fmt == "ndjson":
            sample = []
            for line, record in reader._ndjson(limit=SAMPLE_ROWS, max_bytes=limits.batch_bytes):
                if isinstance(record, dict):
                    sample.append((line, record))
            keys = _keys(r for _, r in sample)
            reader._set_names(keys, 1)
            reader.keys = keys
            reader.sample = [(line, [_json_text(r.get(k)) for k in keys]) for line, r in sample]
            reader._refuse_long_sample()
            if not reader.sample:
                raise IngestError(
                    file, expected="JSON objects, one per line; found none", reason="no_rows"
                )
            return reader
        size = path.stat().st_size
        if size > limits.max_document_bytes:
            raise IngestError(
                file,
                expected=f"a JSON document of at most {human_size(limits.max_document_bytes)}"
                f" (it is parsed whole; CITYLENS_INGEST_MEMORY_MB / 16); this one is "
                f"{human_size(size)}: give larger data as NDJSON, one object per line",
                reason="too_large",
            )
        raw = path.read_bytes()
        text = _decode_sample(raw, encoding, True, file)
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise IngestError(
                file, exc.lineno, exc.colno, f"valid JSON ({exc.msg})", reason="parse"
            ) from None
        records = (
            _geojson_records(doc, file)
            if fmt == "geojson" or _is_geojson(doc)
            else _records(doc, file)
        )
        if fmt != "geojson" and _is_geojson(doc):
            settings = Settings("geojson", encoding=encoding)
            reader.settings = settings
        keys = _keys(records)
        reader._set_names(keys, None)
        reader.keys = keys
        reader.records = records
        if not records:
            raise IngestError(
                file, expected="records; the JSON holds an empty list", reason="no_rows"
            )
        reader.sample = [
            (i, [_json_text(r.get(k)) for k in keys])
            for i, r in enumerate(records[:SAMPLE_ROWS], 1)
        ]
        reader._refuse_long_sample()
        return reader

    def _ndjson(
        self, limit: int | None = None, max_bytes: int | None = None
    ) -> Iterator[tuple[int, object]]:
        """(line, record) of each line that is not blank: the first `limit` of them, or those
        in the first `max_bytes` (at least one). A line longer than the limit on a JSON
        document is refused before it is parsed."""
        stream = TextStream(
            self.path, self.file, self.settings.encoding or "utf-8", max_bytes=self.limits.max_bytes
        )
        text = io.TextIOWrapper(io.BufferedReader(stream, MB), encoding="utf-8", newline=None)
        longest = self.limits.max_document_bytes
        count = 0
        read = 0
        try:
            for number in itertools.count(1):
                line = text.readline(longest + 1)
                if not line:
                    break
                if len(line) > longest:
                    raise IngestError(
                        self.file,
                        number,
                        None,
                        f"lines of at most {human_size(longest)} (an object is parsed whole; "
                        "CITYLENS_INGEST_MEMORY_MB / 16); this one is longer",
                        reason="too_large",
                    )
                read += len(line)
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    record = _BadLine(exc.colno, exc.msg, line)
                self.fraction = stream.fraction
                yield number, record
                count += 1
                if (limit and count >= limit) or (max_bytes and read >= max_bytes):
                    break
        finally:
            stream.close()

    def batches(self, exact: bool = False) -> Iterator[Chunk]:
        keys = self.keys
        index = dict(zip(keys, range(len(keys)), strict=True))
        columns: list[list[str | None]] = [[] for _ in keys]
        lines: list[int] = []
        missing = set(self.settings.missing) - {""}
        unknown: dict[str, int] = {}
        source = (
            self._ndjson()
            if self.records is None
            else ((i, r) for i, r in enumerate(self.records, start=1))
        )
        total = None if self.records is None else len(self.records)
        held = 0  # characters of the values gathered for the next batch
        for number, record in source:
            if not isinstance(record, dict):
                what = (
                    f"valid JSON ({record.msg}), found {quoted(record.line.strip())}"
                    if isinstance(record, _BadLine)
                    else f"a JSON object, found {quoted(orjson.dumps(record).decode())}"
                )
                self._add_problem(
                    RowProblem(
                        number, getattr(record, "column", None), "", f"expected {what}", "shape"
                    )
                )
                continue
            values = [None] * len(keys)
            for key, value in record.items():
                i = index.get(key)
                if i is None:
                    unknown.setdefault(key, number)
                    continue
                text = _json_text(value)
                values[i] = None if text in missing else text
                held += len(text) if text else 0
            if all(v is None for v in values):
                self.empty_rows += 1
                continue
            for col, value in zip(columns, values, strict=True):
                col.append(value)
            lines.append(number)
            if len(lines) >= BATCH_ROWS // 2 or held >= self.limits.batch_bytes:
                if total:
                    self.fraction = number / total
                yield self._text_chunk(columns, lines)
                columns = [[] for _ in keys]
                lines = []
                held = 0
        if lines:
            yield self._text_chunk(columns, lines)
        for key, number in list(unknown.items())[:10]:
            self.notes.append(
                f"key {printable(key, 40)!r}, first on {self.line_label} {number}, is not in the "
                f"first {SAMPLE_ROWS:,} records: not imported"
            )
        self.fraction = 1.0


@dataclass
class _BadLine:
    column: int
    msg: str
    line: str


def _keys(records) -> list[str]:
    keys: dict[str, None] = {}
    for r in records:
        if isinstance(r, dict):
            for k in r:
                keys.setdefault(str(k), None)
    return list(keys)


def _json_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return orjson.dumps(value).decode()


def _records(doc, file: str) -> list:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) == 1:
            return lists[0]
        if all(not isinstance(v, list | dict) for v in doc.values()):
            return [doc]
    raise IngestError(
        file,
        expected="an array of objects, or an object holding one array of objects",
        reason="shape",
    )


def _is_geojson(doc) -> bool:
    return isinstance(doc, dict) and doc.get("type") in {"FeatureCollection", "Feature"}


def _geojson_records(doc, file: str) -> list[dict]:
    if not _is_geojson(doc):
        raise IngestError(file, expected="a GeoJSON FeatureCollection", reason="shape")
    features = [doc] if doc.get("type") == "Feature" else doc.get("features")
    if not isinstance(features, list):
        raise IngestError(
            file, expected="a FeatureCollection with a features array", reason="shape"
        )
    from shapely.geometry import shape

    records = []
    for i, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            raise IngestError(file, i, None, "a Feature object", reason="shape")
        props = feature.get("properties") or {}
        record = dict(props) if isinstance(props, dict) else {"properties": props}
        geometry = feature.get("geometry")
        lon = lat = None
        if isinstance(geometry, dict) and geometry.get("type") == "Point":
            coords = geometry.get("coordinates") or []
            if len(coords) >= 2:
                lon, lat = coords[0], coords[1]
        elif isinstance(geometry, dict):
            with contextlib.suppress(Exception):
                centre = shape(geometry).centroid
                lon, lat = round(centre.x, 7), round(centre.y, 7)
            record["geometry"] = orjson.dumps(geometry).decode()
        record.setdefault("lon", lon)
        record.setdefault("lat", lat)
        records.append(record)
    return records


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
