"""Rollups: small aggregate tables built beside each raw Parquet part when a version is written.

A version folder holds raw parts (`part-0000.parquet`, …) and, for each part and grain, its
rollup `_rollups/<grain>/<part stem>.parquet`. The leading underscore keeps the rollups out of
every reader of the raw rows: DuckDB's `*.parquet` glob is not recursive, and pyarrow datasets
(so `pd.read_parquet(folder)` and the CSV export) skip names starting with `_` or `.`.

Rollups hold only sums, counts, minima and maxima (and, for a quantile, an exact histogram of
the stored values), which add up across parts: an appended version links the old parts'
rollups beside the old parts (the catalog's derived files, `catalog.link_derived`) and builds
only the new part's.
The query engine answers from the coarsest complete grain (`QueryEngine.plan`) and falls back
to the raw rows when a grain is missing or was built by another definition (data written
before rollups existed, or after a definition change).

Every rollup file records the hash of its definition in its Parquet key-value metadata
(`citylens_rollup`), so a changed definition is never read as if it were the current one.

An upload builds its rollups while it is validated, in its scratch folder: the district series
summed as the rows stream (`rollup_series`, the same tables as the SQL here), the other grains
selected by their SQL as soon as the part is written; the commit links them into the version.

    build_rollups("traffic_readings", folder / "part-0000.parquet", folder)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .catalog import derived_path

ROLLUPS_DIR = "_rollups"  # "_": pyarrow datasets and pd.read_parquet(folder) skip it
META_KEY = "citylens_rollup"
# Rollups are sorted by time: small row groups let a query of a few days skip the rest of the
# year by the groups' min/max statistics (e.g. 16 Ki rows = a week of 5-minute district sums).
ROW_GROUP_ROWS = 16 * 1024


# Traffic definitions the rollups bake in and the traffic queries share (a change makes old
# rollups unusable: their tag then differs from the definition's).
NIGHT_END_HOUR = 5  # free-flow speeds come from the readings of 00:00-04:59
PEAK_HOURS = (7, 8, 17, 18)  # 07:00-08:59 and 17:00-18:59


def _traffic_constants() -> dict[str, str]:
    """The query constants a traffic rollup bakes in."""
    return {
        "peak_hours": ", ".join(str(int(h)) for h in PEAK_HOURS),
        "night_end_hour": str(int(NIGHT_END_HOUR)),
    }


@dataclass(frozen=True)
class Grain:
    """One rollup table: `sql` selects it from `{src}` (the raw part, or the rollup named by
    `source` when that one is finer and already built)."""

    name: str
    kind: str
    sql: str
    needs: tuple[str, ...]  # raw columns the definition reads
    source: str | None = None  # a finer grain of the same part to build from
    constants: Callable[[], dict[str, str]] | None = None

    def text(self) -> str:
        consts = self.constants() if self.constants else {}
        return self.sql.format(src="{src}", **consts)

    def tag(self) -> str:
        """What a file of this grain records: name and hash of the definition."""
        digest = hashlib.sha256(self.text().encode()).hexdigest()[:16]
        return f"{self.name}:{digest}"


# The 5-minute, hourly and daily district series: flow and speed over time, the hour x weekday
# rhythm, daily volumes. Sums and counts only (means are sum / count at query time).
_DISTRICT_5MIN = """
    SELECT time_bucket(INTERVAL 5 MINUTE, ts) AS ts,
           district,
           count(*) AS n,
           count(speed_kmh) AS n_speed,
           sum(speed_kmh)::DOUBLE AS speed_sum,
           min(speed_kmh) AS speed_min,
           max(speed_kmh) AS speed_max,
           count(volume) AS n_volume,
           sum(volume)::BIGINT AS volume_sum,
           max(volume) AS volume_max
    FROM {src}
    GROUP BY ALL
    ORDER BY ts, district
"""
_COARSER = """
    SELECT {bucket} AS {column},
           district,
           sum(n)::BIGINT AS n,
           sum(n_speed)::BIGINT AS n_speed,
           sum(speed_sum)::DOUBLE AS speed_sum,
           min(speed_min) AS speed_min,
           max(speed_max) AS speed_max,
           sum(n_volume)::BIGINT AS n_volume,
           sum(volume_sum)::BIGINT AS volume_sum,
           max(volume_max) AS volume_max
    FROM {{src}}
    GROUP BY ALL
    ORDER BY {column}, district
