"""Login throttling: attempts are counted before the password is checked, in a store every
server process shares, per account and client (10 in 15 minutes) and per client (100); a client
is named by X-Forwarded-For only when the request comes through a trusted proxy. Each test that
counts runs on the embedded store (SQLite in the data folder) and on a real Redis server."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from .conftest import PASSWORD, log_in

ROOT = Path(__file__).resolve().parents[2]

# One server process: its app on the shared data folder, `n` browsers that each fetch the login
# form, then at a signal from the test all post a wrong password at once.
WORKER = textwrap.dedent(
    """
    import json, re, sys, threading, time
    from collections import Counter
    from pathlib import Path

    import app as app_module
    import config
    from datasets.workspace import Workspace

    data_dir, redis_url, go, n = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    cfg = config.Config(data_dir=data_dir, redis_url=redis_url)
    server = app_module.create_app(cfg, Workspace.open(data_dir)).server
    browsers = []
    for _ in range(n):
        client = server.test_client()
        page = client.get("/login").data.decode()
        browsers.append((client, re.search('name="csrf" value="([^"]+)"', page).group(1)))
    start = threading.Barrier(n)
    codes, lock = Counter(), threading.Lock()

    def guess(i):
        client, token = browsers[i]
        start.wait()
        form = {"csrf": token, "name": "ana", "password": f"wrong guess {i}"}
        status = client.post("/login", data=form).status_code
        with lock:
            codes[status] += 1

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(codes), flush=True)
    """
)


def attempt(client, name: str, password: str = "not the password") -> int:
    return log_in(client, name, password).status_code


def from_address(client, address: str, forwarded_for: str | None = None):
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded_for is None:
        client.environ_base.pop("HTTP_X_FORWARDED_FOR", None)
    else:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def let_the_window_pass(data_dir: Path, settings: dict) -> None:
    """What 15 minutes do to the counts: every window ends."""
    if settings.get("redis_url"):
        client = redis.Redis.from_url(settings["redis_url"])
        keys = list(client.scan_iter("citylens-throttle*"))
        assert keys
        for key in keys:
            client.pexpire(key, 1)
        while any(client.exists(key) for key in keys):
            time.sleep(0.01)
        return
    with sqlite3.connect(data_dir / "throttle.sqlite") as con:
        assert con.execute("UPDATE counters SET expires_at = 0").rowcount


def test_parallel_guesses_from_two_processes_get_ten_checks(data_dir, shared_store, tmp_path):
    go = tmp_path / "go"
    args = [str(data_dir), shared_store.get("redis_url", ""), str(go), "50"]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        go.touch()
        codes = Counter()
        for worker in workers:
            out, err = worker.communicate(timeout=240)
            assert worker.returncode == 0, err
            codes.update({int(k): v for k, v in json.loads(out.splitlines()[-1]).items()})
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert codes == {401: 10, 429: 90}


def test_failures_at_one_account_lock_no_other_account_out(make_app, shared_store):
    client = make_app(**shared_store).server.test_client()
    names = ["ana", "ANA", "Ana"] * 4  # one account however it is spelt
    codes = [attempt(client, name) for name in names]
    assert codes == [401] * 10 + [429] * 2
    assert attempt(client, "ben", PASSWORD) == 303


def test_the_lock_holds_until_its_window_passes_and_a_success_clears_it(
    make_app, shared_store, data_dir
):
    server = make_app(**shared_store).server
    client = server.test_client()
    assert [attempt(client, "ana") for _ in range(10)] == [401] * 10
    locked = log_in(client, "ana", PASSWORD)
    assert locked.status_code == 429  # the right password too
    assert 840 <= int(locked.headers.get("Retry-After", 0)) <= 900
    assert b"wait 15 minutes" in locked.data

    let_the_window_pass(data_dir, shared_store)
    assert attempt(client, "ana", PASSWORD) == 303
    assert [attempt(client, "ana") for _ in range(11)] == [401] * 10 + [429]


def test_one_client_cannot_sweep_many_accounts(make_app, shared_store):
    server = make_app(**shared_store).server
    sweeper = server.test_client()
    codes = [attempt(sweeper, f"user{i % 25}") for i in range(100)]
    assert codes == [401] * 100  # 4 guesses at each of 25 names: under the per-account limit
    refused = log_in(sweeper, "ben", PASSWORD)
    assert refused.status_code == 429
    assert b"Too many login attempts from this address" in refused.data
    elsewhere = from_address(server.test_client(), "192.0.2.7")
    assert attempt(elsewhere, "ana", PASSWORD) == 303


def test_a_visitor_cannot_dodge_the_count_with_x_forwarded_for(make_app, shared_store):
    server = make_app(**shared_store, trusted_proxies="10.0.0.0/8").server
    client = server.test_client()
    codes = [
        attempt(from_address(client, "192.0.2.1", f"203.0.113.{i}, 10.0.0.{i}"), "ana")
        for i in range(12)
    ]
    assert codes == [401] * 10 + [429] * 2


def test_behind_a_trusted_proxy_two_clients_are_counted_apart(make_app, shared_store):
    server = make_app(**shared_store, trusted_proxies="10.0.0.1, 10.0.1.0/24").server
    first = server.test_client()
    # What the first client writes into the header itself changes nothing.
    codes = [
        attempt(from_address(first, "10.0.0.1", f"198.51.100.{i}, 203.0.113.5"), "ana")
        for i in range(11)
    ]
    assert codes == [401] * 10 + [429]
    second = from_address(server.test_client(), "10.0.0.1", "203.0.113.6, 10.0.1.7")
    assert attempt(second, "ana") == 401
    assert attempt(second, "ana", PASSWORD) == 303


def test_an_ipv6_client_is_counted_by_its_64_block(make_app, shared_store):
    server = make_app(**shared_store, trusted_proxies="10.0.0.1").server
    client = server.test_client()
    codes = [
        attempt(from_address(client, "10.0.0.1", f"2001:db8:0:7::{i:x}"), "ana") for i in range(11)
    ]
    assert codes == [401] * 10 + [429]
    neighbour = from_address(server.test_client(), "10.0.0.1", "2001:db8:0:8::1")
    assert attempt(neighbour, "ana", PASSWORD) == 303


def test_a_wrong_trusted_proxies_setting_stops_the_start(make_app):
    with pytest.raises(ValueError, match=re.escape("CITYLENS_TRUSTED_PROXIES: 'proxy.lan'")):
        make_app(trusted_proxies="10.0.0.1, proxy.lan")
