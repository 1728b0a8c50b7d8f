"""Who may change data: analyst sessions, the login and logout pages, and the checks every
state-changing route and callback runs on the server.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure when configured) signed with
the secret kept in the data directory. A session names the analyst and carries a fingerprint of
their password hash, so removing an analyst or changing their password ends their sessions. The
login and logout forms are plain POST forms with a CSRF token; the upload route wants the same
token in a header; Dash callbacks are JSON POSTs a cross-site form cannot forge, and each one that
changes data calls `current_analyst()` itself.

With `CITYLENS_VIEW_LOGIN=1` every page and route but the login page, the stylesheets and
`/health` needs a session too.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import flask
from dash import html

from datasets.accounts import Accounts, load_secret_key
from i18n import DEFAULT_LANGUAGE, LANGUAGES, normalize_language, t

SESSION_ANALYST = "analyst"
SESSION_STAMP = "stamp"
SESSION_CSRF = "csrf"
CSRF_HEADER = "X-CSRF-Token"
EXTENSION = "citylens_auth"
FAILURES_ALLOWED = 10
FAILURE_WINDOW_S = 15 * 60
OPEN_PATHS = ("/login", "/logout", "/health", "/_favicon.ico")
OPEN_PREFIXES = ("/assets/",)


@dataclass
class Throttle:
    """Failed logins per client address: after too many in the window, refuse for a while."""

    allowed: int = FAILURES_ALLOWED
    window_s: float = FAILURE_WINDOW_S
    _failures: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque:
        times = self._failures[key]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.allowed

    def fail(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(key, now).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@dataclass
class Auth:
    accounts: Accounts
    view_login: bool = False
    throttle: Throttle = field(default_factory=Throttle)


def _auth() -> Auth:
    return flask.current_app.extensions[EXTENSION]


def accounts() -> Accounts:
    return _auth().accounts


# -- session helpers (any request: Flask route or Dash callback) -------------------------------


def current_analyst() -> str | None:
    """The analyst of this request's session, checked against the accounts; None outside a
    request, for a visitor, or when the account was removed or its password changed."""
    if not flask.has_request_context():
        return None
    cached = flask.g.get("citylens_analyst", False)
    if cached is not False:
        return cached
    name = flask.session.get(SESSION_ANALYST)
    found = None
    if isinstance(name, str):
        stamp = _auth().accounts.session_stamp(name)
        if stamp is not None and hmac.compare_digest(stamp, str(flask.session.get(SESSION_STAMP))):
            found = name
    flask.g.citylens_analyst = found
    return found


def csrf_token() -> str:
    token = flask.session.get(SESSION_CSRF)
    if not isinstance(token, str) or len(token) < 32:
        token = flask.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return token


def csrf_ok(sent: str | None) -> bool:
    token = flask.session.get(SESSION_CSRF)
    return bool(isinstance(token, str) and sent and hmac.compare_digest(token, sent))


def safe_next(target: str | None, default: str = "/data") -> str:
    """A path on this site to go back to after login: never another host (open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 for ch in target)
    ):
        return default
    return target


def request_language() -> str:
    lang = flask.request.values.get("lang")
    if lang in LANGUAGES:
        return lang
    best = flask.request.accept_languages.best_match(LANGUAGES)
    return normalize_language(best or DEFAULT_LANGUAGE)


def login_href(next_path: str, lang: str | None = None) -> str:
    query = f"?next={quote(safe_next(next_path), safe='/')}"
    return f"/login{query}&lang={lang}" if lang else f"/login{query}"


# -- Dash pieces ---------------------------------------------------------------------------------


def analyst_bar(lang: str, path: str):
    """ "Signed in as …, log out" for an analyst; "Log in" for a visitor."""
    name = current_analyst()
    if name is None:
        return html.Div(
            [
                html.Span(t("auth.visitor", lang), className="muted"),
                html.A(
                    t("auth.log_in", lang), href=login_href(path, lang), className="btn btn-small"
                ),
            ],
            className="analyst-bar",
        )
    return html.Div(
        [
            html.Span(t("auth.signed_in", lang, name=name), className="analyst-name"),
            html.A(
                t("auth.log_out", lang),
                href=f"/logout?next={quote(safe_next(path), safe='/')}&lang={lang}",
                className="btn btn-small",
            ),
        ],
        className="analyst-bar",
    )


def visitor_notice(lang: str, path: str, message_key: str = "auth.required"):
    """What a visitor sees where an analyst would find a control: a reason and a way in."""
    return html.Div(
        [
            html.P(t(message_key, lang)),
            html.A(
                t("auth.log_in", lang), href=login_href(path, lang), className="btn btn-primary"
            ),
            html.P(t("auth.accounts_hint", lang), className="muted small"),
        ],
        className="card visitor-notice",
        role="status",
    )


# -- the login and logout pages ------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="{{ html_lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · CityLens</title>
<link rel="icon" href="/assets/logo.svg">
<link rel="stylesheet" href="/assets/citylens.css">
<link rel="stylesheet" href="/assets/upload.css">
</head>
<body class="theme-light">
<main class="auth-page">
<a class="brand auth-brand" href="/"><img src="/assets/logo.svg" alt="" class="logo">CityLens</a>
<form class="card auth-card" method="post" action="{{ action }}">
<h1>{{ title }}</h1>
{% if intro %}<p class="muted">{{ intro }}</p>{% endif %}
{% if error %}<p class="auth-error" role="alert">{{ error }}</p>{% endif %}
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<input type="hidden" name="lang" value="{{ lang }}">
{% if login %}
<label for="login-name">{{ name_label }}</label>
<input id="login-name" name="name" autocomplete="username" required autofocus
 maxlength="64" value="{{ name }}">
<label for="login-password">{{ password_label }}</label>
<input id="login-password" name="password" type="password" autocomplete="current-password"
 required maxlength="1024">
{% endif %}
<button class="btn btn-primary" type="submit" id="auth-submit">{{ submit }}</button>
{% if back %}<a class="auth-back" href="{{ back_href }}">{{ back }}</a>{% endif %}
{% if hint %}<p class="muted small">{{ hint }}</p>{% endif %}
</form>
</main>
</body>
</html>
"""


def _page(status: int = 200, **values) -> flask.Response:
    lang = values["lang"]
    defaults = {
        "html_lang": "zh-Hans" if lang == "zh" else lang,
        "csrf": csrf_token(),
        "intro": "",
        "error": "",
        "hint": "",
        "back": "",
        "back_href": "/",
        "name": "",
        "login": False,
    }
    body = flask.render_template_string(PAGE, **{**defaults, **values})
    response = flask.make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def register_auth(server: flask.Flask, cfg, data_dir: Path) -> Auth:
    """Sessions, /login, /logout, and (with `view_login`) the login wall."""
    server.secret_key = load_secret_key(data_dir)
    server.config.update(
        SESSION_COOKIE_NAME="citylens_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg.secure_cookies),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=cfg.session_hours),
    )
    auth = Auth(Accounts(data_dir), view_login=bool(cfg.view_login))
    server.extensions[EXTENSION] = auth

    def login_page(lang: str, next_path: str, status: int = 200, error: str = "", name: str = ""):
        signed_in = current_analyst()
        intro_key = "auth.intro_view_login" if auth.view_login else "auth.intro"
        return _page(
            status,
            lang=lang,
            action="/login",
            login=True,
            title=t("auth.login_title", lang),
            intro=t("auth.already", lang, name=signed_in) if signed_in else t(intro_key, lang),
            error=error,
            next=next_path,
            name=name,
            name_label=t("auth.name", lang),
            password_label=t("auth.password", lang),
            submit=t("auth.log_in", lang),
            hint=t("auth.accounts_hint", lang),
            back="" if auth.view_login else t("auth.back", lang),
        )

    @server.get("/login")
    def login_form():
        return login_page(request_language(), safe_next(flask.request.args.get("next")))

    @server.post("/login")
    def login_submit():
        form = flask.request.form
        lang = request_language()
        next_path = safe_next(form.get("next"))
        name = (form.get("name") or "").strip()[:64]
        client = flask.request.remote_addr or "?"
        if not csrf_ok(form.get("csrf")):
            return login_page(lang, next_path, 400, t("auth.expired", lang), name)
        if auth.throttle.blocked(client):
            minutes = int(auth.throttle.window_s // 60)
            return login_page(lang, next_path, 429, t("auth.throttled", lang, minutes=minutes))
        found = auth.accounts.verify(name, form.get("password") or "")
        if found is None:
            auth.throttle.fail(client)
            return login_page(lang, next_path, 401, t("auth.wrong", lang), name)
        auth.throttle.clear(client)
        flask.session.clear()  # a fresh session: no fixation, a fresh CSRF token
        flask.session.permanent = True
        flask.session[SESSION_ANALYST] = found
        flask.session[SESSION_STAMP] = auth.accounts.session_stamp(found)
        flask.session[SESSION_CSRF] = secrets.token_urlsafe(32)
        flask.g.pop("citylens_analyst", None)
        return flask.redirect(next_path, code=303)

    @server.get("/logout")
    def logout_form():
        lang = request_language()
        next_path = safe_next(flask.request.args.get("next"), "/")
        name = current_analyst()
        if name is None:
            return flask.redirect(login_href(next_path, lang), code=303)
        return _page(
            lang=lang,
            action="/logout",
            title=t("auth.logout_title", lang),
            intro=t("auth.logout_confirm", lang, name=name),
            next=next_path,
            submit=t("auth.log_out", lang),
            back=t("auth.back", lang),
            back_href=next_path,
        )

    @server.post("/logout")
    def logout_submit():
        if not csrf_ok(flask.request.form.get("csrf")):
            flask.abort(400)
        flask.session.clear()
        target = safe_next(flask.request.form.get("next"), "/")
        return flask.redirect("/login" if auth.view_login else target, code=303)

    if auth.view_login:

        @server.before_request
        def login_wall():
            path = flask.request.path
            if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
                return None
            if current_analyst() is not None:
                return None
            wants_page = flask.request.method == "GET" and not path.startswith(
                ("/_dash-", "/upload", "/download")
            )
            if wants_page:
                full = flask.request.full_path.rstrip("?")
                return flask.redirect(login_href(full), code=303)
            return flask.jsonify(error="login required"), 401

    return auth


def require_analyst_json() -> tuple[str | None, tuple | None]:
    """For Flask routes that change data: (analyst, None), or (None, a 401/403 response)."""
    name = current_analyst()
    if name is None:
        return None, (flask.jsonify(error="login required", reason="login"), 401)
    if not csrf_ok(flask.request.headers.get(CSRF_HEADER)):
        return None, (flask.jsonify(error="missing or wrong CSRF token", reason="csrf"), 403)
    return name, None
