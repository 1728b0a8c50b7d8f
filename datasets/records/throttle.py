"""The login throttle's counters: fixed windows, one row a key, in `<data_dir>/throttle.sqlite`.

A row is a key's count in its current window and when that window ends. Counting runs in one
`BEGIN IMMEDIATE` transaction that also drops the windows that have passed, so the table holds
only the keys of the last window's length.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import db

THROTTLE_FILE = "throttle.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counters_expiry ON counters (expires_at);
"""

# One statement counts the attempt and reads the count back: a window that has passed starts
# again at this attempt (the right-hand sides see the row as it was).
INCREMENT = """
INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN excluded.count ELSE count + excluded.count END,
    expires_at = CASE WHEN expires_at <= :now THEN excluded.expires_at ELSE expires_at END
RETURNING count
"""


def create(path: Path) -> None:
    db.create(path, SCHEMA, private=True)


def increment(path: Path, key: str, expiry: float, amount: int = 1) -> int:
    """Count `amount` for `key` in its window (a new window of `expiry` seconds when the last
    one has passed); the count after it."""
    now = time.time()
    with db.transaction(path) as con:
        con.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        params = {"key": key, "amount": amount, "now": now, "expiry": expiry}
        row = con.execute(INCREMENT, params).fetchone()
    return int(row["count"])


def live(path: Path, key: str) -> tuple[int, float] | None:
    """The key's count and the end of its window, unless the window has passed."""
    with db.connect(path) as con:
        row = con.execute(
            "SELECT count, expires_at FROM counters WHERE key = ? AND expires_at > ?",
            (key, time.time()),
        ).fetchone()
    return (int(row["count"]), float(row["expires_at"])) if row else None


def ping(path: Path) -> None:
    with db.connect(path) as con:
        con.execute("SELECT 1").fetchone()


def clear(path: Path, key: str | None = None) -> int:
    """Forget one key's count, or (with no key) every count; how many were forgotten."""
    with db.connect(path) as con:
        if key is None:
            return con.execute("DELETE FROM counters").rowcount
        return con.execute("DELETE FROM counters WHERE key = ?", (key,)).rowcount
