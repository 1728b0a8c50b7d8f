"""Publishing a validated report: refused, with the catalog and the data folder untouched, when
it cannot be (bad rows, an open question, an id taken or missing, another kind or other
columns than the dataset appended to); else its scratch file is linked into a new version.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow.parquet as pq

from ..catalog import Catalog, CatalogError, DatasetMeta, Version
from ..names import slug
from ..rollups import build_rollups, link_or_copy
from ..schemas import KINDS
from .errors import IngestError, printable
from .validate.report import SCRATCH_FILE, Progress, Report
from .validate.scratch import discard

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MODES = ("new", "append", "replace")


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
    base, ids = _destination(catalog, report, meta, mode, dataset_id)
    if on_progress:
        on_progress(0.0, "commit")
    version = _publish(catalog, report, base, ids, mode, dataset_id)
    discard(report)
    engine = getattr(target, "engine", None)
    if engine is not None:
        engine.clear_cache()
    if on_progress:
        on_progress(1.0, "commit")
    return version


def _destination(
    catalog: Catalog, report: Report, meta: UploadMeta, mode: str, dataset_id: str | None
) -> tuple[DatasetMeta, list[str]]:
    """The dataset's metadata and the ids to try in turn: the one given, the existing dataset's
    (append, replace), or ids made from the title (new); a malformed id is refused."""
    file = report.file
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
        return existing.meta, [dataset_id]
    base = _new_meta(report, meta)
    return base, [dataset_id] if dataset_id else _candidate_ids(base.id)


def _publish(
    catalog: Catalog,
    report: Report,
    base: DatasetMeta,
    ids: list[str],
    mode: str,
    dataset_id: str | None,
) -> Version:
    """The version published under the first of `ids` not taken (an id the analyst gave is
    tried alone); a full disk or a refusal of the catalog becomes an IngestError."""
    file = report.file
    scratch = report.scratch

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
            return catalog.publish(
                replace(base, id=candidate),
                write,
                mode=mode,
                time_column=report.time_column,
                units=report.units,
                note=note,
            )
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
    raise _catalog_error(file, last_error)


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
