"""Adding a city: check a district-boundary GeoJSON, then write the city's folder atomically.

A city is a folder `<data_dir>/cities/<id>/` holding `profile.json` and `districts.geojson`
(see `datasets.cities`). `add_city()` refuses, with a `CityError` whose text says what is wrong
and where, a file that is empty, not JSON, not a FeatureCollection of Polygon/MultiPolygon
features, without district names, or whose coordinates are not longitude/latitude (WGS 84).
Boundaries over `datasets.boundaries.MAP_VERTICES` are simplified (the notes say from how many
vertices to how many). Reading the file is bounded: it is refused before it is parsed when it
holds more positions or objects than a district file does, and each feature's positions are
parsed only when its turn comes.

Nothing is written until the whole file has been checked, and the folder appears in one
`rename()` of a complete temporary folder, so a reader (the app, another process) never sees a
half-written city; on a full disk the temporary folder is removed and `DiskFull` says so.
"""

from __future__ import annotations

import codecs
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

import msgspec
import numpy as np
import shapely
from shapely.geometry import mapping

from .boundaries import MAP_VERTICES, RING_VERTICES, Simplified, ring_count, simplify_to_budget
from .cities import BUILTIN_CITIES_DIR
from .names import slug

LANGUAGES = ("en", "fr", "es", "zh")
CITIES_DIR = "cities"
MAX_BYTES = 50 * 1024 * 1024  # a district file is a few MB at most
# Counted in the file's text before it is parsed ("[" and "{"): a position parsed costs ~160 bytes
# of Python objects whatever its text, and only one feature's positions are parsed at once
# (measured: 2 M positions in one polygon, 320 MB for that feature; 1 M in ten polygons, 35 MB).
MAX_POSITIONS = 2_000_000
MAX_OBJECTS = 100_000
UTF8_SLICE = 4 * 1024 * 1024
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
DEFAULT_TZ = "UTC"
NAME_FIELDS = ("name", "NAME", "Name", "name_en", "NAME_EN", "nom", "nombre", "NAME_2", "NAME_1")
CODE_FIELDS = ("adcode", "code", "CODE", "id", "ID", "district_code")
POPULATION_FIELDS = ("population", "POPULATION", "pop", "POP")
POLYGONS = ("Polygon", "MultiPolygon")
WGS84_NAMES = ("CRS84", "EPSG::4326", "EPSG:4326", "WGS84", "WGS 84")
CITY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class CityError(ValueError):
    """A refusal meant for the analyst: what is wrong with the file or the form, and where."""


class DiskFull(CityError):
    """The disk (or the quota) is full: nothing of the city was kept."""

    def __init__(self) -> None:
        super().__init__("the disk is full: the city was not added")


class TooLarge(CityError):
    """A district file over `MAX_BYTES`."""

    def __init__(self, filename: str, size: int | None = None) -> None:
        size_text = f"{size:,} bytes is" if size is not None else "it is"
        super().__init__(
            f"{filename}: {size_text} more than the {MAX_BYTES // 2**20} MB allowed for a "
            "district file; simplify the boundaries first"
        )


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


@dataclass(frozen=True)
class Checked:
    """A district file that passed every check, normalised: codes, names per language."""

    features: list[dict]
    districts: list[dict]
    name_field: str
    code_field: str | None
    bounds: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max
    notes: list[str]
    source: list[dict]  # the file's features as read, their boundaries as kept
    vertices_read: int
    vertices_kept: int  # fewer than read: simplified


# -- checks --------------------------------------------------------------------------------------


def _json_error(data: memoryview, exc: msgspec.DecodeError, filename: str) -> CityError:
    """msgspec's complaint (`JSON is malformed: invalid character (byte 14)`) as a line and a
    column of the file."""
    text = str(exc)
    found = re.search(r"\(byte (\d+)\)$", text)
    if found:
        at = int(found.group(1))
        what = text[: found.start()].strip().removeprefix("JSON is malformed:").strip()
    else:  # "Input data was truncated"
        at = len(data)
        what = "the file ends before its JSON does (cut off?)"
    raw = data.obj if isinstance(data.obj, bytes) else bytes(data)
    start = len(raw) - len(data)  # a BOM skipped
    line = raw.count(b"\n", start, start + at) + 1
    column = start + at - raw.rfind(b"\n", start, start + at)
    return CityError(f"{filename}: not JSON: line {line}, column {column}: {what}")


