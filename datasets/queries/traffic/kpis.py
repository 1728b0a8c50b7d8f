"""The traffic KPI block: mean speed, travel time index, incidents, emergency response time of
a period and of the one it is compared with.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.period import DEFAULT_COMPARISON, parse_comparison
from datasets.query import Filters, MissingDataset, QueryEngine

from .common import INCIDENTS, KPI_DAYS, READINGS, RUNS, coverage, day_filter_sql, filter_sql
from .speeds import detector_days, free_flow_of, tti_of


@dataclass(frozen=True)
class KpiPeriods:
    current: Filters
    previous: Filters | None  # None: the previous period is not (wholly) in the data
    default_window: bool  # True: the filters had no dates, the last KPI_DAYS days are used


def kpi_periods(
    engine: QueryEngine, city_id: str, filters: Filters, comparison: str = DEFAULT_COMPARISON
) -> KpiPeriods:
    """The KPI period (the filters', or the last 30 days of data) and the one it is compared
    with (`period.comparison_period`)."""
    first, last = coverage(engine, city_id)
    default = not (filters.start or filters.end)
    if default:
        if last is None:
            return KpiPeriods(filters, None, True)
        current = Filters(last - dt.timedelta(days=KPI_DAYS - 1), last, filters.districts)
    else:
        current = Filters(filters.start or first, filters.end or last, filters.districts)
    previous = current.previous(comparison)
    if previous is current or first is None or previous.start is None or previous.start < first:
        previous = None
    return KpiPeriods(current, previous, default)


KPI_NAMES = ("mean_speed_kmh", "tti", "incidents", "response_min")


def _span(periods: Sequence[Filters]) -> Filters:
    """One filter covering every period (same districts), for the scan's pruning."""
    starts, ends = [p.start for p in periods], [p.end for p in periods]
    return Filters(
        None if None in starts else min(starts),
        None if None in ends else max(ends),
        periods[0].districts,
    )


def _speed_kpis(
    engine: QueryEngine, city_id: str, periods: Sequence[Filters]
) -> list[tuple[float | None, float | None]]:
    """Mean speed of the readings and travel time index averaged over detectors, of each
    period, from one scan: per detector, each period's sums under its own FILTER (or from the
    running totals of the rollup)."""
    totals = detector_days(engine, city_id)
    if totals is not None:
        ff = free_flow_of(engine, city_id, totals.detector_ids.to_pandas())
        return [_speed_of(ff, totals.sums(period)) for period in periods]
    src, grain = engine.plan(city_id, READINGS, ("detector_day",))
    if grain is not None:  # the per-detector-day sums and counts
        count = "sum"
        readings, speeds, moving, inverse = "n_speed", "speed_sum", "n_moving", "inverse_speed_sum"
        where = [day_filter_sql(p, "day") for p in periods]
        scan = day_filter_sql(_span(periods), "day")
    else:  # the raw readings
        count = "count"
        readings = speeds = "speed_kmh"
        moving = "CASE WHEN speed_kmh > 0 THEN 1 END"
        inverse = "CASE WHEN speed_kmh > 0 THEN 1.0 / speed_kmh END"
        where, scan = [filter_sql(p, "ts") for p in periods], filter_sql(_span(periods), "ts")
    aggregates = []
    for i, condition in enumerate(where):
        aggregates += [
            f"coalesce({count}({readings}) FILTER (WHERE {condition}), 0)::BIGINT AS readings_{i}",
            f"sum({speeds}) FILTER (WHERE {condition})::DOUBLE AS speed_sum_{i}",
            f"coalesce({count}({moving}) FILTER (WHERE {condition}), 0)::BIGINT AS moving_{i}",
            f"sum({inverse}) FILTER (WHERE {condition})::DOUBLE AS inverse_{i}",
        ]
    table = engine.arrow(
        f"SELECT detector_id, {', '.join(aggregates)} FROM {src} WHERE {scan} "
        "GROUP BY detector_id ORDER BY detector_id"
    )
    ff = free_flow_of(engine, city_id, table["detector_id"].to_pylist())
    return [
        _speed_of(
            ff,
            {
                "n_speed": table[f"readings_{i}"].to_numpy(),
                "speed_sum": table[f"speed_sum_{i}"].to_numpy(),
                "n_moving": table[f"moving_{i}"].to_numpy().astype(float),
                "inverse_speed_sum": table[f"inverse_{i}"].to_numpy().astype(float),
            },
        )
        for i in range(len(periods))
    ]


def _speed_of(free_flow: np.ndarray, sums: dict[str, np.ndarray]) -> tuple[float | None, ...]:
    """(mean speed of the readings, travel time index averaged over detectors) from the
    per-detector sums of a period."""
    readings = sums["n_speed"].sum()
    if readings == 0:
        return None, None
    speed_sum = np.nansum(sums["speed_sum"])
    tti = tti_of(free_flow, sums["inverse_speed_sum"], sums["n_moving"])
    tti = tti[~np.isnan(tti)]
    return float(speed_sum / readings), float(tti.mean()) if len(tti) else None


def _per_period(
    engine: QueryEngine,
    city_id: str,
    kind: str,
    time_column: str,
    value: str,
    periods: Sequence[Filters],
) -> list[float | None]:
    """One aggregate (`value`) of each period, from one scan of the dataset."""
    src = engine.source(city_id, kind)
    columns = ", ".join(
        f"{value} FILTER (WHERE {filter_sql(p, time_column)}) AS v{i}"
        for i, p in enumerate(periods)
    )
    row = engine.arrow(
        f"SELECT {columns} FROM {src} WHERE {filter_sql(_span(periods), time_column)}"
    ).to_pylist()[0]
    return [_none(row[f"v{i}"]) for i in range(len(periods))]


def _none(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def periods_kpis(
    engine: QueryEngine, city_id: str, periods: Sequence[Filters]
) -> list[dict[str, float | None]]:
    """Mean speed, travel time index, incidents and median emergency travel time of each
    period (each with its start and end), one scan per dataset for them all.

    A value is None when its dataset is missing or holds nothing in the period.
    """
    out = [dict.fromkeys(KPI_NAMES) for _ in periods]
    if not periods:
        return out
    with contextlib.suppress(MissingDataset):
        for values, (speed, tti) in zip(out, _speed_kpis(engine, city_id, periods), strict=True):
            values["mean_speed_kmh"], values["tti"] = speed, tti
    with contextlib.suppress(MissingDataset):
        counts = _per_period(engine, city_id, INCIDENTS, "detected_at", "count(*)", periods)
        for values, count in zip(out, counts, strict=True):
            values["incidents"] = count
    with contextlib.suppress(MissingDataset):
        medians = _per_period(engine, city_id, RUNS, "started_at", "median(travel_min)", periods)
        for values, median in zip(out, medians, strict=True):
            values["response_min"] = median
    return out


def period_kpis(engine: QueryEngine, city_id: str, filters: Filters) -> dict[str, float | None]:
    """The KPIs of one period (see `periods_kpis`)."""
    return periods_kpis(engine, city_id, [filters])[0]


def kpis(
    engine: QueryEngine, city_id: str, filters: Filters, comparison: str = DEFAULT_COMPARISON
) -> pd.DataFrame:
    """Two rows (current, previous) of the KPI values, with each period's dates (kept in the
    process for the versions read: the overview and the traffic page show the same block);
    `comparison` chooses the previous period (`period.COMPARISONS`)."""
    comparison = parse_comparison(comparison)
    return engine.memo_frame(
        "traffic.kpis",
        city_id,
        (READINGS, INCIDENTS, RUNS),
        (filters, comparison),
        lambda: _kpis(engine, city_id, filters, comparison),
    )


def _kpis(engine: QueryEngine, city_id: str, filters: Filters, comparison: str) -> pd.DataFrame:
    periods = kpi_periods(engine, city_id, filters, comparison)
    named = [("current", periods.current), ("previous", periods.previous)]
    known = [period for _, period in named if period is not None]
    values = iter(periods_kpis(engine, city_id, known))
    rows = []
    for name, period in named:
        rows.append(
            {
                "period": name,
                "start": period.start if period else None,
                "end": period.end if period else None,
                "default_window": periods.default_window,
                **(next(values) if period is not None else dict.fromkeys(KPI_NAMES)),
            }
        )
    return pd.DataFrame(rows)
