"""Analyst accounts, and the secret that signs their sessions.

Accounts live in `<data_dir>/accounts.sqlite`: a name and a salted scrypt hash of the password
(werkzeug's `generate_password_hash`, N=2^15, r=8, p=1), nothing else secret. They are created
from the command line only:

    python -m datasets add-analyst NAME                      # asks for the password twice
    printf '%s\\n' "$PASSWORD" | python -m datasets add-analyst NAME --password-stdin
    python -m datasets remove-analyst NAME
    python -m datasets list-analysts

The session secret is generated once (`secrets.token_hex`) into `<data_dir>/secret_key`, mode
0600, and read back on every start, so sessions survive a restart and every worker process
signs with the same key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import os
import re
import secrets
import sqlite3
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

ACCOUNTS_FILE = "accounts.sqlite"
SECRET_FILE = "secret_key"
HASH_METHOD = "scrypt:32768:8:1"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS analysts (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login TEXT
);
"""


class AccountError(Exception):
    """An account operation refused with a message meant for the operator."""


@dataclass(frozen=True)
class Analyst:
    name: str
    created_at: str
    updated_at: str
    last_login: str | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def normalize_password(password: str) -> str:
    """Passwords compare as NFC (RFC 8265), so é typed two ways is one password."""
    return unicodedata.normalize("NFC", password)


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise AccountError(
            f"{name!r}: an analyst name is 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    password = normalize_password(password)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password has at most {MAX_PASSWORD} characters")
    return password


@cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so both answers take as long."""
    return generate_password_hash(secrets.token_hex(16), method=HASH_METHOD)


class Accounts:
    """The analysts of one data directory; safe across threads and processes (SQLite)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / ACCOUNTS_FILE
        created = not self.path.exists()
        with self._connect() as con:
            con.executescript(SCHEMA)
        if created:
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            yield con
        finally:
            con.close()

    def add(self, name: str, password: str, *, update: bool = False) -> Analyst:
        """Create an analyst (or, with `update`, set an existing one's password)."""
        check_name(name)
        hashed = generate_password_hash(check_password(password), method=HASH_METHOD)
        now = _now()
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                row = con.execute("SELECT name FROM analysts WHERE name = ?", (name,)).fetchone()
                if row is not None and not update:
                    raise AccountError(f"analyst {row['name']!r} exists (use --update)")
                if row is None and update:
                    raise AccountError(f"no analyst {name!r} to update")
                if row is None:
                    con.execute(
                        "INSERT INTO analysts VALUES (?, ?, ?, ?, NULL)", (name, hashed, now, now)
                    )
                else:
                    con.execute(
                        "UPDATE analysts SET password_hash = ?, updated_at = ? WHERE name = ?",
                        (hashed, now, name),
                    )
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        return self.get(name)

    def remove(self, name: str) -> None:
        with self._connect() as con:
            if not con.execute("DELETE FROM analysts WHERE name = ?", (name,)).rowcount:
                raise AccountError(f"no analyst {name!r}")

    def get(self, name: str) -> Analyst | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT name, created_at, updated_at, last_login FROM analysts WHERE name = ?",
                (name,),
            ).fetchone()
        return Analyst(**dict(row)) if row else None

    def list(self) -> list[Analyst]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT name, created_at, updated_at, last_login FROM analysts ORDER BY name"
            ).fetchall()
        return [Analyst(**dict(row)) for row in rows]

    def verify(self, name: str, password: str) -> str | None:
        """The analyst's stored name when the password is right, else None (same time taken
        whether the name exists or not)."""
        password = normalize_password(password or "")
        row = None
        if NAME.match(name or "") and len(password) <= MAX_PASSWORD:
            with self._connect() as con:
                row = con.execute(
                    "SELECT name, password_hash FROM analysts WHERE name = ?", (name,)
                ).fetchone()
        stored = row["password_hash"] if row else _dummy_hash()
        ok = check_password_hash(stored, password)
        if not (ok and row):
            return None
        with self._connect() as con:
            con.execute("UPDATE analysts SET last_login = ? WHERE name = ?", (_now(), row["name"]))
        return row["name"]

    def session_stamp(self, name: str) -> str | None:
        """A fingerprint of the analyst's current password hash: a session carries it, so a
        password change or a removal ends every session of that analyst."""
        if not NAME.match(name or ""):
            return None
        with self._connect() as con:
            row = con.execute(
                "SELECT password_hash FROM analysts WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            return None
        return hashlib.sha256(row["password_hash"].encode()).hexdigest()[:32]


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


# -- command line (wired into `python -m datasets`) ---------------------------------------------


def _accounts(args) -> Accounts:
    import config

    return Accounts(Path(args.data_dir or config.from_env().data_dir))


def _read_password(args) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    first = getpass.getpass(f"Password for {args.name}: ")
    second = getpass.getpass("Same password again: ")
    if first != second:
        raise AccountError("the two passwords differ; nothing was changed")
    return first


def cmd_add_analyst(args) -> int:
    try:
        check_name(args.name)
        password = _read_password(args)
        analyst = _accounts(args).add(args.name, password, update=args.update)
    except (AccountError, EOFError, KeyboardInterrupt) as exc:
        print(str(exc) or "cancelled", file=sys.stderr)
        return 2
    print(f"analyst {analyst.name} {'updated' if args.update else 'added'}")
    return 0


def cmd_remove_analyst(args) -> int:
    try:
        _accounts(args).remove(args.name)
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"analyst {args.name} removed")
    return 0


def cmd_list_analysts(args) -> int:
    for a in _accounts(args).list():
        print(f"{a.name:<32} created {a.created_at[:10]}  last login {(a.last_login or '-')[:16]}")
    return 0


def add_commands(add) -> None:
    """Register the account subcommands; `add(name, help)` makes a subparser with --data-dir."""
    p = add("add-analyst", "create an analyst account (asks for the password twice)")
    p.add_argument("name", help="login name: letters, digits, '.', '_', '@', '-'")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )
    p.add_argument("--update", action="store_true", help="set the password of an existing one")
    p.set_defaults(run=cmd_add_analyst)

    p = add("remove-analyst", "delete an analyst account (ends its sessions)")
    p.add_argument("name")
    p.set_defaults(run=cmd_remove_analyst)

    p = add("list-analysts", "print the analyst accounts")
    p.set_defaults(run=cmd_list_analysts)
