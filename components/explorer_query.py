"""The explorer's options: what the viewer picked in the URL (chart, x, y, colour, aggregation,
time range, filters) checked against the dataset's columns and turned into a `Spec`, with every
gap filled by a sensible default. The queries that read the spec live in
`datasets.queries.explorer`.
"""

from __future__ import annotations

import json
import re

from datasets.queries.explorer import AGGREGATIONS, BUCKETS, CHARTS, Col, Spec, where

from .state import parse_date

# `Col`, `Spec` and `where` are the query module's, named here for the callers that check
# options and their SQL together.
__all__ = [
    "MAX_FILTERS",
    "MAX_FILTER_VALUES",
    "Col",
    "Spec",
    "charts_for",
    "default_y",
    "geo_columns",
    "spec_from_options",
    "time_column",
    "where",
]

MAX_FILTERS = 3
MAX_FILTER_VALUES = 50
LAT_NAMES = ("lat", "latitude", "lat_deg", "y_lat", "纬度")
LON_NAMES = ("lon", "lng", "long", "longitude", "lon_deg", "x_lon", "经度")


def _values(raw) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        values = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return ()
    if not isinstance(values, list):
        return ()
    return tuple(str(v) for v in values[:MAX_FILTER_VALUES] if v is not None)


def geo_columns(cols: list[Col]) -> tuple[str | None, str | None]:
    numbers = {c.name.lower(): c.name for c in cols if c.role == "number"}
    lat = next((numbers[n] for n in LAT_NAMES if n in numbers), None)
    lon = next((numbers[n] for n in LON_NAMES if n in numbers), None)
    return (lat, lon) if lat and lon else (None, None)


def time_column(cols: list[Col], preferred: str | None = None) -> str | None:
    names = {c.name for c in cols if c.role == "time"}
    if preferred in names:
        return preferred
    return next((c.name for c in cols if c.role == "time"), None)


def charts_for(cols: list[Col]) -> tuple[str, ...]:
    lat, _ = geo_columns(cols)
    return CHARTS if lat else tuple(c for c in CHARTS if c != "map")


def default_y(cols: list[Col], x: str | None, geo: tuple[str | None, str | None]) -> str | None:
    """The first measure with a unit, else the first decimal one, else any measure; never x,
    a coordinate or a code."""
    candidates = [c for c in cols if c.measure and c.name != x and c.name not in geo]
    decimals = [c for c in candidates if re.match(r"^(float|double|halffloat|decimal)", c.type)]
    first = next((c for c in candidates if c.unit), None) or next(iter(decimals), None)
    first = first or next(iter(candidates), None)
    return first.name if first else None


def spec_from_options(options: dict, cols: list[Col], preferred_time: str | None = None) -> Spec:
    """The spec for URL options; every name is checked, every gap filled with a sensible
    default (time on x with a line, or the first text column with bars; a measure on y, see
    `default_y`). Codes are never on y: they can be counted, coloured by or filtered on."""
    by_name = {c.name: c for c in cols}
    numbers = [c.name for c in cols if c.role == "number"]
    measures = [c.name for c in cols if c.measure]
    texts = [c.name for c in cols if c.role in {"text", "bool"}]
    tcol = time_column(cols, preferred_time)
    lat, lon = geo_columns(cols)
    notes: list[str] = []

    chart = options.get("chart")
    if chart not in charts_for(cols):
        chart = "line" if tcol else "bar"
    x = options.get("x")
    if x not in by_name:
        x = tcol or (texts[0] if texts else None) or (numbers[0] if numbers else None)
    y = options.get("y")
    if y not in measures:
        y = default_y(cols, x, (lat, lon)) or next((n for n in measures if n != x), None)
    agg = options.get("agg")
    if agg not in AGGREGATIONS:
        agg = "mean" if y else "count"
    if y is None and agg != "count":
        agg = "count"
        notes.append("explorer.note.count_only")
    color = options.get("color")
    if color not in by_name or color == x:
        color = None
    if chart == "scatter" and (x is None or y is None):
        chart = "bar"
        notes.append("explorer.note.scatter_needs")
    bucket = options.get("bucket")
    if bucket not in BUCKETS:
        bucket = "auto"
    filters = []
    for i in range(1, MAX_FILTERS + 1):
        name = options.get(f"f{i}")
        values = _values(options.get(f"v{i}"))
        if name in by_name and values:
            filters.append((name, values))
    since, until = parse_date(options.get("since")), parse_date(options.get("until"))
    if since and until and since > until:
        since, until = until, since
    return Spec(
        chart=chart,
        x=x,
        y=y,
        color=color,
        agg=agg,
        bucket=bucket,
        since=since if tcol else None,
        until=until if tcol else None,
        filters=tuple(filters),
        time=tcol,
        lat=lat,
        lon=lon,
        notes=tuple(notes),
    )
