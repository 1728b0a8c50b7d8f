"""A value as a table of rows shows it: at most `CELL_CHARS` characters, then an ellipsis.

A dataset may hold values of up to 16 MB (the ingest's cell cap); a page that lists rows or
offers values to pick shows the start of each. Where rows come from DuckDB the value is cut in
the SQL, so a long one never leaves the scan; where they are already in hand (what an upload
was read as), in Python.
"""

from __future__ import annotations

CELL_CHARS = 200
ELLIPSIS = "…"


def short_sql(expr: str) -> str:
    """SQL for `expr` (of any type) as text of at most CELL_CHARS characters."""
    text = f"CAST({expr} AS VARCHAR)"
    return (
        f"CASE WHEN length({text}) > {CELL_CHARS} "
        f"THEN left({text}, {CELL_CHARS - 1}) || '{ELLIPSIS}' ELSE {text} END"
    )


def short_text(value: object) -> object:
    """`value` cut to CELL_CHARS characters if it is text; anything else as it is."""
    if isinstance(value, str) and len(value) > CELL_CHARS:
        return value[: CELL_CHARS - 1] + ELLIPSIS
    return value
