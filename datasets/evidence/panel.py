"""An intervention's data: the daily outcome panel, the units it can name, and its checks.

`outcome_panel` is what every estimate starts from: one row per unit and day, the mean of the
outcome over the intervention's hours and weekdays. It runs inside DuckDB: from the
`detector_day` rollup when that holds the sums asked for (traffic speed over the peak hours
`PEAK_HOURS`, or speed, volume or occupancy over whole days), else as one scan of the raw rows
grouped by unit and day with the hour and weekday filter in the SQL.

Nothing of an intervention reaches the SQL unchecked: the kind and column must be in the
catalog's known schema (`datasets.schemas.KINDS`) and in the dataset's current version, and are
written as quoted identifiers; hours are integers; unit ids are bound as `?` parameters (district
codes as integers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from datasets.cities import CityProfile
from datasets.query import QueryEngine, ident
from datasets.rollups import PEAK_HOURS
from datasets.schemas import KINDS, Kind
from i18n import t

from .model import Intervention

DETECTORS = "traffic_detectors"
READINGS = "traffic_readings"
STATIONS = "air_stations"
MIN_SIDE_DAYS = 14  # an estimate needs at least two weeks of data before and after the start
SIMILAR_DAYS = 84  # controls are matched on the 12 weeks before the start
MAX_NAMED = 5  # unknown units named in a problem
PANEL_COLUMNS = ["unit", "day", "value", "n", "treated"]

# detector_day sums that answer a (column, hours) pair exactly: (sum, count) columns.
_ROLLUP_ALL_DAY = {
    "speed_kmh": ("speed_sum", "n_speed"),
    "volume": ("volume_sum", "n_volume"),
    "occupancy": ("occupancy_sum", "n_occupancy"),
}
_ROLLUP_PEAK = {"speed_kmh": ("peak_speed_sum", "peak_n_speed")}
_UNIT_COLUMN = {"detector": "detector_id", "station": "station_id", "district": "district"}


@dataclass(frozen=True)
class Problem:
    """Why an intervention cannot be evaluated on the data: `code` names the message
    `evidence.problem.<code>`, `params` fills it."""

    code: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        """In English, for the command line."""
        return self.text("en")

    def text(self, lang: str) -> str:
        return t(f"evidence.problem.{self.code}", lang, **self.params)


@dataclass(frozen=True)
class _Read:
    """How an outcome is read from its dataset: the source, the unit expression (as text) and
    the column it filters on, the join that brings a corridor in."""

    kind: Kind
    column: str
    time: str
    unit_sql: str
    unit_filter: str
    join: str = ""
    numeric_units: bool = False


def _dataset_columns(engine: QueryEngine, city: CityProfile, kind: str) -> set[str] | None:
    found = engine.find(city.id, kind)
    if found is None:
        return None
    return {c["name"] for c in found.current.columns}


def _outcome_problems(engine: QueryEngine, city: CityProfile, iv: Intervention) -> list[Problem]:
    kind_id, _, column = iv.outcome.partition(".")
    kind = KINDS.get(kind_id)
    if kind is None or not kind.columns:
        return [Problem("outcome_kind", {"kind": kind_id})]
    present = _dataset_columns(engine, city, kind_id)
    if present is None:
        return [Problem("no_dataset", {"kind": kind_id})]
    known = {c.name for c in kind.columns}
    if column not in known or column not in present:
        return [Problem("outcome_column", {"kind": kind_id, "column": column})]
    spec = kind.column(column)
    numeric = pa.types.is_integer(spec.type) or pa.types.is_floating(spec.type)
    if not numeric or not spec.unit:
        return [Problem("outcome_not_numeric", {"outcome": iv.outcome})]
    time = kind.time_column
    if not time or not pa.types.is_timestamp(kind.column(time).type) or time not in present:
        return [Problem("outcome_no_time", {"kind": kind_id})]
    return []


def _read(engine: QueryEngine, city: CityProfile, iv: Intervention) -> _Read | None:
    """How to read `iv`'s outcome by its unit kind; None when that kind of unit is not in the
    outcome's data (the outcome itself must be valid: `_outcome_problems`)."""
    kind = KINDS[iv.kind]
    present = _dataset_columns(engine, city, iv.kind) or set()
    common = {"kind": kind, "column": iv.column, "time": kind.time_column}
    if iv.unit in _UNIT_COLUMN:
        name = _UNIT_COLUMN[iv.unit]
        if name not in present:
            return None
        column = f"r.{ident(name)}"
        as_text = f"CAST({column} AS VARCHAR)"
        return _Read(
            **common, unit_sql=as_text, unit_filter=column, numeric_units=name == "district"
        )
    if "road" in present:
        return _Read(**common, unit_sql='r."road"', unit_filter='r."road"')
    detectors = _dataset_columns(engine, city, DETECTORS) or set()
    if "detector_id" not in present or not {"detector_id", "road"} <= detectors:
        return None
    join = (
        "JOIN (SELECT CAST(detector_id AS VARCHAR) AS detector_id, any_value(road) AS road "
        f"FROM {engine.source(city.id, DETECTORS)} GROUP BY 1) AS d "
        "ON CAST(r.detector_id AS VARCHAR) = d.detector_id"
    )
    return _Read(**common, unit_sql="d.road", unit_filter="d.road", join=join)


