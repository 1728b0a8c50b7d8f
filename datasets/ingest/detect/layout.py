"""The layout of delimited text: its delimiter, the header row after any preamble, and column
names made usable (blank, repeated or unprintable ones replaced, each change noted).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from collections import Counter

DELIMITERS = ("\t", ";", "|", ",")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_LINES = 400


def split_lines(
    text: str, delimiter: str, quotechar: str = '"', limit: int | None = None
) -> list[tuple[int, list[str]]]:
    """Rows of a text sample with the 1-based line each starts on (quoted newlines kept), the
    first `limit` of them when given."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar)
    rows = []
    line = 1
    try:
        for row in itertools.islice(reader, limit):
            rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error:
        pass  # a sample cut inside a quoted field: keep what parsed
    return rows


def detect_delimiter(text: str, hint: str | None = None) -> str:
    """The delimiter that splits the most lines into the same number (≥ 2) of fields.

    Ties go to the one giving more fields, then to tab, `;`, `|`, `,` in that order (a `;` file
    with decimal commas splits consistently on `,` too, but into fewer or as many fields).
    """
    lines = text.split("\n")[:SAMPLE_LINES]
    sample = "\n".join(lines)
    best, best_score = hint or ",", (0.0, 0, 0)
    for rank, delimiter in enumerate(reversed(DELIMITERS)):
        if delimiter not in sample:
            continue
        rows = [r for _, r in split_lines(sample, delimiter) if any(c.strip() for c in r)]
        if not rows:
            continue
        tail = rows[len(rows) // 3 :] or rows
        modal, _ = Counter(len(r) for r in tail).most_common(1)[0]
        if modal < 2:
            continue
        consistency = sum(1 for r in rows if len(r) == modal) / len(rows)
        score = (round(consistency, 2), modal, rank + (10 if delimiter == hint else 0))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def detect_header(rows: list[list[str]]) -> tuple[int, bool]:
    """(index of the header row, whether there is a header) after any metadata preamble.

    The table's width is the usual field count of the later rows; the header is the first row
    of that width whose cells are mostly filled and from which the rows keep that width. A first
    row that looks like data (numbers, dates where the next row has them too) is no header.
    """
    filled = [r for r in rows if any(c.strip() for c in r)]
    if not filled:
        return 0, True
    tail = filled[len(filled) // 3 :] or filled
    width, _ = Counter(len(r) for r in tail).most_common(1)[0]
    index = 0
    for i, row in enumerate(rows):
        cells = [c for c in row if c.strip()]
        if len(row) < width or len(cells) < max(1, (width + 1) // 2):
            continue
        following = [r for r in rows[i + 1 : i + 21] if any(c.strip() for c in r)]
        if following and sum(1 for r in following if len(r) == width) < 0.5 * len(following):
            continue
        index = i
        break
    header = rows[index] if index < len(rows) else []
    nxt = next((r for r in rows[index + 1 :] if any(c.strip() for c in r)), None)
    data_like = [
        j
        for j, c in enumerate(header)
        if c.strip() and _value_like(c) and nxt is not None and j < len(nxt) and _value_like(nxt[j])
    ]
    has_header = len(data_like) < max(1, len([c for c in header if c.strip()])) * 0.5
    return index, has_header


_VALUE_LIKE = re.compile(r"^\s*[+-]?[\d.,:/\-\s]+(?:[eE][+-]?\d+)?\s*$")


def _value_like(cell: str) -> bool:
    return bool(_VALUE_LIKE.match(cell)) and any(ch.isdigit() for ch in cell)


def clean_names(raw: list[str]) -> tuple[list[str], list[str]]:
    """Unique, non-empty, printable column names, and a note for each one changed."""
    names: list[str] = []
    notes: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(raw, start=1):
        clean = " ".join(
            "".join(
                ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(name or "")
            ).split()
        )
        if not clean:
            clean = f"column_{i}"
            notes.append(f"column {i} has no name: read as {clean!r}")
        key = clean.casefold()
        if key in seen:
            n = 2
            while f"{key}_{n}" in seen:
                n += 1
            first = seen[key]
            renamed = f"{clean}_{n}"
            notes.append(
                f"column {i} repeats the name {clean!r} of column {first}: read as {renamed!r}"
            )
            clean, key = renamed, f"{key}_{n}"
        seen[key] = i
        names.append(clean)
    return names, notes
