"""The catalog: which datasets exist, their provenance, and which files hold each version.

SQLite gives transactions that survive a crash. Files are written first, under a temporary
name, and moved into place inside the same write transaction that records them, so at any
moment either the catalog names a complete version or the version's folder is an orphan that
`reconcile()` removes on the next open. Versions are immutable folders; restoring one only
moves the `current_version` pointer.

Beside its raw parts (`*.parquet`) a version folder may hold files derived from each part, laid
out as `_<family>/<name>/<part stem>.parquet` (the rollups are one family). The leading
underscore keeps them out of every reader of the raw rows; an append links each part's derived
files along with the part, renamed alike, so they stay valid without being rebuilt.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from .locks import held

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    city TEXT NOT NULL,
    kind TEXT NOT NULL,
    round_table TEXT NOT NULL,
    title TEXT NOT NULL,            -- JSON {lang: text}
    description TEXT NOT NULL,      -- JSON {lang: text}
    sdg TEXT NOT NULL,              -- JSON [target, …]
    source TEXT NOT NULL,
    source_url TEXT NOT NULL DEFAULT '',
    licence TEXT NOT NULL,
    synthetic INTEGER NOT NULL,
    current_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    folder TEXT NOT NULL,           -- relative to the data directory
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    columns TEXT NOT NULL,          -- JSON [{name, type, unit}]
    time_min TEXT,
    time_max TEXT,
    mode TEXT NOT NULL,             -- new | append | replace
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (dataset_id, version)
);
"""

DATASETS_DIR = "datasets"


class CatalogError(Exception):
    """A catalog operation refused with a message meant for the user."""


@dataclass(frozen=True)
class DatasetMeta:
    """What the publisher says about a dataset (everything but the files)."""

    id: str
    city: str
    kind: str
    round_table: str
    title: dict[str, str]
    description: dict[str, str]
    sdg: tuple[str, ...] = ()
    source: str = ""
    source_url: str = ""
    licence: str = ""
    synthetic: bool = False


@dataclass(frozen=True)
class Version:
    dataset_id: str
    version: int
    folder: str
    rows: int
    bytes: int
    columns: list[dict]
    time_min: str | None
    time_max: str | None
    mode: str
    note: str
    created_at: str


@dataclass(frozen=True)
class Dataset:
    meta: DatasetMeta
    current_version: int
    created_at: str
    updated_at: str
    current: Version
    data_dir: Path = field(compare=False)

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def folder(self) -> Path:
        return self.data_dir / self.current.folder

    @property
    def parquet_glob(self) -> str:
        """What `read_parquet` scans for the current version."""
        return str(self.folder / "*.parquet")

    def title(self, lang: str) -> str:
        return self.meta.title.get(lang) or self.meta.title.get("en") or self.id

    def description(self, lang: str) -> str:
        return self.meta.description.get(lang) or self.meta.description.get("en") or ""

    def as_json(self) -> dict:
        m = self.meta
        v = self.current
        return {
            "id": m.id,
            "city": m.city,
            "kind": m.kind,
            "round_table": m.round_table,
            "title": m.title,
            "description": m.description,
            "sdg": list(m.sdg),
            "source": m.source,
            "source_url": m.source_url,
            "licence": m.licence,
            "synthetic": m.synthetic,
            "version": v.version,
            "rows": v.rows,
            "bytes": v.bytes,
            "columns": v.columns,
            "time_min": v.time_min,
            "time_max": v.time_max,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_dir():  # _<family>/<name>/: derived files beside the raw parts
            _fsync_tree(path)
            continue
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def derived_path(folder: Path | str, family: str, name: str, part: Path | str) -> Path:
    """Where the file `name` of a `family` (a folder starting with `_`) derived from the raw
    `part` of a version folder lives."""
    return Path(folder) / family / name / f"{Path(part).stem}.parquet"


def link_derived(source_folder: Path, part: Path, target_folder: Path, new_name: str) -> int:
    """Hard-link every derived file of `part` (a raw file of `source_folder`) beside its copy
    called `new_name` in `target_folder`; returns how many were linked."""
    linked = 0
    families = sorted(
        p for p in Path(source_folder).iterdir() if p.is_dir() and p.name.startswith("_")
    )
    for family in families:
        for name_dir in sorted(p for p in family.iterdir() if p.is_dir()):
            path = derived_path(source_folder, family.name, name_dir.name, part)
            if path.is_file():
                dest = derived_path(target_folder, family.name, name_dir.name, new_name)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, dest)
                linked += 1
    return linked


