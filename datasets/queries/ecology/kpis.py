"""The ecology KPI block: PM2.5, good-air days, renewable share, bike trips, recycled waste of
a window and of the one it is compared with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.period import DEFAULT_COMPARISON, parse_comparison
from datasets.query import Filters, MissingDataset, QueryEngine

from .aqi import city_daily_aqi
from .common import (
    DEFAULT_KPI_DAYS,
    DEFAULT_STANDARD,
    GOOD_AQI,
    RECYCLED_STREAMS,
    as_floats,
    columns_of,
    coverage,
    has_dataset,
    standard_or_default,
)


@dataclass(frozen=True)
class KpiWindow:
    """The period the KPI cards describe and the one they are compared with."""

    current: Filters
    previous: Filters
    default: bool  # True when no dates were chosen (last 30 days of data)


def kpi_window(
    engine: QueryEngine, city_id: str, filters: Filters, comparison: str = DEFAULT_COMPARISON
) -> KpiWindow | None:
    """The chosen period and the one it is compared with (`period.comparison_period`); without
    chosen dates, the last 30 days of data (a missing start or end is taken from the data)."""
    if filters.start and filters.end:
        return KpiWindow(filters, filters.previous(comparison), False)
    spans = [
        span
        for kind in ("air_quality_hourly", "energy_daily", "mobility_daily", "waste_monthly")
        if (span := coverage(engine, city_id, kind))
    ]
    if not spans:
        return None
    first = min(s[0] for s in spans)
    last = max(s[1] for s in spans)
    if filters.start or filters.end:
        current = Filters(filters.start or first, filters.end or last, filters.districts)
        return KpiWindow(current, current.previous(comparison), False)
    end = last
    start = end - dt.timedelta(days=DEFAULT_KPI_DAYS - 1)
    current = Filters(start, end, filters.districts)
    return KpiWindow(current, current.previous(comparison), True)


# Each KPI reads both periods in one query (a period column: 0 the current one, 1 the one
# before), since a query's fixed cost is most of its time on these small tables.


def _span(window: KpiWindow) -> Filters:
    """The two periods of a window as one (the previous one ends the day before the current)."""
    return Filters(window.previous.start, window.current.end, window.current.districts)


def _period_sql(column: str, window: KpiWindow) -> str:
    return f"CASE WHEN {column} >= DATE '{window.current.start.isoformat()}' THEN 0 ELSE 1 END"


def _midmonth_filters(filters: Filters) -> str:
    """Months whose 15th day falls inside the period, so two adjacent periods never share one."""
    clauses = ["TRUE"]
    if filters.start:
        clauses.append(f"month + INTERVAL 14 DAY >= DATE '{filters.start.isoformat()}'")
    if filters.end:
        clauses.append(f"month + INTERVAL 14 DAY <= DATE '{filters.end.isoformat()}'")
    return " AND ".join(clauses)


def _air_kpis(engine, city_id, window: KpiWindow, standard) -> list[tuple]:
    """[(mean PM2.5, share of good days)] for the current and the previous period."""
    city = city_daily_aqi(engine, city_id, _span(window), standard)
    if city.empty:
        return [(None, None), (None, None)]
    current = city["date"].to_numpy() >= np.datetime64(window.current.start)
    pm25, aqi = as_floats(city["pm25"]), as_floats(city["aqi"])
    out = []
    for rows in (current, ~current):
        pm = pm25[rows][~np.isnan(pm25[rows])]
        days = aqi[rows][~np.isnan(aqi[rows])]
        good = float((days <= GOOD_AQI).mean()) if len(days) else None
        out.append((float(pm.mean()) if len(pm) else None, good))
    return out


def _table_kpis(engine, city_id, window: KpiWindow) -> dict[str, list]:
    """{kpi: [current, previous]} of the KPIs read from the energy, mobility and waste tables:
    one query for the three (each would cost about as much alone), leaving out the tables
    the city lacks. The recycled share is that of the streams named in RECYCLED_STREAMS."""
    span = _span(window)
    selects = []
    if has_dataset(engine, city_id, "energy_daily"):
        selects.append(f"""
            SELECT 'renewable' AS kpi, {_period_sql("date", window)} AS period,
                   SUM(renewable_gwh) / NULLIF(SUM(electricity_gwh), 0) AS value
            FROM {engine.source(city_id, "energy_daily")}
            WHERE {span.where("date", None)}
            GROUP BY 1, 2""")
    if has_dataset(engine, city_id, "mobility_daily") and "public_bike_trips" in columns_of(
        engine, city_id, "mobility_daily"
    ):
        selects.append(f"""
            SELECT 'bike_trips', {_period_sql("date", window)}, AVG(public_bike_trips)
            FROM {engine.source(city_id, "mobility_daily")}
            WHERE {span.where("date", None)}
            GROUP BY 1, 2""")
    if has_dataset(engine, city_id, "waste_monthly"):
        streams = ", ".join(f"'{stream}'" for stream in RECYCLED_STREAMS)
        selects.append(f"""
            SELECT 'recycled', {_period_sql("month + INTERVAL 14 DAY", window)},
                   COALESCE(SUM(CASE WHEN lower(stream) IN ({streams}) THEN tonnes END), 0)
                   / NULLIF(SUM(tonnes), 0)
            FROM {engine.source(city_id, "waste_monthly")}
            WHERE {_midmonth_filters(span)}
            GROUP BY 1, 2""")
    out: dict[str, list] = {}
    if not selects:
        return out
    frame = engine.arrow("\n            UNION ALL".join(selects)).to_pydict()
    for kpi, period, value in zip(frame["kpi"], frame["period"], frame["value"], strict=True):
        out.setdefault(kpi, [None, None])[period] = None if value is None else float(value)
    return out


KPI_IDS = ("pm25", "good_days", "renewable", "bike_trips", "recycled")


def kpis(
    engine: QueryEngine,
    city_id: str,
    filters: Filters,
    standard: str = DEFAULT_STANDARD,
    comparison: str = DEFAULT_COMPARISON,
) -> pd.DataFrame:
    """The headline figures for the period and the previous one.

    Columns: kpi, value, previous, start, end, previous_start, previous_end, default_window.
    A KPI whose dataset is missing has None values.
    """
    standard = standard_or_default(standard)
    comparison = parse_comparison(comparison)
    return engine.memo_frame(
        "ecology.kpis",
        city_id,
        ("air_quality_hourly", "air_stations", "energy_daily", "mobility_daily", "waste_monthly"),
        (filters, standard, comparison),
        lambda: _kpis(engine, city_id, filters, standard, comparison),
    )


def _kpis(
    engine: QueryEngine, city_id: str, filters: Filters, standard: str, comparison: str
) -> pd.DataFrame:
    window = kpi_window(engine, city_id, filters, comparison)
    columns = [
        "kpi",
        "value",
        "previous",
        "start",
        "end",
        "previous_start",
        "previous_end",
        "default_window",
    ]
    if window is None:
        return pd.DataFrame(columns=columns)

    try:
        air = _air_kpis(engine, city_id, window, standard)
    except MissingDataset:
        air = [(None, None)] * 2
    values = {
        "pm25": [air[0][0], air[1][0]],
        "good_days": [air[0][1], air[1][1]],
        **_table_kpis(engine, city_id, window),
    }
    rows = [
        {
            "kpi": kpi,
            "value": current,
            "previous": previous,
            "start": window.current.start,
            "end": window.current.end,
            "previous_start": window.previous.start,
            "previous_end": window.previous.end,
            "default_window": window.default,
        }
        for kpi in KPI_IDS
        for current, previous in [values.get(kpi, (None, None))]
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame[["value", "previous"]] = frame[["value", "previous"]].astype("float64")
    return frame
