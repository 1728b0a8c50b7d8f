"""The ingest pipeline: inspect → validate → commit, each step refusable, nothing published
before the last.

    inspection = inspect(path, filename="madrid.csv")        # settings, preview, mapping
    report = validate(inspection, overrides, mapping)         # whole file checked, rows staged
    version = commit(report, workspace, UploadMeta(title=…))  # catalogued atomically

Every step takes `on_progress(fraction, stage)`, which a page or a tqdm bar can follow. A refusal
is an `IngestError` whose text is `file:line:column: what was expected`, and leaves the catalog
and the data directory exactly as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..catalog import Catalog, CatalogError, DatasetMeta, Version
from ..cells import short_text
from ..names import slug
from ..rollups import build_rollups, link_or_copy
from ..schemas import KINDS
from . import detect
from . import mapping as mapping_mod
from .detect import ColumnInfo
from .errors import IngestError, printable
from .mapping import GENERIC, ColumnFacts, Mapping
from .readers import (
    OVERRIDABLE,
    PREVIEW_ROWS,
    Limits,
    Settings,
    TableReader,
    check_size,
    open_reader,
    safe_filename,
)
from .validate import SCRATCH_FILE, Progress, Report, convert_column, plan_mapping, run
from .whole_column import ORDERS, with_orders

HEAD_BYTES = 64 * 1024
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MODES = ("new", "append", "replace")


@dataclass
class Inspection:
    """What a file looks like: the settings detected (each overridable), its columns, a preview
    of the parsed rows and the suggested mapping onto a kind."""

    path: Path
    file: str
    size: int
    settings: Settings
    columns: list[ColumnInfo]
    preview: list[dict]
    suggestion: Mapping
    candidates: list[dict]
    split: detect.TimeSplit | None
    notes: list[str]
    overrides: dict
    limits: Limits
    reader: TableReader = field(repr=False)

    @property
    def kind(self) -> str:
        return self.suggestion.kind

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "size": self.size,
            "settings": self.settings.to_json(),
            "columns": [c.to_json() for c in self.columns],
            # each row's "cells" as found and "parsed" as published (None: missing or unreadable)
            "preview": [
                {**row, "cells": [short_text(c) for c in row["cells"]]} for row in self.preview
            ],
            "suggestion": self.suggestion.to_json(),
            "candidates": self.candidates,
            "split": dict(self.split.parts) if self.split else None,
            "notes": self.notes,
            "line_label": self.reader.line_label,
        }


@dataclass(frozen=True)
class UploadMeta:
    """What the analyst says about an upload; the kind gives the defaults it leaves out."""

    title: str | dict[str, str] = ""
    description: str | dict[str, str] = ""
    source: str = ""
    source_url: str = ""
    licence: str = ""
    city: str | None = None
    round_table: str | None = None
    sdg: tuple[str, ...] | None = None


# -- inspect -----------------------------------------------------------------------------------


def inspect(
    path: Path | str,
    *,
    filename: str | None = None,
    overrides: dict | None = None,
    limits: Limits | None = None,
    on_progress: Progress | None = None,
) -> Inspection:
    """Detect how to read a file from a sample of it: nothing is read whole, nothing written.

    `filename` is the name the analyst gave (messages show it, made safe); `overrides` may set
    any of `readers.OVERRIDABLE`, plus `format`, `kind`, and per column `types`, `formats`,
    `units` ({column: value}).
    """
    path = Path(path)
    file = safe_filename(filename or path.name)
    overrides = dict(overrides or {})
    limits = limits or Limits.from_config()
    size = check_size(path, file, limits)
    if on_progress:
        on_progress(0.0, "inspect")
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    guess = detect.sniff_format(head, Path(file).suffix)
    fmt = overrides.get("format") or guess.format
    if fmt == "empty":
        raise IngestError(file, expected="a file with data; this one is blank", reason="empty")
    if fmt == "binary":
        what = f" ({guess.note})" if guess.note else ""
        raise IngestError(
            file,
            expected=f"text (CSV, TSV, JSON) or an Excel or Parquet file; found binary data{what}",
            reason="binary",
        )
    notes = [guess.note] if guess.note else []
    reader = open_reader(path, file, fmt, overrides, limits)
    settings = reader.settings
    columns, settings = _columns(reader, settings, overrides)
    reader.settings = settings
    guesses = {c.name: detect.ColumnGuess(c.type, c.formats) for c in columns}
    split = detect.detect_time_split([c.name for c in columns], guesses)
    facts = [_facts(c, reader) for c in columns]
    suggestion, ranked = mapping_mod.suggest(facts, split)
    kind = overrides.get("kind")
    if kind and kind != "auto":
        if kind not in KINDS:
            raise IngestError(
                file, expected=f"a kind among auto, {', '.join(KINDS)}; got {kind!r}", reason="kind"
            )
        suggestion = (
            mapping_mod.generic_mapping(facts, split)
            if kind == GENERIC
            else mapping_mod.match_kind(KINDS[kind], facts, split).mapping
        )
    if settings.encoding and settings.format in {"csv", "json", "ndjson", "geojson"}:
        notes.append(f"encoding: {detect.ENCODINGS.get(settings.encoding, settings.encoding)}")
    notes.extend(reader.notes)
    notes.extend(f"{c.name}: {c.note}" for c in columns if c.note)
    if on_progress:
        on_progress(1.0, "inspect")
    return Inspection(
        path=path,
        file=file,
        size=size,
        settings=settings,
        columns=columns,
        preview=_preview(reader, columns),
        suggestion=suggestion,
        candidates=[
            {
                "kind": c.kind,
                "complete": c.complete,
                "matched": c.matched,
                "missing": list(c.missing),
            }
            for c in ranked
        ],
        split=split,
        notes=list(dict.fromkeys(notes)),
        overrides=overrides,
        limits=limits,
        reader=reader,
    )


def _columns(
    reader: TableReader, settings: Settings, overrides: dict
) -> tuple[list[ColumnInfo], Settings]:
    names = reader.names
    values: dict[str, list[str | None]] = {n: [] for n in names}
    for _, cells in reader.sample:
        for name, cell in zip(names, cells, strict=False):
            values[name].append(cell)
    typed_formats = {"parquet"}
    if settings.format not in typed_formats:
        cells = [v for vs in values.values() for v in vs if v]
        style = detect.detect_numbers(cells, settings.delimiter or ",")
        decimal = overrides.get("decimal") or style.decimal
        thousands = overrides.get(
            "thousands", style.thousands if decimal == style.decimal else None
        )
        missing = overrides.get("missing")
        if missing is None:
            text_values = {n: [v or "" for v in vs] for n, vs in values.items()}
            missing = detect.detect_missing(text_values, decimal)
        settings = replace(
            settings,
            decimal=decimal,
            thousands=thousands or None,
            missing=tuple(dict.fromkeys(["", *missing])),
        )
    missing_set = set(settings.missing)
    types = overrides.get("types") or {}
    formats = overrides.get("formats") or {}
    units = overrides.get("units") or {}
    date_order = overrides.get("date_order")
    if date_order is not None and date_order not in ORDERS:
        raise IngestError(
            reader.file,
            expected=f"a date order among {', '.join(ORDERS)}; got {printable(date_order)!r}",
            reason="override",
        )
    for name in [*types, *formats, *units]:
        if name not in values:
            raise IngestError(
                reader.file,
                expected=f"a column named {printable(name)!r} to override; the columns are "
                + ", ".join(repr(n) for n in names),
                reason="override",
            )
    columns = []
    for index, (name, raw) in enumerate(zip(names, reader.raw_names, strict=True), start=1):
        present = [v for v in values[name] if v is not None and v not in missing_set]
        arrow = reader.types.get(name)
        if arrow is not None and not _is_text(arrow):
            from .validate import _logical

            guess = detect.ColumnGuess(_logical(arrow))
        else:
            guess = detect.infer_type(present, settings.style, raw)
        _, unit = detect.split_unit(raw)
        kind = types.get(name, guess.type)
        if kind not in detect.TYPES:
            raise IngestError(
                reader.file,
                expected=f"a type among {', '.join(detect.TYPES)} for {printable(name)!r}; "
                f"got {printable(kind)!r}",
                reason="override",
            )
        col_formats = tuple(formats.get(name) or guess.formats)
        if date_order and name not in formats:
            col_formats = with_orders(col_formats, date_order)
        if name in units:
            unit = detect.normalize_unit(units[name]) or units[name] or None
        columns.append(
            ColumnInfo(
                index=index,
                name=name,
                raw_name=raw,
                type=kind,
                formats=col_formats,
                unit=unit,
                note=guess.note if kind == guess.type else "",
                examples=tuple(dict.fromkeys(present))[:5],
                arrow_type=str(arrow) if arrow is not None else None,
            )
        )
    return columns, settings


def _preview(reader: TableReader, columns: list[ColumnInfo]) -> list[dict]:
    """The first rows, each cell as found and as it will be published: read by the converters
    the whole file goes through, so a misreading (a day taken for a month) shows here first."""
    rows = reader.sample[:PREVIEW_ROWS]
    missing = set(reader.settings.missing)
    width = len(columns)
    by_column = [
        [
            None if i >= len(cells) or cells[i] is None or cells[i] in missing else str(cells[i])
            for _, cells in rows
        ]
        for i in range(width)
    ]
    batch = pa.RecordBatch.from_arrays(
        [pa.array(values, pa.string()) for values in by_column], names=[c.name for c in columns]
    )
    # Source(column=…) alone: each column read as its (possibly overridden) type and formats
    generic = Mapping(GENERIC, {c.name: mapping_mod.Source(column=c.name) for c in columns})
    parsed: list[list] = [[None] * width for _ in rows]
    try:
        plans, _ = plan_mapping(reader, columns, generic)
    except IngestError:  # the check reports it, line and all
        plans = []
    for i, plan in enumerate(plans):
        try:
            conv = convert_column(plan, batch, reader.settings)
        except (pa.ArrowException, ValueError):  # that column unreadable here; the check says why
            continue
        for r, value in enumerate(conv.array.to_pylist()):
            if not conv.bad[r]:
                parsed[r][i] = _shown(value)
    return [
        {"line": line, "cells": cells, "parsed": parsed[r]} for r, (line, cells) in enumerate(rows)
    ]


def _shown(value):
    """A parsed value as plain JSON: numbers stay numbers, dates and times in ISO 8601."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _is_text(t) -> bool:
    import pyarrow as pa

    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _facts(column: ColumnInfo, reader: TableReader) -> ColumnFacts:
    numbers: list[float] = []
    if column.type in {"integer", "number"}:
        position = column.index - 1
        for _, cells in reader.sample[:500]:
            cell = cells[position] if position < len(cells) else None
            value = detect._to_float(cell, reader.settings.decimal) if cell else None
            if value is not None:
                numbers.append(value)
    return ColumnFacts(column.name, column.type, column.unit, column.formats, tuple(numbers))


