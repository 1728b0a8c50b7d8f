"""Rows of a dataset for the open data API: the current version, filtered inside the scan (a
time window on the kind's time column, districts, stations), in the order the rows are stored,
one bounded page at a time.

No ORDER BY: DuckDB keeps the stored order (the Parquet files of a version in name order, their
rows as written), so a page is deterministic and stops reading once it has its rows, where a
sort would read a 100 M-row table whole for every page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from datasets.catalog import Dataset
from datasets.query import QueryEngine, ident
from datasets.schemas import KINDS

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_OFFSET = 1_000_000  # deeper pages: narrow the time window instead


class RowsRefused(ValueError):
    """A filter the dataset cannot answer (e.g. `district` on a table without districts)."""


@dataclass(frozen=True)
class RowQuery:
    start: dt.datetime | None = None  # inclusive
    end: dt.datetime | None = None  # exclusive
    districts: tuple[int, ...] = ()
    stations: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def time_column(dataset: Dataset) -> str | None:
    """The column a time window applies to: the kind's, else the first date or time column."""
    names = {c["name"]: str(c.get("type", "")) for c in dataset.current.columns}
    kind = KINDS.get(dataset.meta.kind)
    if kind is not None and kind.time_column in names:
        return kind.time_column
    return next((n for n, t in names.items() if t.startswith(("timestamp", "date"))), None)


def _where(dataset: Dataset, q: RowQuery) -> tuple[str, list]:
    names = {c["name"] for c in dataset.current.columns}
    parts, params = [], []
    if q.start is not None or q.end is not None:
        column = time_column(dataset)
        if column is None:
            raise RowsRefused(f"{dataset.id} has no time column: from/to cannot apply")
        for bound, op in ((q.start, ">="), (q.end, "<")):
            if bound is not None:
                parts.append(f"{ident(column)} {op} CAST(? AS TIMESTAMP)")
                params.append(bound.isoformat(sep=" "))
    for values, column, what in (
        (q.districts, "district", "district"),
        (q.stations, "station_id", "station"),
    ):
        if values:
            if column not in names:
                raise RowsRefused(f"{dataset.id} has no {column} column: {what} cannot apply")
            parts.append(f"{ident(column)} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    return (" AND ".join(parts) or "TRUE"), params


def rows_page(engine: QueryEngine, dataset: Dataset, q: RowQuery) -> tuple[pd.DataFrame, bool]:
    """(the page's rows, whether more follow) of the dataset's current version."""
    if not 1 <= q.limit <= MAX_LIMIT or not 0 <= q.offset <= MAX_OFFSET:
        raise RowsRefused(f"limit must be 1-{MAX_LIMIT} and offset 0-{MAX_OFFSET:,}")
    where, params = _where(dataset, q)
    src = engine.source(dataset.meta.city, dataset.meta.kind, dataset.id)
    table = engine.arrow(
        f"SELECT * FROM {src} WHERE {where} LIMIT {q.limit + 1} OFFSET {q.offset}",
        tuple(params),
    )
    frame = as_written(table).to_pandas()
    return frame.iloc[: q.limit], len(frame) > q.limit


def as_written(table: pa.Table) -> pa.Table:
    """Single-precision columns as the decimals they hold (42.9, not the 42.900001525878906 a
    widening to double shows): each value through its shortest round-tripping text."""
    for i, column in enumerate(table.schema):
        if column.type == pa.float32():
            text = pc.cast(table.column(i), pa.string())
            table = table.set_column(i, column.name, pc.cast(text, pa.float64()))
    return table
