"""`python -m bench`: CityLens against the naive way and a plain DuckDB scan, on N readings.

    python -m bench [--rows N] [--data-dir D] [--json FILE] [--quick] [--rounds R]

1. Data: a demo city whose traffic readings hold about N rows (detectors and days chosen from
   N), generated in D with its rollups, or reused when D already holds them.
2. CityLens: the callbacks a browser triggers, replayed through the app's HTTP endpoint with
   random filters no cache has seen (the shared cache is emptied first): the interactions on
   the big table one by one (and their queries alone), every chart callback, page switches,
   filter changes (all charts and KPIs at once), first loads, the zoom into a long series;
   payload sizes and the most points any trace sends; the process's memory.
3. The same big-table interactions the naive way (pandas reads the whole Parquet, filters,
   groups) and as a plain DuckDB scan of the raw Parquet (no rollups, no cache), each in a
   process of its own; the ratios.
4. Ingest: a well-formed CSV of readings through the ingest pipeline, in MB/s.

`--quick` runs all of it on ~200,000 readings in well under a minute (the smoke test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

import config
from app import build, warm_worker
from components.routing import filters_data
from components.state import ViewState

from . import app_bench
from .baselines import DATA_INTERACTIONS, PeakRSS
from .data import as_dict, ensure_data
from .ingest_bench import measure_ingest

DEFAULT_ROWS = 10_000_000
QUICK_ROWS = 200_000
ZOOM_DAYS = (2, 10)  # a zoom shows 2-10 days of a longer view


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def stats(values: list[float] | None) -> dict | None:
    if not values:
        return None
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 95), 1),
    }


# -- the plan: the same random filters for every way --------------------------------------------


def random_view(rng: random.Random, first: dt.date, last: dt.date, codes: list[int]) -> ViewState:
    span = (last - first).days + 1
    length = min(span, rng.choice([7, 14, 31, 61, 92, 182]))
    start = first + dt.timedelta(days=rng.randrange(0, span - length + 1))
    chosen = tuple(sorted(rng.sample(codes, min(len(codes), rng.choice([0, 0, 1, 2, 3])))))
    return ViewState(start=start, end=start + dt.timedelta(days=length - 1), districts=chosen)


def as_item(state: ViewState) -> dict:
    return {"search": state.to_query(), "filters": filters_data(state)}


def make_plan(rng, first: dt.date, last: dt.date, codes: list[int], rounds: int) -> dict:
    plan: dict = {}
    for name in DATA_INTERACTIONS:
        if name.endswith("_zoom"):
            continue
        plan[name] = [filters_data(random_view(rng, first, last, codes)) for _ in range(rounds)]
    plan["traffic.volume_speed_zoom"], plan["zoom_pages"], plan["zoom_ranges"] = [], [], []
    span = (last - first).days + 1
    for _ in range(rounds):
        length = min(span, rng.choice([92, 182, 365]))
        start = first + dt.timedelta(days=rng.randrange(0, span - length + 1))
        page = ViewState(start=start, end=start + dt.timedelta(days=length - 1))
        days = min(length, rng.randint(*ZOOM_DAYS))
        z0 = start + dt.timedelta(days=rng.randrange(0, length - days + 1))
        lo = dt.datetime.combine(z0, dt.time(rng.randrange(0, 24), 0))
        hi = lo + dt.timedelta(days=days - 1, hours=rng.randrange(1, 24))
        hi = min(hi, dt.datetime.combine(page.end, dt.time(23, 55)))
        plan["zoom_pages"].append(filters_data(page))
        plan["zoom_ranges"].append((lo.isoformat(sep=" "), hi.isoformat(sep=" ")))
        zoomed = ViewState(start=lo.date(), end=hi.date())
        plan["traffic.volume_speed_zoom"].append(filters_data(zoomed))
    for key in ("states", "page_states", "change_states", "load_states"):
        plan[key] = [as_item(random_view(rng, first, last, codes)) for _ in range(rounds)]
    return plan


# -- running ------------------------------------------------------------------------------------


def run_baseline(way: str, data_dir: Path, city: str, plan_file: Path, rounds: int) -> dict:
    out = plan_file.with_name(f"{way}.json")
    cmd = [sys.executable, "-m", "bench.baselines", "--data-dir", str(data_dir), "--city", city]
    cmd += ["--filters", str(plan_file), "--way", way, "--rounds", str(rounds), "--out", str(out)]
    done = subprocess.run(cmd, check=False, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0 or not out.exists():  # killed (e.g. out of memory): say so, go on
        return {"way": way, "times_ms": {}, "failed": {"*": f"exited with {done.returncode}"}}
    return json.loads(out.read_text())


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def summarise(args, data, measured, baselines, ingest, loads, rss, peak) -> dict:
    interactions = {}
    for name in DATA_INTERACTIONS:
        citylens = stats(measured.times.get(name))
        entry = {
            "citylens": citylens,
            "citylens_query": stats(measured.query_times.get(name)),
            "naive_pandas": stats(baselines.get("naive", {}).get("times_ms", {}).get(name)),
            "plain_duckdb": stats(baselines.get("duckdb", {}).get("times_ms", {}).get(name)),
            "max_payload_kb": round(max(measured.payload_kb.get(name, [0])), 1),
        }
        for way, key in (("naive_pandas", "ratio_naive"), ("plain_duckdb", "ratio_duckdb")):
            other = entry[way]
            entry[key] = (
                round(other["median_ms"] / max(citylens["median_ms"], 0.1), 1)
                if other and citylens
                else None
            )
        interactions[name] = entry
    pages = {
        name: {
            **stats(values),
            "max_payload_kb": round(max(measured.payload_kb.get(name, [0])), 1),
        }
        for name, values in sorted(measured.times.items())
        if name.split(".")[0] in {"router", "page_switch", "filter_change", "first_load"}
    }
    callbacks = {
        name.removeprefix("callback."): {
            **stats(values),
            "max_payload_kb": round(max(measured.payload_kb.get(name, [0])), 1),
        }
        for name, values in sorted(measured.times.items())
        if name.startswith("callback.")
    }
    first_loads = [v["median_ms"] for k, v in pages.items() if k.startswith("first_load.")]
    return {
        "rows": data.rows,
        "quick": args.quick,
        "rounds": args.rounds,
        "data": as_dict(data),
        "machine": machine(),
        "load_average": loads,
        "interactions": interactions,
        "pages": pages,
        "callbacks": callbacks,
        "first_load_ms": max(first_loads) if first_loads else None,
        "rss_mb": round(rss, 1),
        "rss_peak_mb": round(peak, 1),
        "naive_peak_rss_mb": baselines.get("naive", {}).get("peak_rss_mb"),
        "duckdb_peak_rss_mb": baselines.get("duckdb", {}).get("peak_rss_mb"),
        "max_points_per_trace": measured.max_points,
        "ingest_mb_s": ingest.get("ingest_mb_s"),
        "ingest": ingest,
        "notes": measured.notes,
        "baseline_failures": {
            way: {**b.get("failed", {}), **({"needs_mb": b["needs_mb"]} if "needs_mb" in b else {})}
            for way, b in baselines.items()
            if b.get("failed")
        },
    }


def fmt(value) -> str:
    return "-" if value is None else f"{value:,.1f}"


def report(result: dict) -> None:
    out = sys.stdout
    data = result["data"]
    print(
        f"\n{result['rows']:,} readings ({data['detectors']:,} detectors x {data['days']} days),"
        f" raw Parquet {data['raw_bytes'] / 1024**2:,.0f} MB, rollups"
        f" {data['rollup_bytes'] / 1024**2:,.1f} MB; load average {result['load_average']}",
        file=out,
    )
    head = (
        f"{'interaction (server ms)':<28}{'CityLens med/p95':>18}{'query only':>12}"
        f"{'naive pandas':>14}{'plain DuckDB':>14}{'x naive':>9}{'x duckdb':>9}"
    )
    print("\n" + head + "\n" + "-" * len(head), file=out)
    for name, e in result["interactions"].items():
        c, qo, n, d = e["citylens"], e["citylens_query"], e["naive_pandas"], e["plain_duckdb"]
        print(
            f"{name:<28}{fmt(c and c['median_ms']):>9}/{fmt(c and c['p95_ms']):<8}"
            f"{fmt(qo and qo['median_ms']):>12}{fmt(n and n['median_ms']):>14}"
            f"{fmt(d and d['median_ms']):>14}{fmt(e['ratio_naive']):>9}{fmt(e['ratio_duckdb']):>9}",
            file=out,
        )
    print(f"\n{'page interaction':<44}{'n':>4}{'median ms':>11}{'p95 ms':>10}{'max KB':>9}")
    for name, s in result["pages"].items():
        print(f"{name:<44}{s['n']:>4}{s['median_ms']:>11}{s['p95_ms']:>10}{s['max_payload_kb']:>9}")
    print(f"\n{'chart callback (alone)':<44}{'n':>4}{'median ms':>11}{'p95 ms':>10}{'max KB':>9}")
    for name, s in result["callbacks"].items():
        print(f"{name:<44}{s['n']:>4}{s['median_ms']:>11}{s['p95_ms']:>10}{s['max_payload_kb']:>9}")
    ingest = result["ingest"]
    print(
        f"\nfirst load (slowest page, median) {fmt(result['first_load_ms'])} ms;"
        f" RSS {fmt(result['rss_mb'])} MB (peak {fmt(result['rss_peak_mb'])});"
        f" naive peak {fmt(result['naive_peak_rss_mb'])} MB;"
        f" max points per trace {result['max_points_per_trace']:,};"
        f" ingest {ingest.get('csv_mb')} MB CSV at {fmt(ingest.get('ingest_mb_s'))} MB/s"
        f" ({ingest.get('cpu_seconds')} CPU-s, load {ingest.get('load_average')};"
        f" rollups built: {ingest.get('rollups_built')})",
        file=out,
    )
    for note in result["notes"]:
        print(f"note: {note}", file=out)
    for way, failures in result["baseline_failures"].items():
        for name, why in failures.items():
            print(f"baseline {way} {name}: {why}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, help=f"traffic readings (default {DEFAULT_ROWS:,})")
    parser.add_argument("--data-dir", type=Path, help="data folder (default /tmp/citylens-bench-N)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--quick", action="store_true", help="small data, 3 rounds: a smoke test")
    parser.add_argument("--rounds", type=int, help="random filters per interaction (default 20)")
    parser.add_argument("--naive-rounds", type=int, help="rounds of the naive way (default 3)")
    parser.add_argument(
        "--duckdb-rounds", type=int, help="rounds of the plain DuckDB scan (default 5)"
    )
    parser.add_argument("--ingest-mb", type=float, help="size of the CSV ingested (default 100)")
    parser.add_argument("--skip-naive", action="store_true", help="leave the naive way out")
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args(argv)
    rows = args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    args.rounds = args.rounds or (3 if args.quick else 20)
    naive_rounds = args.naive_rounds or (2 if args.quick else 3)
    duckdb_rounds = args.duckdb_rounds or (2 if args.quick else 5)
    ingest_mb = args.ingest_mb or (4 if args.quick else 100)
    data_dir = args.data_dir or Path(tempfile.gettempdir()) / f"citylens-bench-{rows}"
    city = config.from_env().city
    loads = [round(x, 2) for x in os.getloadavg()]

    data = ensure_data(data_dir, rows, city, progress=not args.quick)
    cfg = config.from_env().with_overrides(data_dir=data_dir, city=city)
    app = build(cfg)
    app.workspace.engine.clear_shared()  # unseen filters, and no result from an earlier run
    warm_worker(app)  # as a gunicorn worker does before it serves (gunicorn.conf.py)
    workspace = app.workspace
    readings = workspace.catalog.find(city, "traffic_readings")
    first = dt.date.fromisoformat(readings.current.time_min[:10])
    last = dt.date.fromisoformat(readings.current.time_max[:10])
    codes = [d.code for d in workspace.city(city).districts]
    plan = make_plan(random.Random(args.seed), first, last, codes, args.rounds)
    ui = {"lang": "en", "theme": "light", "city": city}

    sampler = PeakRSS()
    measured = app_bench.measure(app, plan, args.rounds, ui)
    rss = psutil.Process().memory_info().rss / 1024**2
    peak = sampler.stop()
    workspace.engine.close()

    baselines = {}
    with tempfile.TemporaryDirectory(prefix="citylens-bench-") as scratch:
        plan_file = Path(scratch) / "plan.json"
        plan_file.write_text(json.dumps(plan))
        baselines["duckdb"] = run_baseline("duckdb", data_dir, city, plan_file, duckdb_rounds)
        if not args.skip_naive:
            baselines["naive"] = run_baseline("naive", data_dir, city, plan_file, naive_rounds)

    started = time.perf_counter()
    ingest = measure_ingest(readings.folder, ingest_mb, city)
    ingest["wall_s"] = round(time.perf_counter() - started, 1)
    loads = [loads, [round(x, 2) for x in os.getloadavg()]]
    result = summarise(args, data, measured, baselines, ingest, loads, rss, peak)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
