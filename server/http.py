"""What every request and response goes through on the Flask server: how large a body may be,
how a route that streams large bodies takes one, JSON too deeply nested to parse, and the
headers that keep every page out of other sites' frames.

A body over the limit is refused with 413 from its declared length before a byte is read, and a
chunked body (no declared length) is cut with 413 as soon as it passes the limit while it
streams (werkzeug's LimitedStream). Only the routes that stream a body to disk take more, each
by calling `allow_body` before it touches the body.
"""

from __future__ import annotations

from typing import Any

import flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

MB = 1024 * 1024

# One value each, on every response: pages, callbacks, assets, downloads, errors. Only
# frame-ancestors in the CSP: Dash's pages run inline scripts a fuller policy would block.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def allow_body(limit_bytes: int) -> None:
    """Let the current request's body be up to `limit_bytes` instead of the server's limit.

    For a view that streams a large body to disk: call it first, before anything reads
    `flask.request.stream`, `.data`, `.form` or `.get_json()`."""
    flask.request.max_content_length = limit_bytes


class BodyLimitedRequest(flask.Request):
    """Flask's request, but a chunked body (no declared length) that fills the limit is refused
    with 413: werkzeug's stream stops reading there and hands over the first `limit` bytes as if
    the body had ended (a JSON callback would be answered 400, a form parsed cut short)."""

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False):
        data = super().get_data(cache=cache, as_text=as_text, parse_form_data=parse_form_data)
        limit = self.max_content_length
        if self.content_length is None and limit is not None and self.stream.tell() >= limit:
            raise RequestEntityTooLarge()
        return data


class NestingSafeJSONProvider(DefaultJSONProvider):
    """Python's parser raises RecursionError on JSON nested ~1,000 deep (a 2 KB body of
    `[[[…]]]`), which Flask would answer with 500; as a ValueError it is a 400 Bad Request."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def add_security_headers(response: flask.Response) -> flask.Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_http_guards(server: flask.Flask, max_request_mb: int) -> None:
    """The body limit of every route (`CITYLENS_MAX_REQUEST_MB`), the JSON parser, the headers."""
    server.config["MAX_CONTENT_LENGTH"] = max_request_mb * MB
    server.request_class = BodyLimitedRequest
    server.json = NestingSafeJSONProvider(server)
    server.after_request(add_security_headers)
