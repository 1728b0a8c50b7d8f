"""What every reader is and yields: `TableReader` (columns, a text sample, then batches) and
`Chunk` (a record batch with the 1-based line of every row), and the cap on any one value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import detect
from .errors import IngestError, RowProblem, printable
from .settings import Limits, Settings
from .uploads import human_size


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
            if not is_bytes(values.type) or values.nbytes <= cap:
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
        chunk = Chunk(string_batch(self.names, columns), np.array(lines, np.int64))
        self._refuse_long_values(chunk.batch, chunk.lines)
        return chunk

    def _refuse_long_sample(self) -> None:
        """The sample refused, as the batches would be, if a value is over the cell cap."""
        if self.sample:
            columns = [list(c) for c in zip(*(cells for _, cells in self.sample), strict=True)]
            lines = np.array([line for line, _ in self.sample], np.int64)
            self._refuse_long_values(string_batch(self.names, columns), lines)


def is_bytes(t: pa.DataType) -> bool:
    """Whether values of `t` are text or binary (what the cell cap applies to)."""
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    )


def string_batch(names: list[str], columns: list[list[str | None]]) -> pa.RecordBatch:
    """Columns of text values as a record batch of strings."""
    return pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)


def filled(cells: Iterable[object]) -> bool:
    """Whether a row holds anything but blanks (an empty row is skipped and counted)."""
    return any(c is not None and str(c).strip() for c in cells)
