"""The deck editor's callbacks called as Dash calls them: slides edited in the page (an
intervention's evaluation slide added with the editor's picker), and the save, restore and
delete that write on the server only for an analyst."""

from __future__ import annotations

import datetime as dt

import pytest
from dash import html, no_update
from dash.exceptions import PreventUpdate

from components.slides import EVALUATION
from components.state import ViewState
from datasets.decks import DeckLimits, forum_deck
from datasets.evidence.interventions import InterventionStore
from datasets.evidence.model import Intervention
from i18n import t
from pages.present import editable_deck, edited, merged_slides
from pages.present.editor import (
    deck_to_save,
    delete_deck,
    draft_info,
    edit,
    list_slides,
    restore_or_delete,
    restore_version,
    save,
)
from pages.present.editor_view import EVALUATION_ADD, evaluation_choices

EN = {"lang": "en"}
LIMITS = DeckLimits()
SLIDES = [{"chart": "traffic-pilot", "query": "?from=2017-03-01&to=2017-03-31"}]


def ana() -> str:
    return "ana"


def nobody() -> None:
    return None


def texts(component) -> str:
    """Every text inside a Dash component tree, joined."""
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return " ".join(texts(c) for c in component)
    children = getattr(component, "children", None)
    return texts(children) if children is not None else ""


def files(store) -> list[str]:
    if not store.root.exists():
        return []
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


def save_talk(store, who=ana, slides=SLIDES, title="Talk", name="talk", n_clicks=1):
    return save(
        store, n_clicks, {"slides": slides}, title, name, EN, [], [], [], who=who, limits=LIMITS
    )


# -- the slides in the page -----------------------------------------------------------------------


def test_the_editor_reorders_removes_and_appends():
    slides = [{"chart": "a"}, {"chart": "b"}, {"chart": "c"}]
    moved, took = edited(slides, {"type": "deck-move", "index": 0, "dir": "down"}, [])
    assert [s["chart"] for s in moved] == ["b", "a", "c"] and not took
    moved, _ = edited(slides, {"type": "deck-move", "index": 0, "dir": "up"}, [])
    assert [s["chart"] for s in moved] == ["a", "b", "c"]
    removed, _ = edited(slides, {"type": "deck-remove", "index": 1}, [])
    assert [s["chart"] for s in removed] == ["a", "c"]
    appended, took = edited(slides, "deck-draft-append", [{"chart": "d"}])
    assert [s["chart"] for s in appended] == ["a", "b", "c", "d"] and took


def test_the_editor_keeps_what_was_typed():
    data = {"slides": [{"chart": "a", "title": "old"}, {"chart": "b"}]}
    merged = merged_slides(data, ["new", ""], ["so what", None], ["", "notes"])
    assert merged[0]["title"] == "new" and merged[0]["takeaway"] == "so what"
    assert merged[1]["notes"] == "notes"


def test_the_forum_deck_opens_in_the_editor_as_plain_text_in_the_viewers_language():
    data = editable_deck(forum_deck(), "fr")
    assert data["name"] == ""  # saving needs a new name: the built-in deck stays as it is
    assert data["slides"][0]["title"].startswith("Hangzhou, 7 décembre 2017")
    assert not any(s["title"].startswith("present.") for s in data["slides"])


def test_appending_the_draft_clears_it_for_an_analyst_only():
    data = {"name": "talk", "title": "Talk", "slides": [{"chart": "a"}], "junk": 5}
    draft = {"slides": [{"chart": "b", "query": "?x=1", "bad": 3}, "not a slide"]}
    deck, cleared = edit(data, draft, [""], [""], [""], trigger="deck-draft-append", who=ana)
    assert [s["chart"] for s in deck["slides"]] == ["a", "b"]
    assert deck["slides"][1] == {"chart": "b", "query": "?x=1"}
    assert (deck["name"], deck["title"], "junk" in deck) == ("talk", "Talk", False)
    assert isinstance(cleared, str) and len(cleared) == 32
    _, kept = edit(data, draft, [""], [""], [""], trigger="deck-draft-append", who=nobody)
    assert kept is no_update  # a visitor's collected charts wait for the login
    assert edit(data, draft, [], [], [], trigger=None, who=ana) == (no_update, no_update)


