"""City profiles: a city is data (a folder with profile.json and a district GeoJSON), not code.

Pages and queries receive a `CityProfile`; nothing else names a city, so a second city is a
second folder (or one added at run time under the data directory).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

BUILTIN_CITIES_DIR = Path(__file__).parent / "cities"
DEFAULT_CITY = "hangzhou-2017"


@dataclass(frozen=True)
class District:
    code: int
    name: dict[str, str]
    population: int | None = None
    area_km2: float | None = None
    urban_core: bool = False

    def label(self, lang: str) -> str:
        return self.name.get(lang) or self.name.get("en") or str(self.code)


@dataclass(frozen=True)
class CityProfile:
    id: str
    name: dict[str, str]
    timezone: str
    center: dict[str, float]
    zoom: float
    districts: tuple[District, ...]
    folder: Path
    districts_file: str = "districts.geojson"
    district_code_field: str = "adcode"
    boundaries_attribution: str = ""
    population: int | None = None
    year: int | None = None
    core_zoom: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def label(self, lang: str) -> str:
        return self.name.get(lang) or self.name.get("en") or self.id

    def district(self, code: int) -> District:
        for d in self.districts:
            if d.code == code:
                return d
        raise KeyError(f"{self.id} has no district {code}")

    def district_names(self, lang: str) -> dict[int, str]:
        return {d.code: d.label(lang) for d in self.districts}

    @cached_property
    def geojson(self) -> dict[str, Any]:
        """District boundaries with a top-level `id` per feature, as a choropleth wants."""
        data = json.loads((self.folder / self.districts_file).read_text(encoding="utf-8"))
        for feature in data["features"]:
            feature["id"] = int(feature["properties"][self.district_code_field])
        return data

    @cached_property
    def label_points(self) -> dict[int, tuple[float, float]]:
        """A (lon, lat) inside each district, where maps write its name: shapely's
        representative point, inside even a crescent-shaped district (a centroid may not be)."""
        return {code: (point.x, point.y) for code, (point, _) in self._label_geometry.items()}

    @cached_property
    def district_areas(self) -> dict[int, float]:
        """Each district's area in square degrees, to compare districts on a map."""
        return {code: area for code, (_, area) in self._label_geometry.items()}

    @cached_property
    def _label_geometry(self) -> dict[int, tuple[Any, float]]:
        from shapely.geometry import shape

        out = {}
        for feature in self.geojson["features"]:
            polygon = shape(feature["geometry"])
            out[feature["id"]] = (polygon.representative_point(), polygon.area)
        return out

    def district_shape(self, code: int) -> BaseGeometry:
        """The district polygon as a shapely geometry (for placing and checking points)."""
        from shapely.geometry import shape

        for feature in self.geojson["features"]:
            if feature["id"] == code:
                return shape(feature["geometry"])
        raise KeyError(f"{self.id} has no boundary for district {code}")


def load_city(folder: Path) -> CityProfile:
    raw = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
    known = {
        "id",
        "name",
        "timezone",
        "center",
        "zoom",
        "districts_file",
        "district_code_field",
        "boundaries_attribution",
        "population",
        "year",
        "core_zoom",
    }
    return CityProfile(
        id=raw["id"],
        name=raw["name"],
        timezone=raw["timezone"],
        center=raw["center"],
        zoom=raw["zoom"],
        districts=tuple(District(**d) for d in raw["districts"]),
        folder=folder,
        districts_file=raw.get("districts_file", "districts.geojson"),
        district_code_field=raw.get("district_code_field", "adcode"),
        boundaries_attribution=raw.get("boundaries_attribution", ""),
        population=raw.get("population"),
        year=raw.get("year"),
        core_zoom=raw.get("core_zoom"),
        extra={k: v for k, v in raw.items() if k not in known and k != "districts"},
    )


def builtin_city(city_id: str = DEFAULT_CITY) -> CityProfile:
    return load_city(BUILTIN_CITIES_DIR / city_id)