def _unit_clause(read: _Read, ids: list[str]) -> tuple[str, list]:
    """`<unit> IN (…)` with the ids as parameters (district codes as integer literals, so the
    scan can skip row groups by them); ids that are not codes never match."""
    if read.numeric_units:
        codes = sorted({int(u) for u in ids if u.strip().lstrip("-").isdigit()})
        if not codes:
            return "FALSE", []
        return f"{read.unit_filter} IN ({', '.join(str(c) for c in codes)})", []
    if not ids:
        return "FALSE", []
    return f"{read.unit_filter} IN ({', '.join('?' for _ in ids)})", list(ids)


def _rollup_sums(iv: Intervention) -> tuple[str, str] | None:
    """The detector_day (sum, count) columns answering `iv`'s column and hours, if any."""
    if iv.kind != READINGS or iv.unit == "station":
        return None
    if not iv.hours:
        return _ROLLUP_ALL_DAY.get(iv.column)
    if set(iv.hours) == set(PEAK_HOURS):
        return _ROLLUP_PEAK.get(iv.column)
    return None


def _panel_sql(engine: QueryEngine, city: CityProfile, iv: Intervention, read: _Read, ids):
    """(SQL, parameters) of the panel: from detector_day when it answers, else raw."""
    sums = _rollup_sums(iv)
    src, grain = engine.plan(city.id, READINGS, ("detector_day",)) if sums else (None, None)
    units, params = _unit_clause(read, ids)
    if grain is not None:
        total, count = (ident(name) for name in sums)
        weekday = "isodow(r.day) <= 5" if iv.weekdays else "TRUE"
        sql = f"""
            SELECT {read.unit_sql} AS unit, r.day AS day,
                   sum(r.{total})::DOUBLE / sum(r.{count}) AS value,
                   sum(r.{count})::BIGINT AS n
            FROM {src} AS r {read.join}
            WHERE {units} AND {weekday}
            GROUP BY ALL
            HAVING sum(r.{count}) > 0
        """
        return sql, params
    time = f"r.{ident(read.time)}"
    value = f"r.{ident(read.column)}"
    hours = (
        f"hour({time}) IN ({', '.join(str(int(h)) for h in sorted(set(iv.hours)))})"
        if iv.hours
        else "TRUE"
    )
    weekday = f"isodow({time}) <= 5" if iv.weekdays else "TRUE"
    sql = f"""
        SELECT {read.unit_sql} AS unit, CAST({time} AS DATE) AS day,
               avg({value})::DOUBLE AS value, count({value})::BIGINT AS n
        FROM {engine.source(city.id, iv.kind)} AS r {read.join}
        WHERE {units} AND {hours} AND {weekday}
        GROUP BY ALL
        HAVING count({value}) > 0
    """
    return sql, params


def _empty_panel() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": pd.Series([], dtype="str"),
            "day": pd.Series([], dtype="datetime64[ns]"),
            "value": pd.Series([], dtype="float64"),
            "n": pd.Series([], dtype="int64"),
            "treated": pd.Series([], dtype="bool"),
        }
    )


