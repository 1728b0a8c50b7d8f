"""Shared pieces of the security suite: a real app on a real data folder, visitors and analysts
as Flask test clients, and a fingerprint of the data folder to prove nothing was written."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import app as app_module
import config
from datasets.accounts import Accounts
from datasets.workspace import Workspace

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
