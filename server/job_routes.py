"""Jobs over HTTP: submitting one for this request's client, its status, its file, cancelling it,
and the replies a full queue or a slow job gets. The jobs themselves are `server.jobs`.

    POST   <prefix>            (the page's own route) → 202 and the job's status, or 429
    GET    <prefix>/<id>       the status (any server process answers it)
    GET    <prefix>/<id>/file  the result, once done
    DELETE <prefix>/<id>       cancel it (only the client or analyst who started it)

A direct download (`GET /present/export`, `/sdg/annex?format=pdf`) submits the same job and
waits for it up to `CITYLENS_EXPORT_WAIT_S`, asking as it waits so the job is not abandoned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask

from config import Config
from i18n import t
from server.client_address import client_address
from server.jobs import ACTIVE, DONE, Busy, Job, JobLimits, JobStore
from server.throttle import client_key

from .auth import current_analyst, request_language

EXTENSION = "citylens_job_store"


def attach_job_store(server: flask.Flask, data_dir: Path, cfg: Config) -> JobStore:
    """The data folder's job store, on this Flask app (`job_store(server)` finds it)."""
    store = JobStore(data_dir, JobLimits.from_config(cfg))
    server.extensions[EXTENSION] = store
    return store


def job_store(server: flask.Flask) -> JobStore:
    return server.extensions[EXTENSION]


def requester() -> tuple[str, str | None]:
    """Who asks: the client (its address as the throttle counts it, so a proxy's visitors and
    an IPv6 /64 count as the clients they are) and the analyst, if one is logged in."""
    return client_key(client_address()), current_analyst()


def submit(store: JobStore, kind: str, params: dict[str, Any], key: str) -> Job:
    """The job for this request (an identical one if there is one); raises `Busy`."""
    client, owner = requester()
    return store.submit(kind, params, key, client, owner)


def status(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "state": job.public_state,
        "done": job.done,
        "total": job.total,
        "error": job.error,
        "filename": job.filename,
    }


def busy_reply(exc: Busy) -> flask.Response:
    lang = request_language()
    reply = flask.jsonify(
        error=t(f"jobs.busy.{exc.reason}", lang, seconds=exc.retry_after), reason=exc.reason
    )
    reply.status_code = 429
    reply.headers["Retry-After"] = str(exc.retry_after)
    return reply


def file_reply(job: Job, disposition: str = "attachment") -> flask.Response:
    path = job.result()
    if path is None:
        flask.abort(404)
    reply = flask.send_file(path, mimetype=job.mimetype, conditional=False, max_age=0)
    reply.headers["Content-Disposition"] = f'{disposition}; filename="{job.filename}"'
    return reply


def waited_reply(store: JobStore, job: Job, disposition: str = "attachment") -> flask.Response:
    """The job's file once it is done; 503 with Retry-After if it is not done in time (asking
    again within `CITYLENS_JOB_ABANDON_S` finds the same job further on) or did not succeed."""
    job = store.wait(job.id, store.limits.wait_s) or job
    if job.state == DONE and job.result() is not None:
        return file_reply(job, disposition)
    lang = request_language()
    if job.state in ACTIVE:
        seconds = max(int(store.limits.abandon_s) // 3, 1)
        message = t("jobs.not_ready", lang, seconds=seconds)
    else:
        seconds = 60
        message = t("jobs.failed", lang, error=job.error or job.public_state)
    reply = flask.Response(message, status=503, mimetype="text/plain")
    reply.headers["Retry-After"] = str(seconds)
    return reply


def register_job_routes(server: flask.Flask, store: JobStore, prefix: str, name: str) -> None:
    """The status, file and cancel routes of the jobs a page starts under `prefix`."""

    def found(job_id: str) -> Job:
        job = store.touch(job_id)
        if job is None:
            flask.abort(404)
        return job

    @server.get(f"{prefix}/<job_id>", endpoint=f"{name}_job_status")
    def job_status(job_id: str):
        return status(found(job_id))

    @server.get(f"{prefix}/<job_id>/file", endpoint=f"{name}_job_file")
    def job_file(job_id: str):
        return file_reply(found(job_id))

    @server.delete(f"{prefix}/<job_id>", endpoint=f"{name}_job_cancel")
    def job_cancel(job_id: str):
        job = found(job_id)
        if not job.started_by(*requester()):
            flask.abort(403)
        return status(store.cancel(job.id) or job)
