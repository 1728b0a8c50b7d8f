"""Browser tests: the real app under gunicorn with two workers, driven by Debian's headless
Chromium.

Every page a test opens is watched: a request to any host but 127.0.0.1 or a console error
fails the test, so "works offline" and "no console error" are checked everywhere, not once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CITYLENS_CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
WORKERS = 2  # at least two server processes, as in production
# No control socket: it would be ~/.gunicorn/gunicorn.ctl, shared by runs at the same time.
GUNICORN_ARGS = ("-c", "gunicorn.conf.py", "--no-control-socket")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_workers(log: Path, workers: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    """Until every gunicorn worker serves (each logs "ready to serve" once it has drawn its
    pages, gunicorn.conf.py), so the tests meet both processes, not only the first one up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        if log.read_text(errors="replace").count("ready to serve") >= workers:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{workers} gunicorn workers did not boot in {timeout} s")


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url}/health did not answer in {timeout} s")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("citylens-e2e-data")


@pytest.fixture(scope="session")
def app_url(data_dir) -> str:
    """The app as production serves it: gunicorn with two worker processes (gunicorn.conf.py),
    so state one process keeps for itself (caches, sessions, jobs) must reach the other through
    what they share, as it must in production. The demo data are created before the workers
    start, as gunicorn.conf.py does."""
    port = free_port()
    env = {
        **os.environ,
        "CITYLENS_HOST": "127.0.0.1",
        "CITYLENS_PORT": str(port),
        "CITYLENS_DATA_DIR": str(data_dir),
        "CITYLENS_WORKERS": str(WORKERS),
        "CITYLENS_THREADS": "8",
        "CITYLENS_WARM_MONTHS": "0",  # a background pass over every month: not for a test run
        "CITYLENS_DEMO_DETECTORS": "16",
        "CITYLENS_DEMO_DAYS": "365",
    }
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, "app:server"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout=900)  # the demo year and every page drawn, first
        wait_workers(data_dir / "server.log", WORKERS, proc)
        yield url
    finally:
        proc.terminate()  # gunicorn's master stops its workers on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run ./dev test, which installs Debian's chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watch:
    """What a page did that a test must not tolerate: outside requests, console errors."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []

    def on_request(self, request) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if host not in LOCAL_HOSTS:
            self.outside.append(request.url)

    def on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def page_factory(browser, request):
    """New pages with a viewport and language; checked for outside requests and errors."""
    made = []

    def make(width: int = 1366, height: int = 768, locale: str = "en-GB"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        context.set_default_timeout(60_000)  # generous: CI shares 2 cores with the app under test
        page = context.new_page()
        watch = Watch()
        page.on("request", watch.on_request)
        page.on("console", watch.on_console)
        page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
        made.append((context, page, watch))
        return page

    yield make
    for context, _page, _watch in made:
        context.close()
    for _context, _page, watch in made:
        assert not watch.outside, f"requests left 127.0.0.1: {watch.outside[:5]}"
        assert not watch.errors, f"console errors: {watch.errors[:5]}"


@pytest.fixture
def page(page_factory):
    return page_factory()


def wait_for_charts(page, timeout: float = 60_000) -> None:
    """Until every chart card has a drawn figure or its empty-state message."""
    page.wait_for_function(
        """() => {
            const cards = [...document.querySelectorAll('.chart-card')];
            return cards.length > 0 && cards.every(card => {
                const empty = card.querySelector('.empty-state');
                const gd = card.querySelector('.js-plotly-plot');
                return (empty && !empty.hidden) || (gd && gd._fullData && gd._fullData.length > 0);
            }) && !document.querySelector('[data-dash-is-loading="true"]');
        }""",
        timeout=timeout,
    )


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def add_analyst(data_dir: Path, name: str, password: str) -> subprocess.CompletedProcess:
    """An analyst account, created as an operator would: the command line, password on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "datasets", "add-analyst", name, "--password-stdin",
         "--data-dir", str(data_dir)],
        input=password + "\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
