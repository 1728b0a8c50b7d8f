"""What validation found, column by column and for the whole file: the `Report` that `commit`
later publishes (it holds the scratch folder of good rows until then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ..errors import IngestError, RowProblem
from ..mapping import Mapping
from ..settings import Settings
from ..whole_column import Question

SCRATCH_FILE = "part-0000.parquet"


Progress = Callable[[float, str], None]


@dataclass
class ColumnReport:
    name: str
    source: str
    type: str
    unit: str = ""
    note: str = ""
    values: int = 0
    nulls: int = 0
    errors: int = 0
    out_of_range: int = 0
    min: str | None = None
    max: str | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Report:
    """What validation found. `ok` when no row is bad; commit refuses bad rows unless told to
    drop them. Holds the scratch file of good rows until `commit` or `discard`."""

    file: str
    format: str
    kind: str
    mapping: Mapping
    settings: Settings
    columns: list[ColumnReport]
    schema: pa.Schema
    time_column: str | None
    units: dict[str, str]
    line_label: str = "line"
    rows_read: int = 0
    rows_ok: int = 0
    rows_bad: int = 0
    empty_rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    error_count: int = 0
    out_of_range_count: int = 0
    missing_count: int = 0
    shape_count: int = 0
    duplicates: int = 0
    duplicate_examples: list[list[int]] = field(default_factory=list)
    time_min: str | None = None
    time_max: str | None = None
    days_covered: int = 0
    span_days: int = 0
    unmapped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)  # readings the analyst must choose
    scratch: Path | None = None
    bytes: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rows_bad == 0 and self.rows_ok > 0 and not self.questions

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0

    def messages(self, limit: int = 10) -> list[str]:
        return [p.message(self.file) for p in self.problems[:limit]]

    def first_error(self) -> IngestError | None:
        if not self.problems:
            return None
        return IngestError.from_problem(self.file, self.problems[0])

    def summary(self) -> str:
        parts = [f"{self.rows_ok:,} rows ok", f"{self.rows_bad:,} bad"]
        if self.duplicates:
            parts.append(f"{self.duplicates:,} duplicates")
        if self.time_min:
            parts.append(f"{self.time_min} → {self.time_max}")
        return f"{self.file} as {self.kind}: " + ", ".join(parts)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "format": self.format,
            "kind": self.kind,
            "mapping": self.mapping.to_json(),
            "settings": self.settings.to_json(),
            "columns": [c.to_json() for c in self.columns],
            "line_label": self.line_label,
            "rows_read": self.rows_read,
            "rows_ok": self.rows_ok,
            "rows_bad": self.rows_bad,
            "empty_rows": self.empty_rows,
            "ok": self.ok,
            "problems": [p.as_dict(self.file) for p in self.problems],
            "problem_count": self.problem_count,
            "error_count": self.error_count,
            "out_of_range_count": self.out_of_range_count,
            "missing_count": self.missing_count,
            "shape_count": self.shape_count,
            "duplicates": self.duplicates,
            "duplicate_examples": self.duplicate_examples,
            "time_column": self.time_column,
            "time_min": self.time_min,
            "time_max": self.time_max,
            "days_covered": self.days_covered,
            "span_days": self.span_days,
            "unmapped": self.unmapped,
            "notes": self.notes,
            "preview": self.preview,
            "questions": [q.to_json() for q in self.questions],
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }
