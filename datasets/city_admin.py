"""Adding a city: check a district-boundary GeoJSON, then write the city's folder atomically.

A city is a folder `<data_dir>/cities/<id>/` holding `profile.json` and `districts.geojson`
(see `datasets.cities`). `add_city()` refuses, with a `CityError` whose text says what is wrong
and where, a district file that fails a check of `datasets.district_file` (whose names a
caller of this module may import from here too). Boundaries over
`datasets.boundaries.MAP_VERTICES` are simplified (the notes say from how many vertices to how
many).

Nothing is written until the whole file has been checked, and the folder appears in one
`rename()` of a complete temporary folder, so a reader (the app, another process) never sees a
half-written city; on a full disk the temporary folder is removed and `DiskFull` says so.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import math
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .cities import BUILTIN_CITIES_DIR
from .district_file import LANGUAGES, Checked
from .district_file import MAX_BYTES as MAX_BYTES
from .district_file import CityError as CityError
from .district_file import TooLarge as TooLarge
from .district_file import check_districts as check_districts
from .names import slug

CITIES_DIR = "cities"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
DEFAULT_TZ = "UTC"
CITY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class DiskFull(CityError):
    """The disk (or the quota) is full: nothing of the city was kept."""

    def __init__(self) -> None:
        super().__init__("the disk is full: the city was not added")


def is_disk_full(exc: OSError) -> bool:
    return exc.errno in DISK_FULL


@dataclass(frozen=True)
class NewCity:
    """What the analyst gives: a name (per language), a time zone, a district file."""

    name: dict[str, str]
    districts_geojson: bytes
    filename: str = "districts.geojson"
    timezone: str = DEFAULT_TZ
    name_field: str | None = None
    code_field: str | None = None
    population: int | None = None
    attribution: str = ""
    city_id: str | None = None
    extra: dict = field(default_factory=dict)


def check_timezone(name: str | None) -> str:
    name = (name or DEFAULT_TZ).strip()
    if name not in available_timezones() and name != "UTC":
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise CityError(
                f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai, "
                "Europe/Madrid or UTC"
            ) from None
    return name


# -- ids and folders -----------------------------------------------------------------------------


def cities_dir(data_dir: Path) -> Path:
    return Path(data_dir) / CITIES_DIR


def known_ids(data_dir: Path) -> set[str]:
    """Ids of the built-in cities and of those added under the data directory."""
    ids = set()
    for root in (BUILTIN_CITIES_DIR, cities_dir(data_dir)):
        if not root.is_dir():
            continue
        for folder in root.iterdir():
            if folder.name.startswith("."):  # a temporary folder being written
                continue
            profile = folder / "profile.json"
            if profile.is_file():
                try:
                    ids.add(json.loads(profile.read_text(encoding="utf-8"))["id"])
                except (OSError, ValueError, KeyError):
                    continue
    return ids


def city_exists(data_dir: Path, city_id: str) -> bool:
    return city_id in known_ids(data_dir)


def _zoom(bounds: tuple[float, float, float, float]) -> float:
    """A zoom that shows the whole city in a card about 700 × 400 px (web-mercator tiles)."""
    lon_min, lat_min, lon_max, lat_max = bounds
    lon_span = max(lon_max - lon_min, 1e-3)
    y_span = max(
        math.log(math.tan(math.pi / 4 + math.radians(lat_max) / 2))
        - math.log(math.tan(math.pi / 4 + math.radians(lat_min) / 2)),
        1e-5,
    )
    zoom = min(
        math.log2(700 * 360 / (512 * lon_span)), math.log2(400 * 2 * math.pi / (512 * y_span))
    )
    return round(max(min(zoom - 0.3, 14.0), 2.0), 2)


def profile_for(new: NewCity, checked: Checked, city_id: str) -> dict:
    names = {lang: (new.name.get(lang) or "").strip() for lang in LANGUAGES}
    english = names["en"] or next((v for v in names.values() if v), "")
    names = {lang: value or english for lang, value in names.items()}
    lon_min, lat_min, lon_max, lat_max = checked.bounds
    population = new.population
    if population is None:
        known = [d.get("population") for d in checked.districts]
        if known and all(known):
            population = sum(known)
    profile = {
        "id": city_id,
        "name": names,
        "timezone": new.timezone,
        "center": {
            "lat": round((lat_min + lat_max) / 2, 5),
            "lon": round((lon_min + lon_max) / 2, 5),
        },
        "zoom": _zoom(checked.bounds),
        "districts_file": "districts.geojson",
        "district_code_field": "code",
        "boundaries_attribution": new.attribution or f"Boundaries: {new.filename}",
        "added_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "districts": checked.districts,
        **new.extra,
    }
    if population:
        profile["population"] = int(population)
    return profile


def add_city(data_dir: Path, new: NewCity) -> tuple[str, list[str]]:
    """Check, then write `<data_dir>/cities/<id>/` atomically; returns (id, notes)."""
    name = next(
        (v.strip() for v in (new.name.get("en"), *new.name.values()) if v and v.strip()), ""
    )
    if not name:
        raise CityError("the city needs a name")
    timezone = check_timezone(new.timezone)
    if new.population is not None and new.population <= 0:
        raise CityError(f"population {new.population} is not a positive number")
    checked = check_districts(new.districts_geojson, new.filename, new.name_field, new.code_field)
    taken = known_ids(data_dir)
    if new.city_id:
        if not CITY_ID.match(new.city_id):
            raise CityError(f"city id {new.city_id!r}: use a-z, 0-9 and '-' (at most 64)")
        if new.city_id in taken:
            raise CityError(f"a city {new.city_id!r} exists already")
        candidates = [new.city_id]
    else:
        base = slug(name, max_length=56, fallback="city")
        candidates = [base] + [f"{base}-{n}" for n in range(2, 100)]
    new = replace(new, timezone=timezone)
    boundaries = geojson_bytes(checked.features)
    stored = len(boundaries) + len(json_bytes(profile_for(new, checked, candidates[-1])))
    if stored > MAX_BYTES:
        raise CityError(
            f"{new.filename}: the city would take {stored:,} bytes once stored, more than the "
            f"{MAX_BYTES // 2**20} MB allowed (very long district names?)"
        )
    try:
        root = cities_dir(data_dir)
        root.mkdir(parents=True, exist_ok=True)
        for city_id in candidates:
            if city_id in taken:
                continue
            profile = json_bytes(profile_for(new, checked, city_id))
            if _write_city(root, city_id, boundaries, profile):
                return city_id, checked.notes
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull() from None
        raise
    raise CityError(f"no free id for {name!r}: every candidate is taken")


def _write_city(root: Path, city_id: str, boundaries: bytes, profile: bytes) -> bool:
    """Write a complete temporary folder, then rename it to `city_id`; False if another process
    took the id meanwhile. Whatever happens, no temporary folder is left behind."""
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    try:
        tmp.mkdir()
        write_synced(tmp / "districts.geojson", boundaries)
        write_synced(tmp / "profile.json", profile)
        _fsync_dir(tmp)
        try:
            os.rename(tmp, root / city_id)  # fails if another process took the id meanwhile
        except OSError as exc:
            if is_disk_full(exc):
                raise
            return False
        _fsync_dir(root)
        return True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def json_bytes(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def geojson_bytes(features: list[dict]) -> bytes:
    """A FeatureCollection of `features`, compact: boundaries are most of a city's bytes."""
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write_synced(path: Path, data: bytes) -> None:
    """Write `path` and flush it to the disk (an error such as a full disk surfaces here)."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def timezones() -> list[str]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [*zones, "UTC"]
