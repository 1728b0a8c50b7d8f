"""The forecast benchmark's quick run: every figure is there and well formed."""

from __future__ import annotations

import json

from bench import forecast as bench


def test_quick_bench_reports_skill_per_horizon_and_speed(demo_workspace, tmp_path, capsys):
    out = tmp_path / "forecast.json"
    assert (
        bench.main(["--quick", "--data-dir", str(demo_workspace.data_dir), "--json", str(out)]) == 0
    )
    result = json.loads(out.read_text())
    skill = result["skill"]
    assert skill["origins"] >= 5
    assert set(skill["per_horizon"]) == {str(h) for h in bench.HORIZONS}
    for row in skill["per_horizon"].values():
        assert row["mase"] > 0 and row["mase_naive"] > 0
        assert abs(row["ratio"] - row["mase"] / row["mase_naive"]) < 0.01
    assert 0.5 < skill["coverage80"] <= skill["coverage95"] <= 1
    runs = {(r["column"], r["by"]): r for r in result["speed"]["runs"]}
    stations = demo_workspace.engine.find("hangzhou-2017", "air_stations").current.rows
    assert runs[("pm25", "station")]["series"] == stations
    assert runs[("volume", "district")]["series"] > 0
    assert "Skill: real hourly PM2.5" in capsys.readouterr().out
