"""Helpers for the ingest tests: real fixture files, a fresh workspace, and a snapshot of a data
directory (catalog listing + every file with its size and content hash) to prove that a refused
input changed nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from datasets.ingest import Limits
from datasets.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "real"
BEIJING = FIXTURES / "PRSA_Data_Aotizhongxin_20130301-20170228.csv"
MADRID = FIXTURES / "madrid_traffic_points_messy.csv"
METRO = FIXTURES / "hangzhou_metro_flow_10min_2019-01_first3days.csv"
CITY = "hangzhou-2017"


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return Workspace.open(tmp_path / "data")


@pytest.fixture
def limits() -> Limits:
    return Limits(max_bytes=50 * 1024 * 1024, max_columns=1000)


def snapshot(data_dir: Path) -> tuple:
    """Everything a refusal must leave as it was."""
    from datasets.catalog import Catalog

    files = []
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and not path.name.startswith("catalog.sqlite"):
            files.append(
                (str(path.relative_to(data_dir)), hashlib.sha1(path.read_bytes()).hexdigest())
            )
        elif path.is_dir():
            files.append((str(path.relative_to(data_dir)) + "/", ""))
    listing = [
        (
            d.id,
            d.current_version,
            d.current.rows,
            tuple(v.version for v in Catalog(data_dir).versions(d.id)),
        )
        for d in Catalog(data_dir).datasets()
    ]
    return tuple(files), tuple(listing)


def write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode(encoding)
    path.write_bytes(text)
    return path
