"""The scripts every page loads: those the pages use, each served, and not the DataTable bundle
Dash adds by default (no page draws a DataTable); the zoomed zh ticks of assets/axis_ticks.js
against the server's own (`components.figures.axes`, `i18n.fmt_compact`)."""

from __future__ import annotations

import ast
import itertools
import json
import math
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import app as app_module
import config
from components.figures.axes import round_ticks
from datasets.workspace import Workspace
from i18n import fmt_compact

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("components", "pages", "server", "datasets")


def page_scripts(tmp_path, path: str) -> tuple[list[str], object]:
    cfg = config.Config(data_dir=tmp_path)
    client = app_module.create_app(cfg, Workspace.open(tmp_path)).server.test_client()
    html = client.get(path).get_data(as_text=True)
    return re.findall(r'<script src="([^"]+)"', html), client


def test_pages_load_the_renderer_and_components_but_not_the_datatable_bundle(tmp_path):
    scripts, client = page_scripts(tmp_path, "/data")
    names = [src.split("?")[0].rsplit("/", 1)[1] for src in scripts]
    assert any(name.startswith("dash_renderer") for name in names), names
    assert any(name.startswith("dash_core_components.") for name in names), names
    assert any(name.startswith("dash_html_components") for name in names), names
    assert "axis_ticks.js" in names and "plotly.min.js" in names, names
    assert not [src for src in scripts if "dash_table" in src], scripts
    assert not [name for name in names if name.startswith("polyfill")], names
    assert "regenerator-runtime.js" in names, names  # what dcc's lazy components still call
    for src in scripts:
        assert client.get(src).status_code == 200, src


def imports_dash_table(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and "dash_table" in node.module:
            return True
        if isinstance(node, ast.ImportFrom) and any(a.name == "dash_table" for a in node.names):
            return True
        if isinstance(node, ast.Import) and any("dash_table" in a.name for a in node.names):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "DataTable":
            return True
    return False


def test_no_module_draws_a_datatable_since_its_bundle_is_not_loaded():
    users = [
        str(path.relative_to(ROOT))
        for folder in SOURCE_FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if imports_dash_table(ast.parse(path.read_text(encoding="utf-8")))
    ]
    users += ["app.py"] if imports_dash_table(ast.parse((ROOT / "app.py").read_text())) else []
    assert users == [], users


def run_axis_ticks(calls: list[list]) -> list:
    """`compact` / `roundTicks` of assets/axis_ticks.js, run by Node on each call's arguments."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    program = (
        "global.window = {}; global.document = {readyState: 'complete'};"
        f"require({json.dumps(str(ROOT / 'assets' / 'axis_ticks.js'))});"
        "const api = window.CityLensAxisTicks;"
        f"const calls = {json.dumps(calls)};"
        "console.log(JSON.stringify(calls.map(([name, ...args]) => api[name](...args))));"
    )
    out = subprocess.run([node, "-e", program], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_zoomed_zh_ticks_are_written_as_the_server_writes_them():
    rng = random.Random(17)
    values = [0, 2500, 9999, 9999.999, 1e4, 12345, 99999.999, 99995000, 99999999, 1.5e8, 1e12]
    values += [-v for v in values if v]
    values += [
        round(rng.uniform(0, 10 ** rng.randint(1, 13)), rng.randint(0, 3)) for _ in range(300)
    ]
    written = run_axis_ticks([["compact", v] for v in values])
    assert written == [fmt_compact(v, "zh") for v in values]


def test_zoomed_ticks_are_round_steps_inside_the_range_as_the_server_picks_them():
    rng = random.Random(4)
    ranges = [(12000, 18000), (0, 400000), (1.2e8, 3.4e8), (-5e4, 2e4), (12345, 12999)]
    ranges += [tuple(sorted(rng.uniform(0, 1e9) for _ in range(2))) for _ in range(100)]
    ticks = run_axis_ticks([["roundTicks", low, high] for low, high in ranges])
    for (low, high), drawn in zip(ranges, ticks, strict=True):
        assert 3 <= len(drawn) <= 12 and all(low <= v <= high for v in drawn), (low, high, drawn)
        step = drawn[1] - drawn[0]
        assert all(b - a == pytest.approx(step) for a, b in itertools.pairwise(drawn)), drawn
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert any(mantissa == pytest.approx(m) for m in (1, 2, 2.5, 5)), (step, drawn)
        server = [v for v in round_ticks(low, high) if low <= v <= high]
        if len(server) >= 3:  # where the server's steps leave enough ticks, the same ticks
            assert drawn == pytest.approx(server, rel=1e-9, abs=1e-9), (low, high)
