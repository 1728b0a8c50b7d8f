"""The interventions of a data folder: a table `interventions` in its `catalog.sqlite`.

An intervention is data the analyst records (on `/evaluate` or with `python -m datasets
add-intervention`), so it lives beside the datasets it is judged on, is shared by every server
process, and goes with the data folder when that is copied. Tuples (units, hours) are stored as
JSON arrays, dates as ISO text.

Ids are `slug(name)`, with `-2`, `-3`, … when taken: chosen and inserted in one write
transaction, so two processes adding the same name at once get two ids.

The demo's adaptive-signal pilot is one (`pilot_intervention`), under the fixed id
`<city>-signal-pilot`, so pages and decks find it without a lookup by name.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

from datasets.cities import CityProfile
from datasets.names import slug
from datasets.query import MissingDataset
from datasets.records import db
from datasets.rollups import PEAK_HOURS
from i18n import t

from .model import Intervention

if TYPE_CHECKING:
    from datasets.workspace import Workspace

CATALOG_FILE = "catalog.sqlite"
UNIT_KINDS = ("detector", "corridor", "district", "station")
PILOT_OUTCOME = "traffic_readings.speed_kmh"
PILOT_NAME_KEY = "evidence.intervention.signal_pilot"  # pages show the name in their language

SCHEMA = """
CREATE TABLE IF NOT EXISTS interventions (
    id TEXT PRIMARY KEY,
    city TEXT NOT NULL,
    name TEXT NOT NULL,
    start TEXT NOT NULL,            -- ISO date
    end_date TEXT,                  -- ISO date, NULL: open-ended
    treated TEXT NOT NULL,          -- JSON [unit id, …]
    control TEXT NOT NULL,          -- JSON [unit id, …]
    outcome TEXT NOT NULL,          -- kind.column
    unit TEXT NOT NULL,             -- detector | corridor | district | station
    hours TEXT NOT NULL,            -- JSON [hour, …], []: every hour
    weekdays INTEGER NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS interventions_city ON interventions (city, created_at);
"""


class InterventionError(ValueError):
    """An intervention the store refuses (malformed, or its id is taken)."""


def pilot_id(city_id: str) -> str:
    """The fixed id of a city's adaptive-signal pilot."""
    return f"{city_id}-signal-pilot"


def to_json(iv: Intervention) -> dict:
    """A JSON-ready dict (dates as ISO text, tuples as lists)."""
    out = asdict(iv)
    out["start"] = iv.start.isoformat()
    out["end"] = iv.end.isoformat() if iv.end else None
    for name in ("treated", "control", "hours"):
        out[name] = list(out[name])
    return out


def from_json(data: dict) -> Intervention:
    """The inverse of `to_json`."""
    end = data.get("end")
    return Intervention(
        id=str(data.get("id", "")),
        city=str(data["city"]),
        name=str(data["name"]),
        start=dt.date.fromisoformat(str(data["start"])),
        treated=tuple(str(u) for u in data.get("treated", ())),
        control=tuple(str(u) for u in data.get("control", ())),
        outcome=str(data["outcome"]),
        unit=data.get("unit", "detector"),
        end=dt.date.fromisoformat(str(end)) if end else None,
        hours=tuple(int(h) for h in data.get("hours", ())),
        weekdays=bool(data.get("weekdays", False)),
        created_by=str(data.get("created_by", "")),
        created_at=str(data.get("created_at", "")),
    )


def check_shape(iv: Intervention) -> None:
    """Refuse what no data could make valid: raises InterventionError."""
    if not iv.city:
        raise InterventionError("an intervention needs a city")
    if not iv.name.strip():
        raise InterventionError("an intervention needs a name")
    kind, dot, column = iv.outcome.partition(".")
    if not (dot and kind and column):
        raise InterventionError(f"outcome {iv.outcome!r} is not KIND.COLUMN")
    if iv.unit not in UNIT_KINDS:
        raise InterventionError(f"unit {iv.unit!r} is not one of {', '.join(UNIT_KINDS)}")
    if any(not 0 <= int(h) <= 23 for h in iv.hours):
        raise InterventionError("hours are 0-23")
    if iv.end is not None and iv.end < iv.start:
        raise InterventionError("the end is before the start")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _row(iv: Intervention) -> tuple:
    return (
        iv.id,
        iv.city,
        iv.name,
        iv.start.isoformat(),
        iv.end.isoformat() if iv.end else None,
        json.dumps(list(iv.treated), ensure_ascii=False),
        json.dumps(list(iv.control), ensure_ascii=False),
        iv.outcome,
        iv.unit,
        json.dumps(sorted({int(h) for h in iv.hours})),
        int(bool(iv.weekdays)),
        iv.created_by,
        iv.created_at,
    )


def _intervention(row: dict) -> Intervention:
    return Intervention(
        id=row["id"],
        city=row["city"],
        name=row["name"],
        start=dt.date.fromisoformat(row["start"]),
        treated=tuple(json.loads(row["treated"])),
        control=tuple(json.loads(row["control"])),
        outcome=row["outcome"],
        unit=row["unit"],
        end=dt.date.fromisoformat(row["end_date"]) if row["end_date"] else None,
        hours=tuple(json.loads(row["hours"])),
        weekdays=bool(row["weekdays"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


_INSERT = "INSERT INTO interventions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


class InterventionStore:
    """The interventions recorded in one data folder (safe across threads and processes)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / CATALOG_FILE
        db.create(self.path, SCHEMA)  # under a millisecond when the table exists

    def add(self, iv: Intervention) -> Intervention:
        """Store `iv` and return it as stored: with an id (`slug(name)`, then `-2`, `-3`, …
        when taken) if it had none, and its creation time. An explicit id already taken
        raises InterventionError."""
        check_shape(iv)
        iv = replace(
            iv,
            treated=tuple(str(u) for u in iv.treated),
            control=tuple(str(u) for u in iv.control),
            hours=tuple(sorted({int(h) for h in iv.hours})),
            created_at=iv.created_at or _now(),
        )
        with db.transaction(self.path) as con:
            if iv.id:
                if _taken(con, iv.id):
                    raise InterventionError(f"an intervention {iv.id!r} exists")
            else:
                iv = replace(iv, id=_free_id(con, slug(iv.name, 48, fallback="intervention")))
            con.execute(_INSERT, _row(iv))
        return iv

    def put(self, iv: Intervention) -> Intervention:
        """Store `iv` under its (non-empty) id, replacing the one of that id if any."""
        check_shape(iv)
        if not iv.id:
            raise InterventionError("put needs an id")
        iv = replace(iv, created_at=iv.created_at or _now())
        with db.transaction(self.path) as con:
            con.execute("DELETE FROM interventions WHERE id = ?", (iv.id,))
            con.execute(_INSERT, _row(iv))
        return iv

    def get(self, id: str) -> Intervention:
        with db.connect(self.path) as con:
            row = con.execute("SELECT * FROM interventions WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise KeyError(f"no intervention {id!r}")
        return _intervention(row)

    def list(self, city: str | None = None) -> builtins.list[Intervention]:
        """Newest first (then the later added of two made in the same second)."""
        query = "SELECT * FROM interventions"
        args: tuple = ()
        if city is not None:
            query += " WHERE city = ?"
            args = (city,)
        with db.connect(self.path) as con:
            rows = con.execute(query + " ORDER BY created_at DESC, rowid DESC", args).fetchall()
        return [_intervention(row) for row in rows]

    def remove(self, id: str) -> None:
        """Delete one; KeyError when there is none of that id."""
        with db.transaction(self.path) as con:
            gone = con.execute("DELETE FROM interventions WHERE id = ?", (id,)).rowcount
        if not gone:
            raise KeyError(f"no intervention {id!r}")


def _taken(con: db.Connection, id: str) -> bool:
    return con.execute("SELECT 1 FROM interventions WHERE id = ?", (id,)).fetchone() is not None


def _free_id(con: db.Connection, base: str) -> str:
    """`base`, else `base-2`, `base-3`, … : the first free one (inside the write transaction)."""
    taken = {
        row["id"]
        for row in con.execute(
            "SELECT id FROM interventions WHERE id = ? OR id LIKE ? ESCAPE '\\'",
            (base, base.replace("_", "\\_").replace("%", "\\%") + "-%"),
        )
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _pilot_units(
    workspace: Workspace, city: CityProfile
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(pilot detectors, the others) of the city's detectors dataset, sorted."""
    from datasets.queries.traffic import DETECTORS

    engine = workspace.engine
    try:
        src = engine.source(city.id, DETECTORS)
    except MissingDataset:
        return (), ()
    frame = engine.frame(
        f"""
        SELECT CAST(detector_id AS VARCHAR) AS detector_id, bool_or(coalesce(pilot, FALSE)) AS pilot
        FROM {src}
        WHERE detector_id IS NOT NULL
        GROUP BY 1
        ORDER BY 1
        """
    )
    pilot = frame["pilot"].astype(bool).to_numpy()
    ids = frame["detector_id"].astype(str).to_numpy()
    return tuple(ids[pilot]), tuple(ids[~pilot])


def pilot_intervention(workspace: Workspace, city: CityProfile) -> Intervention | None:
    """The city's adaptive-signal pilot as an intervention: pilot detectors against the
    others, peak-hour (`PEAK_HOURS`) weekday speed, from the pilot start.

    Stored under `pilot_id(city.id)` the first time and returned from the store after; stored
    again when the detectors or the start changed (a regenerated demo). None when the city
    has no pilot start, no detectors, or no pilot detector or no other one.
    """
    from datasets.queries.traffic import pilot_start

    start = pilot_start(city)
    if start is None:
        return None
    treated, control = _pilot_units(workspace, city)
    if not treated or not control:
        return None
    store = InterventionStore(workspace.data_dir)
    wanted = Intervention(
        id=pilot_id(city.id),
        city=city.id,
        name=t(PILOT_NAME_KEY, "en"),
        start=start,
        treated=treated,
        control=control,
        outcome=PILOT_OUTCOME,
        unit="detector",
        hours=tuple(PEAK_HOURS),
        weekdays=True,
        created_by="demo",
    )
    with contextlib.suppress(KeyError):
        kept = store.get(wanted.id)
        if replace(kept, created_at="", name=wanted.name) == wanted:
            return kept
    return store.put(wanted)
