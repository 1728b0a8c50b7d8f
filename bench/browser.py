"""First load as a viewer sees it: headless Chromium opens a page of a running CityLens on this
machine and waits until every chart card shows its figure or its empty-state message.

    python -m bench.browser --url http://127.0.0.1:8050/traffic [--runs 5] [--json FILE]

Each run uses a fresh browser context (nothing cached: the JavaScript bundles are fetched too)
and a date range no earlier run asked for, so the server computes the charts anew.
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
READY = """() => {
  const cards = [...document.querySelectorAll('.chart-card')];
  if (!cards.length) return false;
  return cards.every(card => card.querySelector('.main-svg') ||
    (card.querySelector('.empty-state') && !card.querySelector('.empty-state').hidden
     && card.querySelector('.empty-state').textContent.trim()));
}"""


def measure(url: str, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    if urlparse(url).hostname not in {"127.0.0.1", "localhost"}:
        raise SystemExit("only a server on this machine (127.0.0.1)")
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for i in range(runs):
                start = dt.date(2017, 1, 2) + dt.timedelta(days=17 * i)
                end = start + dt.timedelta(days=40)
                page_url = f"{url}?from={start}&to={end}"
                context = browser.new_context(viewport={"width": 1366, "height": 900})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(page_url, wait_until="commit")
                page.wait_for_function(READY, timeout=60_000, polling=50)
                times.append((time.perf_counter() - started) * 1000)
                context.close()
        finally:
            browser.close()
    return {
        "url": url,
        "runs": runs,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "times_ms": [round(t, 1) for t in times],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser")
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8050/traffic")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(args.url, args.runs)
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