def outcome_panel(engine: QueryEngine, city: CityProfile, iv: Intervention) -> pd.DataFrame:
    """`unit` (str), `day` (datetime64, the calendar day), `value` (float: the outcome's mean
    over the kept hours and weekdays), `n` (readings averaged), `treated` (bool): one row per
    unit of `treated` ∪ `control` and day with data, sorted by unit and day.

    Empty when the outcome or the unit kind cannot be read (`check_intervention` says why).
    """
    if _outcome_problems(engine, city, iv):
        return _empty_panel()
    read = _read(engine, city, iv)
    ids = sorted(set(iv.treated) | set(iv.control))
    if read is None or not ids:
        return _empty_panel()
    sql, params = _panel_sql(engine, city, iv, read, ids)
    treated = tuple(sorted(set(iv.treated)))
    kinds = (iv.kind, DETECTORS) if read.join else (iv.kind,)
    return engine.memo_frame(
        "evidence_panel",
        city.id,
        kinds,
        (sql, tuple(params), treated),
        lambda: _panel_frame(engine.arrow(sql, params), treated),
    )


def _panel_frame(table: pa.Table, treated: tuple[str, ...]) -> pd.DataFrame:
    """The query's rows as the panel, sorted here rather than in the SQL: Arrow sorts the
    (text, date) keys several times faster than an ORDER BY in the query."""
    if table.num_rows == 0:
        return _empty_panel()
    table = table.sort_by([("unit", "ascending"), ("day", "ascending")])
    unit = pc.cast(table["unit"], pa.string())
    return pa.table(
        {
            "unit": unit,
            "day": pc.cast(pc.cast(table["day"], pa.date32()), pa.timestamp("ns")),
            "value": pc.cast(table["value"], pa.float64()),
            "n": pc.cast(table["n"], pa.int64()),
            "treated": pc.is_in(unit, value_set=pa.array(treated, pa.string())),
        }
    ).to_pandas()


def _distinct_sql(engine: QueryEngine, city: CityProfile, unit_kind: str, kind: str) -> str:
    """The unit ids of a kind's data, read from a rollup when one holds them."""
    column = _UNIT_COLUMN[unit_kind]
    if kind == READINGS:
        grains = ("detector_day",) if unit_kind == "detector" else ("district_day", "detector_day")
        src, _ = engine.plan(city.id, READINGS, grains)
    else:
        src = engine.source(city.id, kind)
    return (
        f"SELECT DISTINCT CAST({ident(column)} AS VARCHAR) AS id, NULL AS label FROM {src} "
        f"WHERE {ident(column)} IS NOT NULL ORDER BY 1"
    )


def units(
    engine: QueryEngine, city: CityProfile, unit_kind: str, kind: str, lang: str = "en"
) -> list[tuple[str, str]]:
    """(id, label) of the units of `unit_kind` the data of `kind` can be grouped by, sorted by
    id; empty when it cannot (no such column, no such dataset). Detectors and stations are
    read from the city's detector and station lists when it has them (labelled by name),
    else from the data itself; corridors are the detectors' roads; districts are those in the
    data, labelled by the city's district names."""
    spec = KINDS.get(kind)
    present = _dataset_columns(engine, city, kind) if spec and spec.columns else None
    if present is None:
        return []
    registry = {"detector": (DETECTORS, "detector_id"), "station": (STATIONS, "station_id")}
    if unit_kind == "corridor":
        src = _corridor_source(engine, city, kind, present)
        if src is None:
            return []
        frame = engine.frame(
            f"SELECT DISTINCT road AS id, road AS label FROM {src} "
            "WHERE road IS NOT NULL ORDER BY 1"
        )
    elif unit_kind in _UNIT_COLUMN and _UNIT_COLUMN[unit_kind] in present:
        listed, column = registry.get(unit_kind, (None, None))
        names = _dataset_columns(engine, city, listed) if listed else None
        if names is not None and {column, "name"} <= names:
            frame = engine.frame(
                f"SELECT CAST({column} AS VARCHAR) AS id, any_value(name) AS label "
                f"FROM {engine.source(city.id, listed)} WHERE {column} IS NOT NULL "
                "GROUP BY 1 ORDER BY 1"
            )
        else:
            frame = engine.frame(_distinct_sql(engine, city, unit_kind, kind))
    else:
        return []
    return [_labelled(city, unit_kind, str(i), label, lang) for i, label in _pairs(frame)]


