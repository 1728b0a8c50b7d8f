"""`python -m datasets forecast`: output, --json, and exit 2 on bad input."""

from __future__ import annotations

import json

import pytest

from datasets.__main__ import main
from datasets.evidence.forecast_cli import parse_horizon
from datasets.evidence.forecast_series import ForecastError

AIR_ID = "hangzhou-2017-air-quality-hourly"


def _run(workspace, *args: str) -> int:
    return main(["forecast", *args, "--data-dir", str(workspace.data_dir)])


def test_horizons_in_hours_or_days():
    assert parse_horizon("72h") == 72
    assert parse_horizon("3d") == 72
    assert parse_horizon("12") == 12
    for bad in ("", "3w", "h", "-2h", "1.5d"):
        with pytest.raises(ForecastError):
            parse_horizon(bad)


def test_forecast_prints_each_series_and_writes_json(demo_workspace, capsys, tmp_path):
    out = tmp_path / "forecast.json"
    code = _run(demo_workspace, "--dataset", AIR_ID, "--column", "pm25", "--horizon", "1d",
                "--until", "2017-06-30T12:30", "--json", str(out))  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "24 h from 2017-06-30 13:00" in printed
    assert "vs seasonal naive" in printed
    doc = json.loads(out.read_text())
    stations = {row["series"] for row in doc["frame"]}
    assert len(stations) > 3
    assert len(doc["frame"]) == 24 * len(stations)
    assert doc["frame"][0]["ts"] == "2017-06-30T13:00:00"
    assert {"model", "horizon_h", "mase", "mase_naive"} <= set(doc["skill"][0])
    assert max(row["ts"] for row in doc["history"]) <= "2017-06-30T12:30:00"
    for station in stations:
        assert f"{station}: model " in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dataset", "nope", "--column", "pm25"), "no dataset"),
        (("--dataset", AIR_ID, "--column", "speed_kmh"), "no column"),
        (("--dataset", AIR_ID, "--column", "pm25", "--by", "detector"), "not 'detector'"),
        (("--dataset", AIR_ID, "--column", "pm25", "--horizon", "3w"), "--horizon"),
        (("--dataset", AIR_ID, "--column", "pm25", "--horizon", "0h"), "horizon"),
        (("--dataset", AIR_ID, "--column", "pm25", "--until", "2019-01-01"), "outside the data"),
        (("--dataset", AIR_ID, "--column", "pm25", "--until", "yesterday-ish"), "--until"),
    ],
)
def test_bad_input_exits_2_with_one_line(demo_workspace, capsys, args, message):
    assert _run(demo_workspace, *args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_a_folder_without_catalog_exits_2(tmp_path, capsys):
    code = main(["forecast", "--dataset", AIR_ID, "--column", "pm25", "--data-dir", str(tmp_path)])
    assert code == 2
    assert "no catalog" in capsys.readouterr().err
