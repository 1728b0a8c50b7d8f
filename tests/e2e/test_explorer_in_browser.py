"""The explorer in a real browser, on an upload shaped like the real Beijing station file: it
starts on a pollutant with its unit, shows seven stations of twelve and names the rest, and a
view added to a deck is drawn the same on the deck's slide."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from conftest import ROOT
from test_present import slide_ready, trace_data

from datasets.workspace import Workspace
from server.accounts import Accounts

BEIJING = ROOT / "tests" / "fixtures" / "real" / "PRSA_Data_Aotizhongxin_20130301-20170228.csv"
ANALYST, PASSWORD = "e2e-explorer", "a long e2e explorer password"
STATIONS = (
    "Aotizhongxin", "Changping", "Dingling", "Dongsi", "Guanyuan", "Gucheng", "Huairou",
    "Nongzhanguan", "Shunyi", "Tiantan", "Wanliu", "Wanshouxigong",
)  # fmt: skip
GRAPH = "#explorer-graph .js-plotly-plot"
DISTRICT = 330108


@pytest.fixture(scope="module")
def stations(data_dir, tmp_path_factory) -> Iterator[str]:
    """Twelve stations, each a different number of days of the real file's rows, with a
    district code column (whose mean was once the default chart), uploaded while the app runs;
    the dataset id."""
    header, *rows = BEIJING.read_text(encoding="utf-8").splitlines()
    lines = [header + ',"district"']
    for k, station in enumerate(STATIONS):
        lines += [
            r.replace('"Aotizhongxin"', f'"{station}"') + f",{DISTRICT}"
            for r in rows[: 24 * (14 - k)]
        ]
    path = tmp_path_factory.mktemp("explorer-e2e") / "twelve_stations.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "datasets", "ingest", str(path), "--data-dir", str(data_dir),
         "--kind", "air_quality_hourly", "--title", "Twelve stations", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    dataset_id = done.stdout.strip().split()[0]
    yield dataset_id
    # the most recent air-quality dataset of the city is what its pages draw: the browser
    # tests after this module expect the demo's again
    Workspace.open(data_dir).catalog.delete(dataset_id)


def drawn(page, count: int) -> None:
    page.wait_for_function(
        """([sel, count]) => {
            const gd = document.querySelector(sel);
            return gd && gd._fullData && gd._fullData.length === count
                && !document.querySelector('[data-dash-is-loading="true"]');
        }""",
        arg=[GRAPH, count],
        timeout=60_000,
    )


def test_the_explorer_starts_on_a_pollutant_with_its_unit(page, app_url, stations):
    page.goto(app_url + f"/data/{stations}?lang=en")
    drawn(page, 1)
    title = page.evaluate("(sel) => document.querySelector(sel).layout.yaxis.title.text", GRAPH)
    assert title == "mean of pm25 (µg/m³)"
    chosen_y = page.locator('[id="{\\"name\\":\\"y\\",\\"type\\":\\"page-option\\"}-value"]')
    assert chosen_y.inner_text() == "pm25 (µg/m³)"


def test_an_explorer_view_added_to_a_deck_is_drawn_the_same(page_factory, app_url, data_dir,
                                                            stations):  # fmt: skip
    Accounts(data_dir).add(ANALYST, PASSWORD)
    page = page_factory()
    page.goto(app_url + "/login?next=/present")
    page.fill("#login-name", ANALYST)
    page.fill("#login-password", PASSWORD)
    page.click("#auth-submit")
    page.wait_for_url(app_url + "/present")

    page.goto(app_url + f"/data/{stations}?color=station_id&y=pm10&bucket=day&lang=en")
    drawn(page, 7)
    note = page.locator("#explorer-note").inner_text()
    assert "Showing the 7 largest of 12 series of station_id; 5 more not shown:" in note
    colours = page.evaluate(
        "(sel) => document.querySelector(sel)._fullData.map(t => t.line.color)", GRAPH
    )
    assert len(set(colours)) == 7
    explored = trace_data(page, GRAPH)

    page.evaluate("localStorage.removeItem('citylens.deck.draft')")
    page.locator("#explorer-add-to-deck").click()
    page.wait_for_function(
        "() => document.querySelector('#explorer-add-to-deck').textContent.includes('✓ 1')"
    )
    page.goto(app_url + "/present/edit?deck=new&lang=en")
    page.wait_for_function(
        "() => { const b = document.querySelector('#deck-draft-append'); return b && !b.disabled; }"
    )
    page.locator("#deck-draft-append").click()
    page.wait_for_selector('.deck-slide[data-chart="explorer"]')
    page.locator("#deck-name").fill("explored")
    page.locator("#deck-save").click()
    page.wait_for_selector("#deck-present-link")
    stored = json.loads((data_dir / "decks" / "explored.json").read_text(encoding="utf-8"))
    [slide] = stored["slides"]
    assert slide["chart"] == "explorer"
    assert f"dataset={stations}" in slide["query"] and "y=pm10" in slide["query"]

    page.goto(app_url + "/present?deck=explored&slide=1&lang=en")
    slide_ready(page, 1)
    assert page.locator("#present-title").inner_text() == "Twelve stations"
    assert trace_data(page, "#present-graph .js-plotly-plot") == explored
