"""Shared pieces of the security suite: a real app on a real data folder, visitors and analysts
as Flask test clients, and a fingerprint of the data folder to prove nothing was written."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import app as app_module
import config
from datasets.workspace import Workspace
from server.accounts import Accounts

PASSWORD = "correct horse battery"
ANALYSTS = ("ana", "ben")


def csrf_of(html: bytes) -> str:
    return re.search(rb'name="csrf" value="([^"]+)"', html).group(1).decode()


def log_in(client, name: str, password: str = PASSWORD):
    """Log `client` in through the real login form; returns the login response."""
    token = csrf_of(client.get("/login").data)
    return client.post("/login", data={"csrf": token, "name": name, "password": password})


def session_csrf(client) -> str:
    with client.session_transaction() as session:
        return session.get("csrf", "")


def fingerprint(folder: Path, ignore: Callable[[Path], bool] = lambda _p: False) -> dict:
    """Every file under `folder` (but those `ignore` names) with its size and SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not ignore(p.relative_to(folder))
    }


def callback_key(dash_app, input_id: str) -> str:
    """The output key of the callback whose inputs include `input_id` (pattern ids: their
    "type"), as a forged POST to /_dash-update-component names it."""
    for key, cb in dash_app.callback_map.items():
        if any(input_id == i["id"] or f'"{input_id}"' in str(i["id"]) for i in cb["inputs"]):
            return key
    raise KeyError(input_id)


def callback_outputs(key: str) -> list[dict] | dict:
    """The `outputs` of a callback request for output `key` (a list for several outputs)."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        outputs.append(
            {"id": json.loads(component) if component.startswith("{") else component,
             "property": prop}
        )  # fmt: skip
    return outputs if key.startswith("..") else outputs[0]


@pytest.fixture
def data_dir(tmp_path) -> Path:
    for name in ANALYSTS:
        Accounts(tmp_path).add(name, PASSWORD)
    return tmp_path


@pytest.fixture
def make_app(data_dir):
    """`make_app(**settings)`: the real Dash app on `data_dir` with those config settings."""

    def make(**settings):
        cfg = config.Config(data_dir=data_dir, **settings)
        return app_module.create_app(cfg, Workspace.open(data_dir))

    return make


@pytest.fixture
def dash_app(make_app):
    return make_app()


@pytest.fixture
def visitor(dash_app):
    return dash_app.server.test_client()


@pytest.fixture
def analyst(dash_app):
    client = dash_app.server.test_client()
    assert log_in(client, "ana").status_code == 303
    return client


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    """The URL of a real redis-server on a free port, for the whole run (no disk writes)."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary on this machine (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path_factory.mktemp("redis"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(params=["files", "redis"])
def shared_store(request) -> dict:
    """The settings of each store the server processes share (sessions, login counts): the
    files in the data folder, or an emptied Redis."""
    if request.param == "files":
        return {}
    import redis

    url = request.getfixturevalue("redis_server")
    redis.Redis.from_url(url).flushdb()
    return {"redis_url": url}


@pytest.fixture
def small_tmpfs() -> Iterator[Callable[[Path, int], Path]]:
    """`small_tmpfs(folder, kb)`: `folder` made a tmpfs of `kb` KB (a real file system that can
    fill up), unmounted at teardown. Skips where mounting is not allowed (not root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted: list[Path] = []

    def mount(folder: Path, kb: int) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kb}k", "tmpfs", str(folder)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"mount failed: {done.stderr.strip()}"
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        if subprocess.run(["umount", str(folder)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def fill_disk(folder: Path, leave_pages: int = 0) -> Path:
    """Write `folder/filler` until the file system is full, then free `leave_pages` pages of
    4 KB; returns the filler."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    if leave_pages:
        os.truncate(filler, filler.stat().st_size - 4096 * leave_pages)
    assert os.statvfs(folder).f_bavail == leave_pages
    return filler
