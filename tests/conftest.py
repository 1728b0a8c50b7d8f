"""Shared fixtures: a real workspace holding a small demo city (real Parquet, real catalog)."""

from __future__ import annotations

import pytest

from datasets.demo import generate_demo
from datasets.workspace import Workspace

DEMO_CITY = "hangzhou-2017"


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory) -> Workspace:
    """8 detectors over the whole of 2017: small enough to check with pandas, a full year."""
    workspace = Workspace.open(tmp_path_factory.mktemp("demo-workspace"))
    generate_demo(workspace, DEMO_CITY, detectors=8, days=365)
    return workspace


@pytest.fixture(scope="session")
def demo_city(demo_workspace):
    return demo_workspace.city(DEMO_CITY)
