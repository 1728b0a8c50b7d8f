"""The result caches (datasets/cache.py) and their use by the query engine: the shared cache
serves another worker's results, a new version is a new key, single-flight runs a query once,
a broken cache is a miss. The Redis test needs a redis-server binary and is skipped without."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import threading
import time

import pyarrow as pa
import pytest

from datasets.cache import (
    LRU,
    DiskCache,
    RedisCache,
    SingleFlight,
    cache_key,
    decode_table,
    encode_table,
    open_shared_cache,
)
from datasets.catalog import Catalog, DatasetMeta
from datasets.query import QueryEngine
from server.reply_cache import KeyLocks, install_response_cache


def test_tables_survive_encoding():
    table = pa.table({"a": [1, 2, None], "b": ["x", "y", "z"], "t": pa.array([0, 1, 2], "i8")})
    assert decode_table(encode_table(table)).equals(table)


def test_keys_differ_by_sql_params_and_token():
    keys = {
        cache_key("SELECT 1", ()),
        cache_key("SELECT 2", ()),
        cache_key("SELECT 1", (1,)),
        cache_key("SELECT 1", (), "v0002"),
    }
    assert len(keys) == 4


def test_the_lru_forgets_the_least_recently_used():
    lru = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)


def test_single_flight_runs_a_key_once_for_concurrent_callers():
    flight = SingleFlight()
    calls = []
    gate = threading.Event()

    def slow():
        calls.append(1)
        gate.wait(2)
        return "result"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(flight.do("k", slow))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join()
    assert results == ["result"] * 8 and len(calls) == 1
    assert flight.in_flight == 0
    assert flight.do("k", lambda: "again") == "again"  # finished keys run anew


def test_single_flight_shares_the_error():
    flight = SingleFlight()
    with pytest.raises(ValueError):
        flight.do("k", lambda: (_ for _ in ()).throw(ValueError("boom")))
    assert flight.in_flight == 0


# -- the engine ------------------------------------------------------------------------------


def meta() -> DatasetMeta:
    return DatasetMeta(
        id="city-things",
        city="city",
        kind="generic",
        round_table="traffic",
        title={"en": "Things"},
        description={"en": ""},
    )


def write(values):
    def _write(folder):
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"v": values}), folder / "part-0000.parquet")

    return _write


def total(engine: QueryEngine) -> int:
    src = engine.source("city", "generic")
    return int(engine.frame(f"SELECT sum(v) AS s FROM {src}")["s"].iloc[0])


def test_a_second_worker_reads_the_first_ones_result_from_disk(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.publish(meta(), write([1, 2, 3]))
    first = QueryEngine(catalog, shared=DiskCache(tmp_path / "cache"))
    second = QueryEngine(catalog, shared=DiskCache(tmp_path / "cache"))
    assert total(first) == 6 and first.stats["run"] == 1
    assert total(second) == 6
    assert (second.stats["run"], second.stats["shared"]) == (0, 1)
    assert total(second) == 6 and second.stats["lru"] == 1  # then from its own memory


def test_a_new_version_is_a_new_key(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.publish(meta(), write([1, 2, 3]))
    shared = DiskCache(tmp_path / "cache")
    engine = QueryEngine(catalog, shared=shared)
    assert total(engine) == 6
    catalog.publish(meta(), write([10]), mode="replace")
    other = QueryEngine(catalog, shared=shared)
    assert total(other) == 10
    catalog.publish(meta(), write([5]), mode="append")
    assert total(QueryEngine(catalog, shared=shared)) == 15


def test_a_dataset_published_again_under_the_same_folder_is_not_served_stale(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.publish(meta(), write([1, 2, 3]))
    shared = DiskCache(tmp_path / "cache")
    assert total(QueryEngine(catalog, shared=shared)) == 6
    catalog.delete("city-things")
    catalog.publish(meta(), write([7]))  # v0001 again, other rows
    assert total(QueryEngine(catalog, shared=shared)) == 7


def test_the_disk_cache_is_created_by_its_first_write_only(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.publish(meta(), write([1]))
    engine = QueryEngine(catalog, shared=open_shared_cache(tmp_path))
    assert not (tmp_path / "cache").exists()
    total(engine)
    assert (tmp_path / "cache").is_dir()
    assert open_shared_cache(tmp_path, cache_dir="off") is None


def test_a_broken_shared_cache_is_a_miss_not_an_error(tmp_path, caplog):
    class Broken(DiskCache):
        def _open(self, create):
            raise OSError("disk full")

    catalog = Catalog(tmp_path)
    catalog.publish(meta(), write([1, 2]))
    engine = QueryEngine(catalog, shared=Broken(tmp_path / "cache"))
    assert total(engine) == 3
    engine.clear_cache()
    assert total(engine) == 3 and engine.stats["run"] == 2
    assert "going on without it" in caplog.text


def test_concurrent_identical_queries_run_once(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.publish(meta(), write(list(range(1000))))
    engine = QueryEngine(catalog, shared=None)
    sql = f"SELECT sum(v) AS s, count(*) AS n FROM {engine.source('city', 'generic')}"
    runs = []
    real = engine._run

    def slow_run(text, params):
        runs.append(text)
        time.sleep(0.3)
        return real(text, params)

    engine._run = slow_run
    threads = [threading.Thread(target=engine.frame, args=(sql,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs) == 1


# -- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary on this machine (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.skip("redis-server did not start")
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


def test_workers_share_results_through_redis(tmp_path, redis_url):
    catalog = Catalog(tmp_path)
    catalog.publish(meta(), write([4, 5]))
    first = QueryEngine(catalog, shared=open_shared_cache(tmp_path, redis_url=redis_url))
    second = QueryEngine(catalog, shared=RedisCache(redis_url))
    assert isinstance(first.shared, RedisCache)
    assert total(first) == 9 and total(second) == 9
    assert (second.stats["run"], second.stats["shared"]) == (0, 1)
    second.clear_shared()
    second.clear_cache()
    assert total(second) == 9 and second.stats["run"] == 1


def test_redis_gone_is_a_miss(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.publish(meta(), write([1]))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    engine = QueryEngine(catalog, shared=RedisCache(f"redis://127.0.0.1:{port}/0"))
    assert total(engine) == 1


# -- whole callback replies (the production server's workers) --------------------------------

CHART_OUTPUT = '..{"id":["MATCH"],"type":"chart-graph"}.figure...{"id":["MATCH"],"type":"x"}.y..'


def worker_app(tmp_path, calls: list, locks: KeyLocks | None):
    """A stand-in for one gunicorn worker: its own Flask app and LRU, the shared disk cache and
    lock folder of the server; its callback endpoint is slow and counts its calls."""
    import collections
    import types

    import flask

    server = flask.Flask(__name__)

    @server.post("/_dash-update-component")
    def update():
        calls.append(1)
        time.sleep(0.3)
        return flask.jsonify({"response": {"figure": {"data": []}}})

    engine = types.SimpleNamespace(
        shared=DiskCache(tmp_path / "cache"), stats=collections.Counter()
    )
    install_response_cache(server, engine, lambda: "v1", locks)
    return server


def post_together(servers) -> list[bytes]:
    body = json.dumps({"output": CHART_OUTPUT, "inputs": []})
    replies: list[bytes] = [b""] * len(servers)

    def post(i: int) -> None:
        response = (
            servers[i]
            .test_client()
            .post("/_dash-update-component", data=body, content_type="application/json")
        )
        replies[i] = response.get_data()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def test_workers_asked_the_same_reply_at_once_compute_it_once(tmp_path):
    calls: list = []
    locks = KeyLocks(tmp_path / "locks")
    servers = [worker_app(tmp_path, calls, locks) for _ in range(4)]
    replies = post_together(servers)
    assert len(calls) == 1
    assert len(set(replies)) == 1 and b"figure" in replies[0]


def test_without_locks_each_worker_computes_the_reply(tmp_path):
    calls: list = []
    servers = [worker_app(tmp_path, calls, None) for _ in range(3)]
    post_together(servers)
    assert len(calls) == 3


def test_a_key_lock_holds_back_the_same_key_only(tmp_path):
    locks = KeyLocks(tmp_path / "locks", stripes=2)
    keys = [f"k{i}" for i in range(20)]
    stripe = {k: int(hashlib.sha256(k.encode()).hexdigest()[:8], 16) % 2 for k in keys}
    same = [k for k in keys if stripe[k] == stripe[keys[0]]][1]
    other = next(k for k in keys if stripe[k] != stripe[keys[0]])
    held = locks.acquire(keys[0])
    got: dict[str, float] = {}

    def take(key: str) -> None:
        started = time.monotonic()
        locks.release(locks.acquire(key))
        got[key] = time.monotonic() - started

    waiting = [threading.Thread(target=take, args=(k,)) for k in (same, other)]
    for thread in waiting:
        thread.start()
    time.sleep(0.3)
    locks.release(held)
    for thread in waiting:
        thread.join()
    assert got[other] < 0.2 <= got[same]
