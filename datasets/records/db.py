"""The one way CityLens opens its SQLite state stores.

Every store is shared by all the server's processes on one data folder, so each file is in WAL
mode (readers never wait for the writer, and a crash loses no committed write), every connection
waits up to `BUSY_TIMEOUT_S` for a lock instead of failing, and a write that reads before it
writes runs in `transaction`, a `BEGIN IMMEDIATE` that takes the write lock first: two processes
cannot both read the same state and then both act on it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

BUSY_TIMEOUT_S = 30.0

Connection = sqlite3.Connection
Error = sqlite3.Error  # what a broken or locked store raises


def _row(cursor: sqlite3.Cursor, values: tuple) -> dict:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


def create(path: Path, schema: str, *, private: bool = False) -> None:
    """Make the store's tables (if missing) and put its file in WAL mode; `private` files (a
    password hash is not for other users of the machine) are made readable by the owner only."""
    path = Path(path)
    created = not path.exists()
    with connect(path) as con:
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(schema)
    if created and private:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode whose rows are dicts; closed on leaving."""
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    con.row_factory = _row
    con.execute("PRAGMA synchronous = NORMAL")  # enough under WAL: a crash loses no commit
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction: one writer at a time across threads and processes; rolled back
    when the block raises."""
    with connect(path) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
