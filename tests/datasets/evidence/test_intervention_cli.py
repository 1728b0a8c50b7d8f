"""`python -m datasets add-intervention | list-interventions | remove-intervention`."""

from __future__ import annotations

import json

import pytest

from datasets.__main__ import main
from datasets.evidence.cli import UsageError, parse_hours
from datasets.evidence.interventions import InterventionStore, pilot_id
from datasets.rollups import PEAK_HOURS


@pytest.fixture
def cli(demo_workspace, demo_city):
    """Runs the CLI on the demo data folder; removes what a test added, after it."""
    store = InterventionStore(demo_workspace.data_dir)
    before = {iv.id for iv in store.list()}

    def run(*argv: str) -> int:
        return main([*argv, "--data-dir", str(demo_workspace.data_dir)])

    yield run
    for iv in store.list():
        if iv.id not in before:
            store.remove(iv.id)


def _pilot_args(demo_city, **override) -> list[str]:
    values = {
        "--city": demo_city.id,
        "--name": "Signals again",
        "--start": "2017-07-01",
        "--treated": "D0001,D0002,D0003",
        "--control": "D0004,D0005,D0006,D0007,D0008",
        "--outcome": "traffic_readings.speed_kmh",
        "--hours": "7-9,17-19",
    } | override
    args = ["add-intervention"]
    for key, value in values.items():
        if value is not None:
            args += [key, value]
    return [*args, "--weekdays"]


def test_hours_ranges_exclude_their_end():
    assert parse_hours("7-9,17-19") == tuple(PEAK_HOURS)
    assert parse_hours("12") == (12,)
    assert parse_hours("22-24,0-2") == (0, 1, 22, 23)
    assert parse_hours(None) == ()
    for bad in ("9-7", "7-25", "x", "7-"):
        with pytest.raises(UsageError):
            parse_hours(bad)


def test_add_list_remove(cli, demo_workspace, demo_city, capsys):
    assert cli(*_pilot_args(demo_city)) == 0
    new_id = capsys.readouterr().out.strip()
    stored = InterventionStore(demo_workspace.data_dir).get(new_id)
    pilot = InterventionStore(demo_workspace.data_dir).get(pilot_id(demo_city.id))
    assert (stored.treated, stored.control) == (pilot.treated, pilot.control)
    assert stored.hours == pilot.hours and stored.weekdays and stored.start == pilot.start
    assert cli("list-interventions", "--city", demo_city.id, "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["id"] == new_id and listed[0]["hours"] == list(PEAK_HOURS)
    assert cli("list-interventions") == 0
    assert new_id in capsys.readouterr().out
    assert cli("remove-intervention", new_id) == 0
    assert cli("remove-intervention", new_id) == 2
    assert "no intervention" in capsys.readouterr().err


def test_controls_are_suggested_when_not_given(cli, demo_workspace, demo_city, capsys):
    assert cli(*_pilot_args(demo_city, **{"--control": None})) == 0
    out = capsys.readouterr()
    stored = InterventionStore(demo_workspace.data_dir).get(out.out.strip())
    assert stored.control and not set(stored.control) & set(stored.treated)
    assert "suggested controls" in out.err


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"--treated": "D0001,NOPE"}, "NOPE"),
        ({"--start": "2016-01-01"}, "outside the data"),
        ({"--start": "July"}, "not a date"),
        ({"--hours": "9-7"}, "--hours"),
        ({"--outcome": "traffic_readings.colour"}, "colour"),
        ({"--city": "atlantis"}, "atlantis"),
        ({"--hours": "3-4", "--outcome": "emergency_runs.travel_min", "--treated": "1"}, "group"),
    ],
)
def test_bad_input_exits_2_and_stores_nothing(
    cli, demo_workspace, demo_city, capsys, override, needle
):
    before = len(InterventionStore(demo_workspace.data_dir).list())
    assert cli(*_pilot_args(demo_city, **override)) == 2
    out = capsys.readouterr()
    assert out.out == "" and needle in out.err
    assert len(InterventionStore(demo_workspace.data_dir).list()) == before


def test_every_problem_on_its_own_line(cli, demo_city, capsys):
    args = _pilot_args(demo_city, **{"--treated": "X1,D0004", "--start": "2019-01-01"})
    assert cli(*args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3  # unknown unit, a unit in both groups, start outside the data
