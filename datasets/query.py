"""The query engine: DuckDB over the catalog's Parquet files, one cursor per thread, cached.

Filters and group-bys are written into the SQL so they run inside the Parquet scan (row-group
pruning on the time column, projection of the columns used) and only a small aggregated frame
comes back. Queries of large tables read their rollups (`rollup()`, `datasets.rollups`) when the
current version has them, and the raw rows otherwise.

Results are cached in three layers (`datasets.cache`): this process's LRU, a cache shared by
every worker of the server (disk by default, Redis when configured), and single-flight so that
concurrent identical queries run once. The key is the SQL (which names the version folder it
reads), its parameters and a fingerprint of the folders read, so a new version, or a dataset
deleted and published again under the same folder name, is a new key.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from . import rollups as rollup_tables
from .cache import LRU, SharedCache, SingleFlight, cache_key, decode_table, encode_table
from .catalog import Catalog, Dataset
from .period import DEFAULT_COMPARISON, comparison_period
from .resident import PARQUET_SOURCE, ResidentTables


class MissingDataset(LookupError):
    """The city has no dataset of the kind a chart needs."""


SITE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")

BUCKETS: dict[str, str] = {
    "5min": "INTERVAL 5 MINUTE",
    "hour": "INTERVAL 1 HOUR",
    "day": "INTERVAL 1 DAY",
    "week": "INTERVAL 7 DAY",
    "month": "INTERVAL 1 MONTH",
}
CATALOG_TTL_S = 5.0  # a catalog lookup is reused this long while the catalog files are unchanged


@dataclass(frozen=True)
class Filters:
    """What the filter bar selects; `end` is inclusive (a whole day)."""

    start: dt.date | None = None
    end: dt.date | None = None
    districts: tuple[int, ...] = ()
    sites: tuple[str, ...] = ()  # detector or station ids, for drill-down queries

    def __post_init__(self) -> None:
        bad = [site for site in self.sites if not SITE_ID.fullmatch(site)]
        if bad:
            raise ValueError(f"not a detector or station id: {bad[0]!r}")

    def where(
        self,
        time_column: str | None,
        district_column: str | None = "district",
        site_column: str | None = None,
    ) -> str:
        """SQL conditions for these filters; values are dates, integers and checked ids only."""
        clauses = ["TRUE"]
        if time_column and self.start:
            clauses.append(f"{time_column} >= TIMESTAMP '{self.start.isoformat()}'")
        if time_column and self.end:
            after = self.end + dt.timedelta(days=1)
            clauses.append(f"{time_column} < TIMESTAMP '{after.isoformat()}'")
        if district_column and self.districts:
            codes = ", ".join(str(int(code)) for code in self.districts)
            clauses.append(f"{district_column} IN ({codes})")
        if site_column and self.sites:
            ids = ", ".join(f"'{site}'" for site in self.sites)
            clauses.append(f"{site_column} IN ({ids})")
        return " AND ".join(clauses)

    def previous(self, comparison: str = DEFAULT_COMPARISON) -> Filters:
        """The period a KPI trend compares this one with (`period.comparison_period`): the
        same length just before, or (`yoy`) the same days a year earlier."""
        if not (self.start and self.end):
            return self
        start, end = comparison_period(self.start, self.end, comparison)
        return Filters(start, end, self.districts, self.sites)


def _quoted(path: str) -> str:
    return path.replace("'", "''")


def ident(name: str) -> str:
    """A column name as a SQL identifier, whatever it holds."""
    return '"' + name.replace('"', '""') + '"'


class CachedCatalog:
    """The catalog's lookups (`find`, `datasets`, `get`) answered from memory while its files
    are unchanged (one stat of `catalog.sqlite` and its WAL, instead of a SQLite connection
    per lookup: a page render makes dozens), and for at most CATALOG_TTL_S seconds. Every
    other attribute is the catalog's own; a write through this view forgets what it knew."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._memo: dict[tuple, tuple[float, tuple, object]] = {}

    @property
    def wrapped(self) -> Catalog:
        return self._catalog

    def stamp(self) -> tuple:
        out = []
        for name in ("catalog.sqlite", "catalog.sqlite-wal"):
            try:
                st = os.stat(self._catalog.data_dir / name)
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def _cached(self, key: tuple, compute):
        now = time.monotonic()
        stamp = self.stamp()
        hit = self._memo.get(key)
        if hit is not None and now - hit[0] < CATALOG_TTL_S and hit[1] == stamp:
            return hit[2]
        value = compute()
        self._memo[key] = (now, stamp, value)
        return value

    def find(self, city: str, kind: str) -> Dataset | None:
        return self._cached(("find", city, kind), lambda: self._catalog.find(city, kind))

    def datasets(self, city: str | None = None, kind: str | None = None) -> list[Dataset]:
        found = self._cached(
            ("datasets", city, kind), lambda: tuple(self._catalog.datasets(city, kind))
        )
        return list(found)

    def get(self, dataset_id: str) -> Dataset:
        return self._cached(("get", dataset_id), lambda: self._catalog.get(dataset_id))

    def clear(self) -> None:
        self._memo.clear()

    def __getattr__(self, name: str):
        attr = getattr(self._catalog, name)
        if name in {"publish", "restore", "delete", "reconcile"} and callable(attr):

            def write(*args, **kwargs):
                try:
                    return attr(*args, **kwargs)
                finally:
                    self._memo.clear()

            return write
        return attr


