"""`/present/edit?deck=…`: the deck editor's callbacks.

The slides "add to deck" collected wait in the browser (`deck-draft`) until appended; an
intervention's evaluation slide is added with the editor's own picker; slides are reordered,
removed and given titles, takeaways and notes in the page (`deck-edit`). Saving, restoring a
version and deleting write on the server, so each of these functions asks the session who is
calling (`who`, the request's analyst) itself: a forged request meets the same check as a
click. A visitor may build a deck but gets the log-in notice in place of a save, and
the collected charts stay in the browser for after the login.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import replace

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from components.state import ui_settings
from datasets.decks import Deck, DeckError, DeckLimits, DeckStore, deck_from_json, sanitize_name
from i18n import t
from server.auth import current_analyst

from .common import deck_limits, deck_query, refusal
from .editor_view import (
    EVALUATION_ADD,
    EVALUATION_PICK,
    deck_history,
    editable_deck,
    editor_visitor_notice,
    evaluation_slide,
    slide_row,
)

Who = Callable[[], "str | None"]  # the analyst of the request being answered, None: a visitor


# -- the slides in the page -----------------------------------------------------------------------


def editor_slides(data: object) -> list[dict]:
    """The slides of an editor store (`deck-edit`, `deck-draft`) as a request sends them: each
    slide's texts, and nothing that is not a slide or not text."""
    slides = data.get("slides") if isinstance(data, dict) else None
    return [
        {key: value for key, value in slide.items() if isinstance(value, str)}
        for slide in (slides if isinstance(slides, list) else [])
        if isinstance(slide, dict)
    ]


def merged_slides(data: object, titles: object, takeaways: object, notes: object) -> list[dict]:
    """The stored slides with the texts currently typed in the editor."""
    slides = editor_slides(data)
    if len(titles) == len(takeaways) == len(notes) == len(slides):
        for s, title, takeaway, note in zip(slides, titles, takeaways, notes, strict=True):
            s.update(title=_typed(title), takeaway=_typed(takeaway), notes=_typed(note))
    return slides


def _typed(value: object) -> str:
    return value if isinstance(value, str) else ""


def edited(
    slides: list[dict], trigger: object, draft: list[dict], picked: object = ""
) -> tuple[list[dict], bool]:
    """The slides after one editor action; True when the draft was taken in. `picked` is the
    view (query) of the evaluation slide the editor's picker chose."""
    if trigger == "deck-draft-append":
        return slides + [dict(s) for s in draft], True
    if trigger == EVALUATION_ADD:
        return [*slides, evaluation_slide(picked)], False
    i = trigger.get("index") if isinstance(trigger, dict) else None
    if not isinstance(i, int) or not 0 <= i < len(slides):  # no slide of the editor's
        return slides, False
    if trigger.get("type") == "deck-remove":
        return [s for j, s in enumerate(slides) if j != i], False
    if trigger.get("type") == "deck-move":
        j = i - 1 if trigger.get("dir") == "up" else i + 1
        if 0 <= j < len(slides):
            slides = list(slides)
            slides[i], slides[j] = slides[j], slides[i]
    return slides, False


# -- callbacks ------------------------------------------------------------------------------------


