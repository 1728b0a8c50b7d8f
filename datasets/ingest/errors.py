"""Refusals and row problems, located the way compilers do: `file:line:column: what was expected`.

The same text is printed by the command line and shown by the upload page, so it names the file
the analyst chose (never a server path), the 1-based line (or row, for Parquet and JSON records),
the 1-based column, and what was expected against what was found.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

FOUND_MAX_CHARS = 40


def printable(text: object, limit: int | None = None) -> str:
    """Text from a file made safe for a terminal or a log line: control characters escaped.

    Nothing is HTML-escaped: the page shows these strings as text (Dash escapes by default).
    """
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch == "\t" or unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"}:
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def quoted(value: object) -> str:
    """A found value as the messages show it: `'438.963.314.634.858'`, shortened, escaped."""
    return "'" + printable(value, FOUND_MAX_CHARS) + "'"


def location(file: str, line: int | None = None, column: int | None = None) -> str:
    parts = [file]
    if line is not None:
        parts.append(str(line))
        if column is not None:
            parts.append(str(column))
    return ":".join(parts)


class IngestError(Exception):
    """An input refused with a message meant for the analyst.

    `str()` is `file:line:column: expected …` (line and column omitted when they do not
    apply), `expected` being what the file should have held there; `reason` is a stable short
    key a page can translate or test against.
    """

    def __init__(
        self,
        file: str,
        line: int | None = None,
        column: int | None = None,
        expected: str = "",
        *,
        reason: str = "invalid",
    ) -> None:
        self.file = printable(file)
        self.line = line
        self.column = column
        self.expected = expected
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{location(self.file, self.line, self.column)}: expected {self.expected}"

    @classmethod
    def from_problem(cls, file: str, problem: RowProblem, more: str = "") -> IngestError:
        text = problem.expected.removeprefix("expected ")
        return cls(file, problem.line, problem.column, text + more, reason="bad_rows")

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "expected": self.expected,
            "reason": self.reason,
            "message": str(self),
        }


@dataclass(frozen=True)
class RowProblem:
    """One bad value: where it is and what was expected there."""

    line: int | None
    column: int | None  # 1-based position of the source column in the file
    name: str  # the source column's name (or the target column's, for derived values)
    expected: str  # the whole message: "expected a number in st_x, found '438.963'"
    kind: str = "error"  # error | range | missing | shape

    def message(self, file: str) -> str:
        return f"{location(printable(file), self.line, self.column)}: {self.expected}"

    def as_dict(self, file: str) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "name": self.name,
            "expected": self.expected,
            "kind": self.kind,
            "message": self.message(file),
        }
