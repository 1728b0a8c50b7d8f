"""Analyst accounts as the server checks them, and the secret that signs their sessions.

The accounts are records (`datasets.records.accounts`: the table, the name and password rules,
the scrypt hash); they are created from the command line only (`python -m datasets add-analyst`).
Here a login is checked, with werkzeug's `check_password_hash`, in the same time whether the
name exists or not.

The session secret is generated once (`secrets.token_hex`) into `<data_dir>/secret_key`, mode
0600, and read back on every start, so sessions survive a restart and every worker process
signs with the same key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash

from datasets.records import accounts as records
from datasets.records.accounts import (
    ACCOUNTS_FILE,
    MAX_PASSWORD,
    NAME,
    AccountError,
    Analyst,
    normalize_password,
)

SECRET_FILE = "secret_key"

__all__ = ["ACCOUNTS_FILE", "SECRET_FILE", "AccountError", "Accounts", "Analyst"]


@cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so both answers take as long."""
    return records.hash_password(secrets.token_hex(16))


class Accounts:
    """The analysts of one data directory; safe across threads and processes."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / ACCOUNTS_FILE
        records.create(self.path)

    def add(self, name: str, password: str, *, update: bool = False) -> Analyst:
        """Create an analyst (or, with `update`, set an existing one's password)."""
        return records.add(self.path, name, password, update=update)

    def remove(self, name: str) -> None:
        records.remove(self.path, name)

    def get(self, name: str) -> Analyst | None:
        return records.get(self.path, name)

    def list(self) -> list[Analyst]:
        return records.list_all(self.path)

    def verify(self, name: str, password: str) -> str | None:
        """The analyst's stored name when the password is right, else None (same time taken
        whether the name exists or not)."""
        password = normalize_password(password or "")
        found = None
        if NAME.match(name or "") and len(password) <= MAX_PASSWORD:
            found = records.password_hash(self.path, name)
        stored = found[1] if found else _dummy_hash()
        ok = check_password_hash(stored, password)
        if not (ok and found):
            return None
        records.record_login(self.path, found[0])
        return found[0]

    def session_stamp(self, name: str) -> str | None:
        """A fingerprint of the analyst's current password hash: a session carries it, so a
        password change or a removal ends every session of that analyst."""
        if not NAME.match(name or ""):
            return None
        found = records.password_hash(self.path, name)
        if found is None:
            return None
        return hashlib.sha256(found[1].encode()).hexdigest()[:32]


def load_secret_key(data_dir: Path) -> str:
    """The session secret: generated once, kept in `<data_dir>/secret_key` (0600).

    Created atomically (written under a temporary name, then linked into place), so two
    processes starting at once agree on one key and neither reads a half-written file.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    if not path.exists():
        tmp = data_dir / f".{SECRET_FILE}.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    key = path.read_text().strip()
    if len(key) < 32:
        raise AccountError(f"{path}: the session secret is too short; delete the file to renew it")
    return key