def test_the_draft_count_and_the_slide_forms():
    assert draft_info({"slides": [{"chart": "a"}, 3]}, EN) == (
        t("present.editor.draft", "en", count=1),
        False,
    )
    assert draft_info(None, {"lang": "fr"})[1] is True
    rows = list_slides({"slides": [{"chart": "traffic-pilot"}, {"chart": "x"}]}, EN)
    assert [row.to_plotly_json()["props"]["data-chart"] for row in rows] == ["traffic-pilot", "x"]
    empty = list_slides({"slides": []}, EN)
    assert isinstance(empty, html.P) and empty.children == t("present.editor.no_slides", "en")


def test_an_evaluation_slide_is_added_from_the_picker():
    picked = "?city=hangzhou-2017&intervention=bus-lane"
    slides, took = edited(list(SLIDES), EVALUATION_ADD, [], picked)
    assert not took and slides == [*SLIDES, {"chart": EVALUATION.id, "query": picked}]
    pilot, _ = edited([], EVALUATION_ADD, [], "")
    assert pilot == [{"chart": EVALUATION.id, "query": ""}]  # the signal pilot of the deck's city
    forged, _ = edited([], EVALUATION_ADD, [], {"chart": "x"})
    assert forged == [{"chart": EVALUATION.id, "query": ""}]
    deck, cleared = edit(
        {"slides": []}, None, [], [], [], trigger=EVALUATION_ADD, picked=picked, who=ana
    )
    assert deck["slides"] == [{"chart": EVALUATION.id, "query": picked}] and cleared is no_update
    row = list_slides(deck, EN)[0]
    assert t("present.chart.evaluation", "en") in texts(row.children[0])


def test_the_picker_offers_the_signal_pilot_and_every_recorded_intervention(tmp_path):
    store = InterventionStore(tmp_path)
    added = store.add(
        Intervention(
            id="",
            city="hangzhou-2017",
            name="Bus lane",
            start=dt.date(2017, 5, 1),
            treated=("1",),
            control=("2",),
            outcome="traffic_readings.speed_kmh",
        )
    )
    choices = evaluation_choices(tmp_path, "fr")
    assert choices[0] == {"label": t("present.editor.evaluation_pilot", "fr"), "value": ""}
    (bus,) = choices[1:]
    state = ViewState.from_query(bus["value"])
    assert state.city == "hangzhou-2017" and state.options == {"intervention": added.id}
    assert "Bus lane" in bus["label"]


# -- who may write --------------------------------------------------------------------------------


def test_a_visitors_save_is_refused_with_nothing_written(store):
    status, name, history = save_talk(store, who=nobody)
    assert t("present.editor.visitor", "en") in texts(status)
    assert "/login?next=/present/edit" in str(status)
    assert (name, history) == (no_update, no_update)
    assert files(store) == []


def test_an_analysts_save_is_a_new_version_with_a_link_to_present_it(store):
    status, name, history = save_talk(store)
    assert name == "talk"
    message = t("present.editor.saved", "en", name="talk", version=1, count=1)
    assert message in texts(status)
    assert "/present?deck=talk&lang=en" in str(status)
    assert "v1" in texts(history)
    saved = store.load("talk")
    assert (saved.owner, saved.author, saved.version, saved.title) == ("ana", "ana", 1, "Talk")

    status, *_ = save_talk(store, slides=SLIDES * 3, title="Longer")
    assert t("present.editor.saved", "en", name="talk", version=2, count=3) in texts(status)
    assert store.load("talk").title == "Longer"


def test_a_save_nobody_clicked_changes_nothing(store):
    assert save_talk(store, n_clicks=0) == (no_update, no_update, no_update)
    assert files(store) == []


