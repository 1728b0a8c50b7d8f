"""District files received and checked, waiting for the analyst to add their city.

A file sent to the /cities page streams into a temporary file (never held whole in memory), is
checked in a bounded child process (`datasets.district_check`: its boundaries simplified when
they are too detailed to draw), and only its features as kept remain, under a token:

    <data_dir>/cities/.pending/<token>/districts.geojson   the features as kept
    <data_dir>/cities/.pending/<token>/meta.json           owner, file name, what the check found

The form that adds the city sends the token, not the file. A pending file is its uploader's only
and is forgotten after `KEEP_HOURS`. `.pending` starts with a dot: no city loader reads it.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .city_admin import (
    MAX_BYTES,
    CityError,
    DiskFull,
    TooLarge,
    cities_dir,
    is_disk_full,
    write_synced,
)
from .district_check import Summary, check_file
from .ingest import IngestError, receive, safe_filename

PENDING_DIR = ".pending"
BOUNDARIES = "districts.geojson"
META = "meta.json"
KEEP_HOURS = 24
CHECKS_AT_ONCE = 2  # per server process: each check is a child of up to 1.5 GB
TOKEN = re.compile(r"^[A-Za-z0-9_-]{24}$")  # secrets.token_urlsafe(18)


class Busy(CityError):
    """Every check slot of this process is taken."""

    def __init__(self) -> None:
        super().__init__("other district files are being checked: send it again in a moment")


@dataclass(frozen=True)
class Pending:
    token: str
    folder: Path
    file: str  # the name the analyst's file had
    summary: Summary

    @property
    def boundaries(self) -> Path:
        return self.folder / BOUNDARIES


class PendingDistricts:
    def __init__(self, data_dir: Path) -> None:
        self.root = cities_dir(data_dir) / PENDING_DIR
        self._slots = threading.BoundedSemaphore(CHECKS_AT_ONCE)

    def receive(
        self,
        owner: str,
        filename: str,
        stream: BinaryIO,
        length: int | None,
        name_field: str | None = None,
    ) -> Pending:
        """Stream, check and keep a district file. Raises `TooLarge` (over `MAX_BYTES`: from its
        declared length before a byte is read), `IngestError` (cut off), `CityError` (the file's
        problem), `Busy` or `DiskFull`; nothing is kept then."""
        display = safe_filename(filename, "districts.geojson")
        if length is not None and length > MAX_BYTES:
            raise TooLarge(display, length)
        if not self._slots.acquire(blocking=False):
            raise Busy()
        token = secrets.token_urlsafe(18)
        folder = self.root / token
        try:
            self.cleanup()
            self.root.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700)
            try:
                sent = receive(stream, display, folder, MAX_BYTES, length)
            except IngestError as exc:
                if exc.reason == "too_large":  # a body of undeclared length grew past it
                    raise TooLarge(display) from None
                raise
            summary = check_file(sent, folder / BOUNDARIES, display, name_field)
            sent.unlink()
            meta = {"owner": owner, "file": display, "created": time.time(), **summary.__dict__}
            write_synced(folder / META, json.dumps(meta).encode("utf-8"))
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            if is_disk_full(exc):
                raise DiskFull() from None
            raise
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            self._slots.release()
        return Pending(token, folder, display, summary)

    def get(self, token: object, owner: str | None) -> Pending | None:
        """The pending file, if `owner` sent it (another analyst's is as good as missing)."""
        if not isinstance(token, str) or not owner or not TOKEN.match(token):
            return None
        folder = self.root / token
        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.pop("owner", None) != owner or not (folder / BOUNDARIES).is_file():
            return None
        file, _ = meta.pop("file"), meta.pop("created")
        return Pending(token, folder, file, Summary(**meta))

    def discard(self, pending: Pending) -> None:
        shutil.rmtree(pending.folder, ignore_errors=True)

    def cleanup(self, older_than_hours: float = KEEP_HOURS) -> None:
        """Forget pending files older than a day (a form never submitted)."""
        if not self.root.is_dir():
            return
        limit = time.time() - older_than_hours * 3600
        for folder in self.root.iterdir():
            try:
                if folder.stat().st_mtime < limit:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue
