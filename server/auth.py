"""Who may change data: analyst sessions, the login and logout pages, and the checks every
state-changing route and callback runs on the server.

Sessions are kept on the server (`server.sessions`): the cookie (HttpOnly, SameSite=Lax, Secure
when configured) holds a random id, logging out deletes the record. A session names the analyst
and carries a fingerprint of their password hash, so removing an analyst or changing their
password ends their sessions. Login attempts are counted before the password is checked
(`server.throttle`), per account and client and per client.

The login form is a plain POST form whose CSRF token is a cookie of its own, compared with the
form's copy (a double-submit token): a visitor gets no stored session for filling it in. The
logout form and the upload route use the session's token, made at login; Dash callbacks are JSON
POSTs a cross-site form cannot forge, and each one that changes data calls `current_analyst()`.

With `CITYLENS_VIEW_LOGIN=1` every page and route but the login page, the stylesheets and
`/health` needs a session too.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import flask
from dash import html

from i18n import DEFAULT_LANGUAGE, LANGUAGES, normalize_language, t
from server.accounts import Accounts, load_secret_key
from server.client_address import client_address, register_trusted_proxies
from server.sessions import begin_session, end_session, register_sessions
from server.throttle import LoginThrottle, open_storage

SESSION_ANALYST = "analyst"
SESSION_STAMP = "stamp"
SESSION_CSRF = "csrf"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_CSRF_COOKIE = "citylens_login_csrf"
EXTENSION = "citylens_auth"
OPEN_PATHS = ("/login", "/logout", "/health", "/_favicon.ico")
OPEN_PREFIXES = ("/assets/",)


@dataclass
class Auth:
    accounts: Accounts
    throttle: LoginThrottle
    view_login: bool = False
    secure_cookies: bool = False


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
    """The session's CSRF token, made at login; empty for a visitor, who has no session."""
    token = flask.session.get(SESSION_CSRF)
    return token if isinstance(token, str) else ""


def _same_token(expected: str, sent: str | None) -> bool:
    """Compared in constant time, as bytes: `compare_digest` refuses non-ASCII text, and a
    visitor may send any."""
    return bool(expected and sent and hmac.compare_digest(expected.encode(), sent.encode()))


def csrf_ok(sent: str | None) -> bool:
    return _same_token(csrf_token(), sent)


def login_csrf_token() -> str:
    """The login form's token: the one in this browser's login cookie, or a new one that
    `_page` sets as that cookie."""
    token = flask.request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return token if len(token) >= 32 else secrets.token_urlsafe(32)


def login_csrf_ok(sent: str | None) -> bool:
    """A cross-site page can neither read this site's cookie nor have it sent with a POST
    (SameSite=Lax), so only a form this site served carries the same token as the cookie."""
    token = flask.request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return len(token) >= 32 and _same_token(token, sent)


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


def _login_page(lang: str, next_path: str, status: int = 200, error: str = "", name: str = ""):
    """The login form, with a fresh (or this browser's) login CSRF token in its own cookie."""
    auth = _auth()
    signed_in = current_analyst()
    intro_key = "auth.intro_view_login" if auth.view_login else "auth.intro"
    token = login_csrf_token()
    response = _page(
        status,
        lang=lang,
        action="/login",
        csrf=token,
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
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path="/login",
        httponly=True,
        samesite="Lax",
        secure=auth.secure_cookies,
    )
    return response


def login_form() -> flask.Response:
    """GET /login"""
    return _login_page(request_language(), safe_next(flask.request.args.get("next")))


def login_submit() -> flask.Response:
    """POST /login: the form's token, then the throttle, then the password."""
    auth = _auth()
    form = flask.request.form
    lang = request_language()
    next_path = safe_next(form.get("next"))
    name = (form.get("name") or "").strip()[:64]
    if not login_csrf_ok(form.get("csrf")):
        return _login_page(lang, next_path, 400, t("auth.expired", lang), name)
    client = client_address()
    refused = auth.throttle.attempt(name, client)
    if refused is not None:
        key = "auth.throttled_account" if refused.limit == "account" else "auth.throttled"
        message = t(key, lang, minutes=math.ceil(refused.wait_s / 60))
        response = _login_page(lang, next_path, 429, message, name)
        response.headers["Retry-After"] = str(refused.wait_s)
        return response
    found = auth.accounts.verify(name, form.get("password") or "")
    if found is None:
        return _login_page(lang, next_path, 401, t("auth.wrong", lang), name)
    auth.throttle.succeeded(name, client)
    begin_session(
        {
            SESSION_ANALYST: found,
            SESSION_STAMP: auth.accounts.session_stamp(found),
            SESSION_CSRF: secrets.token_urlsafe(32),
        }
    )
    flask.g.pop("citylens_analyst", None)
    return flask.redirect(next_path, code=303)


def logout_form() -> flask.Response:
    """GET /logout: a confirmation form (a link alone must not end a session)."""
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


def logout_submit() -> flask.Response:
    """POST /logout, with the session's CSRF token."""
    if not csrf_ok(flask.request.form.get("csrf")):
        flask.abort(400)
    end_session()
    target = safe_next(flask.request.form.get("next"), "/")
    return flask.redirect("/login" if _auth().view_login else target, code=303)


def login_wall() -> flask.Response | tuple | None:
    """With `view_login`: a visitor's page request goes to the login page, anything else 401."""
    path = flask.request.path
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return None
    if current_analyst() is not None:
        return None
    wants_page = flask.request.method == "GET" and not path.startswith(
        ("/_dash-", "/upload", "/download", "/api/")
    )
    if wants_page:
        full = flask.request.full_path.rstrip("?")
        return flask.redirect(login_href(full), code=303)
    return flask.jsonify(error="login required"), 401


def register_auth(server: flask.Flask, cfg, data_dir: Path) -> Auth:
    """Sessions, /login, /logout, and (with `view_login`) the login wall."""
    server.secret_key = load_secret_key(data_dir)
    register_sessions(server, cfg, data_dir)
    register_trusted_proxies(server, cfg.trusted_proxies)
    throttle = LoginThrottle(open_storage(data_dir, cfg.redis_url))
    auth = Auth(
        Accounts(data_dir),
        throttle,
        view_login=bool(cfg.view_login),
        secure_cookies=bool(cfg.secure_cookies),
    )
    server.extensions[EXTENSION] = auth
    server.add_url_rule("/login", view_func=login_form, methods=["GET"])
    server.add_url_rule("/login", view_func=login_submit, methods=["POST"])
    server.add_url_rule("/logout", view_func=logout_form, methods=["GET"])
    server.add_url_rule("/logout", view_func=logout_submit, methods=["POST"])
    if auth.view_login:
        server.before_request(login_wall)
    return auth


def require_analyst_json() -> tuple[str | None, tuple | None]:
    """For Flask routes that change data: (analyst, None), or (None, a 401/403 response)."""
    name = current_analyst()
    if name is None:
        return None, (flask.jsonify(error="login required", reason="login"), 401)
    if not csrf_ok(flask.request.headers.get(CSRF_HEADER)):
        return None, (flask.jsonify(error="missing or wrong CSRF token", reason="csrf"), 403)
    return name, None
