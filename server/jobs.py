"""The one job store of CityLens: long work (a deck's PDF or HTML, the SDG annex's PDF) kept as
records every server process reads, and run by a bounded number of runners across processes.

Jobs live in SQLite at `<data_dir>/jobs.sqlite` (WAL: every gunicorn worker of one data folder
reads and writes it) and their results under `<data_dir>/jobs/<id>/`, written atomically. A job
is a kind (a function registered by name, `fn(params, progress) -> (bytes or path, filename,
mimetype)`) and JSON params: the record alone is enough to run it in any process that registered
the kind, so nothing here depends on the web server it runs in.

- Bounded: at most `max_running` jobs run at once across all processes, at most `max_queued`
  wait beyond the free slots, and one client has at most `per_client` queued or running.
  Admitting a job and claiming a slot are each one `BEGIN IMMEDIATE` transaction, so two
  processes cannot both take the last place.
- Shared: a request with the dedup key of a queued, running or done job gets that job. Done
  results are kept `keep_hours` and `keep_mb` at most, the oldest evicted first.
- Dropped work stops: a queued or running job no client asked about (`touch`) for `abandon_s`
  is cancelled; a running job learns it at its next `progress` call, which raises `Cancelled`,
  so the function's own cleanup (closing its Chromium) runs. Until it has, the job is
  "stopping" and keeps its slot: a cancelled job's Chromium and the next one's never overlap.
- Dead runners: a running job whose process is gone (its pid on this host, or a heartbeat older
  than `STALE_S`) is queued again once, then failed.

Each process runs a dispatcher thread, started on first use: it claims queued jobs of the kinds
it knows when a slot is free (woken by a submit, otherwise every `POLL_S`), runs each in a thread
of its own, beats its jobs' heartbeat, and cancels, requeues and evicts for everyone.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DB_FILE = "jobs.sqlite"
RESULTS_DIR = "jobs"
RESULT_FILE = "result"
POLL_S = 0.5  # the dispatcher's pace when no submit wakes it
WAIT_POLL_S = 0.25  # how often a waiting request looks at its job
STALE_S = 30.0  # a running job's heartbeat older than this: its runner is gone
MAX_ATTEMPTS = 2  # a job whose runner died runs once more, then fails
EVICT_EVERY_S = 60.0
RESULT_GRACE_S = 300.0  # a fresh result outlives the size cap this long, for its client to fetch
RETRY_AFTER_S = 10  # what a refused client is told to wait
EXIT_GRACE_S = 10.0  # at exit, how long running jobs get to stop (and close their Chromium)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STOPPING = "stopping"  # cancelled while running: it holds its slot until its runner has stopped
ACTIVE = (QUEUED, RUNNING)  # what a client may still wait for
HOLDING = (RUNNING, STOPPING)  # what takes one of the `max_running` slots
CANCEL_SQL = "state = CASE state WHEN ? THEN ? ELSE ? END"  # running: stopping; queued: cancelled
CANCEL_ARGS = (RUNNING, STOPPING, CANCELLED)
JOB_ID = re.compile(r"[A-Za-z0-9_-]{24}")

Progress = Callable[[int, int], None]
Output = tuple[bytes | Path, str, str]  # the result (bytes, or a file to move in), name, type
Runner = Callable[[dict[str, Any], Progress], Output]

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


class Cancelled(Exception):
    """Raised by a job's `progress` once the job was cancelled: the job stops there."""


