"""Exports (a deck's PDF or HTML, the SDG annex's PDF) are jobs of one bounded store that every
server process shares: a flood of requests runs at most `CITYLENS_EXPORT_JOBS` at once and is
refused past the queue, identical requests share one job, a job started on one server process
is seen from another, a job nobody asks about is cancelled with its Chromium, and Chromium never
outlives a job.

Everything runs for real: the app on a temporary data folder, its routes through Flask test
clients (each thread its own, each "client" its own address), a second app instance as a real
server process, real Chromium processes counted with psutil (counts, never timings).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from pypdf import PdfReader

from i18n import t

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CITYLENS_CHROMIUM", "/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Chromium here")
FORUM_SLIDES = 15
LANGS = ("en", "fr", "es", "zh")
PATIENCE_S = 90  # generous bound for a busy 2-core machine: a wait, never an assertion on speed


# Processes this test process started before the test (the browser suite's app server and its
# Playwright driver, kept for the whole session): the Chromiums below them are not the exports'.
_elders: set[int] = set()


def chromium_browsers() -> list[psutil.Process]:
    """The Chromium browsers this process started (directly, or through kaleido's wrapper): one
    per instance. A browser's helpers (zygotes, renderers, GPU) say `--type=...`, and a child
    one has forked and not yet turned into a helper (its command line the browser's, or
    empty) has a Chromium parent; neither counts. Nor does a Chromium below a process that was
    already running when the test began (`_elders`)."""
    chromium, browsers = set(), []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            ours = not {proc.pid, *(p.pid for p in proc.parents())} & _elders
            if ours and "chrom" in proc.name() and proc.status() != psutil.STATUS_ZOMBIE:
                chromium.add(proc.pid)
                args = proc.cmdline()
                if args and not any(arg.startswith("--type=") for arg in args):
                    browsers.append(proc)
    found = []
    for proc in browsers:
        with contextlib.suppress(psutil.Error):
            if proc.ppid() not in chromium:
                found.append(proc)
    return found


def eventually(check: Callable[[], bool], timeout: float = PATIENCE_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def write_deck(data_dir: Path, name: str, slides: int) -> str:
    """A presenter's deck of `slides` charts, in the file the deck store reads."""
    deck = {
        "format": 1,
        "title": name,
        "slides": [{"chart": "traffic-volume-speed", "title": f"{i}"} for i in range(slides)],
    }
    (data_dir / "decks").mkdir(exist_ok=True)
    (data_dir / "decks" / f"{name}.json").write_text(json.dumps(deck), encoding="utf-8")
    return name


def client_at(dash_app, address: str):
    """A visitor's test client that comes from `address`."""
    client = dash_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def jobs_app(make_app):
    """`jobs_app(**settings)`: the real app; its running exports are stopped after the test."""
    _elders.clear()
    _elders.update(child.pid for child in psutil.Process().children())
    made = []

    def make(**settings):
        made.append(make_app(**settings))
        return made[-1]

    yield make
    for dash_app in made:
        store = dash_app.server.extensions.get("citylens_job_store")
        if store is not None:
            store.close()
    assert eventually(lambda: not chromium_browsers(), 30)


class Sampler:
    """Counts, many times a second while a flood runs, the Chromium browsers alive."""

    def __init__(self) -> None:
        self.most_browsers = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.most_browsers = max(self.most_browsers, len(chromium_browsers()))
            self.samples += 1
            time.sleep(0.05)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


@needs_chromium
def test_a_flood_of_export_requests_runs_one_and_refuses_past_the_queue(jobs_app, data_dir):
    dash_app = jobs_app(export_jobs=1, export_queue=8, export_per_client=2)
    threads_before = threading.active_count()
    # the PDFs of 16 decks, each asked by a client of its own; four of them asked twice
    decks = [write_deck(data_dir, f"deck-{i}", 10) for i in range(16)]
    asks = [*range(len(decks)), *range(4)]
    replies: list = [None] * len(asks)

    def address(deck: int) -> str:
        return f"10.0.0.{deck + 1}"

    def post(i: int) -> None:
        deck = asks[i]
        client = client_at(dash_app, address(deck))
        replies[i] = client.post(f"/present/export/jobs?deck={decks[deck]}&format=pdf&lang=fr")

    with Sampler() as sampler:
        posters = [threading.Thread(target=post, args=(i,)) for i in range(len(asks))]
        for poster in posters:
            poster.start()
        for poster in posters:
            poster.join()
        # the direct download of a PDF is refused too while the queue is full
        annex = client_at(dash_app, "10.0.2.1").get("/sdg/annex?format=pdf&lang=fr")
        statuses = [r.status_code for r in replies]
        assert set(statuses) <= {202, 429}
        accepted = {
            r.get_json()["id"]: deck
            for deck, r in zip(asks, replies, strict=True)
            if r.status_code == 202
        }
        assert len(accepted) <= 1 + 8  # one running, eight waiting
        assert statuses.count(429) >= len(decks) - 9
        for reply in replies:
            if reply.status_code == 429:
                assert int(reply.headers["Retry-After"]) > 0
                assert reply.get_json()["error"] == t("jobs.busy.queue", "fr", seconds=10)
        assert annex.status_code == 429 and int(annex.headers["Retry-After"]) > 0
        watcher = client_at(dash_app, "10.0.1.1")
        for _ in range(10):  # while the flood is in the store: one runs, the others wait
            now = [watcher.get(f"/present/export/jobs/{job_id}") for job_id in accepted]
            assert {r.status_code for r in now} == {200}
            assert sum(r.get_json()["state"] == "running" for r in now) <= 1
            time.sleep(0.2)
        new_threads = threading.active_count() - threads_before

    assert sampler.most_browsers <= 1
    # 20 requests started 20 threads; now: the sampler, the store's dispatcher, one job, and the
    # seven pipe and watchdog threads kaleido keeps for its Chromium
    assert new_threads <= 15

    # only the client that started a job may cancel it; cancelling stops its Chromium
    for job_id, deck in accepted.items():
        url = f"/present/export/jobs/{job_id}"
        assert client_at(dash_app, "10.0.1.1").delete(url).status_code == 403
        cancelled = client_at(dash_app, address(deck)).delete(url)
        assert cancelled.status_code == 200
        assert cancelled.get_json()["state"] in ("cancelled", "done")  # the first may be done
    assert eventually(lambda: not chromium_browsers())


@needs_chromium
def test_one_client_has_at_most_two_exports_under_way(jobs_app, data_dir):
    dash_app = jobs_app(export_per_client=2)
    deck = write_deck(data_dir, "long", 60)
    client = client_at(dash_app, "10.0.0.7")
    replies = [
        client.post(f"/present/export/jobs?deck={deck}&format=pdf&lang={lang}") for lang in LANGS
    ]
    assert [r.status_code for r in replies] == [202, 202, 429, 429]
    assert replies[2].get_json()["reason"] == "client"
    assert replies[3].get_json()["error"] == t("jobs.busy.client", "zh", seconds=10)
    # another client is not held up by this one
    other = client_at(dash_app, "10.0.0.8").post(f"/present/export/jobs?deck={deck}&format=pdf")
    assert other.status_code == 202
    for reply in replies[:2]:
        assert client.delete(f"/present/export/jobs/{reply.get_json()['id']}").status_code == 200


def test_identical_requests_share_one_job_and_its_file(jobs_app):
    dash_app = jobs_app()
    query = "/present/export/jobs?deck=forum&format=html&lang=fr&theme=light"
    first = [client_at(dash_app, f"10.0.0.{i}").post(query) for i in range(1, 6)]
    assert {r.status_code for r in first} == {202}
    ids = {r.get_json()["id"] for r in first}
    assert len(ids) == 1
    job_id = ids.pop()
    watcher = client_at(dash_app, "10.0.0.9")
    assert eventually(
        lambda: watcher.get(f"/present/export/jobs/{job_id}").get_json()["state"] == "done"
    )
    stored = watcher.get(f"/present/export/jobs/{job_id}/file")
    assert stored.status_code == 200 and b"present-deck" in stored.data
    # once done, the same request is answered from the kept file: the same job, already done
    again = client_at(dash_app, "10.0.0.10").post(query)
    assert again.get_json()["id"] == job_id and again.get_json()["state"] == "done"
    direct = client_at(dash_app, "10.0.0.11").get(
        "/present/export?deck=forum&format=html&lang=fr&theme=light"
    )
    assert direct.status_code == 200 and direct.data == stored.data
    # another language is another file
    other = client_at(dash_app, "10.0.0.12").post(query.replace("lang=fr", "lang=es"))
    assert other.get_json()["id"] != job_id


SERVE = """
import pathlib, sys
from werkzeug.serving import make_server
import app, config
from datasets.workspace import Workspace

data_dir = pathlib.Path(sys.argv[1])
dash_app = app.create_app(config.Config(data_dir=data_dir), Workspace.open(data_dir))
server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
print(server.server_port, flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
"""


@pytest.fixture
def other_instance(data_dir):
    """A second CityLens server process on the same data folder; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(data_dir)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)  # a clean exit: its running jobs stop first
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@needs_chromium
def test_a_job_started_on_one_server_process_is_followed_on_another(jobs_app, other_instance):
    request = urllib.request.Request(
        other_instance + "/present/export/jobs?deck=forum&format=pdf&lang=fr", method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        assert reply.status == 202
        job_id = json.load(reply)["id"]

    here = client_at(jobs_app(), "127.0.0.1")
    seen = []
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        status = here.get(f"/present/export/jobs/{job_id}")
        assert status.status_code == 200  # never 404 while it runs in the other process
        seen.append(status.get_json())
        if seen[-1]["state"] not in ("queued", "running"):
            break
        time.sleep(0.3)
    assert any(s["state"] == "running" and s["done"] > 0 for s in seen)
    assert seen[-1]["state"] == "done"
    pdf = here.get(f"/present/export/jobs/{job_id}/file")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(pdf.data)).pages) == FORUM_SLIDES


@needs_chromium
def test_an_export_nobody_asks_about_is_cancelled_and_its_chromium_stopped(jobs_app, data_dir):
    dash_app = jobs_app(job_abandon_s=2)
    slides = 60
    deck = write_deck(data_dir, "long", slides)
    client = client_at(dash_app, "10.0.0.3")
    job_id = client.post(f"/present/export/jobs?deck={deck}&format=pdf").get_json()["id"]

    def printing() -> bool:  # past the slides, into the pages Chromium prints
        status = client.get(f"/present/export/jobs/{job_id}").get_json()
        return status["done"] > slides and bool(chromium_browsers())

    assert eventually(printing)
    # the client goes away: nobody asks any more
    assert eventually(lambda: not chromium_browsers())
    status = client.get(f"/present/export/jobs/{job_id}").get_json()
    assert status["state"] == "cancelled" and status["done"] < 2 * slides
    assert client.get(f"/present/export/jobs/{job_id}/file").status_code == 404


@needs_chromium
def test_a_flood_of_annex_pdfs_prints_one_at_a_time_and_the_site_keeps_answering(jobs_app):
    dash_app = jobs_app(export_jobs=1)
    langs = ("en", "fr", "es")
    replies: list = [None] * 12
    answered: list[int] = []
    flooding = threading.Event()

    def ask(i: int) -> None:
        client = client_at(dash_app, f"10.0.0.{i + 1}")
        replies[i] = client.get(f"/sdg/annex?format=pdf&lang={langs[i % len(langs)]}")

    def browse() -> None:
        client = client_at(dash_app, "10.0.9.9")
        while flooding.is_set():
            answered.extend(client.get(path).status_code for path in ("/health", "/"))

    with Sampler() as sampler:
        flooding.set()
        browser = threading.Thread(target=browse)
        browser.start()
        askers = [threading.Thread(target=ask, args=(i,)) for i in range(12)]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join()
        flooding.clear()
        browser.join()

    assert sampler.samples > 0 and sampler.most_browsers <= 1
    assert [r.status_code for r in replies] == [200] * 12
    assert all(r.data.startswith(b"%PDF") for r in replies)
    # one print per language, shared by the four requests that asked for it
    for lang_index in range(len(langs)):
        assert len({replies[i].data for i in range(lang_index, 12, len(langs))}) == 1
    assert len(answered) >= 10 and set(answered) == {200}
    assert eventually(lambda: not chromium_browsers())
