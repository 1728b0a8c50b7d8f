"""Sessions live on the server: logging out ends a session for every copy of its cookie, a
login gets a new unguessable id and ends any session the browser came with, visitors get no
session and store nothing, and every server process sees the same sessions. Each test runs on
the embedded store (files in the data folder) and on a real Redis server."""

from __future__ import annotations

import hashlib
import stat
import struct
import time
from pathlib import Path

import redis

from server.accounts import Accounts

from .conftest import PASSWORD, csrf_of, log_in, session_csrf

COOKIE = "citylens_session"
LOGIN_COOKIE = "citylens_login_csrf"
KEY_PREFIX = "citylens-session:"
CSV = b"when,value\n2017-03-01 00:00,1\n"


def stored_sessions(data_dir: Path, settings: dict) -> set[str]:
    """The session records in the store `settings` name (cachelib's file count aside)."""
    if settings.get("redis_url"):
        client = redis.Redis.from_url(settings["redis_url"])
        return {key.decode() for key in client.scan_iter(f"{KEY_PREFIX}*")}
    folder = data_dir / "sessions"
    count_file = hashlib.sha256(b"__wz_cache_count").hexdigest()
    return {p.name for p in folder.iterdir() if p.name != count_file} if folder.exists() else set()


def seconds_left(data_dir: Path, settings: dict, sid: str) -> float:
    """How long the store keeps the record of session `sid`."""
    key = KEY_PREFIX + sid
    if settings.get("redis_url"):
        return redis.Redis.from_url(settings["redis_url"]).ttl(key)
    path = data_dir / "sessions" / hashlib.sha256(key.encode()).hexdigest()
    (expires_at,) = struct.unpack("I", path.read_bytes()[:4])  # cachelib's file header
    return expires_at - time.time()


def logged_in(client) -> bool:
    """An analyst-only route answers 404 for an unknown job, 401 for a visitor."""
    status = client.get("/upload/nonexistent-token-xxxxxx").status_code
    assert status in (401, 404)
    return status == 404


def upload(client, token: str):
    headers = {"X-Filename": "a.csv", "Content-Type": "application/octet-stream"}
    return client.post("/upload", data=CSV, headers={**headers, "X-CSRF-Token": token})


def test_a_cookie_copied_before_logout_is_refused_after_it(make_app, shared_store, data_dir):
    first = make_app(**shared_store).server
    second = make_app(**shared_store).server  # another worker process on the same store
    ana = first.test_client()
    assert log_in(ana, "ana").status_code == 303
    cookie, token = ana.get_cookie(COOKIE).value, session_csrf(ana)
    thief = second.test_client()
    thief.set_cookie(COOKIE, cookie)
    assert logged_in(thief)  # the copy works while the session lasts, in any process

    form = ana.get("/logout")
    assert ana.post("/logout", data={"csrf": csrf_of(form.data)}).status_code == 303
    assert ana.get_cookie(COOKIE) is None
    assert stored_sessions(data_dir, shared_store) == set()
    replayed = upload(thief, token)
    assert replayed.status_code == 401 and replayed.get_json()["reason"] == "login"
    assert not logged_in(thief)
    assert not (data_dir / "uploads").exists()


def test_a_password_change_ends_the_sessions(make_app, shared_store, data_dir):
    client = make_app(**shared_store).server.test_client()
    assert log_in(client, "ana").status_code == 303
    token = session_csrf(client)
    Accounts(data_dir).add("ana", PASSWORD + " renewed", update=True)
    assert upload(client, token).status_code == 401


def test_a_login_gets_a_new_id_and_ends_the_session_it_came_with(make_app, shared_store, data_dir):
    server = make_app(**shared_store, session_hours=3, secure_cookies=True).server
    attacker = server.test_client()
    assert log_in(attacker, "ben").status_code == 303
    planted = attacker.get_cookie(COOKIE).value
    victim = server.test_client()
    victim.set_cookie(COOKIE, planted)  # e.g. set from a sibling subdomain
    response = log_in(victim, "ana")
    assert response.status_code == 303
    sid = victim.get_cookie(COOKIE).value
    assert sid != planted and len(sid) >= 43  # 32 random bytes, base64
    assert logged_in(victim) and not logged_in(attacker)
    assert stored_sessions(data_dir, shared_store) == {
        KEY_PREFIX + sid
        if shared_store
        else hashlib.sha256((KEY_PREFIX + sid).encode()).hexdigest()
    }

    if not shared_store:  # the folder and its records are the server's own
        folder = data_dir / "sessions"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}

    set_cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" in set_cookie
    assert 2.9 * 3600 < seconds_left(data_dir, shared_store, sid) <= 3 * 3600
    expires = victim.get_cookie(COOKIE).expires.timestamp()
    assert 2.9 * 3600 < expires - time.time() <= 3 * 3600 + 1


def test_visitors_get_no_session_and_store_nothing(make_app, shared_store, data_dir):
    server = make_app(**shared_store).server
    for i in range(40):
        visitor = server.test_client()
        page = visitor.get("/login")
        form = {"csrf": csrf_of(page.data), "name": f"guest{i}", "password": "not a password"}
        assert visitor.post("/login", data=form).status_code == 401
        assert visitor.get("/").status_code == 200
        assert visitor.get("/_dash-layout").status_code == 200
        assert visitor.get_cookie(COOKIE) is None
    assert stored_sessions(data_dir, shared_store) == set()

    # The login form's token is bound to its browser's cookie, not to a stored session.
    other = server.test_client()
    no_cookie = other.post("/login", data={**form, "name": "ana", "password": PASSWORD})
    assert no_cookie.status_code == 400
    login_cookie = next(h for h in page.headers.getlist("Set-Cookie") if h.startswith(LOGIN_COOKIE))
    assert "HttpOnly" in login_cookie and "SameSite=Lax" in login_cookie
    assert "Path=/login" in login_cookie


def test_a_token_in_any_script_is_refused_without_a_crash(visitor, analyst):
    visitor.get("/login")
    form = {"csrf": "é" * 43, "name": "ana", "password": PASSWORD}
    assert visitor.post("/login", data=form).status_code == 400
    forged = upload(analyst, "é" * 43)
    assert forged.status_code == 403 and forged.get_json()["reason"] == "csrf"