"""
# Per detector and day: the district map and the KPIs (mean speed, travel time index through
# sum of 1/speed), the signal pilot (peak hours), with min/max kept for drill-down.
_DETECTOR_DAY = """
    SELECT CAST(ts AS DATE) AS day,
           detector_id,
           district,
           count(*) AS n,
           count(speed_kmh) AS n_speed,
           sum(speed_kmh)::DOUBLE AS speed_sum,
           min(speed_kmh) AS speed_min,
           max(speed_kmh) AS speed_max,
           count(*) FILTER (WHERE speed_kmh > 0) AS n_moving,
           sum(1.0 / speed_kmh) FILTER (WHERE speed_kmh > 0) AS inverse_speed_sum,
           count(volume) AS n_volume,
           sum(volume)::BIGINT AS volume_sum,
           count(occupancy) AS n_occupancy,
           sum(occupancy)::DOUBLE AS occupancy_sum,
           count(*) FILTER (WHERE hour(ts) IN ({peak_hours})) AS peak_n,
           count(speed_kmh) FILTER (WHERE hour(ts) IN ({peak_hours})) AS peak_n_speed,
           (sum(speed_kmh) FILTER (WHERE hour(ts) IN ({peak_hours})))::DOUBLE AS peak_speed_sum
    FROM {src}
    GROUP BY ALL
    ORDER BY day, detector_id, district
"""
# Night-time (free-flow) speeds per detector as an exact histogram of the stored values: the
# 85th percentile over all parts is then exact (speeds are stored to 0.1 km/h, so a detector
# has at most a few thousand distinct values).
_NIGHT_SPEED = """
    SELECT detector_id, speed_kmh, count(*) AS n
    FROM {src}
    WHERE hour(ts) < {night_end_hour} AND speed_kmh > 0
    GROUP BY ALL
    ORDER BY detector_id, speed_kmh
