"""Ingest: bring the files analysts really have into the catalog, messy ones included.

    from datasets.ingest import inspect, validate, commit, UploadMeta

    inspection = inspect(path, filename="PRSA_Data_Aotizhongxin.csv")
    inspection.settings, inspection.columns, inspection.preview, inspection.suggestion
    report = validate(inspection, overrides={"decimal": ","}, mapping=None)
    report.problems, report.duplicates, report.time_min, report.ok
    version = commit(report, workspace, UploadMeta(title="Beijing air"), mode="new")

Formats: CSV/TSV/TXT, Excel .xlsx, Parquet, JSON/NDJSON, GeoJSON. Refusals raise `IngestError`
(`file:line:column: what was expected`) and change nothing. Uploads arrive through `receive`
or `receive_data_url`, bounded while they stream.
"""

from .errors import IngestError, RowProblem
from .mapping import GENERIC, Mapping, Source
from .pipeline import (
    Inspection,
    UploadMeta,
    cleanup_scratch,
    commit,
    discard,
    ingest,
    inspect,
    ready,
    validate,
)
from .settings import OVERRIDABLE, Limits, Settings
from .uploads import receive, receive_data_url, safe_filename
from .validate.report import Report

__all__ = [
    "GENERIC",
    "OVERRIDABLE",
    "IngestError",
    "Inspection",
    "Limits",
    "Mapping",
    "Report",
    "RowProblem",
    "Settings",
    "Source",
    "UploadMeta",
    "cleanup_scratch",
    "commit",
    "discard",
    "ingest",
    "inspect",
    "ready",
    "receive",
    "receive_data_url",
    "safe_filename",
    "validate",
]
