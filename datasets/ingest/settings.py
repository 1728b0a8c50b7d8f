"""How a file is read (`Settings`, the fields an analyst may override) and what it may be
(`Limits`), with the sizes every reader works in.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import detect

MB = 1024 * 1024
SAMPLE_BYTES = 1 * MB
SPREAD_SAMPLES = 8
SPREAD_BYTES = 64 * 1024
SAMPLE_ROWS = 2000
PREVIEW_ROWS = 20
BATCH_ROWS = 65536
CSV_BLOCK = 4 * MB
FIELD_LIMIT = 16 * MB


@dataclass(frozen=True)
class Limits:
    """What a file may be: checked before it is read (size) or as soon as the header is known.

    `memory_bytes` is what one ingest may hold; the limits left at None derive from it, so
    that one setting (CITYLENS_INGEST_MEMORY_MB) bounds every format: a compressed file can
    say it expands a thousandfold, and only what it expands to costs memory.
    """

    max_bytes: int = 1024 * MB
    max_columns: int = 1000
    memory_bytes: int = 1024 * MB
    max_cell_bytes: int = FIELD_LIMIT  # one value, in any format: the CSV reader's field limit
    max_ratio: int = 200  # compression ratio of one workbook part bigger than 16 MB
    # a workbook's parts once decompressed: openpyxl streams the sheets, so this bounds time
    max_unpacked_bytes: int | None = None  # default 4 × memory
    # a workbook's shared strings, which openpyxl holds as Python strings (~4× their XML)
    max_shared_strings_bytes: int | None = None  # default memory / 16
    # a whole JSON/GeoJSON document is parsed at once: its Python objects take ~10× its text
    max_document_bytes: int | None = None  # default memory / 16
    # one Parquet column chunk once decompressed: a page of it is decompressed whole
    max_chunk_bytes: int | None = None  # default memory / 4
    # the rows read at once (a few batches are in flight: parsed, converted, being written)
    batch_bytes: int | None = None  # default memory / 64

    def __post_init__(self) -> None:
        derived = {
            "max_unpacked_bytes": 4 * self.memory_bytes,
            "max_shared_strings_bytes": self.memory_bytes // 16,
            "max_document_bytes": self.memory_bytes // 16,
            "max_chunk_bytes": self.memory_bytes // 4,
            "batch_bytes": self.memory_bytes // 64,
        }
        for name, value in derived.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)

    @classmethod
    def from_config(cls, cfg=None) -> Limits:
        import config

        cfg = cfg or config.from_env()
        return cls(
            max_bytes=cfg.max_upload_mb * MB,
            max_columns=cfg.max_upload_columns,
            memory_bytes=cfg.ingest_memory_mb * MB,
        )

    def batch_rows(self, row_bytes: float) -> int:
        """Rows per batch for rows of about `row_bytes`: BATCH_ROWS, fewer for wide rows."""
        return int(max(1, min(BATCH_ROWS, self.batch_bytes // max(1.0, row_bytes))))


@dataclass(frozen=True)
class Settings:
    """How a file is read. Each field is detected, shown, and can be overridden."""

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str = '"'
    skip_lines: int = 0  # lines (sheet rows) before the header, or before the data if no header
    has_header: bool = True
    decimal: str = "."
    thousands: str | None = None
    missing: tuple[str, ...] = ("",)
    sheet: str | None = None
    sheets: tuple[str, ...] = ()

    @property
    def header_line(self) -> int | None:
        return self.skip_lines + 1 if self.has_header else None

    @property
    def style(self) -> detect.NumberStyle:
        return detect.NumberStyle(self.decimal, self.thousands)

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "encoding_label": detect.ENCODINGS.get(self.encoding or "", ""),
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "skip_lines": self.skip_lines,
            "has_header": self.has_header,
            "header_line": self.header_line,
            "decimal": self.decimal,
            "thousands": self.thousands,
            "missing": list(self.missing),
            "sheet": self.sheet,
            "sheets": list(self.sheets),
        }


OVERRIDABLE = (
    "encoding",
    "delimiter",
    "quotechar",
    "skip_lines",
    "has_header",
    "decimal",
    "thousands",
    "missing",
    "sheet",
)
