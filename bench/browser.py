"""What a viewer waits for in a browser: headless Chromium drives a running CityLens on this
machine and times four things, each until the page shows its result.

    python -m bench.browser --url http://127.0.0.1:8050 [--runs 5] [--json FILE]

- ``first_load./traffic``, ``first_load./ecology``: from the navigation to every chart card
  showing its figure (plotly has drawn the data the server sent) or its empty-state message,
  with no Dash callback still loading.
- ``filter_change./traffic``: on the loaded ``/traffic``, from choosing a district in the filter
  bar to every chart on the page redrawn with the new filters (each graph has finished a new
  ``Plotly.react``) and no callback loading.
- ``nav_to_data``: on the loaded ``/traffic``, from a click on the "Datasets" link of the
  navigation to the first dataset card of ``/data`` visible.

Each run uses a fresh browser context (nothing cached: the JavaScript bundles are fetched too)
and a date range no earlier run asked for, so the server computes the charts anew; the district
chosen differs from run to run. The path of ``--url`` is ignored (``.../traffic`` works too).
Printed: one JSON line a measure (median, max, every run) and the load average before and
after, since a figure on 2 shared cores means little without the load it was measured at.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = os.environ.get("CITYLENS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
FIRST_LOAD_PAGES = ("/traffic", "/ecology")
TIMEOUT_MS = 60_000

# dcc.Graph draws an empty plot (with its .main-svg) before its callback answers, so a card is
# ready once plotly holds data, or once the empty-state message is shown.
READY = """() => {
  const cards = [...document.querySelectorAll('.chart-card')];
  if (!cards.length || document.querySelector('[data-dash-is-loading="true"]')) return false;
  return cards.every(card => {
    const empty = card.querySelector('.empty-state');
    if (empty && !empty.hidden && empty.textContent.trim()) return true;
    const gd = card.querySelector('.js-plotly-plot');
    return !!(gd && gd._fullData && gd._fullData.length);
  });
}"""

# Every graph reports each finished draw; a change is done when every graph of the page has
# drawn since it was armed (dcc.Graph redraws with Plotly.react, which ends with plotly_react).
ARM = """() => {
  window.__benchDrawn = new Set();
  for (const gd of document.querySelectorAll('.chart-card .js-plotly-plot')) {
    if (gd.__benchHooked) continue;
    gd.__benchHooked = true;
    gd.on('plotly_react', () => window.__benchDrawn && window.__benchDrawn.add(gd));
  }
}"""
REDRAWN = """() => {
  const graphs = [...document.querySelectorAll('.chart-card .js-plotly-plot')];
  return graphs.length > 0 && graphs.every(gd => window.__benchDrawn.has(gd))
    && !document.querySelector('[data-dash-is-loading="true"]');
}"""


def period(run: int, offset: int = 0) -> str:
    """A 40-day query string no other run of this process asks for."""
    start = dt.date(2017, 1, 2) + dt.timedelta(days=17 * run + 5 * offset)
    return f"?from={start}&to={start + dt.timedelta(days=40)}"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def first_load(browser, base: str, path: str, run: int) -> float:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(base + path + period(run, FIRST_LOAD_PAGES.index(path)), wait_until="commit")
        page.wait_for_function(READY, timeout=TIMEOUT_MS, polling=50)
        return (time.perf_counter() - started) * 1000
    finally:
        context.close()


def choose_district(page, run: int) -> float:
    """Opens the filter bar's district menu and picks the run's district; returns the clock
    (`time.perf_counter()`) at the pick, where the change starts for the viewer and for the
    callbacks (opening the menu is not part of it)."""
    page.locator("#filter-districts").click()
    options = page.locator(".dash-dropdown-options [role=option]")
    options.first.wait_for(timeout=TIMEOUT_MS)
    page.evaluate(ARM)
    option = options.nth(run % options.count())
    started = time.perf_counter()
    option.click()
    return started


def traffic_session(browser, base: str, run: int) -> tuple[float, float]:
    """A filter change on a loaded /traffic, then the way to /data by the navigation (ms)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        page.goto(base + "/traffic" + period(run, len(FIRST_LOAD_PAGES)))
        page.wait_for_function(READY, timeout=TIMEOUT_MS, polling=50)
        page.wait_for_load_state("networkidle")
        started = choose_district(page, run)
        page.wait_for_function(REDRAWN, timeout=TIMEOUT_MS, polling=20)
        change = (time.perf_counter() - started) * 1000
        page.keyboard.press("Escape")
        page.wait_for_load_state("networkidle")
        started = time.perf_counter()
        page.click("#nav-data")
        page.locator(".dataset-card").first.wait_for(state="visible", timeout=TIMEOUT_MS)
        return change, (time.perf_counter() - started) * 1000
    finally:
        context.close()


def summary(times: list[float]) -> dict:
    return {
        "runs": len(times),
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "times_ms": [round(t, 1) for t in times],
    }


def measure(url: str, runs: int) -> dict:
    """Every measure `runs` times against the server at `url` (its path is ignored)."""
    from playwright.sync_api import sync_playwright

    parsed = urlparse(url)
    if parsed.hostname not in {"127.0.0.1", "localhost"}:
        raise SystemExit("only a server on this machine (127.0.0.1)")
    base = f"{parsed.scheme}://{parsed.netloc}"
    times: dict[str, list[float]] = {}
    before = load_average()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for run in range(runs):
                for path in FIRST_LOAD_PAGES:
                    times.setdefault(f"first_load.{path}", []).append(
                        first_load(browser, base, path, run)
                    )
                change, nav = traffic_session(browser, base, run)
                times.setdefault("filter_change./traffic", []).append(change)
                times.setdefault("nav_to_data", []).append(nav)
        finally:
            browser.close()
    return {
        "url": base,
        "load_average": [before, load_average()],
        "measures": {name: summary(values) for name, values in times.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser")
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8050")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(args.url, args.runs)
    for name, values in result["measures"].items():
        print(json.dumps({"measure": name, **values}))
    print(json.dumps({"load_average": result["load_average"]}))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
