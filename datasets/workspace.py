"""A workspace is one data directory: its catalog, its query engine and the cities it knows."""

from __future__ import annotations

import fcntl
import os
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
    _cities: dict[str, CityProfile] = field(default_factory=dict, repr=False)
    _cities_stamp: int | None = field(default=None, repr=False)

    @classmethod
    def open(cls, data_dir: Path, cache_size: int = 512, query_threads: int = 0) -> Workspace:
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(data_dir)
        engine = QueryEngine(catalog, cache_size, threads=query_threads or os.cpu_count() or 1)
        workspace = cls(data_dir, catalog, engine)
        workspace.reload_cities()
        return workspace

    @property
    def cities(self) -> dict[str, CityProfile]:
        """The known cities; a city added under `<data_dir>/cities/` (by another process too)
        appears without a restart: adding one renames its folder into place, which changes the
        folder's mtime, checked here with one stat()."""
        if _stamp(self.data_dir) != self._cities_stamp:
            self.reload_cities()
        return self._cities

    def reload_cities(self) -> dict[str, CityProfile]:
        stamp = _stamp(self.data_dir)
        self._cities = _cities(self.data_dir)  # one assignment: readers see old or new, whole
        self._cities_stamp = stamp
        return self._cities

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


def city_profile(data_dir: Path, city_id: str) -> CityProfile | None:
    """One city of a data directory, without opening (or creating) its catalog."""
    return _cities(Path(data_dir)).get(city_id)


def _cities(data_dir: Path) -> dict[str, CityProfile]:
    """Built-in profiles, then those added under the data directory (which may override)."""
    folders = [p for p in sorted(BUILTIN_CITIES_DIR.iterdir()) if (p / "profile.json").exists()]
    added = data_dir / "cities"
    if added.is_dir():
        folders += [
            p
            for p in sorted(added.iterdir())
            if not p.name.startswith(".") and (p / "profile.json").exists()
        ]
    cities = {}
    for folder in folders:
        try:
            city = load_city(folder)
        except (OSError, ValueError, KeyError, TypeError):  # a broken added folder: skip it
            if folder.parent == BUILTIN_CITIES_DIR:
                raise
            continue
        cities[city.id] = city
    return cities


def _stamp(data_dir: Path) -> int | None:
    """Modification time of `<data_dir>/cities` (None while it does not exist)."""
    try:
        return (data_dir / "cities").stat().st_mtime_ns
    except OSError:
        return None
