"""The job table: every job of a data folder, in `<data_dir>/jobs.sqlite`, as plain records.

A job row names its kind and JSON params, its state, its progress, who asked (client, analyst),
which runner took it (process, host, pid, heartbeat) and its result file. The states:

    queued → running → done | failed | cancelled, and running → stopping → cancelled

"stopping" is a running job cancelled before its runner has stopped: it keeps its slot. What
the states mean for the dispatcher (`server.jobs`) is decided there; here are the statements.
Functions that read then write take the connection of a `db.transaction`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import db

DB_FILE = "jobs.sqlite"
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STOPPING = "stopping"
ACTIVE = (QUEUED, RUNNING)  # what a client may still wait for
HOLDING = (RUNNING, STOPPING)  # what takes a running slot
LIVE = (QUEUED, RUNNING, STOPPING, DONE)  # what keeps its result folder
CANCEL_SQL = "state = CASE state WHEN ? THEN ? ELSE ? END"  # running: stopping; queued: cancelled
CANCEL_ARGS = (RUNNING, STOPPING, CANCELLED)
REQUEUE_SQL = "state = ?, runner = NULL, runner_pid = NULL, heartbeat = NULL, done = 0"

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    params TEXT NOT NULL,
    owner TEXT,
    client TEXT NOT NULL,
    state TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    result_path TEXT,
    result_bytes INTEGER NOT NULL DEFAULT 0,
    filename TEXT NOT NULL DEFAULT '',
    mimetype TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    runner TEXT,
    runner_host TEXT,
    runner_pid INTEGER,
    heartbeat REAL,
    asked REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, created);
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (dedup_key, state);
CREATE INDEX IF NOT EXISTS jobs_by_client ON jobs (client, state);
"""
FINISH_FIELDS = frozenset(
    {"state", "finished", "error", "result_path", "result_bytes", "filename", "mimetype"}
)


def _of(kinds: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The condition "of one of these kinds", and its arguments: a store's limits count the
    jobs of the kinds it runs."""
    return f"kind IN ({', '.join('?' * len(kinds))})", kinds


def _decoded(row: dict | None) -> dict | None:
    return {**row, "params": json.loads(row["params"])} if row else None


def create(path: Path) -> None:
    db.create(path, SCHEMA)


def get(con: db.Connection, job_id: str) -> dict | None:
    """The job's row, its params decoded."""
    return _decoded(con.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())


def shared(con: db.Connection, dedup_key: str) -> list[dict]:
    """The queued, running and done jobs with this dedup key, newest first."""
    rows = con.execute(
        "SELECT * FROM jobs WHERE dedup_key = ? AND state IN (?, ?, ?) ORDER BY created DESC",
        (dedup_key, QUEUED, RUNNING, DONE),
    ).fetchall()
    return [_decoded(row) for row in rows]


def client_active(con: db.Connection, kinds: tuple[str, ...], client: str) -> int:
    """How many jobs of `kinds` the client has queued or running."""
    of, args = _of(kinds)
    row = con.execute(
        f"SELECT COUNT(*) AS n FROM jobs WHERE client = ? AND state IN (?, ?) AND {of}",
        (client, *ACTIVE, *args),
    ).fetchone()
    return int(row["n"])


def counts(con: db.Connection, kinds: tuple[str, ...]) -> tuple[int, int]:
    """Jobs of `kinds` waiting, and those holding a slot."""
    of, args = _of(kinds)
    rows = con.execute(
        f"SELECT state, COUNT(*) AS n FROM jobs WHERE state IN (?, ?, ?) AND {of} GROUP BY state",
        (QUEUED, *HOLDING, *args),
    ).fetchall()
    by_state = {row["state"]: row["n"] for row in rows}
    return by_state.get(QUEUED, 0), sum(by_state.get(state, 0) for state in HOLDING)


def insert(con: db.Connection, job: dict[str, Any]) -> dict:
    """A new queued job from `id, kind, dedup_key, params, owner, client, created`."""
    con.execute(
        "INSERT INTO jobs (id, kind, dedup_key, params, owner, client, state, created, asked)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            job["id"],
            job["kind"],
            job["dedup_key"],
            json.dumps(job["params"]),
            job["owner"],
            job["client"],
            QUEUED,
            job["created"],
            job["created"],
        ),
    )
    return get(con, job["id"])


def asked(con: db.Connection, job_id: str, now: float, at_most_every: float = 0.0) -> None:
    """Note that a client asked about a job still queued or running (which keeps it from being
    abandoned); at most once per `at_most_every` seconds."""
    con.execute(
        "UPDATE jobs SET asked = ? WHERE id = ? AND state IN (?, ?) AND asked < ?",
        (now, job_id, *ACTIVE, now - at_most_every),
    )


def cancel(con: db.Connection, job_id: str, error: str, now: float) -> None:
    """A queued job is cancelled; a running one is stopping until its runner has stopped."""
    con.execute(
        f"UPDATE jobs SET {CANCEL_SQL}, error = ?, finished = ? WHERE id = ? AND state IN (?, ?)",
        (*CANCEL_ARGS, error, now, job_id, *ACTIVE),
    )


def abandon(con: db.Connection, kinds: tuple[str, ...], asked_before: float, now: float) -> None:
    """Cancel the queued and running jobs of `kinds` nobody asked about since `asked_before`."""
    of, args = _of(kinds)
    con.execute(
        f"UPDATE jobs SET {CANCEL_SQL}, error = ?, finished = ?"
        f" WHERE state IN (?, ?) AND asked < ? AND {of}",
        (*CANCEL_ARGS, "abandoned", now, *ACTIVE, asked_before, *args),
    )


