"""`python -m bench`: replay the dashboards' interactions and print server times.

    python -m bench [--data-dir D] [--rounds N] [--json FILE] [--quick]

Each round picks a new random filter (dates, districts) unseen by the cache, then replays what a
browser triggers: the chart callbacks of a page, concurrently as dash-renderer sends them. A page
switch replays the router callback (which computes the page's KPI cards). Times are server
times measured around the HTTP handler (Flask test client, no network).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import config
from app import build
from components.routing import filters_data
from components.state import ViewState

from .dash_replay import chart_ids, post, render_payload, route_payload

PAGES = ("/traffic", "/ecology", "/")
YEAR_START = dt.date(2017, 1, 1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def random_state(rng: random.Random, districts: list[int]) -> ViewState:
    length = rng.choice([7, 14, 31, 61, 92, 182])
    start = YEAR_START + dt.timedelta(days=rng.randrange(0, 365 - length))
    chosen = tuple(rng.sample(districts, rng.choice([0, 0, 1, 2, 3])))
    return ViewState(start=start, end=start + dt.timedelta(days=length - 1), districts=chosen)


def page_charts(app, page_path: str, ui: dict) -> list[tuple[str, str | None]]:
    """(chart id, default option) of every card on a page, read from its rendered layout."""
    from components.charts import REGISTRY

    content, _ = app.site.render_page(app.site.find(page_path), ViewState(), ui, page_path)
    return [(cid, REGISTRY[cid].default_option) for cid in chart_ids(content)]


def summarise(name: str, times: list[float], sizes: list[int]) -> dict:
    return {
        "interaction": name,
        "n": len(times),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "max_kb": round(max(sizes) / 1024, 1) if sizes else 0,
    }


def run(data_dir: Path, rounds: int, workers: int = 6) -> list[dict]:
    cfg = config.from_env().with_overrides(data_dir=data_dir)
    app = build(cfg, progress=True)
    client = app.server.test_client()
    city = app.workspace.city(cfg.city)
    districts = [d.code for d in city.districts]
    ui = {"lang": "en", "theme": "light", "city": cfg.city}
    rng = random.Random(2017)
    results = []
    for path in PAGES:
        charts = page_charts(app, path, ui)
        switch_times, switch_sizes = [], []
        change_times, change_sizes = [], []
        for _ in range(rounds):
            state = random_state(rng, districts)
            timed = post(client, f"route {path}", route_payload(app, path, state.to_query(), ui))
            switch_times.append(timed.ms)
            switch_sizes.append(timed.bytes)
            if not charts:
                continue
            state = random_state(rng, districts)
            filters = filters_data(state)
            started = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                replies = list(
                    pool.map(
                        lambda c, f=filters: post(
                            app.server.test_client(), c[0], render_payload(c[0], c[1], f, ui)
                        ),
                        charts,
                    )
                )
            change_times.append((time.perf_counter() - started) * 1000)
            change_sizes.append(max(r.bytes for r in replies))
        results.append(summarise(f"page switch {path}", switch_times, switch_sizes))
        if change_times:
            results.append(
                summarise(
                    f"filter change {path} ({len(charts)} charts)", change_times, change_sizes
                )
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="data folder (default: the configured one)")
    parser.add_argument("--rounds", type=int, default=20, help="filter changes per page")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke test for CI")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or config.from_env().data_dir
    rows = run(data_dir, 3 if args.quick else args.rounds)
    print(f"{'interaction':<44}{'n':>4}{'median ms':>12}{'p95 ms':>10}{'max KB':>10}")
    for row in rows:
        print(
            f"{row['interaction']:<44}{row['n']:>4}{row['median_ms']:>12}"
            f"{row['p95_ms']:>10}{row['max_kb']:>10}"
        )
    if args.json:
        args.json.write_text(json.dumps({"interactions": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
