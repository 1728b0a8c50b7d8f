"""The ingest package's public names resolve where other modules import them from, and the
CSV tunables tests shrink are read from `datasets.ingest.readers` when a file is read."""

from __future__ import annotations

import importlib
import sys

import pytest

from datasets.ingest import inspect

from .conftest import write

FACADES = [
    "datasets.ingest",
    "datasets.ingest.detect",
    "datasets.ingest.validate",
    "datasets.ingest.pipeline",
    "datasets.ingest.readers",
]


@pytest.mark.parametrize("name", FACADES)
def test_every_exported_name_resolves(name):
    module = sys.modules.get(name) or importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert module.__all__ and missing == []


def test_the_names_other_modules_import_are_there():
    from datasets.ingest.detect import DELIMITER_NAMES, ENCODINGS, TYPES
    from datasets.ingest.pipeline import city_timezone
    from datasets.ingest.validate import SCRATCH_FILE

    assert set(DELIMITER_NAMES) <= {",", ";", "\t", "|"} and "utf-8" in ENCODINGS
    assert "timestamp" in TYPES and SCRATCH_FILE.endswith(".parquet")
    assert city_timezone("no-such-city") == "UTC"


def test_a_smaller_csv_block_set_on_readers_cuts_more_batches(tmp_path, monkeypatch):
    rows = "\n".join(f"2017-01-01 00:{i % 60:02d}:00,{i}" for i in range(4000))
    path = write(tmp_path / "t.csv", "ts,value\n" + rows + "\n")
    counts = []
    for block in (4 * 1024 * 1024, 1024):
        monkeypatch.setattr(sys.modules["datasets.ingest.readers"], "CSV_BLOCK", block)
        monkeypatch.setattr(sys.modules["datasets.ingest.readers"], "TYPED_SLICE", block)
        reader = inspect(path, overrides={"kind": "generic"}).reader
        counts.append(sum(1 for _ in reader.batches()))
    assert counts[0] < counts[1]
