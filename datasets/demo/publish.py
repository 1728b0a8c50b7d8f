"""Writes the demo city into a workspace: every generated table as a catalogued Parquet dataset.

The tables come from the pure generators beside this module; this module only names, describes,
writes and registers them, so the same catalog path serves demo and uploaded data alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

from i18n import LANGUAGES, t

from ..catalog import DatasetMeta
from ..cities import CityProfile
from ..evidence.interventions import pilot_intervention
from ..rollups import build_rollups
from ..schemas import KINDS
from ..workspace import Workspace
from .air import air_quality_hourly, air_stations
from .calendar import day_table as calendar_days
from .ecology import energy_daily, mobility_daily, waste_monthly
from .traffic import traffic_detectors, traffic_readings
from .traffic_demand import SLOTS, hourly_traffic_index
from .traffic_events import emergency_runs, incidents

SOURCES_DIR = Path(__file__).resolve().parent.parent / "sources"
DEMO_START = dt.date(2017, 1, 1)
SEED = 2017
ROW_GROUP_ROWS = 128 * 1024
SYNTHETIC_SOURCE = "CityLens demo generator (synthetic, modelled on published 2017 figures)"
SYNTHETIC_LICENCE = "CC0-1.0"


@dataclass(frozen=True)
class Provenance:
    source: str = SYNTHETIC_SOURCE
    source_url: str = ""
    licence: str = SYNTHETIC_LICENCE
    synthetic: bool = True


@dataclass(frozen=True)
class DemoTable:
    kind: str
    build: Callable[[], Iterable[pa.Table]]
    provenance: Provenance = Provenance()
    steps: int = 1


def dataset_id(city: CityProfile, kind: str) -> str:
    return f"{city.id}-{kind.replace('_', '-')}"


def translations(key: str) -> dict[str, str]:
    return {lang: t(key, lang) for lang in LANGUAGES}


def write_parquet(
    chunks: Iterable[pa.Table],
    folder: Path,
    schema: pa.Schema,
    tick: Callable[[], object] | None = None,
    row_group_rows: int = ROW_GROUP_ROWS,
    sorted_by: str | None = None,
) -> Path:
    """Stream chunks into one Parquet file, cast to the kind's schema (zstd, time-ordered,
    min/max statistics on, `sorted_by` recorded in the footer)."""
    path = folder / "part-0000.parquet"
    sorting = (
        [pq.SortingColumn(schema.names.index(sorted_by))] if sorted_by in schema.names else None
    )
    with pq.ParquetWriter(
        path, schema, compression="zstd", write_statistics=True, sorting_columns=sorting
    ) as writer:
        for chunk in chunks:
            writer.write_table(
                chunk.select(schema.names).cast(schema), row_group_size=row_group_rows
            )
            if tick:
                tick()
    return path


def row_group_rows(kind: str, detectors: int) -> int:
    """About one day of readings per row group (pruned by date), within 128 Ki-1 Mi rows."""
    if kind != "traffic_readings":
        return ROW_GROUP_ROWS
    return min(max(detectors * SLOTS, ROW_GROUP_ROWS), 1024 * 1024)


def write_demo_table(
    table: DemoTable, folder: Path, detectors: int, tick: Callable[[], object] | None = None
) -> None:
    """The table's one Parquet part, then its rollups (`datasets.rollups`) beside it."""
    spec = KINDS[table.kind]
    part = write_parquet(
        table.build(),
        folder,
        spec.schema,
        tick,
        row_group_rows(table.kind, detectors),
        spec.time_column,
    )
    build_rollups(table.kind, part, folder)


def metro_flow(file_name: str) -> Iterator[pa.Table]:
    """Real metro flows shipped in `datasets/sources/`: date + HH:MM slot → one local timestamp."""
    table = pacsv.read_csv(
        SOURCES_DIR / file_name,
        convert_options=pacsv.ConvertOptions(
            column_types={"date": pa.string(), "time_start": pa.string()}
        ),
    )
    stamps = pa.compute.strptime(
        pa.compute.binary_join_element_wise(table["date"], table["time_start"], " "),
        format="%Y-%m-%d %H:%M",
        unit="s",
    )
    yield pa.table(
        {
            "ts": stamps,
            "station_index": table["station_index"],
            "inflow": table["inflow"],
            "outflow": table["outflow"],
        }
    ).sort_by([("ts", "ascending"), ("station_index", "ascending")])


