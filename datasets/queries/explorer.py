"""The explorer's queries: a checked `Spec` (chart, x, y, colour, aggregation, filters) turned
into one DuckDB GROUP BY over a dataset's current Parquet files.

The SQL builders are pure functions of the spec, the dataset's column list and the
`read_parquet(...)` source, so they are tested against pandas on small tables; the functions
at the end run them through the query engine. Column names come from the catalog and are quoted
as identifiers; a name the dataset lacks never reaches a spec (the view checks the link's
options against the columns first); filter values and dates are bind parameters.
Every query returns at most `MAX_POINTS` rows: time is bucketed, categories are the most
frequent ones, scatter plots sample. A failing query raises `QueryFailed` (a ValueError) with
DuckDB's message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from datasets.catalog import Dataset
from datasets.cells import short_sql
from datasets.query import QueryEngine, ident
from datasets.schemas import KINDS

CHARTS = ("line", "bar", "scatter", "box", "heatmap", "map")
AGGREGATIONS = ("mean", "sum", "median", "min", "max", "count")
BUCKETS = ("auto", "hour", "day", "week", "month", "year")
MAX_POINTS = 5000
MAX_CATEGORIES = 50  # on the x axis of bars, boxes and heatmaps
MAX_SERIES = 7  # colours: more lines than this cannot be told apart
NAMED_LEFT_OUT = 5  # series left out that the note names
VALUE_CHOICES = 200  # distinct values offered by a filter
SAMPLE_SEED = 2017
# An integer column named like one of these holds labels, not quantities: the mean of station
# numbers or district codes is a number that means nothing (a flat line at 330,108).
CODE_WORDS = frozenset(
    {"id", "code", "no", "nr", "idx", "index", "key", "ref", "uuid", "station", "district",
     "detector", "sensor", "zone", "zip", "postcode", "fips", "geoid"}
)  # fmt: skip
TIME_PARTS = frozenset({"year", "quarter", "month", "week", "weekday", "day", "hour", "minute"})
BUCKET_SECONDS = {
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}
SQL_AGG = {
    "mean": "avg({y})",
    "sum": "sum({y})",
    "median": "median({y})",
    "min": "min({y})",
    "max": "max({y})",
    "count": "count(*)",
}


@dataclass(frozen=True)
class Col:
    name: str
    type: str  # the Arrow type as the catalog lists it
    unit: str = ""
    code: bool = False  # an identifier or code (see `is_code`): never summed or averaged

    @property
    def role(self) -> str:
        """time | number | bool | text"""
        t = self.type.lower()
        if t.startswith(("timestamp", "date")):
            return "time"
        if re.match(r"^(u?int\d*|float|double|halffloat|decimal)", t):
            return "number"
        if t in {"bool", "boolean"}:
            return "bool"
        return "text"

    @property
    def measure(self) -> bool:
        """A quantity a chart may aggregate on y."""
        return self.role == "number" and not self.code


def _name_words(name: str) -> list[str]:
    """`stationId`, `station_id`, `Station ID` → ["station", "id"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if w]


def is_code(name: str, arrow_type: str, unit: str = "", kind: str | None = None) -> bool:
    """Whether a number column is an identifier or code. A kind's schema settles it: its
    quantities carry a unit, its numbers without one (a district, a station index) are codes.
    In a generic table an integer is a code when its name says so (`id`, `No`, `station_id`,
    `district`, a time part such as `year` or `hour`); decimals never are."""
    if Col(name, arrow_type).role != "number":
        return False
    schema = KINDS.get(kind or "")
    known = {c.name: c for c in schema.columns} if schema else {}
    if name in known:
        return not known[name].unit
    if unit or not re.match(r"^u?int", arrow_type.lower()):
        return False
    words = _name_words(name)
    if not words:
        return False
    return (
        name.strip().lower() in TIME_PARTS
        or words[-1] in CODE_WORDS
        or words[0] in {"id", "no", "nr", "code"}
    )


def columns_of(dataset: Dataset) -> list[Col]:
    """The dataset's columns from the catalog (no file is opened)."""
    kind = dataset.meta.kind
    return [
        Col(
            c["name"],
            str(c["type"]),
            c.get("unit") or "",
            is_code(c["name"], str(c["type"]), c.get("unit") or "", kind),
        )
        for c in dataset.current.columns
    ]


@dataclass(frozen=True)
class Spec:
    """What the viewer asked for, checked against the dataset's columns."""

    chart: str
    x: str | None
    y: str | None
    color: str | None
    agg: str
    bucket: str = "auto"
    since: dt.date | None = None
    until: dt.date | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    time: str | None = None  # the column the time range applies to
    lat: str | None = None
    lon: str | None = None
    notes: tuple[str, ...] = field(default=())  # message keys: what was adjusted