def _pairs(frame: pd.DataFrame) -> list[tuple]:
    return list(zip(frame["id"].tolist(), frame["label"].tolist(), strict=True))


def _labelled(city: CityProfile, unit_kind: str, id: str, label, lang: str) -> tuple[str, str]:
    if unit_kind == "district":
        names = city.district_names(lang)
        return id, names.get(int(id), id) if id.lstrip("-").isdigit() else id
    if label is None or label != label or str(label) == id:
        return id, id
    return id, f"{label} ({id})" if unit_kind != "corridor" else str(label)


def _corridor_source(
    engine: QueryEngine, city: CityProfile, kind: str, present: set[str]
) -> str | None:
    """Where the corridors (roads) of `kind`'s data are listed: its own `road` column, else
    the detectors of its `detector_id`; None when neither."""
    if "road" in present:
        return engine.source(city.id, kind)
    detectors = _dataset_columns(engine, city, DETECTORS) or set()
    if "detector_id" in present and {"detector_id", "road"} <= detectors:
        return engine.source(city.id, DETECTORS)
    return None


def _coverage(engine: QueryEngine, city: CityProfile, kind: str) -> tuple[dt.date, dt.date] | None:
    found = engine.find(city.id, kind)
    if found is None or not found.current.time_min or not found.current.time_max:
        return None
    first = dt.date.fromisoformat(found.current.time_min[:10])
    return first, dt.date.fromisoformat(found.current.time_max[:10])


def _unit_problems(engine: QueryEngine, city: CityProfile, iv: Intervention) -> list[Problem]:
    """Unknown units (at most MAX_NAMED named), units in both groups, empty groups."""
    problems = []
    known = {u for u, _ in units(engine, city, iv.unit, iv.kind)}
    unknown = [u for u in dict.fromkeys((*iv.treated, *iv.control)) if u not in known]
    if unknown:
        shown = ", ".join(unknown[:MAX_NAMED]) + (" …" if len(unknown) > MAX_NAMED else "")
        problems.append(
            Problem("unknown_units", {"unit": iv.unit, "units": shown, "count": len(unknown)})
        )
    both = [u for u in dict.fromkeys(iv.treated) if u in set(iv.control)]
    if both:
        problems.append(Problem("both_groups", {"units": ", ".join(both[:MAX_NAMED])}))
    if not iv.treated:
        problems.append(Problem("no_treated", {}))
    if not iv.control:
        problems.append(Problem("no_control", {}))
    return problems


def _date_problems(engine: QueryEngine, city: CityProfile, iv: Intervention) -> list[Problem]:
    span = _coverage(engine, city, iv.kind)
    if span is None:  # an empty dataset: its empty window says so
        return []
    first, last = span
    dates = {"first": first.isoformat(), "last": last.isoformat()}
    problems = []
    if not first <= iv.start <= last:
        problems.append(Problem("start_outside", {"start": iv.start.isoformat(), **dates}))
    if iv.end is not None and iv.end < iv.start:
        problems.append(Problem("end_before_start", {"end": iv.end.isoformat()}))
    elif iv.end is not None and not first <= iv.end <= last:
        problems.append(Problem("end_outside", {"end": iv.end.isoformat(), **dates}))
    return problems


def _panel_problems(panel: pd.DataFrame, iv: Intervention) -> list[Problem]:
    """An empty window, or fewer than MIN_SIDE_DAYS days of data on either side of the start."""
    if panel.empty:
        hours = ",".join(str(h) for h in iv.hours) if iv.hours else "0-23"
        return [Problem("empty_window", {"hours": hours})]
    start = pd.Timestamp(iv.start)
    days = panel["day"]
    before = days[days < start]
    after = days[days >= start]
    if iv.end is not None:
        after = after[after <= pd.Timestamp(iv.end)]
    problems = []
    span_before = (start - before.min()).days if len(before) else 0
    if span_before < MIN_SIDE_DAYS:
        problems.append(Problem("short_before", {"days": int(span_before), "min": MIN_SIDE_DAYS}))
    span_after = (after.max() - start).days + 1 if len(after) else 0
    if span_after < MIN_SIDE_DAYS:
        problems.append(Problem("short_after", {"days": int(span_after), "min": MIN_SIDE_DAYS}))
    return problems


