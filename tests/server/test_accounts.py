"""Analyst accounts: hashed passwords, the command line, the kept session secret, the login
page, sessions across restarts, and the login wall of CITYLENS_VIEW_LOGIN."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import app as app_module
import config
from datasets import __main__ as cli
from datasets.workspace import Workspace
from server.accounts import (
    ACCOUNTS_FILE,
    SECRET_FILE,
    AccountError,
    Accounts,
    load_secret_key,
)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(tmp_path) -> Accounts:
    return Accounts(tmp_path)


def make_app(data_dir: Path, **settings):
    cfg = config.Config(data_dir=data_dir, **settings)
    return app_module.create_app(cfg, Workspace.open(data_dir))


def csrf_of(html: bytes) -> str:
    return re.search(rb'name="csrf" value="([^"]+)"', html).group(1).decode()


def log_in(client, name: str = "ana", password: str = PASSWORD, next_path: str = "/data"):
    token = csrf_of(client.get("/login").data)
    return client.post(
        "/login", data={"csrf": token, "name": name, "password": password, "next": next_path}
    )


# -- the store --------------------------------------------------------------------------------


def test_password_is_stored_as_a_salted_scrypt_hash_never_as_text(accounts, tmp_path):
    accounts.add("ana", PASSWORD)
    accounts.add("ben", PASSWORD)
    with sqlite3.connect(tmp_path / ACCOUNTS_FILE) as con:
        hashes = dict(con.execute("SELECT name, password_hash FROM analysts"))
    assert all(h.startswith("scrypt:") for h in hashes.values())
    assert hashes["ana"] != hashes["ben"]  # salted
    assert PASSWORD not in (tmp_path / ACCOUNTS_FILE).read_bytes().decode("latin-1")
    assert stat.S_IMODE((tmp_path / ACCOUNTS_FILE).stat().st_mode) == 0o600


def test_verify_accepts_the_password_only(accounts):
    accounts.add("ana", PASSWORD)
    assert accounts.verify("ana", PASSWORD) == "ana"
    assert accounts.verify("ANA", PASSWORD) == "ana"  # names are case-insensitive
    assert accounts.verify("ana", PASSWORD + "x") is None
    assert accounts.verify("ana", "") is None
    assert accounts.verify("nobody", PASSWORD) is None
    assert accounts.verify("../etc", PASSWORD) is None
    assert accounts.get("ana").last_login is not None


def test_passwords_compare_after_unicode_normalisation(accounts):
    accounts.add("ana", "caf\u00e9-au-lait")
    assert accounts.verify("ana", "cafe\u0301-au-lait") == "ana"


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("ana", "short", "at least 8"),
        ("", PASSWORD, "analyst name"),
        ("a b", PASSWORD, "analyst name"),
        ("../x", PASSWORD, "analyst name"),
        ("x" * 65, PASSWORD, "analyst name"),
    ],
)
def test_bad_names_and_short_passwords_are_refused(accounts, name, password, message):
    with pytest.raises(AccountError, match=message):
        accounts.add(name, password)
    assert accounts.list() == []


def test_an_existing_name_is_refused_unless_updated(accounts):
    accounts.add("ana", PASSWORD)
    with pytest.raises(AccountError, match="exists"):
        accounts.add("Ana", "another password")
    before = accounts.session_stamp("ana")
    accounts.add("ana", "another password", update=True)
    assert accounts.verify("ana", "another password") == "ana"
    assert accounts.verify("ana", PASSWORD) is None
    assert accounts.session_stamp("ana") != before
    accounts.remove("ana")
    assert accounts.session_stamp("ana") is None
    with pytest.raises(AccountError, match="no analyst"):
        accounts.remove("ana")


# -- the secret -------------------------------------------------------------------------------


def test_secret_is_generated_once_private_and_kept(tmp_path):
    first = load_secret_key(tmp_path)
    path = tmp_path / SECRET_FILE
    assert len(first) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(tmp_path) == first
    os.chmod(path, 0o644)
    assert load_secret_key(tmp_path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".secret")]


def test_a_session_survives_a_restart_and_ends_when_the_analyst_is_removed(tmp_path):
    Accounts(tmp_path).add("ana", PASSWORD)
    first = make_app(tmp_path).server
    client = first.test_client()
    assert log_in(client).status_code == 303
    second = make_app(tmp_path).server  # a restart: a new app on the same data folder
    assert second.secret_key == first.secret_key
    cookie = client.get_cookie("citylens_session")
    other = second.test_client()
    other.set_cookie("citylens_session", cookie.value)
    assert other.get("/upload/nonexistent-token-xxxxxx").status_code == 404  # logged in
    Accounts(tmp_path).remove("ana")
    assert other.get("/upload/nonexistent-token-xxxxxx").status_code == 401


# -- the command line ---------------------------------------------------------------------------


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "datasets", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_cli_creates_lists_and_removes_analysts_non_interactively(tmp_path):
    d = str(tmp_path)
    done = run_cli("add-analyst", "ana", "--password-stdin", "--data-dir", d, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "analyst ana added" in done.stdout
    assert Accounts(tmp_path).verify("ana", PASSWORD) == "ana"  # the newline is not part of it
    again = run_cli("add-analyst", "ana", "--password-stdin", "--data-dir", d, stdin="x" * 9)
    assert again.returncode == 2 and "exists" in again.stderr
    short = run_cli("add-analyst", "ben", "--password-stdin", "--data-dir", d, stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    listed = run_cli("list-analysts", "--data-dir", d)
    assert listed.returncode == 0 and listed.stdout.split()[0] == "ana"
    assert run_cli("remove-analyst", "ana", "--data-dir", d).returncode == 0
    assert run_cli("remove-analyst", "ana", "--data-dir", d).returncode == 2
    assert Accounts(tmp_path).list() == []


def test_cli_asks_twice_and_refuses_two_different_passwords(tmp_path, monkeypatch, capsys):
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["add-analyst", "ana", "--data-dir", str(tmp_path)]) == 2
    assert "differ" in capsys.readouterr().err
    assert Accounts(tmp_path).list() == []
    answers = iter([PASSWORD, PASSWORD])
    assert cli.main(["add-analyst", "ana", "--data-dir", str(tmp_path)]) == 0
    assert Accounts(tmp_path).verify("ana", PASSWORD) == "ana"


# -- the login page -------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path):
    Accounts(tmp_path).add("ana", PASSWORD)
    return make_app(tmp_path).server


def test_login_sets_a_fresh_signed_session_and_goes_back(server):
    client = server.test_client()
    page = client.get("/login?next=/data/upload")
    assert page.status_code == 200 and b'name="password"' in page.data
    assert page.headers["X-Frame-Options"] == "DENY"
    response = log_in(client, next_path="/data/upload")
    assert response.status_code == 303 and response.headers["Location"] == "/data/upload"
    cookie = client.get_cookie("citylens_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    with client.session_transaction() as session:
        assert session["analyst"] == "ana" and len(session["csrf"]) >= 32


def test_wrong_password_missing_csrf_and_open_redirects_are_refused(server):
    client = server.test_client()
    wrong = log_in(client, password="nope nope nope")
    assert wrong.status_code == 401 and b"Wrong name or password" in wrong.data
    no_csrf = client.post("/login", data={"name": "ana", "password": PASSWORD})
    assert no_csrf.status_code == 400
    with client.session_transaction() as session:
        assert "analyst" not in session
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        assert log_in(client, next_path=target).headers["Location"] == "/data"


def test_repeated_failures_are_throttled(server):
    client = server.test_client()
    codes = [log_in(client, password=f"wrong {i} guess").status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert log_in(client).status_code == 429  # even the right password, for a while


def test_logout_needs_its_csrf_token(server):
    client = server.test_client()
    log_in(client)
    assert client.post("/logout", data={}).status_code == 400
    form = client.get("/logout")
    assert form.status_code == 200 and b"Log out" in form.data
    response = client.post("/logout", data={"csrf": csrf_of(form.data), "next": "/data"})
    assert response.status_code == 303
    with client.session_transaction() as session:
        assert "analyst" not in session


def test_login_page_is_translated_and_escapes_what_it_echoes(server):
    client = server.test_client()
    page = client.get("/login?lang=fr")
    assert b"Connexion analyste" in page.data and b'lang="fr"' in page.data
    token = csrf_of(page.data)
    echoed = client.post(
        "/login", data={"csrf": token, "name": "<script>x</script>", "password": "whatever!"}
    )
    assert b"<script>x" not in echoed.data and b"&lt;script&gt;" in echoed.data


def test_viewing_needs_no_login_by_default(server):
    client = server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200


def test_view_login_puts_every_page_and_route_behind_the_login(tmp_path):
    Accounts(tmp_path).add("ana", PASSWORD)
    client = make_app(tmp_path, view_login=True).server.test_client()
    page = client.get("/ecology?lang=fr")
    assert page.status_code == 303
    assert page.headers["Location"].startswith("/login?next=/ecology")
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/download/x.csv").status_code == 401
    assert client.get("/health").status_code == 200
    assert client.get("/assets/citylens.css").status_code == 200
    assert client.get("/login").status_code == 200
    log_in(client)
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
