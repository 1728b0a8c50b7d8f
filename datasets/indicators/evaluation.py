"""Evaluating every indicator of the registry for a city, cached until its datasets change."""

from __future__ import annotations

import contextlib
import datetime as dt

import pandas as pd

from i18n import t

from ..cache import LRU
from ..cities import CityProfile
from ..query import MissingDataset, QueryEngine
from .inputs import FETCH, city_inputs, event_days
from .model import SOURCES, Evaluation, Gap, Indicator, Result
from .periods import compute, covered_days
from .registry import GAP_SPECS, INDICATORS

_EVALUATIONS = LRU(16)  # by `fingerprint`: a few cities, each while its datasets are unchanged


def fingerprint(engine: QueryEngine, city: CityProfile) -> tuple:
    """What an evaluation depends on: the city's datasets (and versions) and its population."""
    datasets = tuple(
        (d.id, d.current_version, d.updated_at) for d in engine.catalog.datasets(city=city.id)
    )
    people = (city.population, tuple((d.code, d.population) for d in city.districts))
    return (id(engine), city.id, str(city.folder), people, datasets)


def evaluate(engine: QueryEngine, city: CityProfile) -> Evaluation:
    """Every indicator of the registry for a city (cached until its datasets change)."""
    key = fingerprint(engine, city)
    cached = _EVALUATIONS.get(key)
    if cached is not None:
        return cached
    evaluation = evaluate_now(engine, city)
    _EVALUATIONS.put(key, evaluation)
    return evaluation


def evaluate_now(engine: QueryEngine, city: CityProfile) -> Evaluation:
    """Every indicator of the registry for a city: results, and gaps for the rest."""
    catalog = engine.catalog
    inputs = city_inputs(city)
    frames: dict[str, tuple[pd.DataFrame, pd.DatetimeIndex, tuple] | None] = {}
    results: list[Result] = []
    gaps: list[Gap] = []
    for indicator in INDICATORS:
        source = SOURCES[indicator.source]
        missing = tuple(k for k in source.kinds if catalog.find(city.id, k) is None)
        if missing:
            gaps.append(Gap(indicator.id, indicator.target, "no_dataset", missing))
            continue
        if indicator.source not in frames:
            frames[indicator.source] = _load(engine, city, indicator.source)
        loaded = frames[indicator.source]
        if loaded is None:
            gaps.append(Gap(indicator.id, indicator.target, "no_data", source.kinds))
            continue
        frame, days, datasets = loaded
        outcome = compute(indicator, frame, days, inputs, datasets)
        (results if isinstance(outcome, Result) else gaps).append(outcome)
    gaps += [Gap(spec.id, spec.target, "no_kind") for spec in GAP_SPECS]
    return Evaluation(city, tuple(results), tuple(gaps), dt.datetime.now(dt.UTC))


def _load(engine: QueryEngine, city: CityProfile, name: str):
    source = SOURCES[name]
    datasets = tuple(
        found
        for kind in (*source.kinds, *source.optional)
        if (found := engine.catalog.find(city.id, kind)) is not None
    )
    frame = None
    with contextlib.suppress(MissingDataset):
        frame = FETCH[name](engine, city)
    if frame is None:
        return None
    if source.events:
        days = event_days([d for d in datasets if d.meta.kind in source.kinds])
    else:
        days = covered_days(frame["date"], source.monthly)
    return frame, days, datasets


def unit_label(indicator: Indicator, lang: str) -> str:
    if indicator.percent:
        return ""  # the value is written as a percentage already
    return t(indicator.unit, lang) if indicator.unit.startswith("sdg.unit.") else indicator.unit