# -- validate ------------------------------------------------------------------------------------


def validate(
    inspection: Inspection,
    overrides: dict | None = None,
    mapping: Mapping | dict | None = None,
    *,
    scratch_dir: Path | None = None,
    on_progress: Progress | None = None,
    timezone: str | None = None,
) -> Report:
    """Read the whole file as `mapping` says (default: the suggestion) and report on it.

    Overrides of how the file is read (encoding, delimiter, header, decimal, missing markers,
    sheet, per-column types/formats/units) re-run the detection on the sample first. The good
    rows are staged in a scratch folder (under `scratch_dir`, default the system's temporary
    folder) until `commit` or `discard`. Times with a UTC offset are stored in the local time
    of `timezone` (default: the configured city's, see `city_timezone`).
    """
    if overrides:
        merged = {**inspection.overrides, **overrides}
        if merged != inspection.overrides:
            inspection = inspect(
                inspection.path,
                filename=inspection.file,
                overrides=merged,
                limits=inspection.limits,
            )
    chosen = inspection.suggestion if mapping is None else Mapping.from_json(mapping)
    return run(
        inspection.reader,
        inspection.columns,
        chosen,
        scratch_dir=scratch_dir,
        on_progress=on_progress,
        notes=inspection.notes,
        settled=_settled(inspection),
        timezone=timezone or city_timezone(),
    )