def release(con: db.Connection, runner: str) -> None:
    """A runner that stops: its running jobs are queued again, its stopping ones cancelled."""
    con.execute(f"UPDATE jobs SET {REQUEUE_SQL} WHERE runner = ? AND state = ?",
                (QUEUED, runner, RUNNING))  # fmt: skip
    con.execute(
        "UPDATE jobs SET state = ? WHERE runner = ? AND state = ?", (CANCELLED, runner, STOPPING)
    )


def beat(con: db.Connection, runner: str, now: float) -> set[str]:
    """Refresh the heartbeat of the runner's jobs; the ids of those still running."""
    con.execute(
        "UPDATE jobs SET heartbeat = ? WHERE runner = ? AND state IN (?, ?)",
        (now, runner, *HOLDING),
    )
    rows = con.execute(
        "SELECT id FROM jobs WHERE runner = ? AND state = ?", (runner, RUNNING)
    ).fetchall()
    return {row["id"] for row in rows}


def held_elsewhere(con: db.Connection, runner: str) -> list[dict]:
    """The running and stopping jobs of other runners (of any kind: any process may notice a
    dead runner), with what tells whether their runners live."""
    return con.execute(
        "SELECT id, state, runner_host, runner_pid, heartbeat, attempts FROM jobs"
        " WHERE state IN (?, ?) AND runner != ?",
        (*HOLDING, runner),
    ).fetchall()


def requeue(con: db.Connection, job_id: str) -> None:
    con.execute(f"UPDATE jobs SET {REQUEUE_SQL} WHERE id = ?", (QUEUED, job_id))


def set_state(con: db.Connection, job_id: str, state: str, **fields: Any) -> None:
    """Set a job's state (and some of `FINISH_FIELDS`) whatever it was."""
    _update(con, job_id, {"state": state, **fields}, "")


def claim(
    con: db.Connection, kinds: tuple[str, ...], runner: dict[str, Any], now: float
) -> dict | None:
    """Take the oldest queued job of one of `kinds` for `runner` (its `runner`, `runner_host`
    and `runner_pid`), or None."""
    if not kinds:
        return None
    of, args = _of(kinds)
    row = con.execute(
        f"SELECT id FROM jobs WHERE state = ? AND {of} ORDER BY created LIMIT 1", (QUEUED, *args)
    ).fetchone()
    if row is None:
        return None
    con.execute(
        "UPDATE jobs SET state = ?, runner = ?, runner_host = ?, runner_pid = ?,"
        " heartbeat = ?, started = ?, attempts = attempts + 1 WHERE id = ?",
        (RUNNING, runner["runner"], runner["runner_host"], runner["runner_pid"], now, now,
         row["id"]),
    )  # fmt: skip
    return get(con, row["id"])


def progress(con: db.Connection, job_id: str, runner: str, done: int, total: int) -> bool:
    """Record a running job's progress; False when it is not this runner's running job (it was
    cancelled, or taken from the runner)."""
    return bool(
        con.execute(
            "UPDATE jobs SET done = ?, total = ? WHERE id = ? AND runner = ? AND state = ?",
            (done, total, job_id, runner, RUNNING),
        ).rowcount
    )


def finish(con: db.Connection, job_id: str, runner: str, was: str, fields: dict) -> bool:
    """Record how the runner's job ended (`FINISH_FIELDS`), if it is still its job in state
    `was`; a done job's progress becomes complete."""
    return _update(con, job_id, fields, " AND runner = ? AND state = ?", (runner, was))


def _update(con: db.Connection, job_id: str, fields: dict, where: str, args: tuple = ()) -> bool:
    unknown = set(fields) - FINISH_FIELDS
    if unknown:
        raise ValueError(f"not a job field to set: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    if fields.get("state") == DONE:
        assignments += ", done = total"
    return bool(
        con.execute(
            f"UPDATE jobs SET {assignments} WHERE id = ?{where}",
            (*fields.values(), job_id, *args),
        ).rowcount
    )


def evict(
    con: db.Connection,
    kinds: tuple[str, ...],
    finished_before: float,
    cap_bytes: float,
    fresh_after: float,
) -> tuple[list[str], set[str]]:
    """Forget the finished jobs of `kinds` older than `finished_before`, then the oldest done
    results past `cap_bytes` (but none finished after `fresh_after`); the ids forgotten, and the
    ids of every kind's jobs whose result folders are still wanted."""
    of, args = _of(kinds)
    doomed = [
        row["id"]
        for row in con.execute(
            f"SELECT id FROM jobs WHERE state NOT IN (?, ?, ?) AND finished < ? AND {of}",
            (QUEUED, *HOLDING, finished_before, *args),
        )
    ]
    kept = con.execute(
        "SELECT id, result_bytes, finished FROM jobs WHERE state = ? AND finished >= ?"
        f" AND {of} ORDER BY finished",
        (DONE, finished_before, *args),
    ).fetchall()
    total = sum(row["result_bytes"] for row in kept)
    for row in kept:
        if total <= cap_bytes or row["finished"] > fresh_after:
            break
        doomed.append(row["id"])
        total -= row["result_bytes"]
    con.executemany("DELETE FROM jobs WHERE id = ?", [(job_id,) for job_id in doomed])
    live = {
        row["id"] for row in con.execute("SELECT id FROM jobs WHERE state IN (?, ?, ?, ?)", LIVE)
    }
    return doomed, live