def _check_utf8(raw: bytes, filename: str) -> None:
    """Refuse a file that is not UTF-8 text, a slice at a time (no decoded copy of it all)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    for start in range(0, len(raw), UTF8_SLICE):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(view[start : start + UTF8_SLICE], final=start + UTF8_SLICE >= len(raw))
        except UnicodeDecodeError as exc:
            raise CityError(
                f"{filename}: not JSON: byte {start - pending + exc.start} is not UTF-8 text "
                "(GeoJSON is UTF-8)"
            ) from None


def _check_size(raw: bytes, filename: str) -> None:
    """Refused before it is parsed: a file too long, or holding more arrays or objects than a
    district file does (each costs ~100 bytes of memory once parsed, whatever its text)."""
    if not raw or not raw.strip():
        raise CityError(f"{filename}: the file is empty; expected a GeoJSON FeatureCollection")
    if len(raw) > MAX_BYTES:
        raise TooLarge(filename, len(raw))
    positions = raw.count(b"[")
    if positions > MAX_POSITIONS:
        raise CityError(
            f"{filename}: about {positions:,} positions, more than the {MAX_POSITIONS:,} a "
            "district file may hold; simplify the boundaries first (mapshaper, QGIS)"
        )
    objects = raw.count(b"{")
    if objects > MAX_OBJECTS:
        raise CityError(
            f"{filename}: {objects:,} JSON objects, more than the {MAX_OBJECTS:,} a district "
            "file may hold (a few per district)"
        )


def _value(raw: msgspec.Raw | None, filename: str) -> object:
    """A part of the file (already checked to be JSON) as Python values."""
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.ValidationError as exc:  # a number too large for a float (1e999)
        raise CityError(f"{filename}: not JSON that can be read: {exc}") from None


def _json_kind(data: memoryview) -> str:
    """The type of the JSON value `data` holds, named from its first character."""
    first = re.search(rb"\S", data)
    kinds = {b"[": "list", b'"': "str", b"t": "bool", b"f": "bool", b"n": "null"}
    return kinds.get(first.group() if first else b"", "number")


def _read_features(raw: bytes, filename: str) -> list[tuple[dict, msgspec.Raw | None]]:
    """Each feature's properties, and its geometry left as JSON text: a geometry is parsed
    only when its turn comes, so at most one feature's positions are Python objects at once."""
    _check_size(raw, filename)
    _check_utf8(raw, filename)
    data = memoryview(raw)
    if raw.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    except msgspec.ValidationError:
        raise CityError(
            f"{filename}: the JSON is a {_json_kind(data)}, not a GeoJSON FeatureCollection"
        ) from None
    except msgspec.DecodeError as exc:
        raise _json_error(data, exc, filename) from None
    kind = _value(top.get("type"), filename)
    if kind == "Feature":
        items = [msgspec.Raw(data)]
    elif kind != "FeatureCollection":
        what = (
            f"a GeoJSON {kind}" if isinstance(kind, str) and kind else "JSON without a GeoJSON type"
        )
        raise CityError(f"{filename}: {what}; expected a FeatureCollection of district polygons")
    else:
        _check_crs(_value(top.get("crs"), filename), filename)
        try:
            items = msgspec.json.decode(top.get("features", b"null"), type=list[msgspec.Raw])
        except msgspec.ValidationError:
            items = []
    if not items:
        raise CityError(f"{filename}: the FeatureCollection is empty: no district to add")
    features = []
    for index, item in enumerate(items):
        try:
            feature = msgspec.json.decode(item, type=dict[str, msgspec.Raw])
        except msgspec.ValidationError:
            feature = {}
        if _value(feature.get("type"), filename) != "Feature":
            raise CityError(f"{filename}: item {index + 1} of features is not a Feature")
        properties = _value(feature.get("properties"), filename)
        features.append(
            (properties if isinstance(properties, dict) else {}, feature.get("geometry"))
        )
    return features


def _check_crs(crs: object, filename: str) -> None:
    properties = crs.get("properties") if isinstance(crs, dict) else None
    if not isinstance(properties, dict):
        return
    name = str(properties.get("name", ""))
    if name and not any(name.upper().endswith(w.upper()) for w in WGS84_NAMES):
        raise CityError(
            f"{filename}: coordinates are not longitude/latitude: the file declares the "
            f"coordinate system {name}; reproject it to WGS 84 (EPSG:4326) first"
        )


