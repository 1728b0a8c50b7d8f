"""Decks a visitor cannot overwrite, through the real Dash endpoint: the save, restore and delete
callbacks check the analyst session on the server; a deck records its owner and keeps the
versions it replaced (restorable); the count and size limits hold; listing the decks parses only
the files that changed; a save on a full disk says so and leaves the previous deck as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datasets import decks

from .conftest import (
    callback_key,
    callback_outputs,
    fill_disk,
    fingerprint,
    log_in,
)

SLIDE = {"chart": "traffic-pilot", "query": "?from=2017-03-01&to=2017-03-31"}
REFUSED = "Saving decks is for analysts"
DISK_FULL = "The disk is full: the deck was not saved."


def slides(count: int, notes: str = "", query: str = SLIDE["query"]) -> list[dict]:
    return [
        {**SLIDE, "query": query, "title": f"Slide {i}", "notes": notes}
        for i in range(1, count + 1)
    ]


def save_request(dash_app, name: str, slide_list: list[dict], title: str = "Talk") -> dict:
    """The request the editor's save button sends, as a script would forge it."""
    key = callback_key(dash_app, "deck-save")
    values = {
        "deck-edit": {"slides": slide_list},
        "deck-title": title,
        "deck-name": name,
        "deck-edit-config": {"lang": "en"},
    }
    return {
        "output": key,
        "outputs": callback_outputs(key),
        "inputs": [{"id": "deck-save", "property": "n_clicks", "value": 1}],
        "state": [
            [] if s["id"].startswith("{") else {**s, "value": values[s["id"]]}
            for s in dash_app.callback_map[key]["state"]
        ],
        "changedPropIds": ["deck-save.n_clicks"],
    }


def history_request(dash_app, deck: str, action: str, version: int = 1) -> dict:
    """A click on a version's Restore button, or the confirmed Delete, of the deck editor."""
    restore = {"type": "deck-restore", "deck": deck, "v": version}
    delete = {"type": "deck-delete", "deck": deck}
    key = callback_key(dash_app, "deck-restore")
    restoring = action == "restore"
    changed = json.dumps(restore if restoring else delete, sort_keys=True, separators=(",", ":"))
    return {
        "output": key,
        "outputs": callback_outputs(key),
        "inputs": [
            [{"id": restore, "property": "n_clicks", "value": 1 if restoring else 0}],
            [{"id": delete, "property": "submit_n_clicks", "value": None if restoring else 1}],
        ],
        "state": [{"id": "deck-edit-config", "property": "data", "value": {"lang": "en"}}],
        "changedPropIds": [changed + (".n_clicks" if restoring else ".submit_n_clicks")],
    }


def post(client, payload: dict) -> str:
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[-800:]
    return response.get_data(as_text=True)


def stored(data_dir: Path, name: str) -> dict:
    return json.loads((data_dir / "decks" / f"{name}.json").read_text(encoding="utf-8"))


# -- who may write --------------------------------------------------------------------------------


def test_a_visitor_cannot_overwrite_or_create_a_deck(dash_app, analyst, visitor, data_dir):
    post(analyst, save_request(dash_app, "talk", slides(12)))
    before = fingerprint(data_dir / "decks")

    answer = post(visitor, save_request(dash_app, "talk", slides(1), title="Defaced"))
    assert REFUSED in answer and "login?next=" in answer
    answer = post(visitor, save_request(dash_app, "graffiti", slides(1)))
    assert REFUSED in answer

    assert fingerprint(data_dir / "decks") == before  # not a byte written, no version kept
    assert len(stored(data_dir, "talk")["slides"]) == 12


def test_an_analyst_saves_a_new_version_and_the_one_it_replaces_is_kept(
    dash_app, analyst, data_dir
):
    post(analyst, save_request(dash_app, "talk", slides(12)))
    first = (data_dir / "decks" / "talk.json").read_bytes()
    assert (stored(data_dir, "talk")["owner"], stored(data_dir, "talk")["version"]) == ("ana", 1)

    ben = dash_app.server.test_client()
    assert log_in(ben, "ben").status_code == 303
    answer = post(ben, save_request(dash_app, "talk", slides(3), title="Shorter"))
    assert "version 2" in answer

    current = stored(data_dir, "talk")
    assert (current["owner"], current["author"], current["version"]) == ("ana", "ben", 2)
    assert len(current["slides"]) == 3 and current["saved_at"]
    assert (data_dir / "decks" / ".versions" / "talk" / "v0001.json").read_bytes() == first