def test_a_refused_save_says_why_in_the_viewers_language(store):
    status, name, _ = save(
        store, 1, {"slides": SLIDES}, "T", "x", {"lang": "fr"}, [], [], [],
        who=ana, limits=DeckLimits(kb=0),
    )  # fmt: skip
    assert status.role == "alert" and name is no_update
    assert status.children == t("present.refused.too_big", "fr", limit=0, size=1)
    status, *_ = save_talk(store, name="forum")
    assert "reserved" in status.children and files(store) == [".lock"]  # no deck written


def test_a_deck_without_a_usable_name_gets_one_made_up():
    assert deck_to_save("", "Mon exposé", []).name == "mon-expose"
    made = deck_to_save("", "我的演示", [])
    assert made.name.startswith("deck-") and made.title == "我的演示"
    with pytest.raises(ValueError, match="at least one Latin letter"):
        deck_to_save("我的", "Talk", [])


def test_restore_brings_a_version_back_as_the_newest(store):
    for count in (4, 1):
        save_talk(store, slides=SLIDES * count)
    history, deck, title = restore_version(store, "talk", 1, "en", who=ana, limits=LIMITS)
    assert t("present.history.restored", "en", version=1, new=3) in texts(history)
    assert len(deck["slides"]) == 4 and title == "Talk"
    current = store.load("talk")
    assert (current.version, current.restored_from, len(current.slides)) == (3, 1, 4)


def test_restore_of_a_version_that_is_not_kept_says_so(store):
    save_talk(store)
    status, deck, title = restore_version(store, "talk", "7", "en", who=ana, limits=LIMITS)
    assert "has no version 7" in status.children and (deck, title) == (no_update, no_update)
    status, *_ = restore_version(store, "talk", "x", "en", who=ana, limits=LIMITS)
    assert status.role == "alert" and store.load("talk").version == 1


def test_delete_removes_the_deck_and_says_so(store):
    save_talk(store)
    save_talk(store)
    status, *_ = delete_deck(store, "talk", "en", who=ana)
    assert status.children == t("present.history.deleted", "en", name="talk")
    assert files(store) == [".lock"]
    again, *_ = delete_deck(store, "talk", "en", who=ana)
    assert "there is no deck 'talk'" in again.children


def test_restore_and_delete_are_refused_to_a_visitor(store):
    save_talk(store)
    save_talk(store)
    before = files(store)
    for trigger in (
        {"type": "deck-restore", "deck": "talk", "v": 1},
        {"type": "deck-delete", "deck": "talk"},
    ):
        notice, deck, title = restore_or_delete(store, trigger, EN, who=nobody)
        assert t("present.editor.visitor", "en") in texts(notice)
        assert (deck, title) == (no_update, no_update)
    assert files(store) == before and store.load("talk").version == 2


def test_restore_or_delete_follows_the_click(store):
    save_talk(store)
    save_talk(store)
    restore = {"type": "deck-restore", "deck": "talk", "v": 1}
    _history, deck, _ = restore_or_delete(store, restore, EN, who=ana)
    assert store.load("talk").restored_from == 1 and deck["name"] == "talk"
    restore_or_delete(store, {"type": "deck-delete", "deck": "talk"}, EN, who=ana)
    assert not store.exists("talk")
    with pytest.raises(PreventUpdate):
        restore_or_delete(store, None, EN, who=ana)


def test_saving_the_built_in_deck_under_a_name_copies_its_texts(store):
    data = editable_deck(forum_deck(), "es")
    _status, name, _ = save(
        store, 1, data, data["title"], "foro", {"lang": "es"}, [], [], [], who=ana, limits=LIMITS
    )
    copy = store.load("foro")
    assert name == "foro" and len(copy.slides) == len(forum_deck().slides)
    assert copy.slides[0].title == t("present.slide.council.title", "es")
    assert copy.slides[0].chart == forum_deck().slides[0].chart
