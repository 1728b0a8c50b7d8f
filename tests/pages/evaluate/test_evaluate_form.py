"""Recording interventions on `/evaluate`, its callbacks called as plain functions: the analyst
is a value (`who`), so a visitor's request is one call away; every value is what a browser could
send, so malformed ones are sent too."""

from __future__ import annotations

import json
import random

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from plotly.io.json import to_json_plotly

from datasets.evidence.panel import check_intervention, units
from pages.evaluate.fields import FormValues, parse_day, parse_hours, read_form
from pages.evaluate.form import create, remove, suggest, unit_lists
from pages.evaluate.room import interventions

from .conftest import UI

ANA = lambda: "ana"  # noqa: E731
VISITOR = lambda: None  # noqa: E731
SPEED = "traffic_readings.speed_kmh"


def text(component) -> str:
    """A callback's reply as the browser gets it (numpy arrays too), as JSON text."""
    return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False)


def detectors(room, city) -> list[str]:
    return [u for u, _ in units(room.workspace.engine, city, "detector", "traffic_readings")]


@pytest.fixture
def valid(room, demo_city) -> FormValues:
    ids = detectors(room, demo_city)
    return FormValues(
        name="Bus lane on two detectors",
        start="2017-07-03",
        unit="detector",
        outcome=SPEED,
        treated=ids[:2],
        control=ids[2:6],
        hours="7-9,17-19",
        weekdays=["weekdays"],
    )


def stored(room, city) -> list[str]:
    return [iv.name for iv in interventions(room.workspace, city)]


def test_a_visitor_cannot_create_and_nothing_is_stored(room, demo_city, valid):
    before = stored(room, demo_city)
    status, go = create(room, 1, valid, UI, who=VISITOR)
    assert "visitor-notice" in text(status) and go is no_update
    assert stored(room, demo_city) == before


def test_an_analyst_creates_a_valid_intervention_and_it_opens(room, demo_city, valid):
    status, go = create(room, 1, valid, UI, who=ANA)
    made = next(iv for iv in interventions(room.workspace, demo_city) if iv.name == valid.name)
    assert go.startswith("/evaluate?") and f"intervention={made.id}" in go
    assert valid.name in text(status)
    assert made.created_by == "ana" and made.treated == tuple(valid.treated)
    assert made.hours == (7, 8, 17, 18) and made.weekdays and made.unit == "detector"


def test_empty_controls_are_filled_with_suggested_ones(room, demo_city, valid):
    create(room, 1, FormValues(**{**valid.__dict__, "control": []}), UI, who=ANA)
    made = next(iv for iv in interventions(room.workspace, demo_city) if iv.name == valid.name)
    assert made.control and not set(made.control) & set(made.treated)


def test_a_data_problem_is_shown_translated_and_nothing_is_stored(room, demo_city, valid):
    before = stored(room, demo_city)
    late = FormValues(**{**valid.__dict__, "start": "2030-01-01"})
    status, go = create(room, 1, late, {**UI, "lang": "fr"}, who=ANA)
    assert go is no_update
    iv, _ = read_form(room.workspace.engine, demo_city, late, "ana")
    problems = check_intervention(room.workspace.engine, demo_city, iv)
    assert [p.code for p in problems] == ["start_outside"]
    assert "evaluate-problems" in text(status)
    assert json.dumps(problems[0].text("fr"), ensure_ascii=False)[1:-1] in text(status)
    assert stored(room, demo_city) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "  "}, "Give it a name"),
        ({"name": "x" * 500}, "Give it a name"),
        ({"start": "2017-02-30"}, "The start is not a date"),
        ({"start": 20170703}, "The start is not a date"),
        ({"end": "2017-01-01"}, "The end is before the start"),
        ({"end": "soon"}, "The end is not a date"),
        ({"unit": "planet"}, "Choose a unit kind"),
        ({"outcome": "traffic_readings.lat"}, "Choose an outcome"),
        ({"outcome": {"sql": "DROP"}}, "Choose an outcome"),
        ({"treated": ["no-such-detector"]}, "Some units are not units"),
        ({"treated": "D1"}, "Some units are not units"),
        ({"treated": []}, "Choose at least one treated unit"),
        ({"control": [["nested"]]}, "Some units are not units"),
        ({"hours": "7-30"}, "Hours are ranges"),
        ({"hours": ["7"]}, "Hours are ranges"),
    ],
)
def test_each_bad_field_is_named_and_nothing_is_stored(room, demo_city, valid, change, message):
    before = stored(room, demo_city)
    status, go = create(room, 1, FormValues(**{**valid.__dict__, **change}), UI, who=ANA)
    assert go is no_update and message in text(status)
    assert stored(room, demo_city) == before