def describe_parquet(folder: Path, time_column: str | None, units: dict[str, str]) -> dict:
    """Rows, bytes, columns and time coverage of a version folder, from Parquet metadata only."""
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise CatalogError("no Parquet file was written")
    rows = 0
    size = 0
    tmin = tmax = None
    schema = None
    for path in files:
        meta = pq.ParquetFile(path).metadata
        schema = schema or meta.schema.to_arrow_schema()
        rows += meta.num_rows
        size += path.stat().st_size
        if time_column is None or time_column not in meta.schema.names:
            continue
        idx = meta.schema.names.index(time_column)
        for rg in range(meta.num_row_groups):
            stats = meta.row_group(rg).column(idx).statistics
            if stats is None or not stats.has_min_max:
                continue
            lo, hi = str(stats.min), str(stats.max)
            tmin = lo if tmin is None or lo < tmin else tmin
            tmax = hi if tmax is None or hi > tmax else tmax
    columns = [{"name": f.name, "type": str(f.type), "unit": units.get(f.name, "")} for f in schema]
    return {"rows": rows, "bytes": size, "columns": columns, "time_min": tmin, "time_max": tmax}


class Catalog:
    """One catalog per data directory; safe to open from several threads and processes."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        (self.data_dir / DATASETS_DIR).mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / "catalog.sqlite"
        with self._connect() as con:
            con.executescript(SCHEMA)
        self.reconcile()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: one writer at a time across threads and processes."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # -- reading ---------------------------------------------------------------------------

    def datasets(self, city: str | None = None, kind: str | None = None) -> list[Dataset]:
        query = "SELECT * FROM datasets"
        clauses, args = [], []
        if city is not None:
            clauses.append("city = ?")
            args.append(city)
        if kind is not None:
            clauses.append("kind = ?")
            args.append(kind)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY round_table, id", args).fetchall()
            return [self._dataset(con, row) for row in rows]

    def get(self, dataset_id: str) -> Dataset:
        with self._connect() as con:
            row = con.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
            if row is None:
                raise CatalogError(f"no dataset {dataset_id!r}")
            return self._dataset(con, row)

    def find(self, city: str, kind: str) -> Dataset | None:
        """The dataset a page shows by default for a kind: the most recently updated one."""
        found = self.datasets(city=city, kind=kind)
        return max(found, key=lambda d: d.updated_at) if found else None

    def versions(self, dataset_id: str) -> list[Version]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT * FROM versions WHERE dataset_id = ? ORDER BY version", (dataset_id,)
            ).fetchall()
        return [_version(row) for row in rows]

    def _dataset(self, con: sqlite3.Connection, row: sqlite3.Row) -> Dataset:
        current = con.execute(
            "SELECT * FROM versions WHERE dataset_id = ? AND version = ?",
            (row["id"], row["current_version"]),
        ).fetchone()
        meta = DatasetMeta(
            id=row["id"],
            city=row["city"],
            kind=row["kind"],
            round_table=row["round_table"],
            title=json.loads(row["title"]),
            description=json.loads(row["description"]),
            sdg=tuple(json.loads(row["sdg"])),
            source=row["source"],
            source_url=row["source_url"],
            licence=row["licence"],
            synthetic=bool(row["synthetic"]),
        )
        return Dataset(
            meta=meta,
            current_version=row["current_version"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            current=_version(current),
            data_dir=self.data_dir,
        )

    # -- writing ---------------------------------------------------------------------------

    def publish(
        self,
        meta: DatasetMeta,
        write: Callable[[Path], None],
        *,
        mode: str = "new",
        time_column: str | None = None,
        units: dict[str, str] | None = None,
        note: str = "",
    ) -> Version:
        """Write a new version with `write(folder)` and make it current, all or nothing.

        `mode` is `new` (refused if the id exists), `replace` (a new version holding only the
        new files) or `append` (a new version holding the current files and the new ones).
        """
        if mode not in {"new", "append", "replace"}:
            raise CatalogError(f"unknown mode {mode!r}: expected new, append or replace")
        dataset_dir = self.data_dir / DATASETS_DIR / meta.id
        staging = dataset_dir / f".tmp-{uuid.uuid4().hex}"
        # Created and locked under the write lock, which reconcile() holds while it looks:
        # another process opening the catalog never sees this folder unlocked (it would remove
        # it as a crash's debris) nor its dataset folder empty.
        with self._write():
            dataset_dir.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
            claim = os.open(staging, os.O_RDONLY)
            fcntl.flock(claim, fcntl.LOCK_EX)  # tells reconcile() this staging folder is alive
        try:
            write(staging)
            _fsync_tree(staging)
            with self._write() as con:
                if mode == "append":
                    self._link_current_files(con, meta.id, staging)
                info = describe_parquet(staging, time_column, units or {})
                return self._commit(con, meta, staging, dataset_dir, info, mode, note)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            os.close(claim)

    def _link_current_files(self, con: sqlite3.Connection, dataset_id: str, staging: Path) -> None:
        """Inside the write transaction, so concurrent appends each see the previous append."""
        row = con.execute(
            "SELECT v.folder FROM datasets d JOIN versions v"
            " ON v.dataset_id = d.id AND v.version = d.current_version WHERE d.id = ?",
            (dataset_id,),
        ).fetchone()
        if row is None:
            raise CatalogError(f"no dataset {dataset_id!r} to append to")
        current = self.data_dir / row[0]
        for path in sorted(current.glob("*.parquet")):
            name = f"{len(list(staging.iterdir())):04d}-{path.name}"
            os.link(path, staging / name)
            link_derived(current, path, staging, name)  # its derived files follow it

    def _commit(self, con, meta, staging, dataset_dir, info, mode, note) -> Version:
        row = con.execute(
            "SELECT current_version FROM datasets WHERE id = ?", (meta.id,)
        ).fetchone()
        if mode == "new" and row is not None:
            raise CatalogError(f"dataset {meta.id!r} exists: choose append or replace")
        if mode != "new" and row is None:
            raise CatalogError(f"no dataset {meta.id!r} to {mode}")
        last = con.execute(
            "SELECT COALESCE(MAX(version), 0) FROM versions WHERE dataset_id = ?", (meta.id,)
        ).fetchone()[0]
        number = last + 1
        folder = dataset_dir / f"v{number:04d}"
        now = _now()
        staging.rename(folder)
        try:
            if row is None:
                con.execute(
                    "INSERT INTO datasets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        meta.id,
                        meta.city,
                        meta.kind,
                        meta.round_table,
                        json.dumps(meta.title, ensure_ascii=False),
                        json.dumps(meta.description, ensure_ascii=False),
                        json.dumps(list(meta.sdg)),
                        meta.source,
                        meta.source_url,
                        meta.licence,
                        int(meta.synthetic),
                        number,
                        now,
                        now,
                    ),
                )
            else:
                con.execute(
                    "UPDATE datasets SET current_version = ?, updated_at = ? WHERE id = ?",
                    (number, now, meta.id),
                )
            version = Version(
                dataset_id=meta.id,
                version=number,
                folder=str(folder.relative_to(self.data_dir)),
                rows=info["rows"],
                bytes=info["bytes"],
                columns=info["columns"],
                time_min=info["time_min"],
                time_max=info["time_max"],
                mode=mode,
                note=note,
                created_at=now,
            )
            con.execute(
                "INSERT INTO versions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    version.dataset_id,
                    version.version,
                    version.folder,
                    version.rows,
                    version.bytes,
                    json.dumps(version.columns, ensure_ascii=False),
                    version.time_min,
                    version.time_max,
                    version.mode,
                    version.note,
                    version.created_at,
                ),
            )
        except BaseException:
            folder.rename(staging)
            raise
        return version

    def restore(self, dataset_id: str, version: int) -> None:
        with self._write() as con:
            exists = con.execute(
                "SELECT 1 FROM versions WHERE dataset_id = ? AND version = ?",
                (dataset_id, version),
            ).fetchone()
            if exists is None:
                raise CatalogError(f"dataset {dataset_id!r} has no version {version}")
            con.execute(
                "UPDATE datasets SET current_version = ?, updated_at = ? WHERE id = ?",
                (version, _now(), dataset_id),
            )

    def delete(self, dataset_id: str) -> None:
        with self._write() as con:
            deleted = con.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,)).rowcount
            if not deleted:
                raise CatalogError(f"no dataset {dataset_id!r}")
        shutil.rmtree(self.data_dir / DATASETS_DIR / dataset_id, ignore_errors=True)

    def reconcile(self) -> list[Path]:
        """Remove what a crash left behind: folders the catalog does not name, staging folders.

        Runs under the write lock, so a version another process is committing (moved into place
        inside its own write transaction) is never mistaken for an orphan.
        """
        removed: list[Path] = []
        with self._write() as con:
            known = {self.data_dir / row[0] for row in con.execute("SELECT folder FROM versions")}
            for dataset_dir in (self.data_dir / DATASETS_DIR).iterdir():
                if not dataset_dir.is_dir():
                    continue
                for child in dataset_dir.iterdir():
                    orphan = child.name.startswith("v") and child not in known
                    if orphan or (child.name.startswith(".tmp-") and _abandoned(child)):
                        shutil.rmtree(child, ignore_errors=True)
                        removed.append(child)
                if not any(dataset_dir.iterdir()):
                    dataset_dir.rmdir()
        return removed


def _abandoned(staging: Path) -> bool:
    """A staging folder whose writer is gone: nobody holds its lock any more."""
    return held(staging) is False


def _version(row: sqlite3.Row) -> Version:
    return Version(
        dataset_id=row["dataset_id"],
        version=row["version"],
        folder=row["folder"],
        rows=row["rows"],
        bytes=row["bytes"],
        columns=json.loads(row["columns"]),
        time_min=row["time_min"],
        time_max=row["time_max"],
        mode=row["mode"],
        note=row["note"],
        created_at=row["created_at"],
    )
