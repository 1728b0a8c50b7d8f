"""An upload's stages are jobs of the one job store: the record names the analyst, carries the
stage's progress and ends when the stage has written its state; a second server process (here
a second `Jobs` on the same folder) sees a stage under way, is refused a second one, and may
discard the upload, which the running process then stops; a stage whose job ended without
saying so reads as interrupted."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest

import server.upload_jobs as upload_jobs
from datasets.ingest import Limits
from datasets.records import db
from datasets.records import jobs as job_records
from datasets.workspace import Workspace
from server.upload_jobs import CHECK, JobError, Jobs

CSV = (
    "when,post,fine dust (µg/m³)\n"
    + "".join(f"2017-03-01 {h:02d}:00,1223A,{30 + h}\n" for h in range(24))
).encode()


def wait_for(check, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return Workspace.open(tmp_path)


@pytest.fixture
def jobs(workspace):
    made = Jobs(workspace, Limits())
    yield made
    made.store.close()


def received(jobs: Jobs, owner: str = "ana"):
    return jobs.receive(owner, "air.csv", io.BytesIO(CSV), len(CSV))


def test_a_check_is_a_job_of_its_analyst_that_ends_with_its_state(jobs):
    job = received(jobs)
    jobs.check(job)
    assert wait_for(lambda: job.read()["status"] != "running")
    state = job.read()
    assert state["status"] == "ready" and state["report"] is not None
    assert wait_for(lambda: jobs.store.get(state["job"]).state == "done")  # just after it
    record = jobs.store.get(state["job"])
    assert (record.kind, record.owner) == (CHECK, "ana")
    assert record.params["token"] == job.token
    assert record.done == record.total > 0
    assert "job" not in upload_jobs.public_state(state)


@pytest.fixture
def slow_inspect(monkeypatch):
    """An inspection that reports progress until it is stopped."""
    started = threading.Event()

    def inspect(path, *, on_progress, **_kwargs):
        started.set()
        for step in range(2400):
            on_progress(step / 2400, "inspect")
            time.sleep(0.05)
        raise AssertionError("never stopped")

    monkeypatch.setattr(upload_jobs, "inspect", inspect)
    return started


def test_another_process_sees_the_stage_and_its_discard_stops_it(jobs, workspace, slow_inspect):
    job = received(jobs)
    jobs.check(job)
    assert slow_inspect.wait(30)
    elsewhere = Jobs(workspace, Limits())  # what a second server process knows: the folder
    try:
        theirs = elsewhere.get(job.token, "ana")
        assert theirs.running() and theirs.read()["status"] == "running"
        with pytest.raises(JobError) as refused:
            elsewhere.check(theirs)
        assert refused.value.reason == "busy"
        stage = job.read()["job"]
        elsewhere.discard(theirs)
        assert wait_for(lambda: not Path(job.folder).exists())
        assert wait_for(lambda: jobs.store.get(stage).state == "cancelled")
    finally:
        elsewhere.store.close()


def test_a_stage_whose_job_ended_without_it_reads_as_interrupted(jobs, slow_inspect):
    job = received(jobs)
    jobs.check(job)
    assert slow_inspect.wait(30)
    stage = job.read()["job"]
    with db.transaction(jobs.store.path) as con:
        job_records.set_state(con, stage, "failed", error="its runner stopped twice")
    state = job.read()
    assert state["status"] == "failed" and state["error"]["reason"] == "interrupted"
    jobs.discard(job)
