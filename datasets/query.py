"""The query engine: DuckDB over the catalog's Parquet files, one cursor per thread, cached.

Filters and group-bys are written into the SQL so they run inside the Parquet scan (row-group
pruning on the time column, projection of the columns used) and only a small aggregated frame
comes back. The SQL names the version folder it scans, so a new version is a new cache key.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import duckdb
import pandas as pd
import pyarrow as pa

from .catalog import Catalog, Dataset


class MissingDataset(LookupError):
    """The city has no dataset of the kind a chart needs."""


BUCKETS: dict[str, str] = {
    "5min": "INTERVAL 5 MINUTE",
    "hour": "INTERVAL 1 HOUR",
    "day": "INTERVAL 1 DAY",
    "week": "INTERVAL 7 DAY",
    "month": "INTERVAL 1 MONTH",
}


@dataclass(frozen=True)
class Filters:
    """What the filter bar selects; `end` is inclusive (a whole day)."""

    start: dt.date | None = None
    end: dt.date | None = None
    districts: tuple[int, ...] = ()

    def where(self, time_column: str | None, district_column: str | None = "district") -> str:
        """SQL conditions for these filters; values are dates and integers, never user text."""
        clauses = ["TRUE"]
        if time_column and self.start:
            clauses.append(f"{time_column} >= TIMESTAMP '{self.start.isoformat()}'")
        if time_column and self.end:
            after = self.end + dt.timedelta(days=1)
            clauses.append(f"{time_column} < TIMESTAMP '{after.isoformat()}'")
        if district_column and self.districts:
            codes = ", ".join(str(int(code)) for code in self.districts)
            clauses.append(f"{district_column} IN ({codes})")
        return " AND ".join(clauses)

    def previous(self) -> Filters:
        """The period of the same length just before this one (for KPI trends)."""
        if not (self.start and self.end):
            return self
        span = self.end - self.start + dt.timedelta(days=1)
        return Filters(self.start - span, self.start - dt.timedelta(days=1), self.districts)


class QueryEngine:
    def __init__(self, catalog: Catalog, cache_size: int = 512) -> None:
        self.catalog = catalog
        self._root = duckdb.connect(":memory:", config={"threads": 2})
        self._local = threading.local()
        self._cached = lru_cache(maxsize=cache_size)(self._run)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._root.cursor()
        return cursor

    def _run(self, sql: str, params: tuple) -> pa.Table:
        return self._cursor().sql(sql, params=list(params) or None).to_arrow_table()

    def dataset(self, city: str, kind: str) -> Dataset:
        found = self.catalog.find(city, kind)
        if found is None:
            raise MissingDataset(f"{city} has no {kind} dataset")
        return found

    def source(self, city: str, kind: str, dataset_id: str | None = None) -> str:
        """The `read_parquet(...)` expression of the current version of a dataset."""
        ds = self.catalog.get(dataset_id) if dataset_id else self.dataset(city, kind)
        path = ds.parquet_glob.replace("'", "''")
        return f"read_parquet('{path}')"

    def arrow(self, sql: str, params: Sequence = ()) -> pa.Table:
        return self._cached(sql, tuple(params))

    def frame(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        return self.arrow(sql, params).to_pandas()

    def clear_cache(self) -> None:
        self._cached.cache_clear()
