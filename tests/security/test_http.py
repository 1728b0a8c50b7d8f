"""Request bodies, downloads and headers: a body over the limit costs the server nothing (refused
from its declared length before it is read, or cut while it streams), only the streamed upload
takes large ones, JSON nested past what Python parses is a 400, a download of a version made of
several files leaves no file anywhere, and every kind of response keeps pages out of frames."""

from __future__ import annotations

import io
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from datasets.catalog import DatasetMeta

from .conftest import session_csrf

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
BODY_BYTES = 200 * MB  # the attacker's body: 200 MB took the process from 261 MB to 1.26 GB
# What the server may grow by while a body of BODY_BYTES comes in: it reads at most the limit
# (4 MB by default) of a chunked body, and more than the whole body before the limits held.
GROWTH_BOUND = 40 * MB
OVER_THE_LIMIT = 20 * MB  # over the default CITYLENS_MAX_REQUEST_MB (4)

# The real app on an empty data folder, served by werkzeug in its own process, so that its
# memory is measured alone; it prints its port once it listens.
SERVE = """
import pathlib, sys
import app, config
from datasets.workspace import Workspace
from werkzeug.serving import make_server
data = pathlib.Path(sys.argv[1])
dash_app = app.create_app(config.Config(data_dir=data), Workspace.open(data))
server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[psutil.Process, int]]:
    folder = tmp_path_factory.mktemp("served")
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(folder / "data")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            line = proc.stdout.readline()
            assert line.strip().isdigit(), f"the server did not start: {log_path.read_text()}"
            yield psutil.Process(proc.pid), int(line)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


class PeakGrowth:
    """How far a process's resident memory rose above where it was, while the block ran."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.growth = 0
        self._done = threading.Event()

    def _sample(self, base: int) -> None:
        while not self._done.is_set():
            self.growth = max(self.growth, self.process.memory_info().rss - base)
            time.sleep(0.005)

    def __enter__(self) -> PeakGrowth:
        self._thread = threading.Thread(
            target=self._sample, args=(self.process.memory_info().rss,), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        time.sleep(0.2)  # a last look once the server has handled what arrived
        self._done.set()
        self._thread.join()


def json_pieces(size: int, piece: int = 256 * 1024) -> Iterator[bytes]:
    """One JSON document of `size` bytes (a callback envelope with a huge string), in pieces."""
    head, tail = b'{"output":"x","inputs":"', b'"}'
    filler = b"a" * piece
    sent = 0
    while sent < size:
        part = filler[: min(piece, size - sent)]
        if sent == 0:
            part = head + part[len(head) :]
        if sent + len(part) == size:
            part = part[: len(part) - len(tail)] + tail
        sent += len(part)
        yield part


def post_raw(port: int, size: int, chunked: bool) -> tuple[int | None, int]:
    """POST `size` bytes of JSON to the callback endpoint over a raw socket, declared with a
    Content-Length or sent chunked, stopping as soon as the server answers. Returns the
    answer's status (None when the connection was reset before it could be read) and the bytes
    of body sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    sock.sendall(
        "POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )
    sent = 0
    try:
        for part in json_pieces(size):
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered: no point sending the rest
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            sent += len(part)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        answer = sock.recv(4096)
    except (BrokenPipeError, ConnectionResetError):
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
    finally:
        sock.close()
    found = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return (int(found.group(1)) if found else None), sent


# -- body limits --------------------------------------------------------------------------------


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(server):
    process, port = server
    with PeakGrowth(process) as memory:
        status, sent = post_raw(port, BODY_BYTES, chunked=False)
    assert memory.growth < GROWTH_BOUND, f"the server grew by {memory.growth / MB:.0f} MB"
    assert status == 413
    assert sent < BODY_BYTES // 8, f"{sent / MB:.0f} MB went in before the answer"


def test_a_chunked_body_is_cut_at_the_limit_while_it_streams(server):
    process, port = server
    with PeakGrowth(process) as memory:
        status, sent = post_raw(port, BODY_BYTES, chunked=True)
    assert memory.growth < GROWTH_BOUND, f"the server grew by {memory.growth / MB:.0f} MB"
    assert status in (413, None)  # None: reset as the server closed on the unread rest
    assert sent < BODY_BYTES // 2, f"the server took {sent / MB:.0f} MB"
    # and it still serves
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 200")


def test_the_default_limit_holds_for_callbacks_and_forms(visitor):
    over = b"x" * OVER_THE_LIMIT
    for path, kind in (
        ("/_dash-update-component", "application/json"),
        ("/login", "application/x-www-form-urlencoded"),
    ):
        response = visitor.post(path, data=over, content_type=kind)
        assert response.status_code == 413, path


def test_only_the_streamed_upload_takes_a_body_over_the_limit(analyst):
    body = b"when,value\n" + b"2017-03-01 00:00,1\n" * (OVER_THE_LIMIT // 19)
    upload = analyst.post(
        "/upload",
        data=body,
        headers={"X-Filename": "big.csv", "X-CSRF-Token": session_csrf(analyst)},
        content_type="application/octet-stream",
    )
    assert upload.status_code == 201, upload.get_data(as_text=True)[:300]
    token = upload.get_json()["token"]
    analyst.post(f"/upload/{token}/discard", headers={"X-CSRF-Token": session_csrf(analyst)})
    callback = analyst.post("/_dash-update-component", data=body, content_type="application/json")
    assert callback.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 950_000 + b"]" * 950_000,  # 1.9 MB, inside the limit
        b'{"output":"x","inputs":' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    ],
    ids=["bare", "in-an-envelope"],
)
def test_json_nested_too_deep_to_parse_is_a_400_not_a_500(visitor, body):
    response = visitor.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 400


# -- downloads ----------------------------------------------------------------------------------


def publish(workspace, dataset_id: str, parts: list[pa.Table]) -> None:
    """A dataset whose current version holds one file per part (the first new, then appends)."""
    meta = DatasetMeta(
        id=dataset_id,
        city="hangzhou-2017",
        kind="generic",
        round_table="other",
        title={"en": dataset_id},
        description={"en": ""},
    )
    for i, table in enumerate(parts):

        def write(folder: Path, table: pa.Table = table) -> None:
            pq.write_table(table, folder / "part-0000.parquet")

        workspace.catalog.publish(meta, write, mode="new" if i == 0 else "append")


def part(start: int, rows: int) -> pa.Table:
    return pa.table(
        {"n": pa.array(range(start, start + rows), pa.int64()), "label": [f"row {start}"] * rows}
    )


def files_under(*folders: Path) -> list[str]:
    return sorted(str(p) for folder in folders for p in folder.rglob("*") if p.is_file())


def test_a_multi_file_version_downloads_as_one_file_and_leaves_nothing(
    dash_app, visitor, data_dir, tmp_path_factory, monkeypatch
):
    # the process's own temporary folder, so that other processes' files do not count
    private_tmp = tmp_path_factory.mktemp("tmp")
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    publish(dash_app.workspace, "counts", [part(0, 100_000), part(100_000, 100_000)])
    dataset = dash_app.workspace.catalog.get("counts")
    assert len(list(dataset.folder.glob("*.parquet"))) == 2
    expected = pads.dataset(dataset.folder, format="parquet").to_table()
    before = files_under(Path(tempfile.gettempdir()), data_dir)
    for _ in range(10):
        response = visitor.get("/download/counts.parquet")
        assert response.status_code == 200
        assert "counts-v2.parquet" in response.headers["Content-Disposition"]
        table = pq.read_table(io.BytesIO(response.get_data()))
        assert table.num_rows == 200_000
        assert table.equals(expected)
        assert pc.sum(table["n"]).as_py() == sum(range(200_000))
        response.close()
    assert files_under(Path(tempfile.gettempdir()), data_dir) == before


def test_a_single_file_version_is_sent_as_stored(dash_app, visitor):
    publish(dash_app.workspace, "single", [part(0, 1_000)])
    stored = next(dash_app.workspace.catalog.get("single").folder.glob("*.parquet"))
    response = visitor.get("/download/single.parquet")
    assert response.status_code == 200
    assert response.get_data() == stored.read_bytes()
    response.close()


# -- headers ------------------------------------------------------------------------------------


def assert_guarded(response, what: str) -> None:
    headers = response.headers
    assert headers.getlist("X-Frame-Options") == ["DENY"], what
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what


def test_every_kind_of_response_carries_the_security_headers(dash_app, visitor, analyst):
    publish(dash_app.workspace, "counts", [part(0, 10), part(10, 10)])
    page = visitor.get("/")
    script = re.search(r'<script src="(/_dash-component-suites/[^"]+)"', page.get_data(True))
    theme_callback = {
        "output": "theme-holder.className",
        "outputs": {"id": "theme-holder", "property": "className"},
        "inputs": [{"id": "ui", "property": "data", "value": {"lang": "en", "theme": "dark"}}],
        "changedPropIds": ["ui.data"],
    }
    responses = {
        "the overview page": page,
        "a round-table page": visitor.get("/traffic?lang=fr"),
        "the login page": visitor.get("/login"),
        "a login refused": visitor.post("/login", data={"csrf": "x", "name": "x"}),
        "the health check": visitor.get("/health"),
        "Dash's layout": visitor.get("/_dash-layout"),
        "Dash's dependencies": visitor.get("/_dash-dependencies"),
        "a Dash script": visitor.get(script.group(1)),
        "an asset": visitor.get("/assets/citylens.css"),
        "a callback": visitor.post("/_dash-update-component", json=theme_callback),
        "a CSV download": visitor.get("/download/counts.csv"),
        "a Parquet download": visitor.get("/download/counts.parquet"),
        "a missing page": visitor.get("/download/nothing.parquet"),
        "a body over the limit": visitor.post(
            "/_dash-update-component",
            data=b"x" * OVER_THE_LIMIT,
            content_type="application/json",
        ),
        "an analyst's upload page": analyst.get("/data/upload"),
        "an analyst's upload state": analyst.get("/upload/no-such-token-1234567890"),
    }
    for what, response in responses.items():
        assert_guarded(response, what)
        response.close()
