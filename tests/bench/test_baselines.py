"""A baseline that fails or cannot fit loses only its own figures."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench import baselines
from bench.baselines import DATA_INTERACTIONS


def plan() -> dict:
    return {name: [{}] for name in DATA_INTERACTIONS}


def test_a_failing_interaction_is_reported_and_the_others_still_run(demo_workspace, monkeypatch):
    failing = DATA_INTERACTIONS[0]
    real = baselines.duckdb_runner

    def runner(workspace, city):
        ways = real(workspace, city)

        def fail(_filters):
            raise MemoryError("out of memory (simulated)")

        return {**ways, failing: fail}

    monkeypatch.setattr(baselines, "duckdb_runner", runner)
    city = next(iter(demo_workspace.cities))
    result = baselines.run(demo_workspace.data_dir, city, "duckdb", plan(), 1)
    assert "MemoryError" in result["failed"][failing]
    assert set(result["times_ms"]) == set(DATA_INTERACTIONS) - {failing}


def test_the_naive_way_reports_the_memory_it_would_need_instead_of_crashing(
    demo_workspace, monkeypatch
):
    monkeypatch.setattr(
        baselines.psutil, "virtual_memory", lambda: SimpleNamespace(available=1024**2)
    )
    city = next(iter(demo_workspace.cities))
    result = baselines.run(demo_workspace.data_dir, city, "naive", plan(), 1)
    assert result["needs_mb"] > 1
    assert "not run" in result["failed"]["*"]
    assert result["times_ms"] == {}


@pytest.mark.parametrize("way", ["naive", "duckdb"])
def test_a_baseline_with_room_runs_every_interaction(demo_workspace, way):
    city = next(iter(demo_workspace.cities))
    result = baselines.run(demo_workspace.data_dir, city, way, plan(), 1)
    assert result["failed"] == {}
    assert set(result["times_ms"]) == set(DATA_INTERACTIONS)
