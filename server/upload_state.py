"""One upload's folder as every server process sees it: its `state.json`, written atomically
under a file lock, and the one stage (a job of the job store) that may be under way.

The state is the page's source of truth (stage, progress, the inspection and the report as JSON,
the error, the result); the job record named by its `job` field says whether the stage that
writes it is still queued, running or stopping, so any process can tell a stage under way from
one whose runners died.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.jobs import Busy, Cancelled, JobStore, Progress

STATE_FILE = "state.json"
STATE_LOCK = ".state.lock"
PROGRESS_EVERY_S = 0.2
PROGRESS_STEPS = 1000  # a stage's fraction, as the job store's done/total
CLAIM_GRACE_S = 2.0


class JobError(Exception):
    """A job request refused (busy, gone, not ready): the message is for the analyst."""

    def __init__(self, message: str, reason: str = "job") -> None:
        super().__init__(message)
        self.reason = reason


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Job:
    token: str
    folder: Path
    store: JobStore

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.folder / STATE_LOCK, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def as_written(self) -> dict:
        """The state as written: no check of the stage it says is running."""
        try:
            return json.loads((self.folder / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def read(self) -> dict:
        """The state; a stage whose job ended without saying so (its runners died) reads as
        failed."""
        state = self.as_written()
        checked = None
        while state.get("status") == "running" and state.get("job") != checked:
            checked = state.get("job")
            if self._under_way(checked):
                return state
            state = self.as_written()  # the stage writes its last state just before its job ends
        if state.get("status") == "running":
            state = {
                **state,
                "status": "ready" if state.get("inspection") else "failed",
                "error": {"message": "the processing stopped (server restart?): try again",
                          "reason": "interrupted"},
            }  # fmt: skip
        return state

    def write(self, **changes) -> dict:
        """Merge `changes` into the state, atomically (readers see the old or the new file)."""
        with self._locked():
            state = {**self.as_written(), **changes, "updated": utc_now()}
            self._replace(state)
        return state

    def _replace(self, state: dict) -> None:
        tmp = self.folder / f".{STATE_FILE}.{secrets.token_hex(4)}"
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.folder / STATE_FILE)

    def running(self) -> bool:
        """Whether a stage of this upload is queued, running or still stopping."""
        return self._under_way(self.as_written().get("job"))

    def _stage_working(self) -> bool:
        """Whether a stage of this upload is still at work: its state says running and its job
        is unfinished. A stage writes its final state just before its job ends, so once the
        state says otherwise the next stage may be queued, however late the job record is."""
        state = self.as_written()
        return state.get("status") == "running" and self._under_way(state.get("job"))

    def _under_way(self, job_id: str | None) -> bool:
        found = self.store.touch(job_id) if job_id else None
        return found is not None and found.unfinished

    @staticmethod
    def _check_open(state: dict) -> None:
        if state.get("status") in {"committed", "discarded"}:
            raise JobError("this upload is finished: upload the file again", "finished")

    def admit(self, kind: str, params: dict[str, Any]) -> None:
        """Queue a stage of this upload (refused while one is under way) and mark it running.

        A request that follows the state at once is not refused for a stage that has written
        its final state and is ending (`_stage_working`); one still at work is waited for a
        moment, then refused.
        """
        self._check_open(self.as_written())
        deadline = time.monotonic() + CLAIM_GRACE_S
        while self._stage_working():
            if time.monotonic() >= deadline:
                raise JobError("this file is still being processed: wait for it", "busy")
            time.sleep(0.02)
        with self._locked():  # no other process admits a stage of this upload meanwhile
            state = self.as_written()
            self._check_open(state)
            if self._stage_working():
                raise JobError("this file is still being processed: wait for it", "busy")
            owner = state.get("owner") or ""
            try:
                stage = self.store.submit(
                    kind, {"token": self.token, **params}, secrets.token_hex(8), owner, owner
                )
            except Busy as exc:
                raise JobError(
                    "the server is busy with other files: try again soon", "server_busy"
                ) from exc
            self._replace({**state, "status": "running", "fraction": 0.0, "error": None,
                           "job": stage.id, "updated": utc_now()})  # fmt: skip


class StageProgress:
    """`on_progress(fraction, stage)` for the pipeline: written to the state and the job a few
    times a second, and the place where a discard during a stage is noticed."""

    def __init__(self, job: Job, weights: dict[str, tuple[float, float]], report: Progress) -> None:
        self.job = job
        self.weights = weights
        self.report = report
        self.last = 0.0

    def __call__(self, fraction: float, stage: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        if self.job.as_written().get("status") == "discarded":
            raise Cancelled(self.job.token)
        start, span = self.weights.get(stage, (0.0, 1.0))
        overall = min(1.0, start + span * fraction)
        self.report(round(overall * PROGRESS_STEPS), PROGRESS_STEPS)
        self.job.write(stage=stage, fraction=round(overall, 4))
