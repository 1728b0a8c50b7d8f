"""`python -m datasets`: the data pipeline from the command line.

python -m datasets list [--json] [--data-dir D]
python -m datasets generate-demo [--detectors N] [--days D] [--seed S] [--data-dir D]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import config

from .workspace import Workspace


def _workspace(args) -> Workspace:
    data_dir = args.data_dir or config.from_env().data_dir
    return Workspace.open(Path(data_dir))


def cmd_list(args) -> int:
    entries = [d.as_json() for d in _workspace(args).catalog.datasets()]
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    for e in entries:
        flag = "synthetic" if e["synthetic"] else "real"
        print(f"{e['id']:<48} v{e['version']:<3} {e['rows']:>12,} rows  {e['kind']:<20} {flag}")
    return 0


def cmd_generate_demo(args) -> int:
    from .demo.publish import generate_demo

    cfg = config.from_env()
    workspace = _workspace(args)
    written = generate_demo(
        workspace,
        args.city or cfg.city,
        detectors=args.detectors,
        days=args.days,
        seed=args.seed,
        progress=True,
        only_missing=False,
    )
    for dataset_id in written:
        print(dataset_id)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m datasets", description=__doc__.split("\n")[0])
    sub = root.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument(
            "--data-dir", help=f"data folder (default ${config.env_name('data_dir')} or data)"
        )
        return p

    p = add("list", "print the catalog")
    p.add_argument("--json", action="store_true", help="one JSON array with every entry")
    p.set_defaults(run=cmd_list)

    p = add("generate-demo", "(re)generate the demo city, e.g. larger for benchmarks")
    p.add_argument("--detectors", type=int, default=60, help="traffic detectors (default 60)")
    p.add_argument("--days", type=int, default=365, help="days from 2017-01-01 (default 365)")
    p.add_argument("--seed", type=int, default=2017, help="random seed (default 2017)")
    p.add_argument("--city", help="city profile with a demo.json (default the configured city)")
    p.set_defaults(run=cmd_generate_demo)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
