"""`python -m datasets evaluate`: the summary, the JSON, exit codes."""

from __future__ import annotations

import dataclasses
import json

import pytest

from datasets.__main__ import main
from datasets.evidence.interventions import InterventionStore, pilot_intervention

KEYS = {"estimate", "estimate_pct", "ci95", "ci95_pct", "p_value", "pre_trend_p", "placebo_p",
        "synthetic_control", "n_treated", "n_control"}  # fmt: skip


@pytest.fixture
def pilot(demo_workspace, demo_city):
    return pilot_intervention(demo_workspace, demo_city)


def _run(demo_workspace, *argv: str) -> int:
    return main(["evaluate", *argv, "--data-dir", str(demo_workspace.data_dir)])


def test_prints_the_summary_and_writes_the_json(demo_workspace, pilot, tmp_path, capsys):
    out = tmp_path / "ev.json"
    assert _run(demo_workspace, "--intervention", pilot.id, "--json", str(out)) == 0
    printed = capsys.readouterr().out
    assert "Speed" in printed and "95 % CI" in printed and "Difference in differences" in printed
    assert "synthetic data" in printed  # the demo's caveat
    data = json.loads(out.read_text())
    assert set(data) >= KEYS
    assert len(data["ci95"]) == 2 and len(data["ci95_pct"]) == 2
    assert data["intervention"] == pilot.id and data["unit"] == "km/h"


def test_in_french(demo_workspace, pilot, capsys):
    assert _run(demo_workspace, "--intervention", pilot.id, "--lang", "fr") == 0
    assert "La vitesse" in capsys.readouterr().out


def test_unknown_id_exits_2(demo_workspace, capsys):
    assert _run(demo_workspace, "--intervention", "no-such-thing") == 2
    err = capsys.readouterr().err
    assert "no-such-thing" in err and len(err.strip().splitlines()) == 1


def test_empty_data_folder_exits_2(tmp_path, capsys):
    assert main(["evaluate", "--intervention", "x", "--data-dir", str(tmp_path)]) == 2
    assert "x" in capsys.readouterr().err


def test_no_data_in_the_window_exits_2(demo_workspace, pilot, capsys):
    store = InterventionStore(demo_workspace.data_dir)
    late = dataclasses.replace(pilot, id="too-late", start=pilot.start.replace(year=2030))
    store.put(late)
    try:
        assert _run(demo_workspace, "--intervention", "too-late") == 2
        err = capsys.readouterr().err
        assert "too-late" in err and len(err.strip().splitlines()) == 1
    finally:
        store.remove("too-late")