class QueryEngine:
    """`shared`: a `datasets.cache.SharedCache`, None for none, or "auto" (from the settings:
    Redis when `redis_url` is set, else a disk cache under the data folder). `use_rollups`
    False makes every query read the raw rows (the benchmark's plain DuckDB scan); otherwise
    small sources are read from memory (`datasets.resident`). `threads`:
    DuckDB's per process; a server's workers answer many small queries at once, where one
    thread each beats threads competing for the same cores."""

    def __init__(
        self,
        catalog: Catalog,
        cache_size: int = 512,
        shared: SharedCache | str | None = "auto",
        *,
        use_rollups: bool = True,
        threads: int = 2,
        memory_limit: str | None = "1GB",
    ) -> None:
        self.catalog = catalog if isinstance(catalog, CachedCatalog) else CachedCatalog(catalog)
        settings: dict = {"threads": threads}
        if memory_limit:
            settings["memory_limit"] = memory_limit
        self._root = duckdb.connect(":memory:", config=settings)
        self._root.execute("SET parquet_metadata_cache = true")
        self._local = threading.local()
        self._lru = LRU(cache_size)
        self._flight = SingleFlight()
        self.shared: SharedCache | None = (
            _auto_shared(self.catalog.wrapped) if shared == "auto" else shared
        )
        self.use_rollups = use_rollups
        self.stats: Counter[str] = Counter()  # lru, shared, run: where results came from
        self._memo_lru = LRU(max(16, cache_size // 4))  # larger values (figures): fewer kept
        self._value_lru = LRU(8)  # a few large values per dataset version (memo_value)
        self._complete: dict[tuple[str, str, int, int], bool] = {}
        self._resident = ResidentTables() if use_rollups else None

    # -- DuckDB ----------------------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._root.cursor()
        return cursor

    def _run(self, sql: str, params: tuple) -> pa.Table:
        cursor = self._cursor()
        if self._resident is not None:
            sql = self._resident.rewrite(sql, cursor)
        return cursor.sql(sql, params=list(params) or None).to_arrow_table()

    def close(self) -> None:
        """Close DuckDB and the shared cache (e.g. in a server's master before it forks)."""
        self._root.close()
        if self.shared is not None:
            self.shared.close()

    # -- the catalog -------------------------------------------------------------------------

    def find(self, city: str, kind: str) -> Dataset | None:
        """`catalog.find`, from memory while the catalog is unchanged (`CachedCatalog`)."""
        return self.catalog.find(city, kind)

    def data_token(self, city: str | None) -> str:
        """Which data a city's pages show (None: every city's): every dataset's id, current
        version and the version's creation time. A new version, a restore or a deletion
        changes it."""
        return "|".join(
            f"{d.id}:{d.current_version}:{d.current.created_at}"
            for d in self.catalog.datasets(city=city)
        )

    def dataset(self, city: str, kind: str) -> Dataset:
        found = self.find(city, kind)
        if found is None:
            raise MissingDataset(f"{city} has no {kind} dataset")
        return found

    def source(self, city: str, kind: str, dataset_id: str | None = None) -> str:
        """The `read_parquet(...)` expression of the current version of a dataset."""
        ds = self.catalog.get(dataset_id) if dataset_id else self.dataset(city, kind)
        return f"read_parquet('{_quoted(ds.parquet_glob)}')"

    def rollup(self, city: str, kind: str, grain: str) -> str | None:
        """The `read_parquet(...)` of a rollup of the current version, or None when the version
        lacks it (for any of its parts) or rollups are switched off."""
        if not self.use_rollups:
            return None
        folder = self.dataset(city, kind).folder
        try:
            st = folder.stat()
        except OSError:
            return None
        key = (str(folder), grain, st.st_ino, st.st_mtime_ns)
        ok = self._complete.get(key)
        if ok is None:
            ok = self._complete[key] = rollup_tables.complete(folder, grain)
        if not ok:
            return None
        pattern = folder / rollup_tables.ROLLUPS_DIR / grain / "*.parquet"
        return f"read_parquet('{_quoted(str(pattern))}')"

    def plan(self, city: str, kind: str, grains: Sequence[str]) -> tuple[str, str | None]:
        """The first of `grains` (coarsest first) the current version has, as (source, grain);
        (raw source, None) when it has none of them."""
        for grain in grains:
            src = self.rollup(city, kind, grain)
            if src is not None:
                return src, grain
        return self.source(city, kind), None

    def load_resident(self, city: str) -> None:
        """Copy the small sources of a city's current datasets (and their rollups) into memory
        now, rather than on their first query (0.1-0.5 s a worker's first viewers would wait)."""
        if self._resident is None:
            return
        sources = []
        for kind in sorted({found.meta.kind for found in self.catalog.datasets(city=city)}):
            sources.append(self.source(city, kind))
            grains = rollup_tables.grains_for(kind)
            sources += [self.rollup(city, kind, grain.name) for grain in grains]
        cursor = self._cursor()
        for src in filter(None, sources):
            self._resident.rewrite(src, cursor)

    # -- results -------------------------------------------------------------------------------

    def _token(self, sql: str) -> str:
        """Fingerprint of the folders the SQL reads (inode and mtime of each)."""
        parts = []
        for raw in PARQUET_SOURCE.findall(sql):
            folder = Path(raw.replace("''", "'")).parent
            try:
                st = folder.stat()
                parts.append(f"{folder}:{st.st_ino}:{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{folder}:-")
        return "|".join(parts)

    def arrow(self, sql: str, params: Sequence = ()) -> pa.Table:
        params = tuple(params)
        key = cache_key(sql, params, self._token(sql))
        table = self._lru.get(key)
        if table is not None:
            self.stats["lru"] += 1
            return table
        return self._flight.do(key, lambda: self._load(key, sql, params))

    def _load(self, key: str, sql: str, params: tuple) -> pa.Table:
        table = self._lru.get(key)  # a leader that finished just before this one started
        if table is not None:
            self.stats["lru"] += 1
            return table
        if self.shared is not None:
            data = self.shared.get(key)
            if data is not None:
                table = decode_table(data)
                self._lru.put(key, table)
                self.stats["shared"] += 1
                return table
        table = self._run(sql, params)
        self.stats["run"] += 1
        self._lru.put(key, table)
        if self.shared is not None and table.nbytes <= 64 * 1024 * 1024:
            self.shared.set(key, encode_table(table))
        return table

    def memo(
        self,
        namespace: str,
        parts: tuple,
        compute: Callable[[], object],
        encode: Callable[[object], bytes],
        decode: Callable[[bytes], object],
    ) -> object:
        """Any result (e.g. a rendered figure) through the same layers as query results: this
        process's LRU, the shared cache, single-flight. `parts` must name everything the
        result depends on, the data's versions included (`data_token`)."""
        key = cache_key(namespace, parts)
        value = self._memo_lru.get(key)
        if value is not None:
            self.stats[f"{namespace}_lru"] += 1
            return value

        def load():
            value = self._memo_lru.get(key)
            if value is not None:
                return value
            data = self.shared.get(key) if self.shared is not None else None
            if data is not None:
                value = decode(data)
                self.stats[f"{namespace}_shared"] += 1
            else:
                value = compute()
                self.stats[f"{namespace}_run"] += 1
                if self.shared is not None:
                    self.shared.set(key, encode(value))
            self._memo_lru.put(key, value)
            return value

        return self._flight.do(key, load)

    def versions(self, city: str, kinds: Sequence[str]) -> tuple:
        """(kind, dataset id, version, created) of the dataset each kind reads now."""
        out = []
        for kind in kinds:
            found = self.find(city, kind)
            out.append(
                (kind, found.id, found.current_version, found.current.created_at)
                if found
                else (kind,)
            )
        return tuple(out)

    def memo_frame(
        self,
        namespace: str,
        city: str,
        kinds: Sequence[str],
        parts: tuple,
        compute: Callable[[], pd.DataFrame],
    ) -> pd.DataFrame:
        """A small frame computed from query results (e.g. the KPI table), kept in this
        process while the datasets of `kinds` keep their versions. Each caller gets a shallow
        copy: under copy-on-write nothing it does to it reaches the kept frame."""
        frame = self._kept(self._memo_lru, namespace, city, kinds, parts, compute)
        return frame.copy(deep=False)

    def memo_value(
        self,
        namespace: str,
        city: str,
        kinds: Sequence[str],
        parts: tuple,
        compute: Callable[[], object],
    ) -> object:
        """A large value built from query results once per version of the datasets of `kinds`
        (e.g. running totals), kept in this process apart from the many small results, which
        would push it out, and handed out as it is (None included): callers must not change it."""
        return self._kept(self._value_lru, namespace, city, kinds, parts, compute)

    def _kept(self, lru: LRU, namespace: str, city: str, kinds, parts: tuple, compute):
        key = cache_key(namespace, (city, parts, self.versions(city, kinds)))
        kept = lru.get(key)
        if kept is None:
            kept = self._flight.do(key, lambda: (compute(),))
            lru.put(key, kept)
            self.stats[f"{namespace}_run"] += 1
        return kept[0]

    def frame(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        return self.arrow(sql, params).to_pandas()

    def scan(self, sql: str, params: Sequence = ()) -> pa.Table:
        """A result read once and kept in another form by the caller: not cached."""
        return self._run(sql, tuple(params))

    def clear_cache(self) -> None:
        """Forget this process's results and catalog lookups (the shared cache keeps its
        entries: their keys name the versions they read, so none can be served stale)."""
        self._lru.clear()
        self._memo_lru.clear()
        self._value_lru.clear()
        if isinstance(self.catalog, CachedCatalog):
            self.catalog.clear()
        self._complete.clear()

    def clear_shared(self) -> None:
        if self.shared is not None:
            self.shared.clear()


def _auto_shared(catalog: Catalog) -> SharedCache | None:
    import config

    from .cache import open_shared_cache

    cfg = config.from_env()
    return open_shared_cache(catalog.data_dir, cfg.cache_dir, cfg.redis_url, cfg.shared_cache_mb)