def test_restore_and_delete_are_refused_to_a_visitor_and_done_for_an_analyst(
    dash_app, analyst, visitor, data_dir
):
    post(analyst, save_request(dash_app, "talk", slides(12)))
    post(analyst, save_request(dash_app, "talk", slides(1), title="Defaced"))
    before = fingerprint(data_dir / "decks")

    for action in ("restore", "delete"):
        answer = post(visitor, history_request(dash_app, "talk", action))
        assert REFUSED in answer
    assert fingerprint(data_dir / "decks") == before

    answer = post(analyst, history_request(dash_app, "talk", "restore", 1))
    assert "Version 1 was restored as version 3" in answer
    current = stored(data_dir, "talk")
    assert (len(current["slides"]), current["version"], current["restored_from"]) == (12, 3, 1)
    assert len(json.loads((data_dir / "decks/.versions/talk/v0002.json").read_bytes())["slides"])

    answer = post(analyst, history_request(dash_app, "talk", "delete"))
    assert "was deleted" in answer
    assert not (data_dir / "decks" / "talk.json").exists()
    assert not (data_dir / "decks" / ".versions" / "talk").exists()


# -- limits ---------------------------------------------------------------------------------------


def test_no_more_decks_than_the_limit(dash_app, analyst, data_dir):
    """The default limit is 200 decks: the 201st new one is refused, a new version is not."""
    for i in range(200):
        answer = post(analyst, save_request(dash_app, f"deck-{i:03d}", slides(1)))
        assert "Saved" in answer, answer[-400:]
    answer = post(analyst, save_request(dash_app, "one-too-many", slides(1)))
    assert "there are already 200 decks" in answer
    assert not (data_dir / "decks" / "one-too-many.json").exists()
    answer = post(analyst, save_request(dash_app, "deck-007", slides(2)))
    assert "version 2" in answer


def test_a_deck_larger_than_the_limit_is_refused(dash_app, analyst, data_dir):
    """200 slides of the longest notes and views: about 2 MB of JSON, over the 512 KB default."""
    huge = slides(200, notes="n" * 8000, query="?x=" + "q" * 1990)
    assert len(json.dumps({"slides": huge})) > 2_000_000
    answer = post(analyst, save_request(dash_app, "huge", huge))
    assert "larger than 512 KB" in answer
    assert not (data_dir / "decks" / "huge.json").exists()


# -- listing --------------------------------------------------------------------------------------


def test_listing_parses_only_the_decks_that_changed(
    dash_app, analyst, visitor, data_dir, monkeypatch
):
    """200 decks of nearly 512 KB each, in the old format (no owner, no version)."""
    folder = data_dir / "decks"
    folder.mkdir()
    for i in range(200):
        deck = {"title": f"Deck {i}", "slides": slides(60, notes="n" * 7800)}
        (folder / f"deck-{i:03d}.json").write_text(json.dumps(deck), encoding="utf-8")
    assert (folder / "deck-000.json").stat().st_size > 450_000

    parsed: list[str] = []
    real_parse = decks.parse_deck

    def counting_parse(text: str, name: str):
        parsed.append(name)
        return real_parse(text, name)

    monkeypatch.setattr(decks, "parse_deck", counting_parse)
    listed = visitor.get("/present/decks").get_json()["decks"]
    assert len(listed) == 201 and len(parsed) == 200
    assert listed[1]["title"] == "Deck 0" and listed[1]["slides"] == 60

    parsed.clear()
    again = visitor.get("/present/decks").get_json()["decks"]
    assert again == listed and parsed == []  # nothing changed: no deck file parsed again

    post(analyst, save_request(dash_app, "deck-007", slides(2), title="Changed"))
    changed = {d["name"]: d for d in visitor.get("/present/decks").get_json()["decks"]}
    assert set(parsed) == {"deck-007"}  # the save and the listing read that deck alone
    assert (changed["deck-007"]["title"], changed["deck-007"]["version"]) == ("Changed", 2)


# -- a full disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(data_dir, small_tmpfs):
    """The decks folder on a 256 KB tmpfs of its own."""
    return small_tmpfs(data_dir / "decks", 256)


@pytest.mark.parametrize("leave_pages", [0, 1], ids=["no-room", "room-for-the-kept-copy-only"])
def test_a_save_on_a_full_disk_says_so_and_changes_nothing(
    dash_app, analyst, small_disk, leave_pages
):
    post(analyst, save_request(dash_app, "talk", slides(3)))
    post(analyst, save_request(dash_app, "talk", slides(2)))
    fill_disk(small_disk, leave_pages)
    before = fingerprint(small_disk, ignore=lambda p: p.name == "filler")

    answer = post(analyst, save_request(dash_app, "talk", slides(12), title="Bigger"))
    assert DISK_FULL in answer
    if leave_pages == 0:  # a new deck keeps no earlier version: one free page would hold it
        answer = post(analyst, save_request(dash_app, "another", slides(1)))
        assert DISK_FULL in answer

    assert fingerprint(small_disk, ignore=lambda p: p.name == "filler") == before
    assert stored(small_disk.parent, "talk")["version"] == 2
    assert not [p for p in small_disk.rglob("*") if p.name.endswith(".tmp")]
