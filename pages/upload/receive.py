"""The file's way in: the drop zone of `/data/upload` and the routes it talks to.

    POST /upload                       raw body (the file), headers X-Filename, X-CSRF-Token
                                       → 201 {"token", "file", "size"}; inspection and
                                       validation start in the background
    GET  /upload/<token>               the job's state as JSON (its owner only)
    POST /upload/<token>/discard       forget it (X-CSRF-Token)

The file goes from the browser to `POST /upload` as a raw streamed body (`assets/upload.js`:
XMLHttpRequest with a transfer progress bar; the file is never read into the page's memory).
The body streams to disk through `datasets.ingest.receive`: never held in memory, refused from its
declared length before a byte is read when it is over `CITYLENS_MAX_UPLOAD_MB`, and refused with
nothing kept when fewer bytes arrive than declared. Every route checks the session and the CSRF
token on the server; a visitor gets 401 and nothing is written.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import unquote

import flask
from dash import html
from werkzeug.exceptions import ClientDisconnected

from components.upload_view import transfer_row
from datasets.ingest import IngestError
from i18n import fmt_number, t
from server.auth import csrf_token, current_analyst, require_analyst_json
from server.http import allow_body
from server.upload_jobs import JobError, Jobs, public_state

JOBS_EXTENSION = "citylens_jobs"
MB = 1024 * 1024
ACCEPT = ".csv,.tsv,.txt,.tab,.xlsx,.parquet,.json,.ndjson,.jsonl,.geojson"
SCRIPT_MESSAGES = ("sending", "sent", "too_large", "failed", "network", "choose", "drop_here")


def jobs() -> Jobs:
    """The upload jobs of the app serving this request."""
    return flask.current_app.extensions[JOBS_EXTENSION]


def _refusal(message: str, reason: str, status: int):
    return flask.jsonify(error=message, reason=reason), status


def upload_file(store: Jobs):
    # The file's limit and a little room, rather than the server's few MB: a file declared
    # just over it gets the ingest's own answer, which names the setting that raises it.
    allow_body(store.limits.max_bytes + MB)
    owner, refused = require_analyst_json()
    if refused:
        return refused
    length = flask.request.content_length
    if length is None:
        return _refusal("the upload must declare its length (Content-Length)", "length", 411)
    raw_name = flask.request.headers.get("X-Filename") or flask.request.args.get("name", "")
    filename = unquote(raw_name)[:1000]
    try:
        job = store.receive(owner, filename, flask.request.stream, length)
    except IngestError as exc:
        return _refusal(str(exc), exc.reason, 413 if exc.reason == "too_large" else 400)
    except ClientDisconnected:
        return _refusal("the upload was cut off: send it again", "cut_off", 400)
    except JobError as exc:
        return _refusal(str(exc), exc.reason, 507 if exc.reason == "disk" else 409)
    state = job.read()
    store.check(job)
    return flask.jsonify(token=job.token, file=state["file"], size=state["size"]), 201


def upload_state(store: Jobs, token: str):
    owner = current_analyst()
    if owner is None:
        return _refusal("login required", "login", 401)
    job = store.get(token, owner)
    if job is None:
        return _refusal("no such upload", "missing", 404)
    return flask.jsonify(public_state(job.read()))


def upload_discard(store: Jobs, token: str):
    owner, refused = require_analyst_json()
    if refused:
        return refused
    job = store.get(token, owner)
    if job is None:
        return _refusal("no such upload", "missing", 404)
    store.discard(job)
    return flask.jsonify(discarded=token)


def register_routes(server: flask.Flask, store: Jobs) -> None:
    server.extensions[JOBS_EXTENSION] = store
    routes = (
        ("/upload", "upload_file", upload_file, ["POST"]),
        ("/upload/<token>", "upload_state", upload_state, ["GET"]),
        ("/upload/<token>/discard", "upload_discard", upload_discard, ["POST"]),
    )
    for rule, endpoint, view, methods in routes:
        server.add_url_rule(rule, endpoint, partial(view, store), methods=methods)


def _messages(lang: str) -> dict[str, str]:
    return {f"data-msg-{k.replace('_', '-')}": t(f"upload.js.{k}", lang) for k in SCRIPT_MESSAGES}


def drop_zone(lang: str, max_bytes: int):
    """Where the file is dropped or chosen: `assets/upload.js` puts a file input in the slot,
    streams the file to `POST /upload` and shows the transfer."""
    return html.Div(
        [
            html.P(t("upload.drop_here", lang), className="dropzone-title"),
            html.Span(id="upload-input-slot", className="upload-input-slot"),
            html.P(
                t("upload.formats", lang, size=fmt_number(max_bytes // MB, lang)),
                className="muted small",
            ),
            transfer_row(
                "upload-transfer",
                "upload-transfer-bar",
                "upload-transfer-fill",
                "upload-transfer-text",
                t("upload.transfer", lang),
            ),
            html.P(id="upload-transfer-error", className="upload-error", role="alert"),
        ],
        id="upload-drop",
        className="dropzone",
        **{
            "data-csrf": csrf_token(),
            "data-max": str(max_bytes),
            "data-accept": ACCEPT,
            **_messages(lang),
        },
    )