class Busy(Exception):
    """No room for another job: the queue is full ("queue"), or the client has its share
    ("client")."""

    def __init__(self, reason: str, retry_after: int = RETRY_AFTER_S) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class JobLimits:
    max_running: int = 1
    max_queued: int = 8
    per_client: int = 2
    abandon_s: float = 30.0
    wait_s: float = 90.0  # how long a request that wants the result itself may wait for it
    keep_hours: float = 24.0
    keep_mb: float = 200.0

    @classmethod
    def from_config(cls, cfg) -> JobLimits:
        return cls(
            max_running=max(cfg.export_jobs, 1),
            max_queued=max(cfg.export_queue, 0),
            per_client=max(cfg.export_per_client, 1),
            abandon_s=float(cfg.job_abandon_s),
            wait_s=float(cfg.export_wait_s),
        )


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    state: str
    done: int
    total: int
    error: str
    params: dict[str, Any]
    owner: str | None
    client: str
    filename: str
    mimetype: str
    result_path: str | None
    attempts: int  # how many runners took it: more than one if a runner died
    created: float
    finished: float | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        values = {f.name: row[f.name] for f in fields(cls)}
        return cls(**{**values, "params": json.loads(values["params"])})

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def public_state(self) -> str:
        """The state as its clients see it: a stopping job is cancelled for them."""
        return CANCELLED if self.state == STOPPING else self.state

    def result(self) -> Path | None:
        """The result file of a done job, if it is still kept."""
        if self.state != DONE or not self.result_path:
            return None
        path = Path(self.result_path)
        return path if path.is_file() else None

    def started_by(self, client: str, owner: str | None) -> bool:
        """Whether this requester started the job: the analyst who did, else the same client."""
        return owner == self.owner if self.owner else client == self.client


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_OPEN_STORES: weakref.WeakSet[JobStore] = weakref.WeakSet()


@atexit.register
def _close_open_stores() -> None:
    """A process that exits stops its running jobs first, so no Chromium outlives it."""
    for store in list(_OPEN_STORES):
        store.close()


