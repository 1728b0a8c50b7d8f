"""The validation report: the whole file converted to the target schema before anything is
published, with every bad value located.

One streaming pass reads the file, converts each batch with vectorised Arrow kernels (types,
units, dates, derived timestamps), checks ranges and required values, hashes the key columns for
duplicates, tracks time coverage, and writes the good rows to a private scratch Parquet file.
A UTF-8 CSV is first read straight into the column types the text path would convert to
(`typed_read_types`); at the first value, row or line that read would take otherwise, the pass
starts again on the text, so the report is the same either way.
The report says what was found; `commit` later links that scratch file into the catalog, so a
file is parsed once however large.

The package, by concern: `plan` (the mapping checked against the file and the kind), `convert`
(one column of one batch to its type), `checks` (its bad values described), `passes` (the pass
over the batches), `outputs` (where the good rows and their facts go), `typed` (the CSV typed
read), `duplicates`, `scratch` (the file of good rows and its folder), `report`, and `run`,
which ties them together.
"""

from .convert import Converted, convert_column
from .plan import ARROW_TYPES, Plan, plan_mapping
from .report import SCRATCH_FILE, ColumnReport, Progress, Report
from .run import run
from .typed import typed_read_types

__all__ = [
    "ARROW_TYPES",
    "SCRATCH_FILE",
    "ColumnReport",
    "Converted",
    "Plan",
    "Progress",
    "Report",
    "convert_column",
    "plan_mapping",
    "run",
    "typed_read_types",
]
