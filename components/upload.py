"""Analysts bring their own data: the upload route, and the wiring of everything issue 4 adds
(sessions, the upload page, the explorer, dataset versions on /data, the dataset chooser).

    POST /upload                       raw body (the file), headers X-Filename, X-CSRF-Token
                                       → 201 {"token", "file", "size"}; inspection and
                                       validation start in the background
    GET  /upload/<token>               the job's state as JSON (its owner only)
    POST /upload/<token>/discard       forget it (X-CSRF-Token)

The body streams to disk through `datasets.ingest.receive`: never held in memory, refused from its
declared length before a byte is read when it is over `CITYLENS_MAX_UPLOAD_MB`, and refused with
nothing kept when fewer bytes arrive than declared. Every route checks the session and the CSRF
token on the server; a visitor gets 401 and nothing is written.
"""

from __future__ import annotations

from urllib.parse import unquote

import flask
from werkzeug.exceptions import ClientDisconnected

from datasets.ingest import IngestError, Limits
from datasets.workspace import Workspace
from server.http import allow_body

from .auth import current_analyst, register_auth, require_analyst_json
from .upload_jobs import JobError, Jobs, public_state

JOBS_EXTENSION = "citylens_jobs"
MB = 1024 * 1024


def jobs() -> Jobs:
    return flask.current_app.extensions[JOBS_EXTENSION]


def _refusal(message: str, reason: str, status: int):
    return flask.jsonify(error=message, reason=reason), status


def register_upload_routes(server: flask.Flask, store: Jobs) -> None:
    server.extensions[JOBS_EXTENSION] = store

    @server.post("/upload")
    def upload_file():
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

    @server.get("/upload/<token>")
    def upload_state(token: str):
        owner = current_analyst()
        if owner is None:
            return _refusal("login required", "login", 401)
        job = store.get(token, owner)
        if job is None:
            return _refusal("no such upload", "missing", 404)
        return flask.jsonify(public_state(job.read()))

    @server.post("/upload/<token>/discard")
    def upload_discard(token: str):
        owner, refused = require_analyst_json()
        if refused:
            return refused
        job = store.get(token, owner)
        if job is None:
            return _refusal("no such upload", "missing", 404)
        store.discard(job)
        return flask.jsonify(discarded=token)


def register_uploads(app, workspace: Workspace, cfg) -> Jobs:
    """Everything of issue 4, on one Dash app."""
    from pages import explorer, upload

    from .datasets_choice import register_choice_callbacks
    from .upload_versions import register_version_callbacks

    register_auth(app.server, cfg, workspace.data_dir)
    store = Jobs(workspace, Limits.from_config(cfg))
    register_upload_routes(app.server, store)
    upload.register_callbacks(app, workspace, store)
    explorer.register_callbacks(app, workspace)
    register_version_callbacks(app, workspace)
    register_choice_callbacks(app)
    return store
