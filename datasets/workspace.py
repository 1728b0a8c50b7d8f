"""A workspace is one data directory: its catalog, its query engine and the cities it knows."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import Catalog
from .cities import BUILTIN_CITIES_DIR, CityProfile, load_city
from .query import QueryEngine


@dataclass
class Workspace:
    data_dir: Path
    catalog: Catalog
    engine: QueryEngine
    cities: dict[str, CityProfile] = field(default_factory=dict)

    @classmethod
    def open(cls, data_dir: Path, cache_size: int = 512) -> Workspace:
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(data_dir)
        return cls(data_dir, catalog, QueryEngine(catalog, cache_size), _cities(data_dir))

    def city(self, city_id: str) -> CityProfile:
        try:
            return self.cities[city_id]
        except KeyError:
            raise LookupError(f"no city {city_id!r}; known: {', '.join(self.cities)}") from None

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive lock across processes (gunicorn workers) for one-off jobs like the demo."""
        with open(self.data_dir / f".{name}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _cities(data_dir: Path) -> dict[str, CityProfile]:
    """Built-in profiles, then those added under the data directory (which may override)."""
    folders = [p for p in sorted(BUILTIN_CITIES_DIR.iterdir()) if (p / "profile.json").exists()]
    added = data_dir / "cities"
    if added.is_dir():
        folders += [p for p in sorted(added.iterdir()) if (p / "profile.json").exists()]
    cities = {}
    for folder in folders:
        city = load_city(folder)
        cities[city.id] = city
    return cities
