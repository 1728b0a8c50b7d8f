"""`/present/export?deck=forum&format=html|pdf&lang=fr`: a self-contained HTML file or a PDF of a
deck (`components/export.py` builds them).

Every export is a job of the one job store (`server.jobs`): a bounded number run at once,
identical requests share one file, and the deck's buttons follow its progress
(`POST /present/export/jobs`, then `GET`/`DELETE /present/export/jobs/<id>`). Even the HTML file
is a job: a deck of 200 slides renders 200 charts.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping

import flask
from dash import Dash

from components import export as deck_export
from datasets.decks import DEFAULT_DECK, Deck, DeckError, DeckStore
from datasets.workspace import Workspace
from i18n import LANGUAGES
from server import job_routes
from server.jobs import Busy, Job, JobStore

from .common import load_deck

DECK_EXPORT = "deck-export"  # the job kind of a deck's HTML or PDF file
JOBS_PREFIX = "/present/export/jobs"


def export_key(deck: Deck, fmt: str, lang: str, theme: str, data_token: str) -> str:
    """What an export's file depends on: the deck as saved (its JSON changes with any edit),
    language, theme and format, and the data its charts draw (`QueryEngine.data_token`)."""
    deck_digest = hashlib.sha256(json.dumps(deck.to_json(), sort_keys=True).encode()).hexdigest()
    data_digest = hashlib.sha256(data_token.encode()).hexdigest()
    return json.dumps([deck.name, deck_digest, fmt, lang, theme, data_digest])


def export_args(store: DeckStore, args: Mapping[str, str]) -> tuple[Deck, str, str, str]:
    """The deck, format, language and theme a request's query asks for; 400 for a format there
    is none of, 404 for a deck there is none of."""
    name = args.get("deck") or DEFAULT_DECK
    fmt = args.get("format") or "html"
    lang = args.get("lang") if args.get("lang") in LANGUAGES else "en"
    theme = "light" if args.get("theme") == "light" else "dark"
    if fmt not in deck_export.FORMATS:
        flask.abort(400, f"format must be one of {', '.join(deck_export.FORMATS)}")
    try:
        deck = load_deck(store, name)
    except DeckError as exc:
        flask.abort(404, str(exc))
    return deck, fmt, lang, theme


def run_export(
    store: DeckStore, make_context: Callable, params: dict, progress: Callable
) -> tuple[bytes, str, str]:
    """The job itself, in whichever process picks it up: (the file, its name, its type)."""
    deck = load_deck(store, params["deck"])
    fmt, lang = params["format"], params["lang"]
    data = deck_export.export_deck(deck, fmt, lang, params["theme"], make_context, progress)
    return data, deck_export.filename(deck.name, lang, fmt), deck_export.MIMETYPES[fmt]


def export_job(
    store: DeckStore, jobs: JobStore, workspace: Workspace, args: Mapping[str, str]
) -> Job:
    """The export job this request asks for (an identical one if any); raises `Busy`."""
    deck, fmt, lang, theme = export_args(store, args)
    params = {"deck": deck.name, "format": fmt, "lang": lang, "theme": theme}
    key = export_key(deck, fmt, lang, theme, workspace.engine.data_token(None))
    return job_routes.submit(jobs, DECK_EXPORT, params, key)


def export_now(store: DeckStore, jobs: JobStore, workspace: Workspace) -> flask.Response:
    """`GET /present/export`: the file, once its job is done (or where to follow it)."""
    try:
        job = export_job(store, jobs, workspace, flask.request.args)
    except Busy as exc:
        return job_routes.busy_reply(exc)
    return job_routes.waited_reply(jobs, job)


def export_start(
    store: DeckStore, jobs: JobStore, workspace: Workspace
) -> flask.Response | tuple[dict, int]:
    """`POST /present/export/jobs`: the job's status, 202 (the buttons then follow it)."""
    try:
        job = export_job(store, jobs, workspace, flask.request.args)
    except Busy as exc:
        return job_routes.busy_reply(exc)
    return job_routes.status(job), 202


def register(
    app: Dash, store: DeckStore, workspace: Workspace, make_context: Callable, jobs: JobStore
) -> None:
    """The export job kind, its routes, and the job routes the deck's buttons follow."""
    jobs.register(DECK_EXPORT, functools.partial(run_export, store, make_context))
    job_routes.register_job_routes(app.server, jobs, JOBS_PREFIX, "present_export")
    app.server.get("/present/export", endpoint="export_now")(
        functools.partial(export_now, store, jobs, workspace)
    )
    app.server.post(JOBS_PREFIX, endpoint="export_start")(
        functools.partial(export_start, store, jobs, workspace)
    )
