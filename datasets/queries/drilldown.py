"""Drill-down over raw rows: any kind, by time bucket, for chosen detectors or stations.

The round-table charts answer from rollups; this is the path to the raw 5-minute (or hourly)
rows behind them, with the filters and the aggregation still inside the Parquet scan.
"""

from __future__ import annotations

import pandas as pd

from datasets.query import BUCKETS, Filters, QueryEngine
from datasets.schemas import KINDS

AGGREGATES = {"mean": "AVG", "sum": "SUM", "min": "MIN", "max": "MAX", "count": "COUNT"}
SITE_COLUMNS = ("detector_id", "station_id")


def series(
    engine: QueryEngine,
    city_id: str,
    kind: str,
    filters: Filters,
    bucket: str,
    measures: dict[str, str],
    by_site: bool = False,
) -> pd.DataFrame:
    """One row per time bucket (and per site with `by_site`), each measure aggregated as asked.

    Column names and aggregations are checked against the kind's schema and a fixed list, so
    nothing from a request reaches the SQL unchecked.
    """
    spec = KINDS[kind]
    names = {c.name for c in spec.columns}
    if spec.time_column is None:
        raise ValueError(f"{kind} has no time column to bucket")
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}: expected one of {', '.join(BUCKETS)}")
    unknown = [m for m in measures if m not in names] + [
        a for a in measures.values() if a not in AGGREGATES
    ]
    if unknown or not measures:
        raise ValueError(f"unknown measure or aggregation: {unknown or 'none given'}")
    site = next((c for c in SITE_COLUMNS if c in names), None)
    district = "district" if "district" in names else None
    group = ["bucket"] + ([site] if by_site and site else [])
    selects = ", ".join(f"{AGGREGATES[agg]}({col}) AS {col}" for col, agg in measures.items())
    site_select = f", {site}" if by_site and site else ""
    sql = f"""
        SELECT time_bucket({BUCKETS[bucket]}, {spec.time_column}) AS bucket{site_select}, {selects}
        FROM {engine.source(city_id, kind)}
        WHERE {filters.where(spec.time_column, district, site)}
        GROUP BY ALL
        ORDER BY {", ".join(group)}
    """
    return engine.frame(sql)
