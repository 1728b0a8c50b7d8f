"""Receiving an upload into a bounded file (its size checked while it streams, a short upload
refused), file names made safe, and the size check that runs before a file is opened.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import BinaryIO

from .errors import IngestError
from .settings import MB, Limits

_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,]+")


def safe_filename(name: str | None, default: str = "upload") -> str:
    """The last component of a client-supplied name, stripped of anything that could escape a
    folder or trouble a terminal: `../../x.csv` → `x.csv`, `C:\\a\\b.csv` → `b.csv`."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name or name in {".", ".."}:
        name = default
    stem, dot, ext = name.rpartition(".")
    if dot and len(name) > 120:
        name = stem[: 120 - len(ext) - 1] + "." + ext[:16]
    return name[:120]


def receive(
    stream: BinaryIO,
    filename: str,
    folder: Path,
    max_bytes: int,
    expected_bytes: int | None = None,
    chunk: int = MB,
) -> Path:
    """Copy an upload into `folder` under a fresh name, never holding it whole in memory.

    Refused (and nothing left behind) when it grows past `max_bytes` or stops short of
    `expected_bytes` (the declared length: an upload cut off half way).
    """
    display = safe_filename(filename)
    if expected_bytes is not None and expected_bytes > max_bytes:
        raise too_large(display, expected_bytes, max_bytes)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(display).suffix.lower()[:16]
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=suffix, dir=folder)
    path = Path(tmp)
    received = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                block = stream.read(chunk)
                if not block:
                    break
                received += len(block)
                if received > max_bytes:
                    raise too_large(display, received, max_bytes, at_least=True)
                out.write(block)
        if expected_bytes is not None and received != expected_bytes:
            raise IngestError(
                display,
                expected=f"the whole upload of {expected_bytes:,} bytes; only {received:,} "
                "arrived (cut off?): send it again",
                reason="cut_off",
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def receive_data_url(contents: str, filename: str, folder: Path, max_bytes: int) -> Path:
    """The `data:…;base64,…` string a browser upload component sends, decoded in chunks.

    The size is checked from the string's length before decoding; a string cut off half way
    (not a whole number of base64 quanta, or bad padding) is refused.
    """
    display = safe_filename(filename)
    _, _, payload = contents.partition(",") if contents.startswith("data:") else ("", "", contents)
    estimate = len(payload) * 3 // 4 - len(payload[-2:]) + len(payload[-2:].rstrip("="))
    if estimate > max_bytes:
        raise too_large(display, estimate, max_bytes)
    if len(payload) % 4:
        raise IngestError(
            display,
            expected="a complete upload; the data ends half way (cut off?): send it again",
            reason="cut_off",
        )

    class _Decoded(io.RawIOBase):
        def __init__(self) -> None:
            self.pos = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            n = 4 * MB if n is None or n < 0 else max(4, n // 3 * 4)
            part = payload[self.pos : self.pos + n]
            self.pos += len(part)
            try:
                return base64.b64decode(part, validate=True)
            except binascii.Error as exc:
                raise IngestError(
                    display,
                    expected=f"base64 data; the upload is damaged or cut off ({exc})",
                    reason="cut_off",
                ) from None

    return receive(_Decoded(), display, folder, max_bytes)


def too_large(file: str, size: int, limit: int, at_least: bool = False) -> IngestError:
    """The refusal of a file of `size` bytes (`at_least` that many) over `limit`."""
    more = "more than " if at_least else ""
    return IngestError(
        file,
        expected=f"a file of at most {human_size(limit)}; this one is {more}{human_size(size)} "
        "(the limit is set by CITYLENS_MAX_UPLOAD_MB)",
        reason="too_large",
    )


def human_size(n: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:,.0f} {unit}" if unit == "bytes" or n >= 100 else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} MB"


def check_size(path: Path, file: str, limits: Limits) -> int:
    """The file's size from the file system, refused before anything is read if too large."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise too_large(file, size, limits.max_bytes)
    if size == 0:
        raise IngestError(file, expected="a file with data; this one is empty", reason="empty")
    return size
