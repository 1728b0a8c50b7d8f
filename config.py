"""CityLens configuration: one place, environment variables with a `CITYLENS_` prefix.

Each setting has a documented default; command-line options of `app.py` override the environment.
`python app.py --help` and the README list them from `SETTINGS`, so the three never disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PREFIX = "CITYLENS_"


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8050
    data_dir: Path = Path("data")
    city: str = "hangzhou-2017"
    debug: bool = False
    demo_detectors: int = 60
    demo_days: int = 365
    cache_size: int = 512
    query_threads: int = 0
    cache_dir: str = ""
    redis_url: str = ""
    shared_cache_mb: int = 1024
    workers: int = 0
    threads: int = 16
    warm_months: bool = True
    export_jobs: int = 1
    export_queue: int = 8
    export_per_client: int = 2
    export_wait_s: int = 90
    job_abandon_s: int = 30
    max_upload_mb: int = 1024
    max_request_mb: int = 4
    max_upload_columns: int = 1000
    ingest_memory_mb: int = 1024
    max_decks: int = 200
    max_deck_kb: int = 512
    deck_versions: int = 20
    view_login: bool = False
    session_hours: int = 12
    secure_cookies: bool = False
    trusted_proxies: str = ""

    def with_overrides(self, **overrides: Any) -> Config:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


SETTINGS: dict[str, str] = {
    "host": "address to listen on",
    "port": "port to listen on",
    "data_dir": "folder holding the Parquet datasets and the catalog (created if missing)",
    "city": "id of the city profile shown by default",
    "debug": "Dash debug mode (hot reload, error overlay): 1 or 0",
    "demo_detectors": "traffic detectors in the generated demo city",
    "demo_days": "days of demo data from 2017-01-01",
    "cache_size": "query results kept in memory per process",
    "query_threads": "DuckDB threads per process (0: one per CPU core; gunicorn.conf.py sets 1,"
    " which suits workers answering many small queries at once)",
    "cache_dir": "folder of the result cache the server's workers share"
    " (default <data_dir>/cache; off: none)",
    "redis_url": "share the result cache, the sessions and the login counts through Redis"
    " instead of the disk, e.g. redis://127.0.0.1:6379/0",
    "shared_cache_mb": "size of the shared disk cache, in MB (least recently used go first)",
    "workers": "gunicorn worker processes (0: one per CPU core, plus one)",
    "threads": "threads per gunicorn worker (a request waiting for a reply another worker"
    " computes holds one)",
    "warm_months": "after a gunicorn start, render each month's view into the shared cache in"
    " the background, at a low priority: 1 or 0",
    "export_jobs": "PDF and HTML exports running at once across all workers (each PDF holds a"
    " headless Chromium busy on a core; 1 leaves the other cores to the pages)",
    "export_queue": "exports that may wait for a free slot; past that a request gets 429",
    "export_per_client": "exports one client address may have waiting or running at once",
    "export_wait_s": "how long a direct download (GET /present/export, /sdg/annex?format=pdf)"
    " waits for its export before answering 503 with Retry-After",
    "job_abandon_s": "seconds after which a waiting or running export no client asked about"
    " is cancelled (its Chromium stopped)",
    "max_upload_mb": "largest file accepted for ingest, in MB (checked before it is read)",
    "max_request_mb": "largest request body of any route but the streamed uploads, in MB"
    " (refused with 413 before it is read)",
    "max_upload_columns": "most columns an ingested table may have",
    "ingest_memory_mb": "memory one ingest may use, in MB: its batch sizes and its caps on what a"
    " compressed file or a JSON document may expand to follow from it",
    "max_decks": "most saved decks (a new deck beyond is refused; a new version of one is not)",
    "max_deck_kb": "largest deck a save may write, in KB of JSON",
    "deck_versions": "earlier versions kept per deck, restorable from the editor (the oldest go"
    " first)",
    "view_login": "require an analyst login to view any page (uploads always need one): 1 or 0",
    "session_hours": "hours an analyst stays logged in",
    "secure_cookies": "send the session cookie over HTTPS only (set behind a TLS proxy): 1 or 0",
    "trusted_proxies": "comma-separated addresses or networks (CIDR) of the reverse proxies whose"
    " X-Forwarded-For names the client; from anyone else the header is ignored",
}


def _parse(kind: type, raw: str) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is Path:
        return Path(raw).expanduser()
    return kind(raw)


def env_name(field_name: str) -> str:
    return PREFIX + field_name.upper()


def from_env(environ: dict[str, str] | None = None) -> Config:
    """Read the configuration from the environment; unset variables keep their defaults."""
    environ = os.environ if environ is None else environ
    defaults = Config()
    values: dict[str, Any] = {}
    for f in fields(Config):
        raw = environ.get(env_name(f.name))
        if raw is not None and raw != "":
            kind = type(getattr(defaults, f.name))
            try:
                values[f.name] = _parse(kind, raw)
            except ValueError as exc:
                raise SystemExit(f"{env_name(f.name)}={raw!r}: expected {kind.__name__}") from exc
    return replace(defaults, **values)
