"""Checking a district-boundary GeoJSON: the file read within bounds, each feature's geometry,
names, codes and populations checked, the boundaries simplified for the maps.

A file that is empty, not JSON, not a FeatureCollection of Polygon/MultiPolygon features,
without district names, or whose coordinates are not longitude/latitude (WGS 84) is refused with
a `CityError` whose text says what is wrong and where. Reading is bounded: a file is refused
before it is parsed when it holds more positions or objects than a district file does, and each
feature's positions are parsed only when its turn comes.
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass

import msgspec
import numpy as np
import shapely
from shapely.geometry import mapping

from .boundaries import MAP_VERTICES, RING_VERTICES, Simplified, ring_count, simplify_to_budget

LANGUAGES = ("en", "fr", "es", "zh")
MAX_BYTES = 50 * 1024 * 1024  # a district file is a few MB at most
# Counted in the file's text before it is parsed ("[" and "{"): a position parsed costs ~160 bytes
# of Python objects whatever its text, and only one feature's positions are parsed at once
# (measured: 2 M positions in one polygon, 320 MB for that feature; 1 M in ten polygons, 35 MB).
MAX_POSITIONS = 2_000_000
MAX_OBJECTS = 100_000
UTF8_SLICE = 4 * 1024 * 1024
NAME_FIELDS = ("name", "NAME", "Name", "name_en", "NAME_EN", "nom", "nombre", "NAME_2", "NAME_1")
CODE_FIELDS = ("adcode", "code", "CODE", "id", "ID", "district_code")
POPULATION_FIELDS = ("population", "POPULATION", "pop", "POP")
POLYGONS = ("Polygon", "MultiPolygon")
WGS84_NAMES = ("CRS84", "EPSG::4326", "EPSG:4326", "WGS84", "WGS 84")


class CityError(ValueError):
    """A refusal meant for the analyst: what is wrong with the file or the form, and where."""


class TooLarge(CityError):
    """A district file over `MAX_BYTES`."""

    def __init__(self, filename: str, size: int | None = None) -> None:
        size_text = f"{size:,} bytes is" if size is not None else "it is"
        super().__init__(
            f"{filename}: {size_text} more than the {MAX_BYTES // 2**20} MB allowed for a "
            "district file; simplify the boundaries first"
        )


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
    districts = _districts(features, shapes, chosen, code, filename, notes)
    if not code:
        notes.append("no district code property: districts numbered 1… in file order")
    return _checked(features, shapes, districts, chosen, code, notes, filename)


def _districts(
    features: list[dict],
    shapes: list,
    chosen: str,
    code: str | None,
    filename: str,
    notes: list[str],
) -> list[dict]:
    """Each feature's district: code, names per language, population, area; a repeated code
    is refused, a repeated name or an unreadable population noted."""
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
        number = _district_code(props, code, index, filename)
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
    return districts


def _district_code(props: dict, code: str | None, index: int, filename: str) -> int:
    """The district's number: its code property, else its place in the file (from 1)."""
    if not code:
        return index + 1
    try:
        return int(props[code])
    except (TypeError, ValueError, OverflowError):
        raise CityError(
            f"{filename}: feature {index + 1}: code {props.get(code)!r} in {code!r} "
            "is not a whole number"
        ) from None


def _checked(
    features: list[dict],
    shapes: list,
    districts: list[dict],
    chosen: str,
    code: str | None,
    notes: list[str],
    filename: str,
) -> Checked:
    """The checked file: boundaries simplified under `MAP_VERTICES`, features normalised."""
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
