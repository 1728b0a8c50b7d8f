"""`python -m datasets`: the data pipeline from the command line.

python -m datasets list [--json] [--data-dir D]
python -m datasets generate-demo [--detectors N] [--days D] [--seed S] [--data-dir D]
python -m datasets ingest FILE [--kind KIND|auto] [--title T] [--mode new|append|replace]
                               [--dataset ID] [--sheet S] [--city ID] [--data-dir D] [...]
python -m datasets add-city --name N --districts FILE [--name-field F] [--tz TZ] [--data-dir D]
python -m datasets add-analyst NAME [--password-stdin] | remove-analyst NAME | list-analysts
python -m datasets add-intervention --city C --name N --start DATE --treated IDS [--control IDS]
                                    --outcome KIND.COLUMN [--hours 7-9,17-19] [--weekdays]
python -m datasets list-interventions [--city C] [--json] | remove-intervention ID
python -m datasets evaluate --intervention ID [--json FILE]
python -m datasets forecast --dataset ID --column C [--by station|district|detector]
                            --horizon 72h [--until TS] [--json FILE]
python -m datasets detect-incidents --city C [--since DATE] [--until DATE] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--{what} expects NAME=VALUE, got {item!r}")
        out[key] = value
    return out


def _ingest_overrides(args) -> dict:
    overrides: dict = {}
    for name in ("encoding", "delimiter", "decimal", "thousands", "sheet", "format"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = "\t" if name == "delimiter" and value in {"\\t", "tab"} else value
    if args.header_line is not None:
        overrides["has_header"] = args.header_line > 0
        overrides["skip_lines"] = max(0, args.header_line - 1)
    if args.missing is not None:
        overrides["missing"] = args.missing.split(",")
    if args.type:
        overrides["types"] = _pairs(args.type, "type")
    if args.unit:
        overrides["units"] = _pairs(args.unit, "unit")
    if args.date_order:
        overrides["date_order"] = args.date_order
    return overrides


@dataclass
class _IngestRun:
    """What an ingest got to before it ended or was refused: each is printed either way."""

    report: Any = None
    version: Any = None
    place_warnings: list = field(default_factory=list)


def cmd_ingest(args) -> int:
    from .ingest import IngestError, discard
    from .ingest.errors import printable
    from .workspace import city_profile

    cfg = config.from_env()
    path = Path(args.file)
    if not path.is_file():
        print(f"{printable(args.file)}: no such file", file=sys.stderr)
        return 2
    overrides = _ingest_overrides(args)
    data_dir = Path(args.data_dir or cfg.data_dir)
    city = city_profile(data_dir, args.city or cfg.city)
    if city is None:
        print(
            f"no city {printable(args.city or cfg.city)!r}: add it first (add-city)",
            file=sys.stderr,
        )
        return 2
    if args.kind and args.kind != "auto":
        overrides["kind"] = args.kind
    elif args.mode != "new" and args.dataset and (data_dir / "catalog.sqlite").exists():
        with contextlib.suppress(Exception):  # if missing, commit names the dataset
            overrides["kind"] = _workspace(args).catalog.get(args.dataset).meta.kind
    bar, on_progress = _progress_bar(args.quiet)
    run = _IngestRun()
    refusal = None
    try:
        _ingest_steps(args, path, overrides, city, on_progress, run)
    except IngestError as exc:
        refusal = exc
    finally:
        bar.close()
        if run.report is not None:
            _print_report(run.report, args.verbose)
            print(f"  city: {city.label('en')} ({city.id})", file=sys.stderr)
            for warning in run.place_warnings:
                print(f"  warning: {warning.message(city.label('en'))}", file=sys.stderr)
            discard(run.report)
    if refusal is not None:
        print(str(refusal), file=sys.stderr)
        return 2
    if run.version is None:
        print(run.report.summary())
        return 0 if run.report.ok else 2
    print(f"{run.version.dataset_id} v{run.version.version}")
    return 0


def _progress_bar(quiet: bool) -> tuple[Any, Callable[[float, str], None]]:
    """A bar on stderr (shown on a terminal only, unless `quiet`) and the `on_progress` that
    moves it: inspection, validation and commit each take their share of 100 %."""
    from tqdm import tqdm

    bar = tqdm(
        total=100,
        unit="%",
        bar_format="{desc:<9} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
        disable=quiet or None,  # None: shown on a terminal only
        file=sys.stderr,
    )
    weights = {"inspect": (0, 2), "validate": (2, 95), "commit": (97, 3)}

    def on_progress(fraction: float, stage: str) -> None:
        start, span = weights.get(stage, (0, 100))
        bar.set_description_str(stage)
        bar.n = min(100, int(start + span * fraction))
        bar.refresh()

    return bar, on_progress


def _ingest_steps(args, path: Path, overrides: dict, city, on_progress, run: _IngestRun) -> None:
    """Inspect, validate, check the places against `city` and (unless a dry run) commit,
    recording each result on `run` as it comes; a refusal raises IngestError."""
    from .ingest import UploadMeta, inspect, ready, validate
    from .ingest import commit as commit_upload
    from .ingest.place_check import check_place
    from .ingest.validate import SCRATCH_FILE

    inspection = inspect(
        path, filename=args.name or path.name, overrides=overrides, on_progress=on_progress
    )
    run.report = report = validate(
        inspection, mapping=_mapping(inspection, args), on_progress=on_progress
    )
    if report.scratch is not None and report.rows_ok:
        run.place_warnings = check_place(report.scratch / SCRATCH_FILE, city)
    if args.dry_run:
        return
    ready(report, args.drop_bad_rows)  # before the data folder is opened (or created)
    meta = UploadMeta(
        title=args.title or "",
        description=args.description or "",
        source=args.source or "",
        source_url=args.source_url or "",
        licence=args.licence or "",
        city=city.id,
        sdg=tuple(args.sdg.split(",")) if args.sdg else None,
    )
    run.version = commit_upload(
        report,
        _workspace(args),  # opened (and created) only once the file is accepted
        meta,
        mode=args.mode,
        dataset_id=args.dataset,
        drop_bad_rows=args.drop_bad_rows,
        on_progress=on_progress,
    )


def cmd_add_city(args) -> int:
    from .city_admin import CityError, NewCity, add_city

    cfg = config.from_env()
    path = Path(args.districts)
    if not path.is_file():
        print(f"{args.districts}: no such file", file=sys.stderr)
        return 2
    names = {"en": args.name, "fr": args.name_fr, "es": args.name_es, "zh": args.name_zh}
    new = NewCity(
        name={lang: value for lang, value in names.items() if value},
        districts_geojson=path.read_bytes(),
        filename=path.name,
        timezone=args.tz,
        name_field=args.name_field,
        code_field=args.code_field,
        population=args.population,
        attribution=args.attribution or "",
        city_id=args.id,
    )
    try:
        city_id, notes = add_city(Path(args.data_dir or cfg.data_dir), new)
    except CityError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.tz:
        print("note: no --tz given: the city's time zone is UTC", file=sys.stderr)
    print(city_id)
    return 0


def _mapping(inspection, args):
    from .ingest import Mapping

    if not args.map:
        return None
    mapping = inspection.suggestion.to_json()
    for target, source in _pairs(args.map, "map").items():
        if source:
            mapping["columns"][target] = source
        else:
            mapping["columns"].pop(target, None)
    return Mapping.from_json(mapping)


def _print_report(report, verbose: bool) -> None:
    from .ingest.errors import printable

    out = sys.stderr
    s = report.settings
    what = [report.format]
    if s.sheet:
        what.append(f"sheet {printable(s.sheet)!r}")
    if s.encoding:
        what.append(s.encoding)
    if s.delimiter:
        what.append(f"delimiter {s.delimiter!r}")
    if s.decimal != ".":
        what.append(f"decimal {s.decimal!r}")
    if s.header_line and report.format in {"csv", "xlsx"}:
        what.append(f"header on {report.line_label} {s.header_line}")
    print(f"{report.file}: {', '.join(what)} → {report.kind}", file=out)
    if verbose:
        for target, source in report.mapping.columns.items():
            print(f"  {printable(target)} ← {printable(source.label)}", file=out)
    for note in report.notes:
        print(f"  note: {printable(note)}", file=out)
    if report.unmapped and report.kind != "generic":
        print(f"  not imported: {', '.join(printable(c) for c in report.unmapped)}", file=out)
    for question in report.questions:
        print(f"  question: {printable(question.message())}", file=out)
    print(f"  {report.rows_ok:,} rows ok, {report.rows_bad:,} bad", file=out)
    for message in report.messages(10 if verbose else 5):
        print(f"  {message}", file=out)
    if report.problem_count > len(report.problems[:5]):
        print(f"  … {report.problem_count:,} problems in all", file=out)
    if report.duplicates:
        lines = "; ".join(" ".join(map(str, g)) for g in report.duplicate_examples[:3])
        print(f"  {report.duplicates:,} duplicate rows (same key), e.g. lines {lines}", file=out)
    if report.time_min:
        print(
            f"  time: {report.time_min} → {report.time_max}, "
            f"{report.days_covered:,} of {report.span_days:,} days",
            file=out,
        )


def _add_ingest_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `ingest`: the file, what to file it as, and how to read it."""
    from .ingest.whole_column import ORDERS

    p.add_argument("file", help="the file to read (its size is checked before it is read)")
    p.add_argument("--kind", help="a known kind, generic, or auto (default: detected)")
    p.add_argument("--title", help="dataset title (default: the file name)")
    p.add_argument("--description", help="dataset description")
    p.add_argument("--source", help="who published the data")
    p.add_argument("--source-url", help="where the data comes from")
    p.add_argument("--licence", help="licence of the data, e.g. CC-BY-4.0")
    p.add_argument("--sdg", help="SDG targets, comma-separated (default: the kind's)")
    p.add_argument(
        "--city",
        help="id of the city the data is filed under (default CITYLENS_CITY, the configured "
        "city); the report names the city used and warns of places outside it",
    )
    p.add_argument("--mode", choices=["new", "append", "replace"], default="new")
    p.add_argument("--dataset", help="dataset id (required to append or replace)")
    p.add_argument("--sheet", help="the sheet of an Excel workbook (default the first)")
    p.add_argument("--format", choices=["csv", "xlsx", "parquet", "json", "ndjson", "geojson"])
    p.add_argument("--encoding", help="utf-8, utf-8-sig, cp1252, latin-1, gb18030, mixed…")
    p.add_argument("--delimiter", help="field delimiter (tab: 'tab')")
    p.add_argument("--decimal", choices=[".", ","], help="decimal separator")
    p.add_argument("--thousands", help="thousands separator")
    p.add_argument("--header-line", type=int, help="line of the header (0: no header)")
    p.add_argument("--missing", help="missing-value markers, comma-separated (e.g. NA,-9999,)")
    p.add_argument("--map", action="append", metavar="TARGET=SOURCE", help="map a column")
    p.add_argument("--type", action="append", metavar="COLUMN=TYPE", help="read a column as")
    p.add_argument("--unit", action="append", metavar="COLUMN=UNIT", help="a column's unit")
    p.add_argument(
        "--date-order",
        choices=ORDERS,
        help="how numeric dates such as 10/02/2012 are read: month first (mdy), day first "
        "(dmy) or year first (ymd); default: decided from the whole column, asked if it cannot",
    )
    p.add_argument("--drop-bad-rows", action="store_true", help="publish the good rows only")
    p.add_argument("--dry-run", action="store_true", help="validate and report; publish nothing")
    p.add_argument("--name", help="the file name to show in messages (default the file's)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="show the mapping and more")


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

    p = add("ingest", "read a CSV/TSV, Excel, Parquet, JSON or GeoJSON file into the catalog")
    _add_ingest_arguments(p)
    p.set_defaults(run=cmd_ingest)

    p = add("add-city", "add a city from its district boundaries (GeoJSON); prints its id")
    p.add_argument("--name", required=True, help="the city's name (English or as used)")
    p.add_argument("--districts", required=True, help="GeoJSON of district polygons (WGS 84)")
    p.add_argument("--name-field", help="property holding district names (default: detected)")
    p.add_argument("--code-field", help="property holding district codes (default: detected)")
    p.add_argument("--tz", help="IANA time zone of the data, e.g. Asia/Shanghai (default UTC)")
    for lang, label in (("fr", "French"), ("es", "Spanish"), ("zh", "Chinese")):
        p.add_argument(f"--name-{lang}", help=f"the city's name in {label}")
    p.add_argument("--population", type=int, help="residents (default: sum of the districts')")
    p.add_argument("--attribution", help="who published the boundaries, and their licence")
    p.add_argument("--id", help="city id (default: from the name)")
    p.set_defaults(run=cmd_add_city)

    from .evidence import cli, evaluate_cli, forecast_cli, incidents_cli
    from .records import accounts_cli

    for commands in (accounts_cli, cli, incidents_cli, evaluate_cli, forecast_cli):
        commands.add_commands(add)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
