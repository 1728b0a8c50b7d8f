"""`python -m bench --quick` (the smoke test of every measured path): it runs in a subprocess on
a scratch data folder and writes one JSON object holding every figure the benchmark promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTERACTIONS = (
    "traffic.district_map",
    "traffic.hour_weekday",
    "traffic.volume_speed",
    "traffic.volume_speed_zoom",
    "traffic.pilot",
    "traffic.kpis",
    "ecology.no2_traffic",
)


@pytest.mark.timeout(180)
def test_quick_benchmark_writes_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench", "--quick", "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(
        [*command, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert 150_000 <= result["rows"] <= 400_000
    for name in INTERACTIONS:
        entry = result["interactions"][name]
        for way in ("citylens", "naive_pandas", "plain_duckdb"):
            figures = entry[way]
            assert figures is not None, (name, way)
            assert 0 < figures["median_ms"] <= figures["p95_ms"] < 60_000, (name, way)
        assert entry["ratio_naive"] > 0 and entry["ratio_duckdb"] > 0
    for page in ("/traffic", "/ecology", "/"):
        assert result["pages"][f"page_switch.{page}"]["median_ms"] > 0
        assert result["pages"][f"first_load.{page}"]["median_ms"] > 0
    assert 0 < result["first_load_ms"] < 60_000
    assert 50 < result["rss_mb"] < 4096
    assert 0 < result["max_points_per_trace"] <= 5_100
    assert result["ingest_mb_s"] > 0 and result["ingest"]["rows_ok"] > 0
    assert result["ingest"]["rollups_built"] is True
    assert "traffic-volume-speed" in result["callbacks"]
    assert "x naive" in done.stdout  # the ratios are printed
