"""`python -m bench.incidents` on a small demo city: every figure it promises, and an exit code
that says whether the targets were met."""

from __future__ import annotations

import json

from bench import incidents as bench_incidents


def test_small_run_writes_every_figure(tmp_path, capsys):
    out = tmp_path / "incidents.json"
    code = bench_incidents.main(["--detectors", "16", "--days", "7", "--json", str(out)])
    r = json.loads(out.read_text(encoding="utf-8"))
    assert code == (0 if all(r["targets_met"].values()) else 1)
    assert (r["detectors"], r["days"], r["readings"]) == (16, 7, 16 * 7 * 288)
    assert r["recorded"] > 0 and r["detected"] > 0
    assert 0 < r["recall"] <= 1 and r["found"] <= r["recorded"]
    assert r["detector_weeks"] == 16
    assert r["false_alarms_per_detector_week"] == r["false_alarms"] / 16
    assert r["median_delay_min"] >= 0 and r["detect_s"] > 0
    assert r["held_out"] is None  # a week is too short to hold the profile's weeks out
    printed = capsys.readouterr().out
    assert "recall" in printed and "median delay" in printed
