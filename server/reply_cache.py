"""Whole Dash callback replies kept and shared by the server's worker processes.

A chart card's or KPI block's reply depends only on the request body and the data, so the
production server answers a repeated one from the caches of `datasets.cache` (the process's LRU,
then the shared cache) without running Dash, and a reply another worker is computing is waited
for (`KeyLocks`) rather than computed again. This is Flask middleware that knows Dash's component
ids, which is why it lives on the server side and not in the data layer.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from datasets.cache import LRU, MAX_ENTRY_BYTES, cache_key

log = logging.getLogger(__name__)

CACHED_OUTPUTS = (
    '..{"id":["MATCH"],"type":"chart-graph"}.figure',  # a chart card's figure
    '..{"id":["ALL"],"type":"chart-graph"}.figure@',  # every card of a page, for a new view
    '{"id":["MATCH"],"type":"kpi-block"}.children',  # a KPI block
)


def cacheable_output(output: str) -> bool:
    """Callbacks whose reply depends only on the request body and the data: the chart cards
    (one or all of a page), their zoom, the KPI blocks (not the page router, whose layout may
    depend on a login)."""
    return output.startswith(CACHED_OUTPUTS) or (
        '"type":"chart-graph"}.figure@' in output and output.startswith("{")
    )


class KeyLocks:
    """Locks the server's worker processes share, one per key (striped over `stripes` files in
    `folder`): while one worker computes a reply, the others asking for it wait, then read it
    from the shared cache, instead of computing it again. Hundreds of viewers opening the same
    view at once thus cost one computation, not one per worker. Two keys that share a stripe
    only wait for each other; the locks are `flock`s, released if a process dies."""

    def __init__(self, folder: Path, stripes: int = 256) -> None:
        self.folder = Path(folder)
        self.stripes = stripes

    def acquire(self, key: str) -> int | None:
        """Block until the key's lock is held; the handle to `release` (None if the lock
        cannot be had: a read-only or full disk degrades to computing in parallel)."""
        stripe = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % self.stripes
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / f"{stripe:03d}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            log.warning("reply lock unavailable (%s): computing without it", exc)
            return None
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    @staticmethod
    def release(fd: int | None) -> None:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def install_response_cache(
    server, engine, token: Callable[[], str], locks: KeyLocks | None = None
) -> None:
    """Answer a repeated chart or KPI callback (same body, same data, same code) from the
    caches without running Dash at all: 400 viewers looking at the same view cost one reply.
    `token()` names the data and code versions (see `app_token`); a reply is kept in this
    process's LRU and in the shared cache, like query results. With `locks`, a reply being
    computed by another worker is waited for rather than computed again. Replies other than
    200 (e.g. 204 for a prevented update) are not kept."""
    import flask

    lru = LRU(256)

    def shared_reply(key: str) -> bytes | None:
        data = engine.shared.get(key) if engine.shared is not None else None
        if data is not None:
            lru.put(key, data)
        return data

    @server.before_request
    def _cached_reply():
        request = flask.request
        if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
            return None
        body = request.get_data(cache=True)
        try:
            output = json_output(body)
        except ValueError:
            return None
        if output is None or not cacheable_output(output):
            return None
        key = cache_key("reply", (body.decode("utf-8", "replace"),), token())
        data = lru.get(key) or shared_reply(key)
        if data is None and locks is not None and engine.shared is not None:
            flask.g.citylens_reply_lock = locks.acquire(key)
            data = shared_reply(key)  # computed by another worker while this one waited
        if data is not None:
            engine.stats["reply_hit"] += 1
            return flask.Response(data, mimetype="application/json")
        flask.g.citylens_reply_key = key
        return None

    @server.after_request
    def _keep_reply(response):
        key = flask.g.pop("citylens_reply_key", None)
        if key is not None and response.status_code == 200 and not response.direct_passthrough:
            data = response.get_data()
            if len(data) <= MAX_ENTRY_BYTES:
                lru.put(key, data)
                if engine.shared is not None:
                    engine.shared.set(key, data)
        return response

    @server.teardown_request
    def _release(_exc):
        if locks is not None:
            locks.release(flask.g.pop("citylens_reply_lock", None))


def json_output(body: bytes) -> str | None:
    """The "output" field of a Dash callback request."""
    import orjson

    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(str(exc)) from None
    output = payload.get("output") if isinstance(payload, dict) else None
    return output if isinstance(output, str) else None
