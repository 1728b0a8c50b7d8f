"""Query result caches shared by the server's worker processes, and single-flight.

Layers, in the order a query meets them (`QueryEngine.arrow`):

1. the process's own LRU of Arrow tables (no copy, no decoding);
2. a shared cache of the encoded tables that every worker of the server sees: a folder on disk
   by default (`diskcache`: SQLite index + files, safe across processes), Redis when
   `CITYLENS_REDIS_URL` is set;
3. single-flight: while one thread runs a query, other threads asking for the same key wait
   for its result instead of running it again.

A cache never decides correctness: the key names the SQL (which names the version folder it
reads, so a new version is a new key) and its parameters, and a cache that fails (a full disk,
Redis gone) degrades to a miss with one warning rather than failing the request.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Protocol, TypeVar

import pyarrow as pa

log = logging.getLogger(__name__)

T = TypeVar("T")
KEY_PREFIX = "citylens:q1:"  # bump when the encoding changes
DEFAULT_TTL_S = 7 * 24 * 3600  # Redis entries expire; the disk cache evicts by size
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # results larger than this are not shared


def cache_key(sql: str, params: tuple, token: str = "") -> str:
    """A fixed-length key for a query: the SQL, its parameters and a data token."""
    digest = hashlib.sha256()
    for piece in (sql, repr(params), token):
        digest.update(piece.encode())
        digest.update(b"\0")
    return KEY_PREFIX + digest.hexdigest()


def encode_table(table: pa.Table) -> bytes:
    """Arrow IPC stream, LZ4-compressed: a few hundred MB/s both ways."""
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode_table(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


class SharedCache(Protocol):
    name: str

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class _Guarded:
    """Turns backend errors into misses, logging the first one of each kind."""

    name = "shared"

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def _warn(self, what: str, exc: Exception) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning("%s cache %s failed (%s); going on without it", self.name, what, exc)


class DiskCache(_Guarded):
    """`diskcache.Cache` in a folder (default `<data_dir>/cache`), evicting least recently
    stored entries past `size_limit_mb`. The folder is created by the first write only, so
    opening a workspace (or refusing an upload) leaves the data folder as it was."""

    name = "disk"

    def __init__(self, folder: Path, size_limit_mb: int = 1024) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.size_limit_mb = size_limit_mb
        self._cache = None
        self._lock = threading.Lock()

    def _open(self, create: bool):
        if self._cache is None:
            if not create and not self.folder.is_dir():
                return None
            import diskcache

            with self._lock:
                if self._cache is None:
                    self._cache = diskcache.Cache(
                        str(self.folder),
                        size_limit=self.size_limit_mb * 1024 * 1024,
                        # a read stays a read: "least-recently-used" would write on every hit
                        eviction_policy="least-recently-stored",
                        timeout=2,  # seconds to wait for SQLite's lock before a miss
                    )
        return self._cache

    def get(self, key: str) -> bytes | None:
        try:
            cache = self._open(create=False)
            return cache.get(key) if cache is not None else None
        except Exception as exc:
            self._warn("read", exc)
            return None

    def set(self, key: str, value: bytes) -> None:
        try:
            self._open(create=True).set(key, value)
        except Exception as exc:
            self._warn("write", exc)

    def clear(self) -> None:
        try:
            cache = self._open(create=False)
            if cache is not None:
                cache.clear()
        except Exception as exc:
            self._warn("clear", exc)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


class RedisCache(_Guarded):
    """Redis at `url` (e.g. redis://127.0.0.1:6379/0); entries expire after `ttl_s`."""

    name = "redis"

    def __init__(self, url: str, ttl_s: int = DEFAULT_TTL_S) -> None:
        super().__init__()
        import redis

        self.url = url
        self.ttl_s = ttl_s
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def get(self, key: str) -> bytes | None:
        try:
            return self._client.get(key)
        except Exception as exc:
            self._warn("read", exc)
            return None

    def set(self, key: str, value: bytes) -> None:
        try:
            self._client.set(key, value, ex=self.ttl_s)
        except Exception as exc:
            self._warn("write", exc)

    def clear(self) -> None:
        try:
            for key in self._client.scan_iter(match=KEY_PREFIX + "*", count=1000):
                self._client.delete(key)
        except Exception as exc:
            self._warn("clear", exc)

    def close(self) -> None:
        self._client.close()


def open_shared_cache(
    data_dir: Path, cache_dir: str = "", redis_url: str = "", size_limit_mb: int = 1024
) -> SharedCache | None:
    """Redis when a URL is given, else a disk cache in `cache_dir` (default `<data_dir>/cache`);
    None when `cache_dir` is `off`."""
    if redis_url:
        return RedisCache(redis_url)
    if cache_dir.strip().lower() in {"off", "none", "0"}:
        return None
    folder = Path(cache_dir).expanduser() if cache_dir else Path(data_dir) / "cache"
    return DiskCache(folder, size_limit_mb)  # created by its first write


class LRU:
    """A small thread-safe LRU of values by key."""

    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: object) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class SingleFlight:
    """Runs `fn` once per key at a time in this process; concurrent callers of the same key
    wait and share its result (or its exception)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}

    def do(self, key: str, fn: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = _Call()
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.result
        try:
            call.result = fn()
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()
        return call.result

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._calls)


class _Call:
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None