def _position(position: object, where: str) -> tuple[float, float]:
    try:
        return float(position[0]), float(position[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError, KeyError):
        raise CityError(f"{where}: {position!r} is not a [longitude, latitude] position") from None


def _ring(ring: object, where: str) -> np.ndarray:
    """A ring's positions as an (n, 2) array of longitude, latitude; refused with the first
    position that is not one."""
    if not isinstance(ring, list) or len(ring) < 4:
        raise CityError(
            f"{where}: a polygon ring needs at least 4 positions (closed), "
            f"found {len(ring) if isinstance(ring, list) else 0}"
        )
    try:
        xy = np.asarray(ring, dtype=float)
    except (TypeError, ValueError):  # ragged ([x, y] beside [x, y, z]) or not numbers
        xy = None
    if xy is None or xy.ndim != 2 or xy.shape[1] < 2:
        xy = np.array([_position(position, where) for position in ring], dtype=float)
    xy = xy[:, :2]
    finite = np.isfinite(xy).all(axis=1)
    if not finite.all():
        raise CityError(
            f"{where}: a position that is not a number: {ring[int(np.argmin(finite))]!r}"
        )
    x, y = xy[:, 0], xy[:, 1]
    inside = (x >= -180) & (x <= 180) & (y >= -90) & (y <= 90)
    if not inside.all():
        x, y = xy[int(np.argmin(inside))]
        hint = (
            "projected coordinates (metres, e.g. UTM)?"
            if abs(x) > 360 or abs(y) > 360
            else "latitude and longitude swapped?"
        )
        raise CityError(
            f"{where}: coordinates are not longitude/latitude: found ({x:g}, {y:g}), "
            f"outside -180…180, -90…90 ({hint}); reproject to WGS 84 (EPSG:4326)"
        )
    return xy


def _check_geometry(index: int, geometry: object, filename: str):
    """The feature's (multi)polygon as a shapely geometry, or a `CityError` saying what is
    wrong and where."""
    where = f"{filename}: feature {index + 1}"
    if not isinstance(geometry, dict) or not geometry.get("type"):
        raise CityError(f"{where} has no geometry; district boundaries must be polygons")
    kind = geometry["type"]
    if kind not in POLYGONS:
        raise CityError(
            f"{where} is a {kind}, not a polygon; district boundaries must be Polygon or "
            "MultiPolygon features"
        )
    polygons = [geometry.get("coordinates")] if kind == "Polygon" else geometry.get("coordinates")
    if not isinstance(polygons, list) or not polygons:
        raise CityError(f"{where}: its {kind} has no coordinates")
    shapes = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise CityError(f"{where}: a polygon without rings")
        rings = [_ring(ring, where) for ring in polygon]
        holes = [shapely.linearrings(ring) for ring in rings[1:]]
        shapes.append(shapely.polygons(rings[0], holes=holes or None))
    return shapes[0] if kind == "Polygon" else shapely.multipolygons(shapes)


def _pick_field(
    features: list[dict], wanted: str | None, candidates: tuple[str, ...], what: str, filename: str
) -> str | None:
    keys: dict[str, int] = {}
    for feature in features:
        for key, value in (feature.get("properties") or {}).items():
            if value not in (None, ""):
                keys[key] = keys.get(key, 0) + 1
    if wanted:
        if wanted not in keys:
            present = ", ".join(sorted(keys)) or "none"
            raise CityError(
                f"{filename}: no district {what}: no feature has a property {wanted!r} "
                f"(properties present: {present})"
            )
        return wanted
    return next((c for c in candidates if keys.get(c) == len(features)), None)


def _lang_fields(props: dict, name_field: str) -> dict[str, str]:
    """District names per language: `name_fr`, `name:fr`, `name_zh`… beside the name field."""
    names = {}
    for lang in LANGUAGES:
        for key in (f"{name_field}_{lang}", f"{name_field}:{lang}", f"name_{lang}", f"name:{lang}"):
            value = props.get(key)
            if isinstance(value, str) and value.strip():
                names[lang] = value.strip()
                break
    return names


def _area_km2(shape) -> float:
    """Area on a local equirectangular projection: within a percent for a city's districts."""
    lat = shape.centroid.y
    km_per_deg = 111.32
    return abs(shape.area) * km_per_deg * km_per_deg * math.cos(math.radians(lat))


def _simplified(shapes: list, filename: str) -> Simplified:
    kept = simplify_to_budget(np.array(shapes, dtype=object), MAP_VERTICES)
    if kept is None:
        raise CityError(
            f"{filename}: its {ring_count(np.array(shapes, dtype=object)):,} polygon rings keep "
            f"at least {RING_VERTICES} positions each, even simplified as far as it goes: more "
            f"than the {MAP_VERTICES:,} positions a city's map may draw; merge small districts "
            "or drop small islands and holes first"
        )
    return kept


def check_districts(
    raw: bytes,
    filename: str = "districts.geojson",
    name_field: str | None = None,
    code_field: str | None = None,
) -> Checked:
    """Every check on a district file; the normalised districts, their boundaries simplified
    under `MAP_VERTICES` if need be, or a `CityError`."""
    read = _read_features(raw, filename)
    features = [{"type": "Feature", "properties": properties} for properties, _ in read]
    shapes = []
    for index, (_, geometry) in enumerate(read):
        shapes.append(_check_geometry(index, _value(geometry, filename), filename))
    del read  # the geometries' JSON text: only the shapes are needed now

    notes: list[str] = []
    chosen = _pick_field(features, name_field, NAME_FIELDS, "names", filename)
    if chosen is None:
        present = sorted({k for f in features for k in (f.get("properties") or {})})
        raise CityError(
            f"{filename}: no district names: no property {', '.join(NAME_FIELDS[:4])}… is set "
            f"on every feature (properties present: {', '.join(present) or 'none'}); "
            "name the property with --name-field"
        )
    code = _pick_field(features, code_field, CODE_FIELDS, "codes", filename)
    districts, seen_codes, seen_names = [], set(), set()
    for index, feature in enumerate(features):
        props = feature.get("properties") or {}
        name = props.get(chosen)
        if not isinstance(name, str | int | float) or not str(name).strip():
            raise CityError(
                f"{filename}: feature {index + 1} has no district name in {chosen!r}; "
                "every district needs a name"
            )
        name = str(name).strip()
        if code:
            try:
                number = int(props[code])
            except (TypeError, ValueError, OverflowError):
                raise CityError(
                    f"{filename}: feature {index + 1}: code {props.get(code)!r} in {code!r} "
                    "is not a whole number"
                ) from None
        else:
            number = index + 1
        if number in seen_codes:
            raise CityError(f"{filename}: feature {index + 1}: district code {number} repeats")
        seen_codes.add(number)
        if name in seen_names:
            notes.append(f"two districts are called {name!r}")
        seen_names.add(name)
        names = {"en": name, **_lang_fields(props, chosen)}
        district = {"code": number, "name": {lang: names.get(lang, name) for lang in LANGUAGES}}
        population = next((props[k] for k in POPULATION_FIELDS if k in props), None)
        try:
            if population is not None and int(population) > 0:
                district["population"] = int(population)
        except (TypeError, ValueError, OverflowError):
            notes.append(f"feature {index + 1}: population {population!r} is not a number")
        district["area_km2"] = round(_area_km2(shapes[index]), 2)
        districts.append(district)
    if not code:
        notes.append("no district code property: districts numbered 1… in file order")
    bounds = tuple(float(v) for v in shapely.total_bounds(shapes))
    kept = _simplified(shapes, filename)
    if kept.tolerance:
        notes.append(
            f"simplified from {kept.vertices_read:,} to {kept.vertices_kept:,} vertices "
            f"(tolerance {kept.tolerance:.2g}°) to stay under {MAP_VERTICES:,} for the maps"
        )
    boundaries = [mapping(shape) for shape in kept.shapes]
    return Checked(
        features=[
            {
                "type": "Feature",
                "properties": {
                    "code": district["code"],
                    "name": district["name"]["en"],
                    **{f"name_{k}": v for k, v in district["name"].items()},
                },
                "geometry": geometry,
            }
            for district, geometry in zip(districts, boundaries, strict=True)
        ],
        districts=districts,
        name_field=chosen,
        code_field=code,
        bounds=bounds,
        notes=notes,
        source=[
            {**feature, "geometry": geometry}
            for feature, geometry in zip(features, boundaries, strict=True)
        ],
        vertices_read=kept.vertices_read,
        vertices_kept=kept.vertices_kept,
    )


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
