"""Demo-generator parameters: `demo.json` beside a city's profile, loaded into typed dataclasses.

Everything city-specific (stations, roads, holidays, levels, pilot dates) lives in that file; the
generator modules are generic over it. `load_params` validates the file (`parse`) and fails with
the JSON path of the first bad value, so a second city only needs a second data file; what the
file holds is typed in `schema`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from datasets.cache import LRU
from datasets.cities import CityProfile, builtin_city, load_city

from .parse import parse_params
from .schema import CITY_FOLDER_KEY, CITY_ID_KEY, DEMO_FILE, DemoParams, DemoParamsError


def load_params(city: CityProfile) -> DemoParams:
    """Read `<city folder>/demo.json`; raise `DemoParamsError` naming the first bad value."""
    path = city.folder / DEMO_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DemoParamsError(f"{city.id} has no {DEMO_FILE} at {path}") from exc
    except json.JSONDecodeError as exc:
        raise DemoParamsError(f"{path}: invalid JSON: {exc}") from exc
    return parse_params(raw, city)


_PARSED = LRU(64)  # by city folder: each demo.json is parsed once per process


def _params_for(folder: str, city: CityProfile | None = None) -> DemoParams:
    """Parsed demo.json per city folder (parsed once per process)."""
    params = _PARSED.get(folder)
    if params is None:
        params = load_params(city if city is not None else load_city(Path(folder)))
        _PARSED.put(folder, params)
    return params


def default_params() -> DemoParams:
    """Parameters of the project's default built-in city (see `datasets.cities.DEFAULT_CITY`)."""
    city = builtin_city()
    return _params_for(str(city.folder), city)


def as_params(city: CityProfile | DemoParams | None) -> DemoParams:
    """Accept a city profile (its demo.json is loaded once and cached), parameters, or None."""
    if city is None:
        return default_params()
    if isinstance(city, DemoParams):
        return city
    return _params_for(str(city.folder), city)


def city_metadata(params: DemoParams) -> dict[bytes, bytes]:
    return {
        CITY_ID_KEY: params.city.id.encode(),
        CITY_FOLDER_KEY: str(params.city.folder).encode(),
    }


def resolve(params: DemoParams | None, *tables: pa.Table) -> DemoParams:
    """Explicit params, else the city named in an input table's metadata, else the default."""
    if params is not None:
        return params
    for table in tables:
        folder = (table.schema.metadata or {}).get(CITY_FOLDER_KEY)
        if folder:
            return _params_for(folder.decode())
    return default_params()
