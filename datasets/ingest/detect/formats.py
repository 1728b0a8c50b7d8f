"""A file's format, guessed by its content first and its name second, and whether bytes look
like text at all.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from .encodings import utf16_without_bom

TEXT_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".tab": "csv"}
EXTENSIONS = {
    **TEXT_EXTENSIONS,
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".geojson": "geojson",
}


FORMATS = ("csv", "xlsx", "parquet", "json", "ndjson", "geojson")


@dataclass(frozen=True)
class FormatGuess:
    format: str  # csv | xlsx | parquet | json | ndjson | geojson | binary | empty
    note: str = ""


def sniff_format(head: bytes, suffix: str) -> FormatGuess:
    """The format from the first bytes, the name's suffix breaking ties between text formats.

    Content wins over the name for binary formats (a Parquet file named `.csv` is read as
    Parquet, with a note), and data that is neither a known binary format nor text is `binary`.
    """
    suffix = suffix.lower()
    named = EXTENSIONS.get(suffix)
    if not head.strip(b" \t\r\n\x00"):
        return FormatGuess("empty")
    if head.startswith(b"PAR1"):
        return _named_as(FormatGuess("parquet"), named, suffix)
    if head.startswith(b"PK\x03\x04"):
        return _named_as(FormatGuess("xlsx"), named, suffix)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return FormatGuess(
            "binary", "an old Excel .xls (or other OLE) file: save it as .xlsx or CSV first"
        )
    if head.startswith(b"\x1f\x8b"):
        return FormatGuess("binary", "a gzip archive: decompress it first")
    if not looks_like_text(head):
        return FormatGuess("binary")
    stripped = _strip_bom(head).lstrip()
    if stripped[:1] in (b"{", b"["):
        if named == "json":  # a .json file may hold GeoJSON or one object per line
            return FormatGuess(_json_flavour(stripped))
        if named in {"ndjson", "geojson"}:
            return FormatGuess(named)
        return _named_as(FormatGuess(_json_flavour(stripped)), named, suffix)
    if named in {"xlsx", "parquet"}:
        return FormatGuess("binary", f"named {suffix} but holds text")
    return FormatGuess("csv")


def _named_as(guess: FormatGuess, named: str | None, suffix: str) -> FormatGuess:
    if named is None or named == guess.format:
        return guess
    return FormatGuess(guess.format, f"named {suffix} but holds {guess.format}: read as such")


def _json_flavour(stripped: bytes) -> str:
    if stripped.startswith(b"{"):
        first, _, rest = stripped.partition(b"\n")
        if b'"FeatureCollection"' in stripped[:4096] or b'"Feature"' in stripped[:4096]:
            return "geojson"
        if rest.lstrip().startswith(b"{") and first.rstrip().endswith(b"}"):
            return "ndjson"
    return "json"


def _strip_bom(data: bytes) -> bytes:
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(bom):
            return data[len(bom) :]
    return data


def looks_like_text(sample: bytes) -> bool:
    """False for binary data: NUL bytes (outside UTF-16) or many C0 control bytes."""
    if not sample:
        return True
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or utf16_without_bom(sample):
        return True
    if b"\x00" in sample:
        return False
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13, 27))
    return controls <= len(sample) * 0.01
