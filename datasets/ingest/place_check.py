"""Whether the places in an upload lie in the city it is filed under.

A file of Seattle counters published under Hangzhou draws nothing on Hangzhou's maps and
silently mixes into its charts, so before publishing, the validated rows are checked against the
chosen city: points (latitude/longitude columns) against the union of its district polygons,
and district columns (codes or names, in any of the city's languages) against its districts.
The answer is a list of warnings, never a refusal: a file may rightly hold a few points just
outside the boundary, and the analyst decides.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..cities import CityProfile
from .mapping import ALIASES, fold

BATCH_ROWS = 1_000_000
EXAMPLES = 5
# Names are also compared without these endings ("Shangcheng District", "上城区" → "上城").
DISTRICT_SUFFIXES = (" district", " qu", "区", "县", "市")


@dataclass(frozen=True)
class PlaceWarning:
    """Rows of a file that do not lie in the chosen city."""

    what: str  # "points" (latitude/longitude) or "districts" (codes or names)
    columns: tuple[str, ...]
    outside: int
    total: int
    city: str  # the city's id
    examples: tuple[str, ...] = ()  # district values not of the city

    def message(self, city_name: str) -> str:
        """In English, for the command line (the page translates the same fields)."""
        if self.what == "points":
            return f"{self.outside:,} of {self.total:,} points fall outside {city_name}"
        named = ", ".join(self.examples)
        return (
            f"{self.outside:,} of {self.total:,} rows name districts not of {city_name} "
            f"({', '.join(self.columns)}: {named})"
        )


def check_place(parquet: Path, city: CityProfile) -> list[PlaceWarning]:
    """Warnings for the rows of `parquet` outside `city` (none when everything fits, or when
    the file has no place columns)."""
    schema = pq.read_schema(parquet)
    warnings = []
    points = _point_columns(schema)
    if points is not None:
        outside, total = _points_outside(parquet, points, city)
        if outside:
            warnings.append(PlaceWarning("points", points, outside, total, city.id))
    for column in _district_columns(schema):
        found = _districts_outside(parquet, column, schema.field(column).type, city)
        if found is not None:
            warnings.append(found)
    return warnings


def _named(schema: pa.Schema, target: str) -> str | None:
    aliases = {fold(a) for a in ALIASES[target]}
    return next((f.name for f in schema if fold(f.name) in aliases), None)


def _point_columns(schema: pa.Schema) -> tuple[str, str] | None:
    lat, lon = _named(schema, "lat"), _named(schema, "lon")
    if lat is None or lon is None:
        return None
    if not all(pa.types.is_floating(schema.field(c).type) for c in (lat, lon)):
        return None
    return lat, lon


def _district_columns(schema: pa.Schema) -> list[str]:
    aliases = {fold(a) for a in ALIASES["district"]} | {"districtname", "districtnamezh"}
    return [
        f.name
        for f in schema
        if fold(f.name) in aliases and (pa.types.is_integer(f.type) or pa.types.is_string(f.type))
    ]


@cache
def _city_area(folder: Path):
    """The union of a city's district polygons, prepared for fast point tests (cached per
    city folder: a city's boundaries do not change once added)."""
    import shapely
    from shapely.geometry import shape

    from ..cities import load_city

    city = load_city(folder)
    area = shapely.union_all([shape(f["geometry"]) for f in city.geojson["features"]])
    shapely.prepare(area)
    return area


def _points_outside(parquet: Path, columns: tuple[str, str], city: CityProfile) -> tuple[int, int]:
    import shapely

    area = _city_area(city.folder)
    lon_min, lat_min, lon_max, lat_max = area.bounds
    outside = total = 0
    lat_name, lon_name = columns
    for batch in pq.ParquetFile(parquet).iter_batches(BATCH_ROWS, columns=[lat_name, lon_name]):
        lat = batch.column(lat_name).to_numpy(zero_copy_only=False)
        lon = batch.column(lon_name).to_numpy(zero_copy_only=False)
        known = ~(np.isnan(lat) | np.isnan(lon))
        lat, lon = lat[known], lon[known]
        total += len(lat)
        # the box first: most points of another city are settled without the polygons
        boxed = (lat >= lat_min) & (lat <= lat_max) & (lon >= lon_min) & (lon <= lon_max)
        inside = shapely.intersects_xy(area, lon[boxed], lat[boxed])
        outside += int((~boxed).sum()) + int((~inside).sum())
    return outside, total


def _folded_name(text: str) -> str:
    name = unicodedata.normalize("NFKC", text).strip().casefold()
    for suffix in DISTRICT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].strip()
    return name


def _district_keys(city: CityProfile) -> tuple[set[int], set[str]]:
    codes = {d.code for d in city.districts}
    names = {str(d.code) for d in city.districts}
    for d in city.districts:
        names |= {_folded_name(n) for n in d.name.values() if n}
    return codes, names


def _districts_outside(
    parquet: Path, column: str, kind: pa.DataType, city: CityProfile
) -> PlaceWarning | None:
    codes, names = _district_keys(city)
    counts: Counter = Counter()
    for batch in pq.ParquetFile(parquet).iter_batches(BATCH_ROWS, columns=[column]):
        values = batch.column(column).drop_null().value_counts()
        for item in values.to_pylist():
            counts[item["values"]] += item["counts"]
    if pa.types.is_integer(kind):
        unknown = {v: n for v, n in counts.items() if v not in codes}
    else:
        unknown = {v: n for v, n in counts.items() if _folded_name(v) not in names}
    if not unknown:
        return None
    examples = tuple(str(v) for v, _ in Counter(unknown).most_common(EXAMPLES))
    return PlaceWarning(
        "districts",
        (column,),
        sum(unknown.values()),
        sum(counts.values()),
        city.id,
        examples,
    )
