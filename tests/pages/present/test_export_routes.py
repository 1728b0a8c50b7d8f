"""The export's request: what it asks for, what its file depends on, and the job it runs."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import BadRequest, NotFound

from components import export as deck_export
from datasets.decks import Deck, Slide
from pages.present.export import export_args, export_key, run_export

TALK = Deck(name="talk", title="Talk", slides=(Slide(chart="traffic-pilot", title="Pilot"),))


def test_the_query_names_deck_format_language_and_theme(store):
    store.save(TALK, "ana")
    deck, fmt, lang, theme = export_args(
        store, {"deck": "talk", "format": "pdf", "lang": "zh", "theme": "light"}
    )
    assert (deck.name, fmt, lang, theme) == ("talk", "pdf", "zh", "light")
    forum, fmt, lang, theme = export_args(store, {"lang": "xx", "theme": "sepia"})
    assert (forum.name, fmt, lang, theme) == ("forum", "html", "en", "dark")


def test_a_format_or_deck_there_is_none_of_is_refused(store):
    with pytest.raises(BadRequest, match="format must be one of html, pdf"):
        export_args(store, {"format": "pptx"})
    with pytest.raises(NotFound, match="there is no deck 'gone'"):
        export_args(store, {"deck": "gone"})
    with pytest.raises(NotFound):
        export_args(store, {"deck": "../etc/passwd"})


def test_the_file_depends_on_the_deck_as_saved_the_view_and_the_data():
    key = export_key(TALK, "pdf", "fr", "dark", "data-1")
    assert key == export_key(TALK, "pdf", "fr", "dark", "data-1")
    others = {
        export_key(Deck("talk", "Talk", (Slide(chart="traffic-pilot", title="Other"),)),
                   "pdf", "fr", "dark", "data-1"),
        export_key(TALK, "html", "fr", "dark", "data-1"),
        export_key(TALK, "pdf", "es", "dark", "data-1"),
        export_key(TALK, "pdf", "fr", "light", "data-1"),
        export_key(TALK, "pdf", "fr", "dark", "data-2"),
    }  # fmt: skip
    assert key not in others and len(others) == 5


def test_the_job_builds_the_file_of_the_deck_it_names(store, make_context):
    store.save(TALK, "ana")
    params = {"deck": "talk", "format": "html", "lang": "fr", "theme": "dark"}
    progress: list[tuple[int, int]] = []
    data, filename, mimetype = run_export(
        store, make_context, params, lambda done, total: progress.append((done, total))
    )
    assert (filename, mimetype) == ("citylens-talk-fr.html", deck_export.MIMETYPES["html"])
    shown = deck_export.deck_json_of(data.decode("utf-8"))
    assert [s["title"] for s in shown["slides"]] == ["Pilot"]
    assert progress and progress[-1][0] == progress[-1][1]
