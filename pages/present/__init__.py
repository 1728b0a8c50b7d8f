"""`/present`: the forum as a keyboard-driven deck, its presenter view, and the deck editor.

- `deck.py`: `/present?deck=forum&slide=3&lang=fr`, one slide at a time on a 16:9 stage, driven
  by the keys `assets/present.js` reads; `?kiosk=1&advance=20` loops with every control hidden.
- `presenter.py`: `/present/presenter?deck=…`, notes, elapsed time and the next slide, kept in
  step with the audience window through a BroadcastChannel.
- `editor.py`, `editor_view.py`: `/present/edit?deck=…`, the slides "add to deck" collected
  (`add_to_deck.py`: kept in the browser until saved), an intervention's evaluation slide
  picked in the editor, reordering, titles, takeaways, notes;
  decks are saved on the server by an analyst, with the deck's owner and versions, each
  restorable. Every callback that writes checks the session itself.
- `export.py`: `/present/export?deck=forum&format=html|pdf&lang=fr`, a self-contained HTML file
  or a PDF, each a job of the one job store.
"""

from __future__ import annotations

from collections.abc import Callable

from dash import Dash

from components.page import Page
from datasets.workspace import Workspace
from pages.services import Services
from server import job_routes
from server.jobs import JobStore

from . import add_to_deck, deck, editor, export, presenter
from .common import (
    KIOSK_RELOAD,
    MAX_ADVANCE,
    PresentOptions,
    deck_limits,
    deck_query,
    deck_store,
    load_deck,
)
from .deck import present_layout
from .editor import edited, editor_slides, merged_slides
from .editor_view import deck_history, edit_layout, editable_deck, slide_row
from .export import DECK_EXPORT, export_key
from .presenter import presenter_layout

__all__ = [
    "DECK_EXPORT",
    "KIOSK_RELOAD",
    "MAX_ADVANCE",
    "PAGES",
    "PresentOptions",
    "deck_history",
    "deck_limits",
    "deck_query",
    "deck_store",
    "edit_layout",
    "editable_deck",
    "edited",
    "editor_slides",
    "export_key",
    "load_deck",
    "merged_slides",
    "present_layout",
    "presenter_layout",
    "register",
    "register_present",
    "slide_row",
]


def wire(app: Dash, workspace: Workspace, make_context: Callable, jobs: JobStore) -> None:
    """The present pages' callbacks, the "add to deck" button of every card, the export routes."""
    store = deck_store(workspace.data_dir)
    deck.register(app, store, make_context)
    presenter.register(app, store, make_context)
    add_to_deck.register(app)
    editor.register(app, store)
    export.register(app, store, workspace, make_context, jobs)
    app.present_store = store


def register(app: Dash, services: Services) -> None:
    wire(app, services.workspace, services.make_context, services.jobs)


def register_present(app: Dash, workspace: Workspace, make_context: Callable) -> None:
    """The same as `register`, for an app that has attached its job store to its Flask server
    (`server.job_routes.attach_job_store`) but builds no `Services`."""
    wire(app, workspace, make_context, job_routes.job_store(app.server))


PAGE = Page(
    path="/present",
    nav="nav.present",
    title="present.title",
    layout=present_layout,
    filters=False,
)
PRESENTER_PAGE = Page(
    path="/present/presenter",
    nav="nav.present",
    title="present.presenter_view",
    layout=presenter_layout,
    filters=False,
    in_nav=False,
)
EDIT_PAGE = Page(
    path="/present/edit",
    nav="nav.present",
    title="present.editor.title",
    layout=edit_layout,
    filters=False,
    in_nav=False,
)
PAGES = (PAGE, PRESENTER_PAGE, EDIT_PAGE)
