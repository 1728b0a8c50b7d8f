"""`python -m datasets detect-incidents`: output, JSON and exit codes."""

from __future__ import annotations

import json

import pytest

from datasets.__main__ import main
from datasets.demo import generate_demo
from datasets.workspace import Workspace

CITY = "hangzhou-2017"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("incidents-cli")
    workspace = Workspace.open(root)
    generate_demo(workspace, CITY, detectors=16, days=10, seed=3)
    workspace.engine.close()
    return root


def _run(data_dir, *args: str) -> int:
    return main(["detect-incidents", *args, "--data-dir", str(data_dir)])


def test_prints_incidents_and_score_and_writes_json(data_dir, tmp_path, capsys):
    out = tmp_path / "incidents.json"
    code = _run(
        data_dir,
        "--city",
        CITY,
        "--since",
        "2017-01-03",
        "--until",
        "2017-01-08",
        "--json",
        str(out),
    )
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["city"] == CITY and len(result["incidents"]) > 0
    assert f"{len(result['incidents'])} likely incidents" in printed
    first = result["incidents"][0]
    assert set(first) == {
        "detector_id",
        "road",
        "district",
        "detected_at",
        "ended_at",
        "min_speed_ratio",
        "confidence",
    }
    assert "2017-01-03" <= first["detected_at"] < "2017-01-09"
    score = result["score"]
    assert score["recorded"] > 0 and 0 <= score["recall"] <= 1
    assert "recall" in printed and "false alarms per detector-week" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--city", "atlantis"), "no city"),
        (("--city", CITY, "--since", "last week"), "--since"),
        (("--city", CITY, "--until", "2017-13-01"), "--until"),
        (("--city", CITY, "--since", "2017-01-05", "--until", "2017-01-05"), "not before"),
        (("--city", CITY, "--since", "2018-01-01"), "window is empty"),
    ],
)
def test_bad_input_exits_2_with_one_line(data_dir, capsys, args, message):
    assert _run(data_dir, *args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_city_without_readings_exits_2(tmp_path, capsys):
    Workspace.open(tmp_path).engine.close()
    assert _run(tmp_path, "--city", CITY) == 2
    assert "traffic_readings" in capsys.readouterr().err
