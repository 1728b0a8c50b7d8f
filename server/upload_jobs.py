"""Upload jobs: a received file and what the ingest pipeline made of it, kept on disk.

Each upload is a private folder `<data_dir>/uploads/<token>/` holding the file as received, a
`state.json` any worker process can read (stage, progress, the inspection and the validation
report as JSON, the error, the result) and, once validated, the pickled `Report` whose scratch
Parquet sits in the same folder (same file system as the catalog, so committing links rather than
copies). An upload belongs to the analyst who sent it.

Its stages (inspection with validation, then publishing) are jobs of the one job store
(`server.jobs`), kinds `upload.check` and `upload.commit` whose params name the upload: any
process of the server may run one, the job's record says whether a stage is under way (so every
process knows), a runner that dies is replaced, and at most `UPLOAD_JOB_LIMITS.max_running`
stages run at once, in slots of their own (an upload never waits for a PDF export). One stage at
a time per upload: `server.upload_state` admits it under the state file's lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import pickle
import re
import secrets
import shutil
import time
from typing import Any, BinaryIO

import pyarrow as pa

import config
from datasets.catalog import CatalogError
from datasets.cities import CityProfile
from datasets.ingest import (
    IngestError,
    Limits,
    Mapping,
    UploadMeta,
    commit,
    discard,
    inspect,
    receive,
    safe_filename,
    validate,
)
from datasets.ingest.pipeline import city_timezone
from datasets.ingest.place_check import PlaceWarning, check_place
from datasets.ingest.validate import SCRATCH_FILE
from datasets.workspace import Workspace
from server.jobs import Cancelled, JobLimits, JobStore, Progress
from server.upload_state import STATE_FILE, Job, JobError, StageProgress, utc_now

__all__ = ["CHECK", "COMMIT", "UPLOAD_JOB_LIMITS", "Job", "JobError", "Jobs", "public_state"]

log = logging.getLogger(__name__)

UPLOADS_DIR = "uploads"
REPORT_FILE = "report.pickle"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
KEEP_HOURS = 24
CHECK, COMMIT = "upload.check", "upload.commit"
# Stages are not abandoned when nobody polls (the analyst comes back to the state file), and
# keep no result of their own: what they make is in the upload's folder.
UPLOAD_JOB_LIMITS = JobLimits(
    max_running=4,
    max_queued=64,
    per_client=8,
    abandon_s=KEEP_HOURS * 3600,
    keep_hours=KEEP_HOURS,
)
DISK_MARGIN = 64 * 1024 * 1024
CHECK_WEIGHTS = {"inspect": (0.0, 0.05), "validate": (0.05, 0.95)}
COMMIT_WEIGHTS = {"commit": (0.0, 1.0)}
TRANSLATED = {"disk_full": "upload.disk_full"}  # refusals the page words itself, by reason
ZONE_RECHECKED = "upload.zone_rechecked"  # re-validated for another city, not published


def _mapping_fits(mapping: dict | None, inspection) -> bool:
    """Whether a mapping still names only columns the (re-read) file has."""
    if not mapping:
        return False
    names = {c.name for c in inspection.columns}
    try:
        parsed = Mapping.from_json(mapping)
    except (ValueError, TypeError, AttributeError):
        return False
    return all(name in names for source in parsed.columns.values() for name in source.columns)


class Jobs:
    """The upload jobs of one workspace."""

    def __init__(self, workspace: Workspace, limits: Limits) -> None:
        self.workspace = workspace
        self.limits = limits
        self.root = workspace.data_dir / UPLOADS_DIR
        self.store = JobStore(workspace.data_dir, UPLOAD_JOB_LIMITS)
        self.store.register(CHECK, self._run_check)
        self.store.register(COMMIT, self._run_commit)

    def _job(self, token: str) -> Job:
        return Job(token, self.root / token, self.store)

    # -- finding ----------------------------------------------------------------------------

    def get(self, token: str | None, owner: str | None) -> Job | None:
        """The job, if `owner` uploaded it (another analyst's job is as good as missing)."""
        if not token or not owner or not TOKEN.match(str(token)):
            return None
        folder = self.root / token
        if not (folder / STATE_FILE).is_file():
            return None
        job = self._job(token)
        return job if job.as_written().get("owner") == owner else None

    # -- receiving --------------------------------------------------------------------------

    def receive(self, owner: str, filename: str, stream: BinaryIO, length: int | None) -> Job:
        """Stream an upload into a new job folder; refused (nothing kept) when it is over the
        limit, shorter than declared, or the disk lacks room."""
        display = safe_filename(filename)
        if length is not None and length > self.limits.max_bytes:
            # refused from the declared length, before a byte is read or a folder made
            receive(stream, display, self.root, self.limits.max_bytes, length)
        self.cleanup()
        self.root.mkdir(parents=True, exist_ok=True)
        if length is not None and shutil.disk_usage(self.root).free < length + DISK_MARGIN:
            raise JobError("the server lacks disk space for this file", "disk")
        token = secrets.token_urlsafe(18)
        folder = self.root / token
        folder.mkdir(mode=0o700)
        try:
            path = receive(stream, display, folder, self.limits.max_bytes, length)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        job = self._job(token)
        job.write(
            token=token,
            owner=owner,
            file=display,
            stored=path.name,
            size=path.stat().st_size,
            created=utc_now(),
            status="received",
            stage="",
            fraction=0.0,
            revision=0,
            overrides={},
            mapping=None,
            inspection=None,
            report=None,
            error=None,
            result=None,
        )
        return job

    # -- stages -----------------------------------------------------------------------------

    def check(
        self,
        job: Job,
        overrides: dict | None = None,
        mapping: dict | None = None,
        kind: str | None = None,
        city: str | None = None,
    ) -> None:
        """Read the file again with `overrides` and validate it against `mapping` (or the
        suggestion for `kind`), in the background. Times with a UTC offset are converted to the
        local time of `city` (default: the configured one); the state records city and zone."""
        params = {"overrides": dict(overrides or {}), "mapping": mapping, "kind": kind}
        job.admit(CHECK, {**params, "city": city})

    def zone(self, city: str | None) -> str:
        """The time zone `city` is validated for (the configured city's when None)."""
        return city_timezone(city, self.workspace)

    def commit(
        self,
        job: Job,
        meta: UploadMeta,
        mode: str = "new",
        dataset_id: str | None = None,
        drop_bad_rows: bool = False,
    ) -> None:
        state = job.read()
        if not state.get("report") or not (job.folder / REPORT_FILE).exists():
            raise JobError("nothing validated to publish: check the file first", "not_ready")
        params = {"meta": dataclasses.asdict(meta), "mode": mode, "dataset_id": dataset_id}
        job.admit(COMMIT, {**params, "drop_bad_rows": drop_bad_rows})

    def place_warnings(self, job: Job, city: CityProfile) -> list[PlaceWarning]:
        """The validated rows that lie outside `city` (none before the file is validated). A
        check started meanwhile replaces the staged rows: what it removes reads as nothing
        yet, and the page asks again when the new report is drawn."""
        try:
            report = self._load_report(job)
            if report.scratch is None:
                return []
            return check_place(report.scratch / SCRATCH_FILE, city)
        except (OSError, EOFError, pickle.UnpicklingError, pa.ArrowException):
            return []

    def discard(self, job: Job) -> None:
        """Forget an upload: its file, its staged rows. A running stage stops at its next
        progress report and cleans up after itself."""
        running = job.running()
        job.write(status="discarded")
        if running:
            stage = self.store.cancel(job.as_written().get("job", ""))
            running = stage is not None and stage.unfinished  # a queued stage ends at once
        if not running:
            self._drop_report(job)
            shutil.rmtree(job.folder, ignore_errors=True)

    # -- the background work: the job store's runners ----------------------------------------

    def _run_check(self, params: dict[str, Any], report: Progress) -> None:
        job = self._job(params["token"])
        if job.as_written():
            self._check(
                job, params["overrides"], params["mapping"], params["kind"], params["city"], report
            )

    def _run_commit(self, params: dict[str, Any], report: Progress) -> None:
        job = self._job(params["token"])
        meta = dict(params["meta"])
        if meta.get("sdg") is not None:
            meta["sdg"] = tuple(meta["sdg"])
        if job.as_written():
            self._commit(
                job,
                UploadMeta(**meta),
                params["mode"],
                params["dataset_id"],
                params["drop_bad_rows"],
                report,
            )

    def _stopped(self, job: Job) -> None:
        """A stage told to stop: an upload discarded meanwhile is removed; one taken from this
        process (which is exiting) is left for the stage to run again elsewhere."""
        if job.as_written().get("status") != "discarded":
            raise Cancelled(job.token)
        self._drop_report(job)
        shutil.rmtree(job.folder, ignore_errors=True)

    def _load_report(self, job: Job):
        with open(job.folder / REPORT_FILE, "rb") as fh:
            return pickle.load(fh)  # written by this app into its own private folder

    def _keep_report(self, job: Job, validated) -> None:
        """Keep a new validation's report (and its staged rows) in place of the last one."""
        if job.as_written().get("status") == "discarded":
            discard(validated)
            raise Cancelled(job.token)
        self._drop_report(job)
        with open(job.folder / REPORT_FILE, "wb") as fh:
            pickle.dump(validated, fh)

    def _drop_report(self, job: Job) -> None:
        path = job.folder / REPORT_FILE
        if path.exists():
            with contextlib.suppress(Exception):
                discard(self._load_report(job))
            path.unlink(missing_ok=True)

    def _check(
        self,
        job: Job,
        overrides: dict,
        mapping: dict | None,
        kind: str | None,
        city: str | None,
        report: Progress,
        done_status: str = "ready",
    ) -> None:
        """Inspect and validate the file; a clean report leaves the upload `done_status`
        ("running" when a publish goes on from it, so that no poll takes it for finished)."""
        state = job.read()
        city = city or config.from_env().city
        zone = self.zone(city)
        overrides = {k: v for k, v in overrides.items() if k != "kind"}
        if kind and kind != "auto":
            overrides["kind"] = kind
        progress = StageProgress(job, CHECK_WEIGHTS, report)
        inspection = None
        tried = mapping
        try:
            inspection = inspect(
                job.folder / state["stored"],
                filename=state["file"],
                overrides=overrides,
                limits=self.limits,
                on_progress=progress,
            )
            chosen = mapping if _mapping_fits(mapping, inspection) else None
            if chosen and kind and Mapping.from_json(chosen).kind != inspection.kind:
                chosen = None
            tried = chosen or inspection.suggestion.to_json()
            validated = validate(
                inspection,
                None,
                chosen,
                scratch_dir=job.folder,
                on_progress=progress,
                timezone=zone,
            )
            self._keep_report(job, validated)
            job.write(
                status=done_status,
                stage="validate",
                fraction=1.0,
                overrides=overrides,
                mapping=validated.mapping.to_json(),
                inspection=inspection.to_json(),
                report=validated.to_json(),
                error=None,
                city=city,
                timezone=zone,
                revision=state.get("revision", 0) + 1,
            )
        except Cancelled:
            self._stopped(job)
        except IngestError as exc:
            self._drop_report(job)
            found = inspection.to_json() if inspection is not None else state.get("inspection")
            job.write(
                status="ready" if found else "failed",
                overrides=overrides,
                mapping=tried,
                inspection=found,
                report=None,
                error={"message": str(exc), "reason": exc.reason},
                city=city,
                timezone=zone,
                revision=state.get("revision", 0) + 1,
            )
        except Exception as exc:  # a bug, not the file: say so, keep the server up
            log.exception("upload %s: check failed", job.token)
            self._drop_report(job)
            job.write(
                status="ready" if state.get("inspection") else "failed",
                report=None,
                error={"message": f"internal error: {type(exc).__name__}", "reason": "internal"},
                revision=state.get("revision", 0) + 1,
            )

    def _commit(
        self,
        job: Job,
        meta: UploadMeta,
        mode: str,
        dataset_id: str | None,
        drop: bool,
        report: Progress,
    ) -> None:
        state = job.read()
        if state.get("timezone") != self.zone(meta.city):
            state = self._recheck_for(job, state, meta.city, report)
            if state is None:
                return
        progress = StageProgress(job, COMMIT_WEIGHTS, report)
        try:
            version = commit(
                self._load_report(job),
                self.workspace,
                meta,
                mode=mode,
                dataset_id=dataset_id or None,
                drop_bad_rows=drop,
                on_progress=progress,
            )
            dataset = self.workspace.catalog.get(version.dataset_id)
            (job.folder / REPORT_FILE).unlink(missing_ok=True)
            (job.folder / state["stored"]).unlink(missing_ok=True)
            job.write(
                status="committed",
                stage="commit",
                fraction=1.0,
                error=None,
                result={
                    "dataset_id": version.dataset_id,
                    "version": version.version,
                    "rows": version.rows,
                    "kind": dataset.meta.kind,
                    "round_table": dataset.meta.round_table,
                    "title": dataset.meta.title,
                    "mode": mode,
                },
                revision=state.get("revision", 0) + 1,
            )
        except (IngestError, CatalogError, JobError) as exc:
            reason = getattr(exc, "reason", "catalog")
            error = {"message": str(exc), "reason": reason}
            if reason in TRANSLATED:  # the page shows it in the analyst's language
                error["key"] = TRANSLATED[reason]
            job.write(status="ready", error=error, revision=state.get("revision", 0) + 1)
        except Cancelled:
            self._stopped(job)
        except Exception as exc:
            log.exception("upload %s: commit failed", job.token)
            job.write(
                status="ready",
                error={"message": f"internal error: {type(exc).__name__}", "reason": "internal"},
                revision=state.get("revision", 0) + 1,
            )

    def _recheck_for(
        self, job: Job, state: dict, city: str | None, report: Progress
    ) -> dict | None:
        """Validate the file again for `city`'s time zone (the rows were converted for another
        one), as the analyst last set it up; the state to publish from, or None when the new
        report is not clean (then the analyst reviews it and publishes again)."""
        mapping = state.get("mapping") or None
        overrides = state.get("overrides") or {}
        before = state.get("report") or {}
        kind = (mapping or {}).get("kind")
        self._check(job, overrides, mapping, kind, city, report, done_status="running")
        state = job.as_written()
        if not (job.folder / STATE_FILE).exists() or state.get("status") == "discarded":
            return None
        found = state.get("report") or {}
        counts = ("rows_ok", "rows_bad", "questions")  # the report the analyst saw, still
        clean = not state.get("error") and all(found.get(k) == before.get(k) for k in counts)
        if state.get("timezone") == self.zone(city) and clean:
            job.write(status="running", fraction=0.0)
            return state
        if not state.get("error"):
            job.write(
                status="ready",
                error={
                    "message": f"checked again for the time zone of {city} "
                    f"({state.get('timezone')}): review the report, then publish again",
                    "reason": "zone",
                    "key": ZONE_RECHECKED,
                },
            )
        return None

    # -- housekeeping -----------------------------------------------------------------------

    def cleanup(self, older_than_hours: float = KEEP_HOURS) -> list[str]:
        """Remove jobs nobody touched for a day (a closed tab), unless a stage runs."""
        if not self.root.is_dir():
            return []
        limit = time.time() - older_than_hours * 3600
        removed = []
        for folder in self.root.iterdir():
            try:
                if not folder.is_dir() or folder.stat().st_mtime > limit:
                    continue
                state_path = folder / STATE_FILE
                if state_path.exists() and state_path.stat().st_mtime > limit:
                    continue
                job = self._job(folder.name)
                if job.running():
                    continue
                self._drop_report(job)
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
            except OSError:
                continue
        return removed


def public_state(state: dict) -> dict:
    """The state as a script may see it: no server paths."""
    return {k: v for k, v in state.items() if k not in {"stored", "job"}}