def clicked_trigger() -> object:
    """The id of the control whose click fired this callback; None when nothing was clicked (a
    control drawn, a count of 0, a dialog not confirmed)."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        return None
    return ctx.triggered_id


def draft_info(draft: object, config: object) -> tuple[str, bool]:
    """How many slides wait in the draft, and whether Append is disabled (none wait)."""
    lang = ui_settings(config)["lang"]
    count = len(editor_slides(draft))
    return t("present.editor.draft", lang, count=count), count == 0


def edit(
    data: object,
    draft: object,
    titles: object,
    takeaways: object,
    notes: object,
    *,
    trigger: object,
    who: Who = current_analyst,
    picked: object = "",
) -> tuple:
    """The editor's deck after the click `trigger` (append the draft or an evaluation slide,
    move or remove a slide), and a new token that clears the draft when an analyst appended
    it."""
    if trigger is None:
        return no_update, no_update
    slides = merged_slides(data, titles, takeaways, notes)
    slides, took_draft = edited(slides, trigger, editor_slides(draft), picked)
    # a visitor cannot save: the collected charts stay in the browser for after the login
    cleared = uuid.uuid4().hex if took_draft and who() else no_update
    kept = {k: data.get(k) for k in ("name", "title")} if isinstance(data, dict) else {}
    return {**{k: v for k, v in kept.items() if isinstance(v, str)}, "slides": slides}, cleared


def list_slides(data: object, config: object) -> object:
    lang = ui_settings(config)["lang"]
    slides = editor_slides(data)
    if not slides:
        return html.P(t("present.editor.no_slides", lang), className="muted")
    return [slide_row(i, s, lang) for i, s in enumerate(slides)]


def deck_to_save(name: object, title: object, slides: list[dict]) -> Deck:
    """The deck the editor's fields describe, under the name asked for; a deck with a title but
    no usable name gets a made-up one. `DeckError` when the fields do not make a deck."""
    wanted = name or title or ""
    try:
        clean = sanitize_name(wanted)
    except DeckError:
        if name:
            raise
        clean = "deck-" + uuid.uuid4().hex[:8]
    deck = deck_from_json({"title": title or clean, "slides": slides}, clean)
    return replace(deck, title=title or clean)


def save(
    store: DeckStore,
    n_clicks: object,
    data: object,
    title: object,
    name: object,
    config: object,
    titles: object,
    takeaways: object,
    notes: object,
    *,
    who: Who = current_analyst,
    limits: DeckLimits | None = None,
) -> tuple:
    """Save: (the outcome, the name saved under, the versions). Refused to a visitor with
    nothing written; an analyst's save is a new version of the deck."""
    if not n_clicks:
        return no_update, no_update, no_update
    lang = ui_settings(config)["lang"]
    analyst = who()
    if analyst is None:
        return editor_visitor_notice(name or "", lang), no_update, no_update
    slides = merged_slides(data, titles, takeaways, notes)
    try:
        saved = store.save(deck_to_save(name, title, slides), analyst, limits or deck_limits())
    except DeckError as exc:
        return refusal(exc, lang), no_update, no_update
    link = html.A(
        t("present.editor.present_it", lang),
        href="/present" + deck_query(saved.name, lang),
        id="deck-present-link",
        className="btn btn-primary",
    )
    message = t(
        "present.editor.saved",
        lang,
        name=saved.name,
        version=saved.version,
        count=len(saved.slides),
    )
    return [html.Span(message), " ", link], saved.name, deck_history(store, saved.name, lang)


def restore_version(
    store: DeckStore,
    name: str,
    version: object,
    lang: str,
    *,
    who: Who = current_analyst,
    limits: DeckLimits | None = None,
) -> tuple:
    """Restore: (the versions with the outcome, the editor's deck, its title field)."""
    analyst = who()
    if analyst is None:
        return editor_visitor_notice(name, lang), no_update, no_update
    try:
        number = int(version)
        restored = store.restore(name, number, analyst, limits or deck_limits())
    except (DeckError, TypeError, ValueError) as exc:
        error = exc if isinstance(exc, DeckError) else DeckError(str(exc))
        return refusal(error, lang), no_update, no_update
    message = t("present.history.restored", lang, version=number, new=restored.version)
    history = deck_history(store, name, lang, message)
    return history, editable_deck(restored, lang), restored.title


def delete_deck(store: DeckStore, name: str, lang: str, *, who: Who = current_analyst) -> tuple:
    """Delete, with its versions: (the outcome, and nothing else changed)."""
    if who() is None:
        return editor_visitor_notice(name, lang), no_update, no_update
    try:
        if not store.delete(name):
            raise DeckError(f"there is no deck {name!r}")
    except (DeckError, TypeError, ValueError) as exc:
        error = exc if isinstance(exc, DeckError) else DeckError(str(exc))
        return refusal(error, lang), no_update, no_update
    message = t("present.history.deleted", lang, name=name)
    return html.P(message, role="status"), no_update, no_update


