"""Adding a city: check a district-boundary GeoJSON, then write the city's folder atomically.

A city is a folder `<data_dir>/cities/<id>/` holding `profile.json` and `districts.geojson`
(see `datasets.cities`). `add_city()` refuses, with a `CityError` whose text says what is wrong
and where, a file that is empty, not JSON, not a FeatureCollection of Polygon/MultiPolygon
features, without district names, or whose coordinates are not longitude/latitude (WGS 84).
Nothing is written until the whole file has been checked, and the folder appears in one
`rename()` of a complete temporary folder, so a reader (the app, another process) never sees a
half-written city.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .cities import BUILTIN_CITIES_DIR

LANGUAGES = ("en", "fr", "es", "zh")
CITIES_DIR = "cities"
MAX_BYTES = 50 * 1024 * 1024  # a district file is a few MB at most
DEFAULT_TZ = "UTC"
NAME_FIELDS = ("name", "NAME", "Name", "name_en", "NAME_EN", "nom", "nombre", "NAME_2", "NAME_1")
CODE_FIELDS = ("adcode", "code", "CODE", "id", "ID", "district_code")
POPULATION_FIELDS = ("population", "POPULATION", "pop", "POP")
POLYGONS = ("Polygon", "MultiPolygon")
WGS84_NAMES = ("CRS84", "EPSG::4326", "EPSG:4326", "WGS84", "WGS 84")
CITY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class CityError(ValueError):
    """A refusal meant for the analyst: what is wrong with the file or the form, and where."""


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


# -- checks --------------------------------------------------------------------------------------


def _load_json(raw: bytes, filename: str) -> object:
    if not raw or not raw.strip():
        raise CityError(f"{filename}: the file is empty; expected a GeoJSON FeatureCollection")
    if len(raw) > MAX_BYTES:
        raise CityError(
            f"{filename}: {len(raw):,} bytes is more than the {MAX_BYTES // 2**20} MB allowed "
            "for a district file; simplify the boundaries first"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CityError(
            f"{filename}: not JSON: byte {exc.start} is not UTF-8 text (GeoJSON is UTF-8)"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CityError(
            f"{filename}: not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def _positions(geometry: dict):
    """Every [x, y] position of a Polygon or MultiPolygon."""
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    for polygon in polygons or []:
        for ring in polygon or []:
            yield from ring or []


def _check_crs(data: dict, filename: str) -> None:
    crs = data.get("crs")
    if not isinstance(crs, dict):
        return
    name = str((crs.get("properties") or {}).get("name", ""))
    if name and not any(name.upper().endswith(w.upper()) for w in WGS84_NAMES):
        raise CityError(
            f"{filename}: coordinates are not longitude/latitude: the file declares the "
            f"coordinate system {name}; reproject it to WGS 84 (EPSG:4326) first"
        )


def _check_geometry(index: int, feature: dict, filename: str) -> list[tuple[float, float]]:
    where = f"{filename}: feature {index + 1}"
    geometry = feature.get("geometry")
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
    positions: list[tuple[float, float]] = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise CityError(f"{where}: a polygon without rings")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise CityError(
                    f"{where}: a polygon ring needs at least 4 positions (closed), "
                    f"found {len(ring) if isinstance(ring, list) else 0}"
                )
            for position in ring:
                try:
                    x, y = float(position[0]), float(position[1])
                except (TypeError, ValueError, IndexError):
                    raise CityError(
                        f"{where}: {position!r} is not a [longitude, latitude] position"
                    ) from None
                if not (math.isfinite(x) and math.isfinite(y)):
                    raise CityError(f"{where}: a position that is not a number: {position!r}")
                positions.append((x, y))
    for x, y in positions:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            hint = (
                "projected coordinates (metres, e.g. UTM)?"
                if abs(x) > 360 or abs(y) > 360
                else "latitude and longitude swapped?"
            )
            raise CityError(
                f"{where}: coordinates are not longitude/latitude: found ({x:g}, {y:g}), "
                f"outside -180…180, -90…90 ({hint}); reproject to WGS 84 (EPSG:4326)"
            )
    return positions


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


def _area_km2(geometry: dict) -> float:
    """Area on a local equirectangular projection: within a percent for a city's districts."""
    from shapely.geometry import shape

    shp = shape(geometry)
    lat = shp.centroid.y
    km_per_deg = 111.32
    return abs(shp.area) * km_per_deg * km_per_deg * math.cos(math.radians(lat))


def check_districts(
    raw: bytes,
    filename: str = "districts.geojson",
    name_field: str | None = None,
    code_field: str | None = None,
) -> Checked:
    """Every check on a district file; the normalised districts, or a `CityError`."""
    data = _load_json(raw, filename)
    if not isinstance(data, dict):
        raise CityError(
            f"{filename}: the JSON is a {type(data).__name__}, not a GeoJSON FeatureCollection"
        )
    kind = data.get("type")
    if kind == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    elif kind != "FeatureCollection":
        what = f"a GeoJSON {kind}" if kind else "JSON without a GeoJSON type"
        raise CityError(f"{filename}: {what}; expected a FeatureCollection of district polygons")
    _check_crs(data, filename)
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise CityError(f"{filename}: the FeatureCollection is empty: no district to add")
    positions: list[tuple[float, float]] = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise CityError(f"{filename}: item {index + 1} of features is not a Feature")
        positions += _check_geometry(index, feature, filename)

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
    out_features = []
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
            except (TypeError, ValueError):
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
        except (TypeError, ValueError):
            notes.append(f"feature {index + 1}: population {population!r} is not a number")
        district["area_km2"] = round(_area_km2(feature["geometry"]), 2)
        districts.append(district)
        out_features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": number,
                    "name": name,
                    **{f"name_{k}": v for k, v in district["name"].items()},
                },
                "geometry": feature["geometry"],
            }
        )
    if not code:
        notes.append("no district code property: districts numbered 1… in file order")
    xs = [p[0] for p in positions]
    ys = [p[1] for p in positions]
    return Checked(
        features=out_features,
        districts=districts,
        name_field=chosen,
        code_field=code,
        bounds=(min(xs), min(ys), max(xs), max(ys)),
        notes=notes,
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


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:56].strip("-")
    if not out:
        out = "city-" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return out


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
        base = slug(name)
        candidates = [base] + [f"{base}-{n}" for n in range(2, 100)]
    root = cities_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    for city_id in candidates:
        if city_id in taken:
            continue
        tmp = root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            profile = profile_for(replace(new, timezone=timezone), checked, city_id)
            _write(
                tmp / "districts.geojson",
                {"type": "FeatureCollection", "features": checked.features},
            )
            _write(tmp / "profile.json", profile)
            _fsync_dir(tmp)
            try:
                os.rename(tmp, root / city_id)  # fails if another process took the id meanwhile
            except OSError:
                continue
            _fsync_dir(root)
            return city_id, checked.notes
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    raise CityError(f"no free id for {name!r}: every candidate is taken")


def _write(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
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