def check_intervention(engine: QueryEngine, city: CityProfile, iv: Intervention) -> list[Problem]:
    """Everything that keeps `iv` from being evaluated on the city's data; empty when nothing.

    Checked in order, later checks only when the earlier ones leave something to check: the
    outcome (kind, column, a measured quantity with a time), the unit kind, the units (known,
    in one group each, both groups non-empty), the dates (inside the data), then the data the
    window keeps (some, and two weeks before and after the start).
    """
    if iv.hours and any(not 0 <= int(h) <= 23 for h in iv.hours):
        return [Problem("bad_hours", {"hours": ",".join(str(h) for h in iv.hours)})]
    problems = _outcome_problems(engine, city, iv)
    if problems:
        return problems
    if _read(engine, city, iv) is None:
        return [Problem("unit_kind", {"unit": iv.unit, "kind": iv.kind})]
    problems = _unit_problems(engine, city, iv) + _date_problems(engine, city, iv)
    if problems:
        return problems
    return _panel_problems(outcome_panel(engine, city, iv), iv)


def suggest_controls(
    engine: QueryEngine, city: CityProfile, iv: Intervention, k: int = 10
) -> list[str]:
    """Up to `k` untreated units most like the treated ones over the SIMILAR_DAYS days before
    the start, best first.

    Each candidate's daily series is compared with the treated units' mean series on the days
    both have: distance = |level gap| / treated mean + (1 - correlation) / 2, so a unit at the
    same level that moves with the treated ones scores 0, and one that moves against them
    scores 1 more than one that moves with them. A candidate with fewer than 7 shared days gets
    no correlation credit (correlation 0). Units with no data before the start are left out.
    """
    treated = set(iv.treated)
    candidates = [u for u, _ in units(engine, city, iv.unit, iv.kind) if u not in treated]
    if not treated or not candidates or k <= 0:
        return []
    panel = outcome_panel(engine, city, replace(iv, control=tuple(candidates)))
    start = pd.Timestamp(iv.start)
    pre = panel[(panel["day"] < start) & (panel["day"] >= start - pd.Timedelta(SIMILAR_DAYS, "D"))]
    if pre.empty or not pre["treated"].any():
        return []
    names, scores = _similarity(pre)
    order = np.lexsort((names, scores))
    return [str(names[i]) for i in order if np.isfinite(scores[i])][:k]


def _similarity(pre: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(untreated units, their distance to the treated mean series) over the rows of `pre`
    (one per unit and day), computed on a days x units matrix at once: a city has thousands
    of detectors. A unit sharing no day with the treated ones gets an infinite distance."""
    days, day_index = np.unique(pre["day"].to_numpy(), return_inverse=True)
    unit_codes, names = pd.factorize(pre["unit"], sort=True)
    values = np.full((len(days), len(names)), np.nan)
    values[day_index, unit_codes] = pre["value"].to_numpy("float64")
    is_treated = np.zeros(len(names), bool)
    is_treated[unit_codes[pre["treated"].to_numpy(bool)]] = True
    with np.errstate(invalid="ignore", divide="ignore"):
        target = np.nanmean(values[:, is_treated], axis=1)
        level = np.nanmean(target)
        x = values[:, ~is_treated]
        both = ~np.isnan(x) & ~np.isnan(target)[:, None]
        count = both.sum(axis=0)
        x0 = np.where(both, x, 0.0)
        y0 = np.where(both, target[:, None], 0.0)
        x_mean = x0.sum(axis=0) / count
        y_mean = y0.sum(axis=0) / count
        dx = np.where(both, x - x_mean, 0.0)
        dy = np.where(both, target[:, None] - y_mean, 0.0)
        spread = np.sqrt((dx * dx).sum(axis=0) * (dy * dy).sum(axis=0))
        corr = np.where((count >= 7) & (spread > 0), (dx * dy).sum(axis=0) / spread, 0.0)
        gap = np.abs(x_mean - level) / (abs(level) or 1.0)
    score = np.where(count > 0, gap + (1.0 - corr) / 2.0, np.inf)
    return np.asarray(names)[~is_treated], score