def city_timezone(city: str | None = None, workspace=None) -> str:
    """The time zone of `city` (default: the configured one), among the workspace's cities when
    given, else the built-in ones; UTC for a city neither knows."""
    import config

    from ..cities import BUILTIN_CITIES_DIR, load_city

    city = city or config.from_env().city
    cities = getattr(workspace, "cities", None)
    if cities and city in cities:
        return cities[city].timezone
    if (BUILTIN_CITIES_DIR / city / "profile.json").exists():
        return load_city(BUILTIN_CITIES_DIR / city).timezone
    return "UTC"


def _settled(inspection: Inspection) -> frozenset[str]:
    """The columns whose reading the analyst chose (a type, date formats, or the date order
    of every column): the whole file's evidence never revises those."""
    chosen = inspection.overrides
    if chosen.get("date_order"):
        return frozenset(c.name for c in inspection.columns)
    return frozenset([*(chosen.get("types") or {}), *(chosen.get("formats") or {})])


def discard(report: Report) -> None:
    """Forget a report's staged rows (the analyst cancelled)."""
    if report.scratch is not None:
        shutil.rmtree(report.scratch, ignore_errors=True)
        report.scratch = None


def cleanup_scratch(scratch_dir: Path | None = None, older_than_hours: float = 24) -> list[Path]:
    """Remove scratch folders of reports nobody committed or discarded (a closed browser tab)."""
    import tempfile
    import time

    root = Path(scratch_dir or tempfile.gettempdir())
    limit = time.time() - older_than_hours * 3600
    removed = []
    for folder in root.glob("citylens-ingest-*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:
            continue
    return removed


# -- commit ------------------------------------------------------------------------------------


def ready(report: Report, drop_bad_rows: bool = False) -> None:
    """Refuse, as `commit` would, a report that cannot be published; else return."""
    file = report.file
    scratch = report.scratch
    if scratch is None or not (scratch / SCRATCH_FILE).exists():
        raise IngestError(
            file,
            expected="a report still pending; this one was committed or discarded",
            reason="stale",
        )
    if report.rows_bad and not drop_bad_rows:
        more = (
            f"; {report.rows_bad:,} of {report.rows_read:,} rows are bad: fix the mapping, "
            "or drop the bad rows"
        )
        if report.problems:
            raise IngestError.from_problem(file, report.problems[0], more)
        raise IngestError(file, expected="good rows" + more, reason="bad_rows")
    if report.questions:
        raise IngestError(
            file,
            expected=f"an answer before publishing: {report.questions[0].message()}",
            reason="question",
        )
    if report.rows_ok == 0:
        raise IngestError(
            file, expected="at least one good row to publish; none is left", reason="no_rows"
        )


def commit(
    report: Report,
    target,
    meta: UploadMeta | None = None,
    *,
    mode: str = "new",
    dataset_id: str | None = None,
    drop_bad_rows: bool = False,
    on_progress: Progress | None = None,
) -> Version:
    """Publish the validated rows: a new dataset, or a new version of one (append or replace).

    Refused, with the catalog and the data folder untouched, when rows are bad and
    `drop_bad_rows` is false, when the id exists (new) or does not (append, replace), or when
    the kind or the columns differ from the dataset appended to. `target` is a Workspace (its
    query cache is cleared after) or a Catalog.
    """
    catalog: Catalog = getattr(target, "catalog", target)
    meta = meta or UploadMeta()
    file = report.file
    if mode not in MODES:
        raise IngestError(
            file, expected=f"a mode among {', '.join(MODES)}; got {mode!r}", reason="mode"
        )
    ready(report, drop_bad_rows)
    scratch = report.scratch
    if dataset_id is not None and not SLUG.match(dataset_id):
        raise IngestError(
            file,
            expected="a dataset id of lowercase letters, digits and '-' (at most 64); "
            f"got {printable(dataset_id, 80)!r}",
            reason="dataset_id",
        )
    if mode != "new":
        if dataset_id is None:
            raise IngestError(file, expected=f"a dataset id to {mode}", reason="dataset_id")
        existing = _existing(catalog, dataset_id, report, mode)
        base = existing.meta
        ids = [dataset_id]
    else:
        base = _new_meta(report, meta)
        ids = [dataset_id] if dataset_id else _candidate_ids(base.id)
    if on_progress:
        on_progress(0.0, "commit")

    def write(folder: Path) -> None:
        dest = folder / SCRATCH_FILE
        link_or_copy(scratch / SCRATCH_FILE, dest)
        build_rollups(report.kind, dest, folder, ready=scratch)  # the upload's rollups

    note = f"upload of {file}: {report.rows_ok:,} rows"
    if report.rows_bad:
        note += f", {report.rows_bad:,} bad rows dropped"
    last_error: CatalogError | None = None
    for candidate in ids:
        try:
            version = catalog.publish(
                replace(base, id=candidate),
                write,
                mode=mode,
                time_column=report.time_column,
                units=report.units,
                note=note,
            )
            break
        except Exception as exc:
            if disk_full(exc):  # publish has undone what it wrote, and the catalog is unchanged
                raise IngestError(
                    file,
                    expected="room on the disk; the disk is full: nothing was published",
                    reason="disk_full",
                ) from None
            if not isinstance(exc, CatalogError):
                raise
            last_error = exc
            if mode == "new" and dataset_id is None and "exists" in str(exc):
                continue
            raise _catalog_error(file, exc) from None
    else:
        raise _catalog_error(file, last_error)
    discard(report)
    engine = getattr(target, "engine", None)
    if engine is not None:
        engine.clear_cache()
    if on_progress:
        on_progress(1.0, "commit")
    return version


FULL_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# how the libraries that write a version say so: SQLite (SQLITE_FULL), DuckDB and Arrow
FULL_DISK_TEXTS = ("database or disk is full", "No space left on device", "Disk quota exceeded")


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what it was raised from) says the disk or the quota is full."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain is short; this bounds a cyclic one
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.errno in FULL_DISK_ERRNOS:
            return True
        if any(text in str(seen) for text in FULL_DISK_TEXTS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _catalog_error(file: str, exc: CatalogError | None) -> IngestError:
    text = str(exc)
    if "exists" in text:
        return IngestError(file, expected=f"a dataset id not yet taken: {text}", reason="exists")
    return IngestError(file, expected=f"a catalog change that succeeds: {text}", reason="catalog")


def _candidate_ids(base: str) -> list[str]:
    return [base] + [f"{base[:60]}-{n}" for n in range(2, 100)]


def _new_meta(report: Report, meta: UploadMeta) -> DatasetMeta:
    import config

    kind = KINDS[report.kind]
    title = meta.title or Path(report.file).stem
    titles = dict(title) if isinstance(title, dict) else {"en": str(title)}
    description = meta.description
    descriptions = dict(description) if isinstance(description, dict) else {"en": str(description)}
    slug_from = titles.get("en") or next(iter(titles.values()), "") or Path(report.file).stem
    return DatasetMeta(
        id=slug(slug_from, fallback="upload"),
        city=meta.city or config.from_env().city,
        kind=kind.id,
        round_table=meta.round_table or kind.round_table,
        title=titles,
        description=descriptions,
        sdg=tuple(meta.sdg) if meta.sdg is not None else kind.sdg,
        source=meta.source or f"upload: {report.file}",
        source_url=meta.source_url,
        licence=meta.licence,
        synthetic=False,
    )


def _existing(catalog: Catalog, dataset_id: str, report: Report, mode: str):
    try:
        existing = catalog.get(dataset_id)
    except CatalogError as exc:
        raise IngestError(
            report.file, expected=f"an existing dataset to {mode}: {exc}", reason="catalog"
        ) from None
    if existing.meta.kind != report.kind:
        raise IngestError(
            report.file,
            expected=f"rows of {existing.meta.kind} to {mode} {dataset_id}; "
            f"this file is mapped to {report.kind}",
            reason="kind",
        )
    if mode == "append":
        have = [(c["name"], c["type"]) for c in existing.current.columns]
        stored = pq.ParquetFile(report.scratch / SCRATCH_FILE).metadata.schema.to_arrow_schema()
        new = [(f.name, str(f.type)) for f in stored]  # as the catalog describes its files
        if have != new:
            differ = [f"{n} {t}" for n, t in new if (n, t) not in have] + [
                f"no {n}" for n, t in have if (n, t) not in new
            ]
            raise IngestError(
                report.file,
                expected=f"the columns of {dataset_id} to append to it; "
                f"these differ: {', '.join(differ[:6])}",
                reason="columns",
            )
    return existing


# -- all at once (the command line) ------------------------------------------------------------


def ingest(
    path: Path | str,
    target,
    *,
    filename: str | None = None,
    kind: str | None = None,
    overrides: dict | None = None,
    mapping: Mapping | dict | None = None,
    meta: UploadMeta | None = None,
    mode: str = "new",
    dataset_id: str | None = None,
    drop_bad_rows: bool = False,
    limits: Limits | None = None,
    scratch_dir: Path | None = None,
    on_progress: Progress | None = None,
) -> tuple[Version, Report]:
    """Inspect, validate and commit in one call; the report's scratch is always cleaned up."""
    overrides = dict(overrides or {})
    if kind:
        overrides["kind"] = kind
    if mode != "new" and dataset_id and not kind:
        catalog: Catalog = getattr(target, "catalog", target)
        with contextlib.suppress(CatalogError):  # if missing, commit says so
            overrides["kind"] = catalog.get(dataset_id).meta.kind
    inspection = inspect(
        path, filename=filename, overrides=overrides, limits=limits, on_progress=on_progress
    )
    report = validate(
        inspection,
        None,
        mapping,
        scratch_dir=scratch_dir,
        on_progress=on_progress,
        timezone=city_timezone(meta.city if meta else None, target),
    )
    try:
        version = commit(
            report,
            target,
            meta,
            mode=mode,
            dataset_id=dataset_id,
            drop_bad_rows=drop_bad_rows,
            on_progress=on_progress,
        )
    finally:
        discard(report)
    return version, report


__all__ = [
    "OVERRIDABLE",
    "Inspection",
    "UploadMeta",
    "cleanup_scratch",
    "commit",
    "discard",
    "ingest",
    "inspect",
    "ready",
    "validate",
]