def demo_tables(city: CityProfile, detectors: int, days: int, seed: int) -> list[DemoTable]:
    day_table = calendar_days(city, DEMO_START, days, seed)
    detector_table = traffic_detectors(city, detectors, seed)
    stations = air_stations(city)
    batch_days = 7
    return [
        DemoTable("weather_daily", lambda: [day_table]),
        DemoTable("traffic_detectors", lambda: [detector_table]),
        DemoTable(
            "traffic_readings",
            lambda: traffic_readings(detector_table, day_table, seed, batch_days=batch_days),
            steps=-(-days // batch_days),
        ),
        DemoTable("incidents", lambda: [incidents(detector_table, day_table, seed)]),
        DemoTable(
            "emergency_runs",
            lambda: [emergency_runs(detector_table, day_table, seed)],
        ),
        DemoTable("air_stations", lambda: [stations]),
        DemoTable(
            "air_quality_hourly",
            lambda: [
                air_quality_hourly(stations, day_table, hourly_traffic_index(day_table), seed)
            ],
        ),
        DemoTable("energy_daily", lambda: [energy_daily(day_table, seed)]),
        DemoTable("mobility_daily", lambda: [mobility_daily(day_table, seed)]),
        DemoTable("waste_monthly", lambda: [waste_monthly(day_table, seed)]),
        *real_tables(city),
    ]


REAL_READERS = {"metro_flow": metro_flow}


def real_tables(city: CityProfile) -> list[DemoTable]:
    """The real datasets a city's demo.json lists (`real_datasets`), with their provenance."""
    raw = json.loads((city.folder / "demo.json").read_text(encoding="utf-8"))
    return [
        DemoTable(
            spec["kind"],
            lambda spec=spec: REAL_READERS[spec["kind"]](spec["file"]),
            Provenance(spec["source"], spec.get("source_url", ""), spec["licence"], False),
        )
        for spec in raw.get("real_datasets", [])
    ]


def meta_for(city: CityProfile, kind: str, provenance: Provenance) -> DatasetMeta:
    spec = KINDS[kind]
    return DatasetMeta(
        id=dataset_id(city, kind),
        city=city.id,
        kind=kind,
        round_table=spec.round_table,
        title=translations(f"dataset.{kind}.title"),
        description=translations(f"dataset.{kind}.description"),
        sdg=spec.sdg,
        source=provenance.source,
        source_url=provenance.source_url,
        licence=provenance.licence,
        synthetic=provenance.synthetic,
    )


def generate_demo(
    workspace: Workspace,
    city_id: str,
    detectors: int = 60,
    days: int = 365,
    seed: int = SEED,
    progress: bool = False,
    only_missing: bool = True,
) -> list[str]:
    """Generate and publish the demo datasets; returns the ids written."""
    city = workspace.city(city_id)
    present = {d.meta.kind for d in workspace.catalog.datasets(city=city.id)}
    tables = [
        table
        for table in demo_tables(city, detectors, days, seed)
        if not (only_missing and table.kind in present)
    ]
    written = []
    with tqdm(
        total=sum(table.steps for table in tables),
        desc="Creating the demo city",
        unit="step",
        disable=not progress,
    ) as bar:
        for table in tables:
            spec = KINDS[table.kind]
            bar.set_postfix_str(table.kind)
            meta = meta_for(city, table.kind, table.provenance)
            tick = bar.update if table.steps > 1 else None
            workspace.catalog.publish(
                meta,
                lambda folder, table=table, tick=tick: write_demo_table(
                    table, folder, detectors, tick
                ),
                mode="new" if table.kind not in present else "replace",
                time_column=spec.time_column,
                units={c.name: c.unit for c in spec.columns},
                note="demo",
            )
            if table.steps == 1:
                bar.update()
            written.append(meta.id)
    workspace.engine.clear_cache()
    pilot_intervention(workspace, city)  # the demo ships its signal pilot as an intervention
    return written


def ensure_demo(
    workspace: Workspace, city_id: str, detectors: int = 60, days: int = 365, progress: bool = False
) -> list[str]:
    """Create the demo datasets once per data directory, even with several server processes.

    A marker written after the last dataset means a dataset the analyst later deletes stays
    deleted; a start interrupted half-way leaves no marker and completes what is missing.
    """
    city = workspace.city(city_id)
    if not (city.folder / "demo.json").exists():
        return []
    marker = workspace.data_dir / f".demo-{city.id}.done"
    with workspace.lock("demo"):
        if marker.exists():
            return []
        written = generate_demo(workspace, city_id, detectors, days, progress=progress)
        marker.write_text(dt.datetime.now(dt.UTC).isoformat(timespec="seconds") + "\n")
        return written