def where(spec: Spec) -> tuple[str, list]:
    """The filters as SQL with bind parameters (dates and the picked values)."""
    clauses, params = ["TRUE"], []
    if spec.time and spec.since:
        clauses.append(f"CAST({ident(spec.time)} AS TIMESTAMP) >= ?")
        params.append(dt.datetime.combine(spec.since, dt.time()))
    if spec.time and spec.until:
        clauses.append(f"CAST({ident(spec.time)} AS TIMESTAMP) < ?")
        params.append(dt.datetime.combine(spec.until + dt.timedelta(days=1), dt.time()))
    for name, values in spec.filters:
        marks = ", ".join("?" for _ in values)
        clauses.append(f"{short_sql(ident(name))} IN ({marks})")  # as `values_query` offers
        params.extend(values)
    return " AND ".join(clauses), params


def choose_bucket(span_seconds: float | None, series: int = 1) -> str:
    """The finest time bucket that keeps a chart under a few thousand points."""
    if not span_seconds or span_seconds <= 0:
        return "day"
    budget = max(50, 2000 // max(1, series))
    for name in ("hour", "day", "week", "month"):
        if span_seconds / BUCKET_SECONDS[name] <= budget:
            return name
    return "year"


@dataclass(frozen=True)
class Query:
    sql: str
    params: tuple
    x_role: str | None  # time | number | bool | text
    bucket: str | None = None


def shown(column: str, role: str | None) -> str:
    """A column as a chart shows it: text cut short (a category, a series name, a label), so
    that a long value never leaves DuckDB; anything else as it is."""
    return short_sql(ident(column)) if role == "text" else ident(column)


def _top(column: str, src: str, cond: str, limit: int) -> str:
    """The most frequent values of a column (ties broken by value, so results are stable)."""
    c = ident(column)
    return (
        f"SELECT {c} FROM {src} WHERE {cond} AND {c} IS NOT NULL "
        f"GROUP BY {c} ORDER BY count(*) DESC, {c} LIMIT {int(limit)}"
    )


def span_query(spec: Spec, src: str) -> tuple[str, tuple] | None:
    """min and max of the time on x (to pick the bucket), under the filters."""
    if not spec.x:
        return None
    cond, params = where(spec)
    x = ident(spec.x)
    sql = (
        f"SELECT CAST(min({x}) AS TIMESTAMP) AS lo, CAST(max({x}) AS TIMESTAMP) AS hi "
        f"FROM {src} WHERE {cond}"
    )
    return sql, tuple(params)


def build(spec: Spec, cols: list[Col], src: str, bucket: str | None = None) -> Query:
    """The one query behind the chart. `src` is the engine's `read_parquet(...)` expression;
    `bucket` the time bucket for a time x (see `choose_bucket`)."""
    roles = {c.name: c.role for c in cols}
    cond, params = where(spec)
    x_role = roles.get(spec.x) if spec.x else None
    y = ident(spec.y) if spec.y else None
    value = SQL_AGG[spec.agg].format(y=y) if (y or spec.agg == "count") else "count(*)"
    agg_value = value if spec.agg == "count" or y else "count(*)"

    def restrict(column: str | None, limit: int) -> None:
        nonlocal cond
        if column and roles.get(column) in {"text", "bool", "number"}:
            cond += f" AND {ident(column)} IN ({_top(column, src, where(spec)[0], limit)})"
            params.extend(where(spec)[1])

    if spec.chart == "map":
        lat, lon = ident(spec.lat), ident(spec.lon)
        geo = f"{lat} BETWEEN -90 AND 90 AND {lon} BETWEEN -180 AND 180"
        color_sel = f", {shown(spec.color, roles.get(spec.color))} AS color" if spec.color else ""
        color_grp = ", color" if spec.color else ""
        restrict(spec.color, MAX_SERIES)
        sql = (
            f"SELECT round({lat}, 5) AS lat, round({lon}, 5) AS lon{color_sel}, "
            f"{agg_value} AS value, count(*) AS n FROM {src} WHERE {cond} AND {geo} "
            f"GROUP BY 1, 2{color_grp} ORDER BY n DESC, lat, lon LIMIT {MAX_POINTS}"
        )
        return Query(sql, tuple(params), None)

    if spec.chart == "scatter":
        color_sel = f", {shown(spec.color, roles.get(spec.color))} AS color" if spec.color else ""
        restrict(spec.color, MAX_SERIES)
        x = ident(spec.x)
        inner = (
            f"SELECT {shown(spec.x, x_role)} AS x, {y} AS y{color_sel} FROM {src} "
            f"WHERE {cond} AND {x} IS NOT NULL AND {y} IS NOT NULL"
        )
        sql = (
            f"SELECT * FROM ({inner}) USING SAMPLE reservoir({MAX_POINTS} ROWS) "
            f"REPEATABLE ({SAMPLE_SEED}) ORDER BY x"
        )
        return Query(sql, tuple(params), x_role)

    # line, bar, box, heatmap: one row per x (and colour)
    used_bucket = None
    if spec.x is None:
        x_expr = "NULL"
    elif x_role == "time":
        used_bucket = bucket if bucket in BUCKET_SECONDS else "day"
        x_expr = f"CAST(date_trunc('{used_bucket}', {ident(spec.x)}) AS TIMESTAMP)"
    else:
        x_expr = shown(spec.x, x_role)
        if x_role in {"text", "bool"} or spec.chart in {"box", "heatmap"}:
            restrict(spec.x, MAX_CATEGORIES)
    restrict(spec.color, MAX_SERIES)
    color_sel = f", {shown(spec.color, roles.get(spec.color))} AS color" if spec.color else ""
    color_grp = ", color" if spec.color else ""
    not_null = f" AND {ident(spec.x)} IS NOT NULL" if spec.x else ""
    if spec.chart == "box":
        if y is None:
            raise ValueError("a box plot needs a numeric y")
        stats = (
            f"min({y}) AS lo, quantile_cont({y}, 0.25) AS q1, median({y}) AS median, "
            f"quantile_cont({y}, 0.75) AS q3, max({y}) AS hi, count({y}) AS n"
        )
        sql = (
            f"SELECT {x_expr} AS x{color_sel}, {stats} FROM {src} WHERE {cond}{not_null} "
            f"AND {y} IS NOT NULL GROUP BY 1{color_grp} ORDER BY 1{color_grp} LIMIT {MAX_POINTS}"
        )
    else:
        sql = (
            f"SELECT {x_expr} AS x{color_sel}, {agg_value} AS value, count(*) AS n "
            f"FROM {src} WHERE {cond}{not_null} GROUP BY 1{color_grp} "
            f"ORDER BY 1{color_grp} LIMIT {MAX_POINTS}"
        )
    return Query(sql, tuple(params), x_role, used_bucket)


def series_left_out_query(spec: Spec, cols: list[Col], src: str) -> tuple[str, tuple] | None:
    """The colour's values beyond the `MAX_SERIES` a chart shows (the same ranking as the
    query's, most rows first): (v, total) rows, at most `NAMED_LEFT_OUT + 1` of them, `total`
    being how many values the colour has in all. None without a colour."""
    if not spec.color:
        return None
    roles = {c.name: c.role for c in cols}
    cond, params = where(spec)
    c = ident(spec.color)
    sql = (
        f"SELECT v, total FROM (SELECT {shown(spec.color, roles.get(spec.color))} AS v, {c} AS raw,"
        f" count(*) AS n, count(*) OVER () AS total FROM {src} WHERE {cond} AND {c} IS NOT NULL "
        f"GROUP BY {c}) ORDER BY n DESC, raw LIMIT {NAMED_LEFT_OUT + 1} OFFSET {MAX_SERIES}"
    )
    return sql, tuple(params)


def values_query(column: str, src: str) -> str:
    """The values a filter offers: the most frequent ones, as text."""
    c = ident(column)
    return (
        f"SELECT {short_sql(c)} AS v, count(*) AS n FROM {src} WHERE {c} IS NOT NULL "
        f"GROUP BY 1 ORDER BY n DESC, v LIMIT {VALUE_CHOICES}"
    )


# -- through the engine ----------------------------------------------------------------------------


class QueryFailed(ValueError):
    """DuckDB refused or failed a query of the explorer (its message, first line first)."""


def _frame(engine: QueryEngine, sql: str, params: tuple = ()) -> pd.DataFrame:
    try:
        return engine.frame(sql, params)
    except duckdb.Error as exc:
        raise QueryFailed(str(exc)) from exc


def source(engine: QueryEngine, dataset: Dataset) -> str:
    """The engine's `read_parquet(...)` expression of the dataset's current version."""
    return engine.source(dataset.meta.city, dataset.meta.kind, dataset.id)


def chart_frame(
    engine: QueryEngine, dataset: Dataset, spec: Spec, cols: list[Col]
) -> tuple[pd.DataFrame, Query]:
    """The rows behind the chart and the query that gave them. A time x with the `auto`
    bucket first reads the time span under the filters to pick the bucket (`choose_bucket`)."""
    src = source(engine, dataset)
    roles = {c.name: c.role for c in cols}
    bucket = spec.bucket
    time_x = spec.x and roles.get(spec.x) == "time" and spec.chart not in {"scatter", "map"}
    if time_x and bucket == "auto":
        sql, params = span_query(spec, src)
        span = _frame(engine, sql, params)
        lo, hi = span["lo"].iloc[0], span["hi"].iloc[0]
        seconds = (hi - lo).total_seconds() if lo == lo and hi == hi else None
        bucket = choose_bucket(seconds, MAX_SERIES if spec.color else 1)
    query = build(spec, cols, src, bucket)
    return _frame(engine, query.sql, query.params), query


def series_left_out(
    engine: QueryEngine, dataset: Dataset, spec: Spec, cols: list[Col]
) -> pd.DataFrame | None:
    """The colour's values the chart leaves out (`series_left_out_query`); None without a
    colour."""
    query = series_left_out_query(spec, cols, source(engine, dataset))
    return None if query is None else _frame(engine, *query)


def filter_values(engine: QueryEngine, dataset: Dataset, column: str) -> pd.DataFrame:
    """(v, n): the values a filter on `column` offers, most frequent first; empty for a name
    the dataset lacks."""
    if column not in {c["name"] for c in dataset.current.columns}:
        return pd.DataFrame({"v": [], "n": []})
    return _frame(engine, values_query(column, source(engine, dataset)))
