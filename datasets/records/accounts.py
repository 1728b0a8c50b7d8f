"""The analysts table: who may log in, and a salted scrypt hash of each one's password.

`<data_dir>/accounts.sqlite` (mode 0600) holds a name and a hash, nothing else secret. The hash
is made here with the standard library's `hashlib.scrypt` (N=2^15, r=8, p=1, a 16-character
salt) in werkzeug's `scrypt:N:r:p$salt$hex` format, so the command line can create accounts
without the web server's packages and the server checks them with werkzeug's
`check_password_hash`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from . import db

ACCOUNTS_FILE = "accounts.sqlite"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
HASH_METHOD = f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}"
SALT_CHARS = string.ascii_letters + string.digits
SALT_LENGTH = 16
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
ANALYST_COLUMNS = "name, created_at, updated_at, last_login"


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


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`, as werkzeug's `generate_password_hash` writes it."""
    salt = "".join(secrets.choice(SALT_CHARS) for _ in range(SALT_LENGTH))
    maxmem = 132 * SCRYPT_N * SCRYPT_R * SCRYPT_P  # werkzeug's bound: 128 is a little tight
    digest = hashlib.scrypt(
        password.encode(), salt=salt.encode(), n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=maxmem
    )
    return f"{HASH_METHOD}${salt}${digest.hex()}"


def create(path: Path) -> None:
    db.create(path, SCHEMA, private=True)


def add(path: Path, name: str, password: str, *, update: bool = False) -> Analyst:
    """Create an analyst (or, with `update`, set an existing one's password)."""
    check_name(name)
    hashed = hash_password(check_password(password))
    now = _now()
    with db.transaction(path) as con:
        row = con.execute("SELECT name FROM analysts WHERE name = ?", (name,)).fetchone()
        if row is not None and not update:
            raise AccountError(f"analyst {row['name']!r} exists (use --update)")
        if row is None and update:
            raise AccountError(f"no analyst {name!r} to update")
        if row is None:
            con.execute("INSERT INTO analysts VALUES (?, ?, ?, ?, NULL)", (name, hashed, now, now))
        else:
            con.execute(
                "UPDATE analysts SET password_hash = ?, updated_at = ? WHERE name = ?",
                (hashed, now, name),
            )
    found = get(path, name)
    assert found is not None  # just written, in this transaction's file
    return found


def remove(path: Path, name: str) -> None:
    with db.connect(path) as con:
        if not con.execute("DELETE FROM analysts WHERE name = ?", (name,)).rowcount:
            raise AccountError(f"no analyst {name!r}")


def get(path: Path, name: str) -> Analyst | None:
    with db.connect(path) as con:
        row = con.execute(
            f"SELECT {ANALYST_COLUMNS} FROM analysts WHERE name = ?", (name,)
        ).fetchone()
    return Analyst(**row) if row else None


def list_all(path: Path) -> list[Analyst]:
    with db.connect(path) as con:
        rows = con.execute(f"SELECT {ANALYST_COLUMNS} FROM analysts ORDER BY name").fetchall()
    return [Analyst(**row) for row in rows]


def password_hash(path: Path, name: str) -> tuple[str, str] | None:
    """The analyst's name as stored and their password hash, or None for an unknown name."""
    with db.connect(path) as con:
        row = con.execute(
            "SELECT name, password_hash FROM analysts WHERE name = ?", (name,)
        ).fetchone()
    return (row["name"], row["password_hash"]) if row else None


def record_login(path: Path, name: str) -> None:
    with db.connect(path) as con:
        con.execute("UPDATE analysts SET last_login = ? WHERE name = ?", (_now(), name))
