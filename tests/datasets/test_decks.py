"""Deck storage (atomic, sanitised names, bad files refused clearly; owners, versions, limits),
the forum deck. The editor and the deck pages are tested in tests/pages/present."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

import components.slides  # noqa: F401  (registers the deck's own charts)
import pages.ecology
import pages.traffic  # noqa: F401  (registers the traffic charts)
from components.charts import REGISTRY
from components.state import ViewState
from datasets import decks
from datasets.decks import (
    Deck,
    DeckError,
    DeckLimits,
    DeckStore,
    Slide,
    deck_from_json,
    forum_deck,
    parse_deck,
    sanitize_name,
)
from i18n import LANGUAGES, messages


def two_slides() -> Deck:
    return Deck(
        name="my-talk",
        title="Mon exposé",
        slides=(
            Slide(chart="traffic-pilot", query="?from=2017-03-01&to=2017-03-31", title="Pilot"),
            Slide(chart="eco-aqi-daily", query="?aqi=epa", option=None, notes="line 1\nline 2"),
        ),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("My talk", "my-talk"),
        ("  Forum 2017 / Bilbao!  ", "forum-2017-bilbao"),
        ("Exposé à Hangzhou", "expose-a-hangzhou"),
        ("../../etc/passwd", "etc-passwd"),
        ("a" * 90, "a" * 64),
    ],
)
def test_names_are_sanitised(raw, expected):
    assert sanitize_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "我的演示", "---", None])
def test_a_name_without_latin_letters_or_digits_is_refused(raw):
    with pytest.raises(DeckError, match="at least one Latin letter or digit"):
        sanitize_name(raw)


def test_save_and_load_round_trip(tmp_path):
    store = DeckStore(tmp_path / "decks")
    saved = store.save(two_slides(), "ana")
    assert saved.name == "my-talk"
    assert (tmp_path / "decks" / "my-talk.json").is_file()
    loaded = store.load("my-talk")
    assert loaded.title == "Mon exposé"
    assert [s.chart for s in loaded.slides] == ["traffic-pilot", "eco-aqi-daily"]
    assert loaded.slides[0].query == "?from=2017-03-01&to=2017-03-31"
    assert loaded.slides[1].notes == "line 1\nline 2"
    assert [i.name for i in store.list()] == ["my-talk"]


def test_saving_sanitises_the_name_it_is_given(tmp_path):
    store = DeckStore(tmp_path)
    saved = store.save(Deck(name="Round Table 1: Traffic!", title="", slides=()), "ana")
    assert saved.name == "round-table-1-traffic"
    assert store.exists("round-table-1-traffic")


@pytest.mark.parametrize("name", ["forum", "draft", "Forum"])
def test_reserved_names_are_refused(tmp_path, name):
    with pytest.raises(DeckError, match="reserved"):
        DeckStore(tmp_path).save(Deck(name=name, title="x", slides=()), "ana")


@pytest.mark.parametrize("name", ["../x", "a/b", "UPPER", "-x", ""])
def test_paths_outside_the_folder_are_not_names(tmp_path, name):
    with pytest.raises(DeckError):
        DeckStore(tmp_path).load(name)


def test_a_write_goes_through_a_temporary_file_in_the_same_folder(tmp_path, monkeypatch):
    store = DeckStore(tmp_path)
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((str(src), str(dst)))
        assert json.loads(Path(src).read_text(encoding="utf-8"))["name"] == "my-talk"
        real_replace(src, dst)

    monkeypatch.setattr(decks.os, "replace", spy)
    store.save(two_slides(), "ana")
    ((src, dst),) = calls
    assert os.path.dirname(src) == os.path.dirname(dst) == str(tmp_path)
    assert dst.endswith("my-talk.json") and src != dst


def test_a_failed_write_leaves_the_previous_deck_and_no_temporary_file(tmp_path, monkeypatch):
    store = DeckStore(tmp_path)
    store.save(two_slides(), "ana")
    before = (tmp_path / "my-talk.json").read_bytes()

    def broken(src, dst):
        raise OSError("input/output error")

    monkeypatch.setattr(decks.os, "replace", broken)
    changed = Deck(name="my-talk", title="Changed", slides=())
    with pytest.raises(OSError, match="input/output error"):
        store.save(changed, "ana")
    assert (tmp_path / "my-talk.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [".lock", "my-talk.json"]


def test_an_old_deck_without_owner_or_version_loads_and_is_kept_when_saved_again(tmp_path):
    old = json.dumps({"format": 1, "title": "Old", "slides": [{"chart": "traffic-pilot"}]})
    (tmp_path / "old.json").write_text(old, encoding="utf-8")
    store = DeckStore(tmp_path)
    loaded = store.load("old")
    assert (loaded.owner, loaded.author, loaded.version, loaded.saved_at) == (None, None, 1, "")
    saved = store.save(Deck(name="old", title="New", slides=()), "ben")
    assert (saved.owner, saved.author, saved.version) == (None, "ben", 2)  # the owner stays unknown
    assert store.load("old") == saved
    assert (tmp_path / ".versions" / "old" / "v0001.json").read_text(encoding="utf-8") == old


def test_versions_are_kept_up_to_the_limit_and_a_restore_is_a_new_version(tmp_path):
    store = DeckStore(tmp_path)
    limits = DeckLimits(versions=3)
    for i in range(1, 7):
        store.save(Deck(name="talk", title=f"Take {i}", slides=()), "ana", limits)
    kept = sorted(p.name for p in (tmp_path / ".versions" / "talk").iterdir())
    assert kept == ["v0003.json", "v0004.json", "v0005.json"]
    assert [(v.version, v.title) for v in store.history("talk")] == [
        (6, "Take 6"), (5, "Take 5"), (4, "Take 4"), (3, "Take 3"),
    ]  # fmt: skip

    restored = store.restore("talk", 4, "ben", limits)
    assert (restored.version, restored.title, restored.restored_from) == (7, "Take 4", 4)
    assert (restored.owner, restored.author) == ("ana", "ben")
    again = store.save(Deck(name="talk", title="Take 8", slides=()), "ana", limits)
    assert again.restored_from is None  # a plain save says nothing of restoring
    assert [v.version for v in store.history("talk")] == [8, 7, 6, 5]


def test_a_new_deck_beyond_the_count_limit_is_refused_a_new_version_is_not(tmp_path):
    store = DeckStore(tmp_path)
    limits = DeckLimits(decks=2)
    for name in ("a", "b"):
        store.save(Deck(name=name, title=name, slides=()), "ana", limits)
    with pytest.raises(DeckError, match="already 2 decks") as refused:
        store.save(Deck(name="c", title="c", slides=()), "ana", limits)
    assert (refused.value.key, refused.value.values) == ("too_many", {"limit": 2})
    assert not store.exists("c")
    assert store.save(Deck(name="a", title="a again", slides=()), "ana", limits).version == 2


def test_a_deck_over_the_size_limit_is_refused_with_nothing_written(tmp_path):
    store = DeckStore(tmp_path)
    deck = Deck(name="long", title="Long", slides=(Slide(chart="traffic-pilot", notes="n" * 2000),))
    with pytest.raises(DeckError, match="larger than 1 KB") as refused:
        store.save(deck, "ana", DeckLimits(kb=1))
    assert (refused.value.key, refused.value.values) == ("too_big", {"limit": 1, "size": 3})
    assert store.list() == []


def test_delete_removes_the_deck_and_its_versions(tmp_path):
    store = DeckStore(tmp_path)
    for title in ("one", "two"):
        store.save(Deck(name="talk", title=title, slides=()), "ana")
    assert store.delete("talk") is True
    assert store.list() == [] and store.history("talk") == []
    assert not (tmp_path / ".versions" / "talk").exists()
    assert store.delete("talk") is False


def test_analysts_saving_the_same_deck_at_once_get_a_version_each(tmp_path):
    store = DeckStore(tmp_path)
    start = threading.Barrier(8)

    def save(i: int) -> None:
        start.wait()
        DeckStore(tmp_path).save(Deck(name="talk", title=f"by {i}", slides=()), f"analyst-{i}")

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = store.history("talk")
    assert [v.version for v in history] == list(range(8, 0, -1))
    assert len({v.author for v in history}) == 8 and len({v.title for v in history}) == 8


@pytest.mark.parametrize("version", [0, -1, 10**12])
def test_a_version_that_cannot_exist_is_refused(tmp_path, version):
    store = DeckStore(tmp_path)
    store.save(two_slides(), "ana")
    with pytest.raises(DeckError, match="has no version"):
        store.load_version("my-talk", version)


def test_bad_json_is_refused_with_the_place_of_the_error(tmp_path):
    store = DeckStore(tmp_path)
    (tmp_path / "broken.json").write_text('{"title": "x", "slides": [\n  {"chart": }\n]}')
    with pytest.raises(DeckError, match=r"'broken' is not valid JSON \(line 2, column 13"):
        store.load("broken")
    listed = store.list()
    assert [(i.name, bool(i.error)) for i in listed] == [("broken", True)]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "must hold a JSON object"),
        ({"slides": "no"}, "'slides' must be a list"),
        ({"slides": [{"chart": ""}]}, r"slide 1: 'chart' must name a chart"),
        ({"slides": [{"chart": "traffic-pilot"}, {"chart": 3}]}, "slide 2: 'chart'"),
        ({"slides": [{"chart": "x", "title": 5}]}, "slide 1: 'title' must be text"),
        ({"slides": [{"chart": "x", "notes": "n" * 9000}]}, "'notes' is longer than 8000"),
        ({"format": 9, "slides": []}, "format 9 is not supported"),
        ({"slides": [], "version": 0}, "'version' must be a whole number from 1"),
        ({"slides": [], "version": "2"}, "'version' must be a whole number from 1"),
        ({"slides": [], "owner": 5}, "'owner' must be an analyst's name"),
        ({"slides": [], "saved_at": ["x"]}, "'saved_at' must be a date and time"),
    ],
)
def test_invalid_decks_are_refused_clearly(raw, message):
    with pytest.raises(DeckError, match=message):
        deck_from_json(raw, "talk")


def test_a_missing_deck_says_so(tmp_path):
    with pytest.raises(DeckError, match="there is no deck 'nothing'"):
        DeckStore(tmp_path).load("nothing")


def test_queries_are_kept_as_query_strings():
    deck = parse_deck(json.dumps({"slides": [{"chart": "x", "query": "from=2017-01-01"}]}), "q")
    assert deck.slides[0].query == "?from=2017-01-01"


def test_the_forum_deck_follows_the_agenda():
    deck = forum_deck()
    sections = [s.section for s in deck.slides]
    order = ["opening", "rt1", "rt2", "sdg"]
    assert sorted(sections, key=order.index) == sections
    assert set(sections) == set(order)
    assert deck.builtin and DeckStore(".").load("forum") == deck


def test_every_forum_slide_is_a_registered_chart_with_filters_the_dashboard_understands():
    for slide in forum_deck().slides:
        chart = REGISTRY[slide.chart]
        assert slide.option in (None, *[value for value, _ in chart.options]), slide
        state = ViewState.from_query(slide.query)
        assert state.to_query() == slide.query, slide  # a canonical, dashboard-made query


def test_every_forum_text_is_translated():
    catalogue = messages()
    for slide in forum_deck().slides:
        for key in (slide.title, slide.takeaway, slide.notes):
            assert all(catalogue[key].get(lang) for lang in LANGUAGES), key
