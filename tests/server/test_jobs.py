"""The job store on its own: a job whose runner process dies is run again once, then failed;
two stores on one folder keep their own slots; a kind may keep no result file.

Runners are real processes on the same data folder, killed with SIGKILL mid-job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from server.jobs import FAILED, RUNNING, Busy, JobLimits, JobStore

ROOT = Path(__file__).resolve().parents[2]
LIMITS = JobLimits(abandon_s=600)  # nobody polls here: only the runners' deaths count

RUNNER = """
import sys, time
from pathlib import Path
from server.jobs import JobLimits, JobStore

store = JobStore(Path(sys.argv[1]), JobLimits(abandon_s=600))

def endless(params, progress):
    while True:
        progress(0, 1)
        time.sleep(0.1)

store.register("endless", endless)
if sys.argv[2] == "submit":
    print(store.submit("endless", {}, "the-key", "10.0.0.1").id, flush=True)
else:
    store.touch(sys.argv[2])  # starts this process's dispatcher, which claims the job
    print(sys.argv[2], flush=True)
while True:
    time.sleep(1)
"""


def runner(data_dir: Path, what: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(data_dir), what],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip()


def wait_for(check, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def run_and_kill(store: JobStore, data_dir: Path, what: str, attempt: int) -> str:
    """Start a runner, let it take the job (its `attempt`-th runner), kill it mid-job; returns
    the job's id."""
    process, job_id = runner(data_dir, what)
    try:
        assert wait_for(
            lambda: (store.get(job_id).state, store.get(job_id).attempts) == (RUNNING, attempt)
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return job_id


def test_a_job_whose_runner_died_runs_again_elsewhere(tmp_path):
    store = JobStore(tmp_path, LIMITS)
    job_id = run_and_kill(store, tmp_path, "submit", 1)
    store.register("endless", lambda params, progress: (b"finished here", "out.txt", "text/plain"))
    store.touch(job_id)  # this process's dispatcher finds the runner gone, and runs the job
    try:
        assert wait_for(lambda: store.get(job_id).state == "done")
        assert store.get(job_id).result().read_bytes() == b"finished here"
        assert store.get(job_id).attempts == 2
    finally:
        store.close()


def test_a_job_whose_runner_died_twice_is_failed(tmp_path):
    store = JobStore(tmp_path, LIMITS)
    job_id = run_and_kill(store, tmp_path, "submit", 1)
    run_and_kill(store, tmp_path, job_id, 2)  # another runner process notices, takes it, dies
    store.touch(job_id)  # this process (which cannot run it) only reaps
    try:
        assert wait_for(lambda: store.get(job_id).state == FAILED)
        assert "runner stopped" in store.get(job_id).error
    finally:
        store.close()


# -- two stores on one folder, and work that keeps its own results ------------------------------


def gate_kind(started: threading.Event, release: threading.Event):
    def run(params, progress):
        started.set()
        while not release.wait(0.05):
            progress(0, 1)
        return None  # what it made is kept elsewhere

    return run


def test_two_stores_on_one_folder_share_the_table_but_not_their_slots(tmp_path):
    exports = JobStore(tmp_path, JobLimits(max_running=1, max_queued=0, abandon_s=600))
    uploads = JobStore(tmp_path, JobLimits(max_running=1, max_queued=0, abandon_s=600))
    started = {name: threading.Event() for name in ("export", "upload")}
    release = threading.Event()
    exports.register("export", gate_kind(started["export"], release))
    uploads.register("upload", gate_kind(started["upload"], release))
    try:
        export = exports.submit("export", {}, "a", "10.0.0.1")
        assert started["export"].wait(30)
        with pytest.raises(Busy):  # the export slot is taken and its queue holds none
            exports.submit("export", {}, "b", "10.0.0.2")
        upload = uploads.submit("upload", {}, "a", "10.0.0.1")  # its own slot is free
        assert started["upload"].wait(30)
        assert exports.get(upload.id).kind == "upload"  # one table: any store reads any job
        release.set()
        assert wait_for(lambda: {exports.get(j.id).state for j in (export, upload)} == {"done"})
        assert exports.get(upload.id).result() is None  # no result file for such work
        assert not (tmp_path / "jobs" / upload.id).exists()
    finally:
        release.set()
        exports.close()
        uploads.close()