class JobStore:
    """The jobs of one data folder; see the module's docstring."""

    def __init__(self, data_dir: Path, limits: JobLimits | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_FILE
        self.results = self.data_dir / RESULTS_DIR
        self.limits = limits or JobLimits()
        self._kinds: dict[str, Runner] = {}
        self._mine: dict[str, tuple[threading.Event, threading.Thread]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._dispatcher_pid = 0
        self._runner = ""
        self._evicted_at = 0.0
        self.results.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode = WAL")
            con.executescript(SCHEMA)

    # -- SQLite -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses no committed state
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: one writer at a time across threads and processes."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # -- what requests do -------------------------------------------------------------------

    def register(self, kind: str, fn: Runner) -> None:
        """Let this process run jobs of `kind` with `fn(params, progress)`."""
        self._kinds[kind] = fn

    def submit(
        self,
        kind: str,
        params: dict[str, Any],
        key: str,
        client: str,
        owner: str | None = None,
    ) -> Job:
        """The job of `kind` for `key`: an identical queued, running or done one, else a new
        queued one; raises `Busy` when there is no room for it."""
        if kind not in self._kinds:
            raise KeyError(f"no job kind {kind!r} is registered")
        self._ensure_dispatcher()
        dedup, now = f"{kind}:{key}", time.time()
        with self._write() as con:
            found = con.execute(
                "SELECT * FROM jobs WHERE dedup_key = ? AND state IN (?, ?, ?)"
                " ORDER BY created DESC",
                (dedup, QUEUED, RUNNING, DONE),
            ).fetchall()
            for row in found:
                if row["state"] == DONE and Job.from_row(row).result() is None:
                    continue  # its result was evicted: compute it again
                con.execute("UPDATE jobs SET asked = ? WHERE id = ?", (now, row["id"]))
                return Job.from_row(row)
            mine = con.execute(
                "SELECT COUNT(*) FROM jobs WHERE client = ? AND state IN (?, ?)",
                (client, QUEUED, RUNNING),
            ).fetchone()[0]
            if mine >= self.limits.per_client:
                raise Busy("client")
            queued, running = self._counts(con)
            room = self.limits.max_queued + max(self.limits.max_running - running, 0)
            if queued >= room:
                raise Busy("queue")
            job_id = secrets.token_urlsafe(18)
            con.execute(
                "INSERT INTO jobs (id, kind, dedup_key, params, owner, client, state, created,"
                " asked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, kind, dedup, json.dumps(params), owner, client, QUEUED, now, now),
            )
            row = con.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        self._wake.set()
        return Job.from_row(row)

    def get(self, job_id: str) -> Job | None:
        if not JOB_ID.fullmatch(job_id or ""):
            return None
        with self._connect() as con:
            row = con.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row) if row else None

    def touch(self, job_id: str) -> Job | None:
        """The job, noting that a client asked about it (which keeps it from being abandoned)."""
        if not JOB_ID.fullmatch(job_id or ""):
            return None
        self._ensure_dispatcher()
        now = time.time()
        with self._connect() as con:
            # at most one write a second per job, however fast its clients poll
            con.execute(
                "UPDATE jobs SET asked = ? WHERE id = ? AND state IN (?, ?) AND asked < ?",
                (now, job_id, QUEUED, RUNNING, now - 1),
            )
        return self.get(job_id)

    def wait(self, job_id: str, timeout: float) -> Job | None:
        """The job once it is finished, or as it is after `timeout` seconds of asking."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.touch(job_id)
            if job is None or not job.active or time.monotonic() >= deadline:
                return job
            time.sleep(WAIT_POLL_S)

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job (a running one stops at its next progress call)."""
        with self._write() as con:
            con.execute(
                f"UPDATE jobs SET {CANCEL_SQL}, error = ?, finished = ?"
                " WHERE id = ? AND state IN (?, ?)",
                (*CANCEL_ARGS, "cancelled by its client", time.time(), job_id, QUEUED, RUNNING),
            )
        self._flag_cancelled(job_id)
        self._wake.set()
        return self.get(job_id)

    def close(self, grace: float = EXIT_GRACE_S) -> None:
        """Stop the dispatcher and this process's running jobs (each closes its Chromium);
        those jobs are queued again, for another process to run."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            mine = list(self._mine.items())
        for _job_id, (cancelled, _thread) in mine:
            cancelled.set()
        for _job_id, (_cancelled, thread) in mine:
            thread.join(grace)
        if mine:
            with self._write() as con:
                con.execute(
                    "UPDATE jobs SET state = ?, runner = NULL, runner_pid = NULL,"
                    " heartbeat = NULL, done = 0 WHERE runner = ? AND state = ?",
                    (QUEUED, self._runner, RUNNING),
                )
                con.execute(
                    "UPDATE jobs SET state = ? WHERE runner = ? AND state = ?",
                    (CANCELLED, self._runner, STOPPING),
                )
        if self._dispatcher is not None:
            self._dispatcher.join(grace)

    # -- the dispatcher ---------------------------------------------------------------------

    def _ensure_dispatcher(self) -> None:
        pid = os.getpid()
        if self._dispatcher_pid == pid and self._dispatcher and self._dispatcher.is_alive():
            return
        with self._lock:
            if self._dispatcher_pid == pid and self._dispatcher and self._dispatcher.is_alive():
                return
            if self._stop.is_set():
                return
            # a forked process starts afresh: its parent's jobs are not its own
            self._dispatcher_pid = pid
            self._runner = f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}"
            self._mine = {}
            self._dispatcher = threading.Thread(
                target=self._dispatch, name="job-dispatcher", daemon=True
            )
            self._dispatcher.start()
            _OPEN_STORES.add(self)

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._tick()
            except Exception:  # a locked or broken database: the next tick tries again
                log.exception("job dispatcher: %s", self.path)
            self._wake.wait(POLL_S)

    def _tick(self) -> None:
        now = time.time()
        with self._write() as con:
            self._beat(con, now)
            self._reap(con, now)
            claimed = self._claim(con, now)
        for job in claimed:
            self._start(job)
        if now - self._evicted_at >= EVICT_EVERY_S:
            self._evicted_at = now
            self._evict(now)

    @staticmethod
    def _counts(con: sqlite3.Connection) -> tuple[int, int]:
        """Jobs waiting, and jobs holding a slot."""
        rows = dict(
            con.execute(
                "SELECT state, COUNT(*) FROM jobs WHERE state IN (?, ?, ?) GROUP BY state",
                (QUEUED, *HOLDING),
            ).fetchall()
        )
        return rows.get(QUEUED, 0), sum(rows.get(state, 0) for state in HOLDING)

    def _beat(self, con: sqlite3.Connection, now: float) -> None:
        """Refresh the heartbeat of this process's jobs, and stop those cancelled elsewhere."""
        with self._lock:
            mine = list(self._mine)
        if not mine:
            return
        con.execute(
            "UPDATE jobs SET heartbeat = ? WHERE runner = ? AND state IN (?, ?)",
            (now, self._runner, *HOLDING),
        )
        running = {
            row[0]
            for row in con.execute(
                "SELECT id FROM jobs WHERE runner = ? AND state = ?", (self._runner, RUNNING)
            )
        }
        for job_id in mine:
            if job_id not in running:
                self._flag_cancelled(job_id)

    def _reap(self, con: sqlite3.Connection, now: float) -> None:
        """Cancel the jobs nobody asks about any more; requeue or fail those whose runner died."""
        con.execute(
            f"UPDATE jobs SET {CANCEL_SQL}, error = ?, finished = ?"
            " WHERE state IN (?, ?) AND asked < ?",
            (*CANCEL_ARGS, "abandoned", now, QUEUED, RUNNING, now - self.limits.abandon_s),
        )
        host = socket.gethostname()
        others = con.execute(
            "SELECT id, state, runner_host, runner_pid, heartbeat, attempts FROM jobs"
            " WHERE state IN (?, ?) AND runner != ?",
            (*HOLDING, self._runner),
        ).fetchall()
        for row in others:
            stale = row["heartbeat"] is None or now - row["heartbeat"] > STALE_S
            gone = row["runner_host"] == host and not _pid_alive(row["runner_pid"])
            if not (stale or gone):
                continue
            if row["state"] == STOPPING:
                con.execute("UPDATE jobs SET state = ? WHERE id = ?", (CANCELLED, row["id"]))
            elif row["attempts"] < MAX_ATTEMPTS:
                con.execute(
                    "UPDATE jobs SET state = ?, runner = NULL, runner_pid = NULL, heartbeat = NULL,"
                    " done = 0 WHERE id = ?",
                    (QUEUED, row["id"]),
                )
            else:
                con.execute(
                    "UPDATE jobs SET state = ?, error = ?, finished = ? WHERE id = ?",
                    (FAILED, "its runner stopped twice", now, row["id"]),
                )

    def _claim(self, con: sqlite3.Connection, now: float) -> list[Job]:
        """Take queued jobs of the kinds this process knows while slots are free."""
        kinds = list(self._kinds)
        if not kinds:
            return []
        _queued, running = self._counts(con)
        free = self.limits.max_running - running
        marks = ", ".join("?" * len(kinds))
        claimed = []
        while free > 0:
            row = con.execute(
                f"SELECT id FROM jobs WHERE state = ? AND kind IN ({marks})"
                " ORDER BY created LIMIT 1",
                (QUEUED, *kinds),
            ).fetchone()
            if row is None:
                break
            con.execute(
                "UPDATE jobs SET state = ?, runner = ?, runner_host = ?, runner_pid = ?,"
                " heartbeat = ?, started = ?, attempts = attempts + 1 WHERE id = ?",
                (RUNNING, self._runner, socket.gethostname(), os.getpid(), now, now, row["id"]),
            )
            found = con.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
            claimed.append(Job.from_row(found))
            free -= 1
        return claimed

    # -- running one job --------------------------------------------------------------------

    def _start(self, job: Job) -> None:
        cancelled = threading.Event()
        thread = threading.Thread(
            target=self._execute,
            args=(job, cancelled),
            name=f"job-{job.kind}-{job.id[:8]}",
            daemon=True,
        )
        with self._lock:
            self._mine[job.id] = (cancelled, thread)
        thread.start()

    def _flag_cancelled(self, job_id: str) -> None:
        with self._lock:
            entry = self._mine.get(job_id)
        if entry:
            entry[0].set()

    def _execute(self, job: Job, cancelled: threading.Event) -> None:
        last: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            if cancelled.is_set():
                raise Cancelled(job.id)
            if last and last[-1] == (done, total):
                return
            last[:] = [(done, total)]
            with self._connect() as con:
                moved = con.execute(
                    "UPDATE jobs SET done = ?, total = ? WHERE id = ? AND runner = ? AND state = ?",
                    (done, total, job.id, self._runner, RUNNING),
                ).rowcount
            if not moved:  # cancelled, or taken from this process meanwhile
                cancelled.set()
                raise Cancelled(job.id)

        try:
            output, filename, mimetype = self._kinds[job.kind](job.params, progress)
            path, size = self._keep(job.id, output)
            kept = self._finish(
                job.id,
                DONE,
                result_path=str(path),
                result_bytes=size,
                filename=filename,
                mimetype=mimetype,
            )
            if not kept:  # cancelled as it finished
                self._finish(job.id, CANCELLED, STOPPING)
                shutil.rmtree(self.results / job.id, ignore_errors=True)
        except Cancelled:
            # stopped: cancelled by a client, or (still running) by `close`, which requeues it
            self._finish(job.id, CANCELLED, STOPPING)
            shutil.rmtree(self.results / job.id, ignore_errors=True)
        except Exception as exc:  # the client is told why its job failed
            log.exception("job %s (%s) failed", job.id, job.kind)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if not self._finish(job.id, FAILED, error=error):
                self._finish(job.id, CANCELLED, STOPPING)
            shutil.rmtree(self.results / job.id, ignore_errors=True)
        finally:
            with self._lock:
                self._mine.pop(job.id, None)
            self._wake.set()  # a slot is free

    def _finish(self, job_id: str, state: str, was: str = RUNNING, **fields: Any) -> bool:
        """Record how this process's job ended, if it was still its job and in state `was`."""
        fields = {"state": state, "finished": time.time(), **fields}
        fields_sql = ", ".join(f"{name} = ?" for name in fields)
        if state == DONE:
            fields_sql += ", done = total"
        with self._write() as con:
            return bool(
                con.execute(
                    f"UPDATE jobs SET {fields_sql} WHERE id = ? AND runner = ? AND state = ?",
                    (*fields.values(), job_id, self._runner, was),
                ).rowcount
            )

    def _keep(self, job_id: str, output: bytes | Path) -> tuple[Path, int]:
        """Write a job's result into its folder under a temporary name, then rename it: a
        reader sees no file or the whole file."""
        folder = self.results / job_id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / RESULT_FILE
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".result-")
        try:
            if isinstance(output, Path):
                os.close(fd)
                shutil.move(output, tmp)
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(output)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target, target.stat().st_size

    # -- eviction ---------------------------------------------------------------------------

    def _evict(self, now: float) -> None:
        """Forget finished jobs older than `keep_hours`, then the oldest results past
        `keep_mb`, then result folders no job owns (a runner that died while writing)."""
        cutoff = now - self.limits.keep_hours * 3600
        cap = self.limits.keep_mb * 1024 * 1024
        with self._write() as con:
            doomed = [
                row[0]
                for row in con.execute(
                    "SELECT id FROM jobs WHERE state NOT IN (?, ?, ?) AND finished < ?",
                    (QUEUED, *HOLDING, cutoff),
                )
            ]
            kept = con.execute(
                "SELECT id, result_bytes, finished FROM jobs WHERE state = ? AND finished >= ?"
                " ORDER BY finished",
                (DONE, cutoff),
            ).fetchall()
            total = sum(row["result_bytes"] for row in kept)
            for row in kept:
                if total <= cap or row["finished"] > now - RESULT_GRACE_S:
                    break
                doomed.append(row["id"])
                total -= row["result_bytes"]
            con.executemany("DELETE FROM jobs WHERE id = ?", [(job_id,) for job_id in doomed])
            live = {
                row[0]
                for row in con.execute(
                    "SELECT id FROM jobs WHERE state IN (?, ?, ?, ?)", (QUEUED, *HOLDING, DONE)
                )
            }
        for job_id in doomed:
            shutil.rmtree(self.results / job_id, ignore_errors=True)
        for folder in self.results.iterdir():
            with contextlib.suppress(OSError):
                if folder.name not in live and folder.stat().st_mtime < now - STALE_S:
                    shutil.rmtree(folder, ignore_errors=True)
