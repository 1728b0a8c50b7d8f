"""Analyst sessions kept on the server (Flask-Session), so that ending one ends it everywhere.

The cookie holds only a random id (32 bytes from `secrets`); what the session says lives in a
store every server process shares: Redis when `CITYLENS_REDIS_URL` is set, otherwise files in
`<data_dir>/sessions` (cachelib's FileSystemCache, folder 0700, files 0600). Logging out deletes
the record, so a copy of the cookie taken before is worth nothing after.

Only a login writes a record: visitors never get one (the login form's CSRF token is a cookie of
its own, see `server.auth`), so a flood of visitors stores nothing. A record lasts
`CITYLENS_SESSION_HOURS` from the login, and is not rewritten by the requests that use it. As a
last bound on the disk store, past `MAX_FILE_SESSIONS` records the expired ones are swept, then
the oldest.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import flask
from cachelib.file import FileSystemCache
from flask_session import Session

from config import Config

SESSIONS_DIR = "sessions"
COOKIE_NAME = "citylens_session"
KEY_PREFIX = "citylens-session:"
MAX_FILE_SESSIONS = 1000


def register_sessions(server: flask.Flask, cfg: Config, data_dir: Path) -> None:
    """Server-side sessions on `server`: the cookie's settings and the shared store."""
    server.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg.secure_cookies),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=cfg.session_hours),
        SESSION_PERMANENT=True,
        # A login lasts its hours from the login, and a page's many requests write nothing.
        SESSION_REFRESH_EACH_REQUEST=False,
        SESSION_KEY_PREFIX=KEY_PREFIX,
    )
    if cfg.redis_url:
        import redis

        server.config.update(
            SESSION_TYPE="redis",
            SESSION_REDIS=redis.Redis.from_url(
                cfg.redis_url, socket_timeout=2, socket_connect_timeout=2
            ),
        )
    else:
        folder = Path(data_dir) / SESSIONS_DIR
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        server.config.update(
            SESSION_TYPE="cachelib",
            SESSION_CACHELIB=FileSystemCache(str(folder), threshold=MAX_FILE_SESSIONS, mode=0o600),
        )
    Session(server)


def begin_session(values: dict[str, Any]) -> None:
    """Replace this request's session with `values` under a new id: the record of any session
    the request came with is deleted, so an id planted before the login is not logged in."""
    session = flask.session
    session.clear()
    session.update(values)
    flask.current_app.session_interface.regenerate(session)


def end_session() -> None:
    """Empty the session: Flask-Session deletes an emptied session's record and its cookie."""
    flask.session.clear()
