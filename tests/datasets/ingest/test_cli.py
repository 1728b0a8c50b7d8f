"""`python -m datasets ingest`: exit 0 with the id and version, exit 2 with the page's message."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from datasets.__main__ import main
from datasets.catalog import Catalog
from datasets.ingest import IngestError, UploadMeta, commit, inspect, validate

from .conftest import BEIJING, CITY, MADRID, snapshot, write

ROOT = Path(__file__).resolve().parents[3]
READINGS = (
    "ts;detector_id;district;volume;speed_kmh;occupancy\n"
    "2017-03-01 08:00:00;HZ-1;330106;120;45,5;12,5\n"
)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["ingest", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_prints_the_dataset_id_and_version(capsys, tmp_path):
    data = tmp_path / "data"
    path = write(tmp_path / "r.csv", READINGS)
    code, out, err = run(capsys, path, "--title", "Xihu loops", "--data-dir", data, "-q")
    assert (code, out) == (0, "xihu-loops v1\n")
    assert (
        "r.csv: csv, utf-8, delimiter ';', decimal ',', header on line 1 → traffic_readings" in err
    )
    code, out, _ = run(
        capsys, path, "--mode", "append", "--dataset", "xihu-loops", "--data-dir", data, "-q"
    )
    assert (code, out) == (0, "xihu-loops v2\n")
    dataset = Catalog(data).get("xihu-loops")
    assert (dataset.meta.kind, dataset.current.rows, dataset.meta.city) == (
        "traffic_readings",
        2,
        CITY,
    )


def test_refusal_exits_2_with_the_message_the_page_shows(capsys, tmp_path, workspace):
    data = tmp_path / "cli-data"
    code, out, err = run(capsys, MADRID, "--data-dir", data, "-q")
    inspection = inspect(MADRID)
    report = validate(inspection, scratch_dir=tmp_path)
    with pytest.raises(IngestError) as page:
        commit(report, workspace, UploadMeta(city=CITY))
    assert (code, out) == (2, "")
    assert not data.exists()  # a refused file creates no data folder
    assert err.splitlines()[-1] == str(page.value)
    assert str(page.value).startswith(
        "madrid_traffic_points_messy.csv:2:5: "
        "expected a number in st_x, found '438.963.314.634.858'"
    )
    assert "madrid_traffic_points_messy.csv:2:6: expected a number in st_y" in err


def test_overrides_from_the_command_line(capsys, tmp_path):
    data = tmp_path / "data"
    code, out, err = run(
        capsys,
        MADRID,
        "--type",
        "st_x=string",
        "--type",
        "st_y=string",
        "--title",
        "Madrid",
        "--data-dir",
        data,
        "-q",
    )
    assert (code, out) == (0, "madrid v1\n"), err
    code, out, err = run(
        capsys,
        BEIJING,
        "--kind",
        "air_quality_hourly",
        "--map",
        "station_id=station",
        "--map",
        "pm10=",
        "--dry-run",
        "-v",
        "--data-dir",
        data,
        "-q",
    )
    assert code == 0 and "station_id ← station" in err and "pm10 ←" not in err
    assert "35,064 rows ok" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kind", "traffic_readings"], "expected a source for ts, detector_id"),
        (["--mode", "append"], "expected a dataset id to append"),
        (["--mode", "append", "--dataset", "nope"], "no dataset 'nope'"),
        (["--dataset", "../x"], "expected a dataset id of lowercase letters"),
        (["--sheet", "x", "--format", "xlsx"], "expected an Excel workbook"),
    ],
)
def test_refusals(capsys, tmp_path, argv, message):
    data = tmp_path / "data"
    Catalog(data)
    before = snapshot(data)
    code, out, err = run(
        capsys, write(tmp_path / "g.csv", "a,b\n1,2\n"), *argv, "--data-dir", data, "-q"
    )
    assert (code, out) == (2, "")
    assert message in err.splitlines()[-1]
    assert snapshot(data) == before


def test_missing_file_and_size_limit(capsys, tmp_path, monkeypatch):
    code, _, err = run(capsys, tmp_path / "nope.csv", "--data-dir", tmp_path / "d", "-q")
    assert code == 2 and "nope.csv: no such file" in err
    monkeypatch.setenv("CITYLENS_MAX_UPLOAD_MB", "1")
    big = write(tmp_path / "big.csv", "a,b\n" + "1,2\n" * 300_000)
    code, _, err = run(capsys, big, "--data-dir", tmp_path / "d", "-q")
    assert code == 2 and err.strip() == (
        "big.csv: expected a file of at most 1.0 MB; this one is 1.1 MB "
        "(the limit is set by CITYLENS_MAX_UPLOAD_MB)"
    )


def test_progress_bar_on_a_terminal(capsys, tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main(
        ["ingest", str(write(tmp_path / "r.csv", READINGS)), "--data-dir", str(tmp_path / "d")]
    )
    assert code == 0
    shown = terminal.getvalue()
    assert "validate" in shown and "commit" in shown and "100%" in shown


def test_python_dash_m_datasets_ingest(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CITYLENS_MAX_UPLOAD_MB", None)
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasets",
            "ingest",
            str(BEIJING),
            "--title",
            "Beijing air",
            "--data-dir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert (ok.returncode, ok.stdout) == (0, "beijing-air v1\n"), ok.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasets",
            "ingest",
            str(write(tmp_path / "e.csv", b"")),
            "--data-dir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert (bad.returncode, bad.stderr.strip()) == (
        2,
        "e.csv: expected a file with data; this one is empty",
    )


def test_text_from_the_file_cannot_drive_the_terminal(capsys, tmp_path):
    path = write(
        tmp_path / "t.csv",
        "a,b\n1,x\n2,x\n" + "".join(f"{i},x\n" for i in range(60)) + "\x1b[31mred,x\n",
    )
    code, _, err = run(capsys, path, "--data-dir", tmp_path / "d", "-q")
    assert code == 2
    assert "\x1b" not in err
    assert "found '\\x1b[31mred'" in err
