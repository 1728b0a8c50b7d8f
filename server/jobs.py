"""The one job store of CityLens: long work (a deck's PDF or HTML, the SDG annex's PDF, an
upload's validation and publishing) kept as records every server process reads, and run by a
bounded number of runners across processes.

Jobs are records in `<data_dir>/jobs.sqlite` (`datasets.records.jobs`; WAL: every gunicorn
worker of one data folder reads and writes it) and their results under `<data_dir>/jobs/<id>/`,
written atomically. A job is a kind (a function registered by name, `fn(params, progress) ->
(bytes or path, filename, mimetype)`, or None for work that keeps what it makes elsewhere) and
JSON params: the record alone is enough to run it in any process that registered the kind, so
nothing here depends on the web server it runs in.

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
of its own, beats its jobs' heartbeat, and requeues the jobs of dead runners for every process.
The limits (slots, queue, abandonment, what is kept) bound the kinds the store registered, so
two stores on one folder (exports, uploads) share the table and its code but not their slots.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from datasets.records import db
from datasets.records import jobs as records
from datasets.records.jobs import (
    ACTIVE,
    CANCELLED,
    DB_FILE,
    DONE,
    FAILED,
    HOLDING,
    QUEUED,
    RUNNING,
    STOPPING,
)

__all__ = [
    "ACTIVE",
    "CANCELLED",
    "DB_FILE",
    "DONE",
    "FAILED",
    "HOLDING",
    "QUEUED",
    "RESULTS_DIR",
    "RUNNING",
    "STOPPING",
    "Busy",
    "Cancelled",
    "Job",
    "JobLimits",
    "JobStore",
    "Progress",
]

log = logging.getLogger(__name__)

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

JOB_ID = re.compile(r"[A-Za-z0-9_-]{24}")

Progress = Callable[[int, int], None]
Output = tuple[bytes | Path, str, str]  # the result (bytes, or a file to move in), name, type
Runner = Callable[[dict[str, Any], Progress], Output | None]  # None: the work lands elsewhere


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
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def unfinished(self) -> bool:
        """Queued, running or stopping: its runner may still touch what it works on."""
        return self.state in (QUEUED, *HOLDING)

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
    """The jobs of one data folder; see the module's docstring. Its limits bound the jobs of
    the kinds it registered: two stores on one folder with different kinds share the table but
    not their slots."""

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
        records.create(self.path)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._kinds)

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
        with db.transaction(self.path) as con:
            for row in records.shared(con, dedup):
                job = Job.from_row(row)
                if job.state == DONE and job.result() is None:
                    continue  # its result was evicted: compute it again
                records.asked(con, job.id, now)
                return job
            if records.client_active(con, self.kinds, client) >= self.limits.per_client:
                raise Busy("client")
            queued, running = records.counts(con, self.kinds)
            room = self.limits.max_queued + max(self.limits.max_running - running, 0)
            if queued >= room:
                raise Busy("queue")
            row = records.insert(
                con,
                {
                    "id": secrets.token_urlsafe(18),
                    "kind": kind,
                    "dedup_key": dedup,
                    "params": params,
                    "owner": owner,
                    "client": client,
                    "created": now,
                },
            )
        self._wake.set()
        return Job.from_row(row)

    def get(self, job_id: str) -> Job | None:
        if not JOB_ID.fullmatch(job_id or ""):
            return None
        with db.connect(self.path) as con:
            row = records.get(con, job_id)
        return Job.from_row(row) if row else None

    def touch(self, job_id: str) -> Job | None:
        """The job, noting that a client asked about it (which keeps it from being abandoned)."""
        if not JOB_ID.fullmatch(job_id or ""):
            return None
        self._ensure_dispatcher()
        with db.connect(self.path) as con:
            # at most one write a second per job, however fast its clients poll
            records.asked(con, job_id, time.time(), at_most_every=1.0)
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
        with db.transaction(self.path) as con:
            records.cancel(con, job_id, "cancelled by its client", time.time())
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
            with db.transaction(self.path) as con:
                records.release(con, self._runner)
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
        with db.transaction(self.path) as con:
            self._beat(con, now)
            self._reap(con, now)
            claimed = self._claim(con, now)
        for job in claimed:
            self._start(job)
        if now - self._evicted_at >= EVICT_EVERY_S:
            self._evicted_at = now
            self._evict(now)

    def _beat(self, con: db.Connection, now: float) -> None:
        """Refresh the heartbeat of this process's jobs, and stop those cancelled elsewhere."""
        with self._lock:
            mine = list(self._mine)
        if not mine:
            return
        running = records.beat(con, self._runner, now)
        for job_id in mine:
            if job_id not in running:
                self._flag_cancelled(job_id)

    def _reap(self, con: db.Connection, now: float) -> None:
        """Cancel the jobs nobody asks about any more; requeue or fail those whose runner died."""
        records.abandon(con, self.kinds, now - self.limits.abandon_s, now)
        host = socket.gethostname()
        for row in records.held_elsewhere(con, self._runner):
            stale = row["heartbeat"] is None or now - row["heartbeat"] > STALE_S
            gone = row["runner_host"] == host and not _pid_alive(row["runner_pid"])
            if not (stale or gone):
                continue
            if row["state"] == STOPPING:
                records.set_state(con, row["id"], CANCELLED)
            elif row["attempts"] < MAX_ATTEMPTS:
                records.requeue(con, row["id"])
            else:
                records.set_state(
                    con, row["id"], FAILED, error="its runner stopped twice", finished=now
                )

    def _claim(self, con: db.Connection, now: float) -> list[Job]:
        """Take queued jobs of the kinds this process knows while slots are free."""
        if not self._kinds:
            return []
        _queued, running = records.counts(con, self.kinds)
        runner = {
            "runner": self._runner,
            "runner_host": socket.gethostname(),
            "runner_pid": os.getpid(),
        }
        claimed = []
        for _slot in range(self.limits.max_running - running):
            row = records.claim(con, self.kinds, runner, now)
            if row is None:
                break
            claimed.append(Job.from_row(row))
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

    def _progress(self, job: Job, cancelled: threading.Event) -> Progress:
        """The job's `progress(done, total)`: recorded when it changes, and where a job that
        was cancelled, or taken from this process, learns it must stop."""
        last: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            if cancelled.is_set():
                raise Cancelled(job.id)
            if last and last[-1] == (done, total):
                return
            last[:] = [(done, total)]
            with db.connect(self.path) as con:
                moved = records.progress(con, job.id, self._runner, done, total)
            if not moved:
                cancelled.set()
                raise Cancelled(job.id)

        return progress

    def _execute(self, job: Job, cancelled: threading.Event) -> None:
        try:
            made = self._kinds[job.kind](job.params, self._progress(job, cancelled))
            if made is None:
                kept = self._finish(job.id, DONE)
            else:
                output, filename, mimetype = made
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
        with db.transaction(self.path) as con:
            return records.finish(con, job_id, self._runner, was, fields)

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
        with db.transaction(self.path) as con:
            doomed, live = records.evict(con, self.kinds, cutoff, cap, now - RESULT_GRACE_S)
        for job_id in doomed:
            shutil.rmtree(self.results / job_id, ignore_errors=True)
        for folder in self.results.iterdir():
            with contextlib.suppress(OSError):
                if folder.name not in live and folder.stat().st_mtime < now - STALE_S:
                    shutil.rmtree(folder, ignore_errors=True)
