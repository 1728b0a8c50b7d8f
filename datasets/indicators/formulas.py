"""The pure computations an indicator applies to the rows of one period."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .model import Inputs


def population_weighted_mean(
    rows: pd.DataFrame, column: str, district_population: dict[int, int]
) -> float | None:
    """Mean of each station's mean, weighted by the population of its district.

    Stations of one district are averaged first, then districts are weighted by their residents
    (the SDG 11.6.2 method, with districts standing in for grid cells). Without a district or a
    population for every station the plain mean of the station means is returned.
    """
    valid = rows.dropna(subset=[column])
    if valid.empty:
        return None
    per_station = valid.groupby("station_id").agg(
        value=(column, "mean"), district=("district", "first")
    )
    if _weighted(per_station, district_population):
        per_district = per_station.groupby("district")["value"].mean()
        weights = np.array([district_population[int(d)] for d in per_district.index], float)
        return float((per_district.to_numpy() * weights).sum() / weights.sum())
    return float(per_station["value"].mean())


def _weighted(per_station: pd.DataFrame, district_population: dict[int, int]) -> bool:
    if not district_population or per_station["district"].isna().any():
        return False
    return all(district_population.get(int(d), 0) > 0 for d in per_station["district"])


def weighting_variant(column: str) -> Callable[[pd.DataFrame, Inputs], str]:
    def variant(rows: pd.DataFrame, inputs: Inputs) -> str:
        valid = rows.dropna(subset=[column])
        per_station = valid.groupby("station_id").agg(district=("district", "first"))
        return "" if _weighted(per_station, inputs.district_population) else "unweighted"

    return variant


def share_at_most(rows: pd.DataFrame, column: str, limit: float) -> float | None:
    values = rows[column].dropna().astype("float64")
    return float((values <= limit).mean()) if len(values) else None


def share_above(rows: pd.DataFrame, column: str, limit: float) -> float | None:
    values = rows[column].dropna().astype("float64")
    return float((values > limit).mean()) if len(values) else None


def ratio_of_sums(rows: pd.DataFrame, numerator: str, denominator: str) -> float | None:
    total = rows[denominator].sum()
    return float(rows[numerator].sum() / total) if len(rows) and total else None


def rate_per_resident(
    total: float, inputs: Inputs, per: float = 1.0, over_days: float = 365.0
) -> float | None:
    """`total` over `inputs.days`, scaled to `over_days` days and `per` residents."""
    if not inputs.population or not inputs.days:
        return None
    return float(total / inputs.days * over_days / inputs.population * per)


def travel_time_index(rows: pd.DataFrame, inputs: Inputs) -> float | None:
    """Mean over detectors of free-flow speed × mean(1 / speed) (as the traffic page does)."""
    moving = rows[rows["moving"] > 0]
    if moving.empty:
        return None
    per = moving.groupby("detector_id").agg(
        inv=("inverse_speed_sum", "sum"), n=("moving", "sum"), ff=("free_flow_kmh", "first")
    )
    tti = (per["ff"] * per["inv"] / per["n"]).dropna()
    return float(tti.mean()) if len(tti) else None


def median_of(rows: pd.DataFrame, column: str) -> float | None:
    values = rows[column].dropna()
    return float(values.median()) if len(values) else None


def transit_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in ("metro_riders", "bus_riders") if c in rows and rows[c].notna().any()]


def transit_total(rows: pd.DataFrame) -> float:
    return float(sum(rows[c].sum() for c in transit_columns(rows)))


def transit_variant(rows: pd.DataFrame, inputs: Inputs) -> str:
    return "" if transit_columns(rows) == ["metro_riders", "bus_riders"] else "metro_only"


def waste_share(
    rows: pd.DataFrame, streams: tuple[str, ...], complement: bool = False
) -> float | None:
    total = rows["tonnes"].sum()
    if not len(rows) or not total:
        return None
    part = rows.loc[rows["stream"].str.lower().isin(streams), "tonnes"].sum()
    share = part / total
    return float(1 - share if complement else share)