def restore_or_delete(
    store: DeckStore,
    trigger: object,
    config: object,
    *,
    who: Who = current_analyst,
    limits: DeckLimits | None = None,
) -> tuple:
    """A version's Restore, or the confirmed Delete, as `trigger` (the clicked id) says."""
    if not isinstance(trigger, dict):
        raise PreventUpdate
    lang = ui_settings(config)["lang"]
    name = str(trigger.get("deck", ""))
    if trigger.get("type") == "deck-delete":
        return delete_deck(store, name, lang, who=who)
    return restore_version(store, name, trigger.get("v"), lang, who=who, limits=limits)


# -- wiring ---------------------------------------------------------------------------------------

DRAFT_READ = """function(_init, cleared) {
    const present = window.CityLensPresent;
    return present ? present.readDraft(cleared) : {slides: []};
}"""


def _on_edit(
    _append, _moves, _removes, _evaluation, data, draft, picked, titles, takeaways, notes
) -> tuple:
    trigger = clicked_trigger()
    return edit(data, draft, titles, takeaways, notes, trigger=trigger, picked=picked)


def _on_history(store: DeckStore, _restores, _deletes, config) -> tuple:
    return restore_or_delete(store, clicked_trigger(), config)


def register(app: Dash, store: DeckStore) -> None:
    app.clientside_callback(
        DRAFT_READ,
        Output("deck-draft", "data"),
        Input("deck-edit-config", "data"),
        Input("deck-draft-cleared", "data"),
    )
    app.callback(
        Output("deck-draft-info", "children"),
        Output("deck-draft-append", "disabled"),
        Input("deck-draft", "data"),
        State("deck-edit-config", "data"),
    )(draft_info)
    slide_texts = (
        State({"type": "deck-slide-title", "index": ALL}, "value"),
        State({"type": "deck-slide-takeaway", "index": ALL}, "value"),
        State({"type": "deck-slide-notes", "index": ALL}, "value"),
    )
    app.callback(
        Output("deck-edit", "data"),
        Output("deck-draft-cleared", "data"),
        Input("deck-draft-append", "n_clicks"),
        Input({"type": "deck-move", "index": ALL, "dir": ALL}, "n_clicks"),
        Input({"type": "deck-remove", "index": ALL}, "n_clicks"),
        Input(EVALUATION_ADD, "n_clicks"),
        State("deck-edit", "data"),
        State("deck-draft", "data"),
        State(EVALUATION_PICK, "value"),
        *slide_texts,
        prevent_initial_call=True,
    )(_on_edit)
    app.callback(
        Output("deck-slides", "children"),
        Input("deck-edit", "data"),
        State("deck-edit-config", "data"),
    )(list_slides)
    app.callback(
        Output("deck-save-status", "children"),
        Output("deck-name", "value"),
        Output("deck-history", "children", allow_duplicate=True),
        Input("deck-save", "n_clicks"),
        State("deck-edit", "data"),
        State("deck-title", "value"),
        State("deck-name", "value"),
        State("deck-edit-config", "data"),
        *slide_texts,
        prevent_initial_call=True,
    )(functools.partial(save, store))
    app.callback(
        Output("deck-history", "children", allow_duplicate=True),
        Output("deck-edit", "data", allow_duplicate=True),
        Output("deck-title", "value"),
        Input({"type": "deck-restore", "deck": ALL, "v": ALL}, "n_clicks"),
        Input({"type": "deck-delete", "deck": ALL}, "submit_n_clicks"),
        State("deck-edit-config", "data"),
        prevent_initial_call=True,
    )(functools.partial(_on_history, store))
