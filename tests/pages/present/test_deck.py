"""The audience page and the presenter view: the URL's options, the slide each callback draws,
and what they leave alone."""

from __future__ import annotations

from dash import no_update

from components.slides import render_slide, still
from components.state import ViewState
from datasets.decks import Deck, Slide, forum_deck
from i18n import t
from pages.present import PresentOptions, deck_query
from pages.present.deck import SLIDE_OUTPUTS, decks_listing, show_slide
from pages.present.presenter import PRESENTER_OUTPUTS, show_presenter

TALK = Deck(
    name="talk",
    title="Talk",
    slides=(
        Slide(chart="traffic-pilot", title="Pilot", takeaway="It worked", notes="one\n\ntwo"),
        Slide(chart="no-such-chart", title="Gone"),
    ),
)


def test_present_options_from_the_url():
    opts = PresentOptions.from_state(ViewState.from_query("?deck=my-talk&slide=3&kiosk=1"))
    assert (opts.deck, opts.slide, opts.kiosk, opts.advance, opts.theme) == (
        "my-talk", 3, True, 20, "dark",
    )  # fmt: skip
    assert opts.reload == 3600  # a kiosk reloads itself after an hour, at the end of a loop
    never = PresentOptions.from_state(ViewState.from_query("?kiosk=1&reload=0&advance=30"))
    assert (never.reload, never.advance) == (0, 30)
    assert PresentOptions.from_state(ViewState.from_query("?reload=60")).reload == 0
    odd = PresentOptions.from_state(
        ViewState.from_query("?deck=../x&slide=-2&advance=x&theme=light")
    )
    assert (odd.deck, odd.slide, odd.advance, odd.theme) == ("forum", 1, 0, "light")
    assert deck_query("forum", "fr", 3) == "?deck=forum&slide=3&lang=fr"


def test_the_audience_page_draws_the_slide_the_url_asks_for(store, make_context):
    store.save(TALK, "ana")
    config = {"deck": "talk", "lang": "fr", "theme": "light"}
    out = show_slide(store, make_context, "?deck=talk&slide=1&lang=fr", config, "/present/")
    figure, title, takeaway, section, counter, message, hidden, sources = out
    expected = render_slide(store.load("talk"), 1, "fr", "light", make_context)
    assert figure == expected.figure and figure["data"]
    assert (title, takeaway, section) == ("Pilot", "It worked", "")
    assert counter == t("present.counter", "fr", index=1, count=2)
    assert (message, hidden) == ("", True)
    assert [s.children for s in sources] == list(expected.sources) and sources


def test_an_unknown_chart_shows_its_message_in_place_of_the_figure(store, make_context):
    store.save(TALK, "ana")
    out = show_slide(store, make_context, "?slide=9", {"deck": "talk"}, "/present")
    message, hidden = out[5], out[6]
    assert message == t("present.unknown_chart", "en", chart="no-such-chart")
    assert hidden is False and out[1] == "Gone"


def test_the_slide_callback_leaves_other_pages_and_unreadable_decks_alone(store, make_context):
    nothing = [no_update] * SLIDE_OUTPUTS
    assert show_slide(store, make_context, "", {"deck": "forum"}, "/present/edit") == nothing
    assert show_slide(store, make_context, "", None, "/present") == nothing
    assert show_slide(store, make_context, "", {"deck": "nothing"}, "/present") == nothing
    assert show_slide(store, make_context, "", {"deck": ["x"]}, "/present") == nothing


def test_the_presenter_sees_the_notes_and_the_next_slide_still(store, make_context):
    store.save(TALK, "ana")
    config = {"deck": "talk", "lang": "en"}
    out = show_presenter(store, make_context, "?slide=1", config, "/present/presenter")
    figure, title, takeaway, counter, notes, next_title, next_figure = out
    assert (title, takeaway, next_title) == ("Pilot", "It worked", "Gone")
    assert [p.children for p in notes] == ["one", "two"]
    deck = store.load("talk")
    assert figure == render_slide(deck, 1, "en", "dark", make_context).figure and figure["data"]
    assert next_figure == still(render_slide(deck, 2, "en", "dark", make_context).figure)
    assert counter == t("present.counter", "en", index=1, count=2)


def test_the_last_slide_says_the_deck_ends_and_a_slide_without_notes_says_so(store, make_context):
    store.save(TALK, "ana")
    out = show_presenter(store, make_context, "?slide=2", {"deck": "talk"}, "/present/presenter")
    assert out[5] == t("present.end_of_deck", "en")
    assert out[6] == {"data": [], "layout": {}}
    assert [p.children for p in out[4]] == [t("present.no_notes", "en")]
    elsewhere = show_presenter(store, make_context, "", {"deck": "talk"}, "/present")
    assert elsewhere == [no_update] * PRESENTER_OUTPUTS


def test_the_deck_listing_names_the_forum_then_each_saved_deck(store):
    store.save(TALK, "ana")
    (store.root / "broken.json").write_text("{", encoding="utf-8")
    listed = decks_listing(store)["decks"]
    assert listed[0] == {"name": "forum", "slides": len(forum_deck().slides)}
    assert [(d["name"], d["slides"], d["version"]) for d in listed[1:]] == [
        ("broken", 0, 1),
        ("talk", 2, 1),
    ]
    assert "not valid JSON" in listed[1]["error"] and listed[2]["error"] == ""
