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
`<data_dir>/throttle.sqlite` (`datasets.records.throttle`) behind the `limits` storage
interface.
"""

from __future__ import annotations

import ipaddress
import math
import time
import urllib.parse
from pathlib import Path
from typing import ClassVar, NamedTuple

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from datasets.records import db
from datasets.records import throttle as counters
from datasets.records.throttle import THROTTLE_FILE

SQLITE_SCHEME = "citylens+sqlite"
REDIS_PREFIX = "citylens-throttle"
PER_ACCOUNT = parse("10 per 15 minutes")
PER_CLIENT = parse("100 per 15 minutes")
IPV6_CLIENT_PREFIX = 64


class SqliteStorage(Storage):
    """A `limits` storage in one SQLite file (`datasets.records.throttle`), shared by every
    process on the machine. Fixed windows only: all the login throttle uses."""

    STORAGE_SCHEME: ClassVar[list[str]] = [SQLITE_SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path))
        counters.create(self.path)

    @classmethod
    def uri_for(cls, path: Path) -> str:
        return f"{SQLITE_SCHEME}://{urllib.parse.quote(str(Path(path).resolve()))}"

    @property
    def base_exceptions(self) -> type[Exception]:
        return db.Error

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return counters.increment(self.path, key, expiry, amount)

    def get(self, key: str) -> int:
        row = counters.live(self.path, key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = counters.live(self.path, key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        counters.ping(self.path)
        return True

    def reset(self) -> int | None:
        return counters.clear(self.path)

    def clear(self, key: str) -> None:
        counters.clear(self.path, key)


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
