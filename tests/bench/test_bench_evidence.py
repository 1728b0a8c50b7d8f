"""A tiny run of `python -m bench.evidence` (the coverage benchmark)."""

from __future__ import annotations

import json

from bench.evidence import main


def test_tiny_run_prints_and_writes_the_figures(tmp_path, capsys):
    out = tmp_path / "evidence.json"
    assert main(["--seeds", "2", "--units", "20", "--big-units", "20", "--skip-demo",
                 "--json", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "covers +12 %" in printed and "evaluate_panel" in printed
    data = json.loads(out.read_text())
    cov = data["coverage"]
    assert cov["seeds"] == 2
    assert 0 <= cov["cover"] <= 2 and 0 <= cov["cover_zero"] <= 2
    assert data["big_panel"]["rows"] == 20 * 365