"""

_SERIES = ("ts", "district", "volume", "speed_kmh")
GRAINS: dict[str, Grain] = {
    g.name: g
    for g in (
        Grain("district_5min", "traffic_readings", _DISTRICT_5MIN, _SERIES),
        Grain(
            "district_hour",
            "traffic_readings",
            _COARSER.format(bucket="date_trunc('hour', ts)", column="hour_start"),
            _SERIES,
            source="district_5min",
        ),
        Grain(
            "district_day",
            "traffic_readings",
            _COARSER.format(bucket="CAST(hour_start AS DATE)", column="day"),
            _SERIES,
            source="district_hour",
        ),
        Grain(
            "detector_day",
            "traffic_readings",
            _DETECTOR_DAY,
            ("ts", "detector_id", "district", "volume", "speed_kmh", "occupancy"),
            constants=_traffic_constants,
        ),
        Grain(
            "night_speed",
            "traffic_readings",
            _NIGHT_SPEED,
            ("ts", "detector_id", "speed_kmh"),
            constants=_traffic_constants,
        ),
    )
}


def grains_for(kind: str) -> list[Grain]:
    return [g for g in GRAINS.values() if g.kind == kind]


def rollup_path(folder: Path, grain: str, part: Path | str) -> Path:
    return derived_path(folder, ROLLUPS_DIR, grain, part)


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect(
    threads: int | None = None, memory_limit: str | None = "2GB"
) -> duckdb.DuckDBPyConnection:
    """A DuckDB database to build rollups in. Opening one takes ~13 ms of CPU, which an upload's
    validation spends while it waits for its first rows rather than once they are written."""
    settings = {"threads": threads or max(1, os.cpu_count() or 1)}
    if memory_limit:
        settings["memory_limit"] = memory_limit
    settings["preserve_insertion_order"] = True
    return duckdb.connect(":memory:", config=settings)


def build_rollups(
    kind: str,
    part_path: Path | str,
    folder: Path | str,
    *,
    ready: Path | str | None = None,
    skip: Collection[str] = (),
    con: duckdb.DuckDBPyConnection | None = None,
    threads: int | None = None,
    memory_limit: str | None = "2GB",
) -> list[Path]:
    """Write every rollup of one raw part of a `kind` into `folder/_rollups/<grain>/`, but the
    grains named in `skip`.

    A grain the folder already holds for this part with the current tag is kept; one the folder
    `ready` holds so (an upload's scratch folder, where validation built them) is linked into
    place; the others are selected by their SQL. Returns the files of the part's grains (none
    for a kind without rollups, or when the part lacks a column a grain reads: the queries then
    use the raw rows). Each file is written under a temporary name and renamed, so a reader
    never sees half a rollup. The SQL runs in `con` when given (the caller closes it), else in
    a database of its own (`connect`), opened only if a grain needs it.
    """
    grains = [g for g in grains_for(kind) if g.name not in skip]
    part_path, folder = Path(part_path), Path(folder)
    if not grains:
        return []
    columns = set(pq.ParquetFile(part_path).schema_arrow.names)
    built: dict[str, Path] = {}
    own = con is None
    try:
        for grain in grains:
            if not set(grain.needs) <= columns:
                continue
            dest = rollup_path(folder, grain.name, part_path)
            if _current(dest, grain):
                built[grain.name] = dest
                continue
            prepared = rollup_path(ready, grain.name, part_path) if ready else None
            if prepared and _current(prepared, grain):
                built[grain.name] = _publish(
                    folder, grain, part_path, partial(link_or_copy, prepared)
                )
                continue
            source = built.get(grain.source) if grain.source else None
            if grain.source and source is None:
                continue
            con = con or connect(threads, memory_limit)
            write = partial(_copy_sql, con, grain, source or part_path)
            built[grain.name] = _publish(folder, grain, part_path, write)
    finally:
        if own and con is not None:
            con.close()
    return list(built.values())


def _current(path: Path, grain: Grain) -> bool:
    return path.is_file() and rollup_tag(path) == grain.tag()


class RollupWriter:
    """A grain's file written a table at a time by code other than its SQL, as the SQL's COPY
    writes it: zstd, row groups of ROW_GROUP_ROWS, the grain's tag alone in the key-value
    metadata. It keeps a temporary name until `close` renames it into place."""

    def __init__(
        self,
        folder: Path | str,
        grain: Grain,
        part: Path | str,
        schema: pa.Schema,
        *,
        plain: Collection[str] = (),
        statistics: list[str] | None = None,
    ):
        """`plain`: columns written without a dictionary (sums, nearly all distinct: one
        would only cost time); `statistics`: the columns with min/max statistics (all when
        None), those queries skip row groups by."""
        self.dest = rollup_path(Path(folder), grain.name, part)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self.scratch = _scratch_path(self.dest)
        self.tag = grain.tag()
        self.writer = pq.ParquetWriter(
            self.scratch,
            schema,
            compression="zstd",
            store_schema=False,
            use_dictionary=[n for n in schema.names if n not in plain],
            write_statistics=True if statistics is None else statistics,
        )

    def write(self, table: pa.Table) -> None:
        if table.num_rows:  # DuckDB writes no row group for no rows
            self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def close(self) -> Path:
        self.writer.add_key_value_metadata({META_KEY: self.tag})
        self.writer.close()
        os.replace(self.scratch, self.dest)
        return self.dest

    def abort(self) -> None:
        self.writer.close()
        self.scratch.unlink(missing_ok=True)


def write_rollup(
    table: pa.Table, folder: Path | str, grain: Grain, part: Path | str, **options
) -> Path:
    """A grain's whole table, computed by code other than its SQL, written as `RollupWriter`
    (with its `options`)."""
    writer = RollupWriter(folder, grain, part, table.schema, **options)
    try:
        writer.write(table)
        return writer.close()
    except BaseException:
        writer.abort()
        raise


def _scratch_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.stem}-{uuid.uuid4().hex}.tmp")


def _publish(folder: Path, grain: Grain, part: Path | str, write: Callable[[Path], None]) -> Path:
    """`write(path)` a grain's file under a temporary name, then rename it into place."""
    dest = rollup_path(folder, grain.name, part)
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch = _scratch_path(dest)
    try:
        write(scratch)
        os.replace(scratch, dest)
    finally:
        scratch.unlink(missing_ok=True)
    return dest


def link_or_copy(source: Path, dest: Path) -> None:
    """A hard link (no copy, no space), or a copy when `dest` is on another file system."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def _copy_sql(con: duckdb.DuckDBPyConnection, grain: Grain, source: Path, path: Path) -> None:
    sql = grain.text().format(src=f"read_parquet({_quote(source)})")
    tag = grain.tag().replace("'", "")
    con.execute(
        f"COPY ({sql}) TO {_quote(path)} (FORMAT parquet, COMPRESSION zstd,"
        f" ROW_GROUP_SIZE {ROW_GROUP_ROWS}, KV_METADATA {{{META_KEY}: '{tag}'}})"
    )


def rollup_tag(path: Path) -> str | None:
    """The definition tag a rollup file was written with (None if it has none)."""
    try:
        meta = pq.ParquetFile(path).metadata.metadata or {}
    except (OSError, ValueError):
        return None
    raw = meta.get(META_KEY.encode())
    return raw.decode() if raw else None


def complete(folder: Path | str, grain: str) -> bool:
    """True when every raw part of the version folder has a current rollup of this grain."""
    spec = GRAINS.get(grain)
    folder = Path(folder)
    parts = sorted(folder.glob("*.parquet"))
    if spec is None or not parts:
        return False
    return all(_current(rollup_path(folder, grain, part), spec) for part in parts)
