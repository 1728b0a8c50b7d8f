"""The ingest pipeline: inspect → validate → commit, each step refusable, nothing published
before the last.

    inspection = inspect(path, filename="madrid.csv")        # settings, preview, mapping
    report = validate(inspection, overrides, mapping)         # whole file checked, rows staged
    version = commit(report, workspace, UploadMeta(title=…))  # catalogued atomically

Every step takes `on_progress(fraction, stage)`, which a page or a tqdm bar can follow. A refusal
is an `IngestError` whose text is `file:line:column: what was expected`, and leaves the catalog
and the data directory exactly as they were.

The steps live in `inspection` (inspect), `validate` (run) and `publish` (commit, ready); the
scratch folder's lifetime in `validate.scratch` (discard, cleanup_scratch).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..catalog import Catalog, CatalogError, Version
from .inspection import Inspection, inspect
from .mapping import Mapping
from .publish import UploadMeta, commit, ready
from .settings import OVERRIDABLE, Limits
from .validate.report import Progress, Report
from .validate.run import run
from .validate.scratch import cleanup_scratch, discard


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
