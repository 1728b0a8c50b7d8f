"""Login throttling: attempts counted before any password is checked, in a store every server
process shares.

Two limits, counted with the `limits` library's fixed windows (`hit` increments and compares in
one atomic step, so parallel attempts cannot all slip under the limit):

- per account and client, 10 attempts in 15 minutes: the password guesses one address may make
  at one account. Keyed on both, so failures from one address lock nobody else out; a success
  clears it.
- per client across all accounts, 100 attempts in 15 minutes: one address cannot sweep many
  accounts with a few guesses each. Successes count too and are not cleared, or an attacker
  holding one account could reset it between sweeps.

A client is its address (`server.client_address`); an IPv6 client is its /64, the block a single
subscriber usually gets, so rotating through it does not buy fresh counts.

The counts live in Redis when `CITYLENS_REDIS_URL` is set, otherwise in
`<data_dir>/throttle.sqlite`, a small SQLite table behind the `limits` storage interface.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, NamedTuple

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

THROTTLE_FILE = "throttle.sqlite"
SQLITE_SCHEME = "citylens+sqlite"
REDIS_PREFIX = "citylens-throttle"
PER_ACCOUNT = parse("10 per 15 minutes")
PER_CLIENT = parse("100 per 15 minutes")
IPV6_CLIENT_PREFIX = 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counters_expiry ON counters (expires_at);
"""

# One statement counts the attempt and reads the count back: a window that has passed starts
# again at this attempt (the right-hand sides see the row as it was).
INCREMENT = """
INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN excluded.count ELSE count + excluded.count END,
    expires_at = CASE WHEN expires_at <= :now THEN excluded.expires_at ELSE expires_at END
RETURNING count
"""


class SqliteStorage(Storage):
    """A `limits` storage in one SQLite file, shared by every process on the machine.

    Fixed windows only (all the login throttle uses). Each increment runs in a `BEGIN
    IMMEDIATE` transaction, which also drops the windows that have passed, so the table holds
    only the last 15 minutes' keys.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = [SQLITE_SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path))
        created = not self.path.exists()
        with self._connect() as con:
            con.executescript(SCHEMA)
        if created:
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)

    @classmethod
    def uri_for(cls, path: Path) -> str:
        return f"{SQLITE_SCHEME}://{urllib.parse.quote(str(Path(path).resolve()))}"

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield con
        finally:
            con.close()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
                params = {"key": key, "amount": amount, "now": now, "expiry": expiry}
                (count,) = con.execute(INCREMENT, params).fetchone()
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        return int(count)

    def _live(self, key: str) -> tuple[int, float] | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT count, expires_at FROM counters WHERE key = ? AND expires_at > ?",
                (key, time.time()),
            ).fetchone()
        return row

    def get(self, key: str) -> int:
        row = self._live(key)
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._live(key)
        return float(row[1]) if row else time.time()

    def check(self) -> bool:
        with self._connect() as con:
            con.execute("SELECT 1").fetchone()
        return True

    def reset(self) -> int | None:
        with self._connect() as con:
            return con.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self._connect() as con:
            con.execute("DELETE FROM counters WHERE key = ?", (key,))


def open_storage(data_dir: Path, redis_url: str = "") -> Storage:
    """Redis at `redis_url` when given, else `<data_dir>/throttle.sqlite`."""
    if redis_url:
        return storage_from_string(
            redis_url, key_prefix=REDIS_PREFIX, socket_timeout=2, socket_connect_timeout=2
        )
    return storage_from_string(SqliteStorage.uri_for(Path(data_dir) / THROTTLE_FILE))


def client_key(address: str) -> str:
    """The throttle's name for a client: its IPv4 address, or its IPv6 /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(parsed)


def account_key(name: str) -> str:
    """Account names compare without case (the accounts table is COLLATE NOCASE), so `Ana`
    and `ANA` share a count; quoted so no name can spell another key."""
    return urllib.parse.quote(name.lower(), safe="")


class Refusal(NamedTuple):
    limit: str  # "account": this account from this client; "client": this client
    wait_s: int  # until the limit lets attempts in again


class LoginThrottle:
    """`attempt` before checking a password, `succeeded` after a right one."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)

    def _wait_s(self, item: RateLimitItem, *identifiers: str) -> int:
        reset_at = self.limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def attempt(self, account: str, client: str) -> Refusal | None:
        """Count one login attempt: None when its password may be checked."""
        account, client = account_key(account), client_key(client)
        # A client over its wide limit is refused before anything is written, so a flood of
        # made-up account names adds no keys to the store.
        if not self.limiter.test(PER_CLIENT, client):
            return Refusal("client", self._wait_s(PER_CLIENT, client))
        if not self.limiter.hit(PER_ACCOUNT, client, account):
            return Refusal("account", self._wait_s(PER_ACCOUNT, client, account))
        if not self.limiter.hit(PER_CLIENT, client):
            return Refusal("client", self._wait_s(PER_CLIENT, client))
        return None

    def succeeded(self, account: str, client: str) -> None:
        self.limiter.clear(PER_ACCOUNT, client_key(client), account_key(account))