def test_a_unit_in_both_groups_is_refused(room, demo_city, valid):
    both = FormValues(**{**valid.__dict__, "control": [valid.treated[0], *valid.control]})
    status, go = create(room, 1, both, UI, who=ANA)
    assert go is no_update and "both treated and control" in text(status)


def test_no_payload_raises(room, demo_city):
    """Whatever the browser sends, the callbacks answer (no 500)."""
    rng = random.Random(20)
    junk = [None, "", "x" * 5000, 7, -1.5, [], [None], {"a": 1}, ["a"] * 6000, True, "2017-07-03"]
    for _ in range(60):
        values = FormValues(**{f: rng.choice(junk) for f in FormValues.__dataclass_fields__})
        status, _ = create(room, 1, values, rng.choice([UI, None, {"lang": "xx"}, "junk"]), who=ANA)
        assert status is not None
        unit_lists(room, rng.choice(junk), rng.choice(junk), rng.choice(junk), rng.choice(junk), UI)
    assert [iv for iv in interventions(room.workspace, demo_city) if iv.created_by == "ana"] == []


def test_remove_is_refused_to_a_visitor_and_done_for_an_analyst(room, demo_city, valid):
    _, go = create(room, 1, valid, UI, who=ANA)
    made = next(iv for iv in interventions(room.workspace, demo_city) if iv.name == valid.name)
    status, go = remove(room, 1, made.id, UI, who=VISITOR)
    assert "visitor-notice" in text(status) and go is no_update
    assert valid.name in stored(room, demo_city)
    status, go = remove(room, 1, made.id, UI, who=ANA)
    assert go.startswith("/evaluate") and "intervention=" not in go
    assert valid.name not in stored(room, demo_city)
    status, go = remove(room, 1, made.id, UI, who=ANA)  # twice: gone already
    assert go is no_update and "does not exist" in text(status)


def test_the_pilot_cannot_be_removed(room, pilot):
    status, go = remove(room, 1, pilot.id, UI, who=ANA)
    assert go is no_update and "does not exist" in text(status)
    assert interventions(room.workspace, room.workspace.city(pilot.city))[0].id == pilot.id


def test_callbacks_wait_for_a_click(room, valid):
    for call in (
        lambda: create(room, 0, valid, UI, who=ANA),
        lambda: suggest(room, None, valid, UI, who=ANA),
        lambda: remove(room, 0, "x", UI, who=ANA),
    ):
        with pytest.raises(PreventUpdate):
            call()


def test_unit_lists_follow_unit_kind_and_outcome_and_keep_known_choices(room, demo_city):
    ids = detectors(room, demo_city)
    options, treated, _, control = unit_lists(room, "detector", SPEED, [ids[0], "gone"], None, UI)
    assert [o["value"] for o in options] == ids
    assert treated == [ids[0]] and control == []
    corridors, *_ = unit_lists(room, "corridor", SPEED, [], [], UI)
    assert corridors and {o["value"] for o in corridors}.isdisjoint(ids)
    assert unit_lists(room, "planet", SPEED, [], [], UI) == ([], [], [], [])
    stations, *_ = unit_lists(room, "station", SPEED, [], [], UI)
    assert stations == []


def test_suggest_fills_controls_for_an_analyst_only(room, demo_city, valid):
    value, status = suggest(room, 1, valid, UI, who=VISITOR)
    assert value is no_update and "visitor-notice" in text(status)
    value, status = suggest(room, 1, valid, UI, who=ANA)
    assert value and not set(value) & set(valid.treated)
    assert set(value) <= set(detectors(room, demo_city))
    value, status = suggest(room, 1, FormValues(**{**valid.__dict__, "start": "x"}), UI, who=ANA)
    assert value is no_update and "The start is not a date" in text(status)


def test_reading_hours_and_days():
    assert parse_hours("7-9,17-19") == (7, 8, 17, 18)
    assert parse_hours("") == () and parse_hours(None) == ()
    assert parse_hours("12") == (12,)
    for bad in ("9-7", "25", "a-b", "7-", "1" * 200, 7, ["7"]):
        assert parse_hours(bad) is None, bad
    assert str(parse_day(" 2017-07-03 ")) == "2017-07-03"
    for bad in ("2017-13-01", "03/07/2017", "", None, "2017-07-03T00:00:00", 5):
        assert parse_day(bad) is None, bad


def test_read_form_builds_the_intervention(room, demo_city, valid):
    iv, problems = read_form(room.workspace.engine, demo_city, valid, "ana")
    assert problems == [] and iv.city == demo_city.id and iv.outcome == SPEED
    assert iv.start.isoformat() == "2017-07-03" and iv.end is None and iv.id == ""
