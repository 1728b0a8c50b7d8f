"""gunicorn settings for CityLens in production:

    gunicorn -c gunicorn.conf.py app:server

Workers and threads come from CITYLENS_WORKERS / CITYLENS_THREADS (0 workers: one per CPU
core, plus one), the address from CITYLENS_HOST / CITYLENS_PORT; every other CITYLENS_*
setting applies as for `python app.py`. The workers share the result cache (`<data_dir>/cache`,
or Redis with CITYLENS_REDIS_URL), so a result one worker computed is served by all.

The app is not preloaded: each worker builds its own, opening DuckDB after the fork (a DuckDB
connection does not survive a fork). The demo city is generated once, by the master before
any worker starts (`on_starting`), under the same cross-process lock `ensure_demo` always
takes, so workers never wait on it past their boot timeout.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from config import from_env as _from_env

ROOT = Path(__file__).resolve().parent

# Workers answer many small queries at once: one DuckDB thread each beats threads competing for
# the same cores (inherited by the workers; an explicit CITYLENS_QUERY_THREADS wins).
os.environ.setdefault("CITYLENS_QUERY_THREADS", "1")
_cfg = _from_env()

bind = f"{_cfg.host}:{_cfg.port}"
workers = _cfg.workers or (os.cpu_count() or 1) + 1  # each holds ~330 MB: see the README
threads = max(1, _cfg.threads)
worker_class = "gthread"  # threads: dash-renderer sends a page's chart callbacks at once
preload_app = False
# With gthread this is the heartbeat of a worker's main loop, not a limit on a request: the loop
# beats while request threads run, so an upload streaming to disk for many minutes (1 MB reads in
# its thread, `datasets.ingest.receive`) is never cut. It bounds a worker's boot, which includes
# `post_worker_init` drawing every page before the worker serves. gthread has no time limit on
# reading a slow request body: the reverse proxy in front sets one (nginx `client_body_timeout`).
timeout = 120
graceful_timeout = 30
# The request line and headers, refused with 400 by gunicorn before the app sees them. The
# longest link the app makes, an explorer view with 3 column filters of up to 50 values each
# (JSON, percent-encoded: 9 bytes a Chinese character), can pass gunicorn's default of 4094
# bytes: the line gets gunicorn's maximum. Browsers send ~20 headers; the largest is the cookie,
# which carries a session id only.
limit_request_line = 8190
limit_request_fields = 50
limit_request_field_size = 8190
keepalive = 5
worker_connections = 2000  # gthread: connections a worker holds at once (browsers use ~6)
backlog = 2048  # 400 viewers opening the page together
max_requests = 100_000  # recycle a worker now and then (caches are bounded; boots cost)
max_requests_jitter = 10_000
accesslog = None
errorlog = "-"
loglevel = "info"


def on_starting(server) -> None:  # pragma: no cover - runs inside gunicorn's master
    """Before forking, in child processes (the master stays small: no pandas, DuckDB or Dash in
    it, nothing a fork could break): create the demo datasets, then render each page's default
    view in every language into the shared cache, so the first visitors are answered from it."""
    demo = _child(
        "import config; from datasets.demo import ensure_demo;"
        " from datasets.workspace import Workspace;"
        " c = config.from_env(); w = Workspace.open(c.data_dir, c.cache_size);"
        " print(','.join(ensure_demo(w, c.city, detectors=c.demo_detectors, days=c.demo_days)))",
        "demo city not created",
    )
    if demo:
        server.log.info("demo city written: %s", demo)
    warmed = _child(
        "import config, app; a = app.create_app(config.from_env());"
        " print(app.warm_default_views(a) if a.workspace.engine.shared else 0)",
        "default views not rendered",
    )
    server.log.info("default views rendered into the shared cache: %s charts", warmed or 0)


def when_ready(server) -> None:  # pragma: no cover - runs inside gunicorn's master
    """Once the workers serve: render each month's view into the shared cache in a child
    process at a low priority, so that it takes only the CPU viewers leave idle. Not waited
    for; it logs when it is done."""
    if not _cfg.warm_months:
        return
    code = (
        "import os, sys, time, config, app; os.nice(10); t = time.perf_counter();"
        " a = app.create_app(config.from_env());"
        " n = app.warm_month_views(a) if a.workspace.engine.shared else 0;"
        " print(f'[citylens] month views rendered into the shared cache: {n} charts"
        " in {time.perf_counter() - t:.0f} s', file=sys.stderr, flush=True)"
    )
    subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    server.log.info("rendering each month's view in the background")


def _child(code: str, failure: str) -> str:  # pragma: no cover - runs inside gunicorn's master
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{failure}: {done.stderr[-2000:]}")
    return done.stdout.strip()


def post_worker_init(worker) -> None:  # pragma: no cover - runs inside each gunicorn worker
    """Before the worker serves: (1) repeated chart and KPI callbacks are answered from the
    caches without running Dash (`app.install_reply_cache`), and a reply another worker is
    computing is waited for (locks in `<data_dir>/.reply-locks`); (2) one request,
    because Dash registers its script paths on a worker's first request and that set-up is not
    thread-safe: a browser's parallel script requests to a fresh worker could get "dash is not
    a registered library" (HTTP 500); (3) what the worker keeps in memory for itself, built
    now rather than for its first viewers (`app.warm_worker`); (4) the objects alive then
    (modules, app, caches) left out of Python's full garbage collections, each of which
    otherwise walked them for ~50 ms, holding every thread of the worker."""
    import app as citylens

    citylens.install_reply_cache(citylens.app)  # `citylens.app` is the Dash app of `app:server`
    worker.wsgi.test_client().get("/health")
    citylens.warm_worker(citylens.app)
    gc.freeze()
    worker.log.info("worker %s ready to serve", worker.pid)  # what tests/e2e wait for
