"""Ingest speed: a well-formed CSV of traffic readings through the ingest pipeline (the same
path as an upload or `python -m datasets ingest`: inspect, validate, commit, rollups) into a
scratch data folder, in MB of CSV per second.

The time is that of the whole `datasets.ingest.ingest` call, the rollups included (the
validation builds them, the commit links them into the new version); `complete(...)`
afterwards only checks that every grain is there. The CPU time of the call and the load
average before and after are kept beside it: on a shared 2-core machine the wall time says
little without them."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def write_csv(readings_folder: Path, target_mb: float, out: Path) -> tuple[int, int]:
    """The first rows of the benchmark's readings as a CSV of about `target_mb` MB (ISO
    timestamps, a header line); returns (rows, bytes)."""
    parquet = pq.ParquetFile(sorted(readings_folder.glob("*.parquet"))[0])
    written = rows = 0
    options = pacsv.WriteOptions(include_header=True)
    with pacsv.CSVWriter(out, parquet.schema_arrow, write_options=options) as writer:
        for batch in parquet.iter_batches(batch_size=256 * 1024):
            table = pa.Table.from_batches([batch])
            table = table.set_column(
                0, "ts", pc.strftime(table["ts"], format="%Y-%m-%d %H:%M:%S")
            ).cast(pa.schema([pa.field("ts", pa.string()), *list(parquet.schema_arrow)[1:]]))
            writer.write_table(table)
            rows += table.num_rows
            written = out.stat().st_size
            if written >= target_mb * 1024 * 1024:
                break
    return rows, out.stat().st_size


def measure_ingest(readings_folder: Path, target_mb: float, city: str) -> dict:
    from datasets.ingest import UploadMeta, ingest
    from datasets.rollups import complete, grains_for
    from datasets.workspace import Workspace

    scratch = Path(tempfile.mkdtemp(prefix="citylens-ingest-bench-"))
    try:
        csv_path = scratch / "readings.csv"
        rows, size = write_csv(readings_folder, target_mb, csv_path)
        workspace = Workspace.open(scratch / "data")
        load_before = os.getloadavg()[0]
        cpu = time.process_time()
        started = time.perf_counter()
        version, report = ingest(
            csv_path,
            workspace,
            kind="traffic_readings",
            meta=UploadMeta(title="Benchmark readings", city=city),
            mode="new",
        )
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        folder = workspace.data_dir / version.folder
        rolled = all(complete(folder, g.name) for g in grains_for("traffic_readings"))
        workspace.engine.close()
        return {
            "csv_mb": round(size / 1024**2, 1),
            "rows": rows,
            "rows_ok": report.rows_ok,
            "seconds": round(seconds, 2),
            "ingest_mb_s": round(size / 1024**2 / seconds, 1),
            "cpu_seconds": round(cpu_seconds, 2),
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "rollups_built": rolled,
            "path": "datasets.ingest.ingest (inspect, validate, commit)",
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
