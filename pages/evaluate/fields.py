"""The fields of the form analysts record an intervention with, read back from the browser.

Every value comes from the browser, where anyone can write anything: each is checked here
(type, length, a known choice, a real date) before the data checks of
`datasets.evidence.panel.check_intervention` run; a problem of either kind is shown translated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
from dash import html

from datasets.cities import CityProfile
from datasets.evidence.cli import UsageError
from datasets.evidence.cli import parse_hours as cli_hours
from datasets.evidence.interventions import UNIT_KINDS
from datasets.evidence.model import Intervention
from datasets.evidence.panel import Problem, units
from datasets.query import MissingDataset, QueryEngine
from datasets.schemas import KINDS
from i18n import t

from .listing import outcome_label

MAX_NAME = 120
MAX_UNITS = 5000  # more units than any city's detectors: a list beyond is no choice made here
MAX_UNIT_ID = 100
MAX_HOURS_TEXT = 100
# The kinds an intervention is judged on: units that stay put, read at least hourly.
OUTCOME_KINDS = ("traffic_readings", "air_quality_hourly")
DEFAULT_OUTCOME = "traffic_readings.speed_kmh"
DEFAULT_HOURS = "7-9,17-19"
# What the data checks refuse with, when they raise instead of reporting a problem.
REFUSED = (ValueError, LookupError, MissingDataset)


# -- the choices -----------------------------------------------------------------------------


def outcome_choices(engine: QueryEngine, city: CityProfile, lang: str) -> list[dict]:
    """Each numeric quantity of the city's datasets an intervention can be judged on."""
    options = []
    for kind_id in OUTCOME_KINDS:
        dataset = engine.catalog.find(city.id, kind_id)
        if dataset is None:
            continue
        for column in KINDS[kind_id].columns:
            numeric = pa.types.is_floating(column.type) or pa.types.is_integer(column.type)
            if numeric and column.unit:
                value = f"{kind_id}.{column.name}"
                label = f"{dataset.title(lang)} · {outcome_label(value, lang)}"
                options.append({"label": label, "value": value})
    return options


def unit_options(
    engine: QueryEngine, city: CityProfile, unit_kind: str, kind: str, lang: str = "en"
) -> list[dict]:
    """The units of that kind holding the outcome's data ([] when they cannot)."""
    try:
        found = units(engine, city, unit_kind, kind, lang)
    except REFUSED:
        return []
    return [{"label": str(label), "value": str(unit_id)} for unit_id, label in found]


def parse_hours(text: object) -> tuple[int, ...] | None:
    """Hours of day as the command line reads them ("7-9,17-19": 07:00-08:59 and 17:00-18:59;
    empty: every hour); None for anything malformed."""
    if text is None:
        return ()
    if not isinstance(text, str) or len(text) > MAX_HOURS_TEXT:
        return None
    try:
        return cli_hours(text.strip())
    except UsageError:
        return None


def parse_day(raw: object) -> dt.date | None:
    """A day typed as YYYY-MM-DD (nothing clamped: a wrong date is said to be wrong)."""
    if not isinstance(raw, str) or not 8 <= len(raw.strip()) <= 10:
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        return None


# -- reading the form ------------------------------------------------------------------------


@dataclass(frozen=True)
class FormValues:
    """The form's fields as the browser sent them."""

    name: object = None
    start: object = None
    end: object = None
    unit: object = None
    outcome: object = None
    treated: object = None
    control: object = None
    hours: object = None
    weekdays: object = None


def _unit_list(raw: object) -> list[str] | None:
    """Unit ids from a multi-select: a list of text, each id once; None when malformed."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_UNITS:
        return None
    if not all(isinstance(u, str) and 0 < len(u) <= MAX_UNIT_ID for u in raw):
        return None
    return list(dict.fromkeys(raw))


def _dates(values: FormValues) -> tuple[dt.date | None, dt.date | None, list[str]]:
    start = parse_day(values.start)
    blank_end = values.end is None or (isinstance(values.end, str) and not values.end.strip())
    end = None if blank_end else parse_day(values.end)
    problems = [] if start else ["start"]
    if not blank_end and end is None:
        problems.append("end")
    elif start and end and end < start:
        problems.append("order")
    return start, end, problems


def _units_read(values: FormValues, known: set[str]) -> tuple[list[str], list[str], list[str]]:
    treated, control = _unit_list(values.treated), _unit_list(values.control)
    problems = []
    if treated is None or any(u not in known for u in treated):
        problems.append("unknown_units")
    elif not treated:
        problems.append("treated")
    if control is None or any(u not in known for u in control):
        problems.append("unknown_units")
    treated, control = treated or [], control or []
    if set(treated) & set(control):
        problems.append("overlap")
    return treated, control, list(dict.fromkeys(problems))


def read_form(
    engine: QueryEngine, city: CityProfile, values: FormValues, analyst: str
) -> tuple[Intervention | None, list[str]]:
    """(the intervention the form describes, []) or (None, the codes of what is wrong)."""
    problems: list[str] = []
    name = values.name.strip() if isinstance(values.name, str) else ""
    if not name or len(name) > MAX_NAME:
        problems.append("name")
    start, end, date_problems = _dates(values)
    problems += date_problems
    unit = values.unit if isinstance(values.unit, str) and values.unit in UNIT_KINDS else None
    outcomes = {o["value"] for o in outcome_choices(engine, city, "en")}
    outcome = values.outcome if isinstance(values.outcome, str) else None
    outcome = outcome if outcome in outcomes else None
    if unit is None:
        problems.append("unit")
    if outcome is None:
        problems.append("outcome")
    known = set()
    if unit and outcome:
        known = {o["value"] for o in unit_options(engine, city, unit, outcome.split(".")[0])}
    treated, control, unit_problems = _units_read(values, known)
    problems += unit_problems if unit and outcome else []
    hours = parse_hours(values.hours)
    if hours is None:
        problems.append("hours")
    weekdays = isinstance(values.weekdays, list) and "weekdays" in values.weekdays
    if problems:
        return None, problems
    iv = Intervention(
        id="",
        city=city.id,
        name=name,
        start=start,
        treated=tuple(treated),
        control=tuple(control),
        outcome=outcome,
        unit=unit,
        end=end,
        hours=hours,
        weekdays=weekdays,
        created_by=analyst,
    )
    return iv, []


def problem_text(problem: Problem, lang: str) -> str:
    """A data check's `Problem` in the reader's language (its code when no message fits)."""
    try:
        return problem.text(lang)
    except (KeyError, IndexError, ValueError):
        return t("evaluate.problem_unknown", lang, code=str(problem.code)[:60])


def problem_list(texts: list[str], lang: str) -> html.Div:
    return html.Div(
        [
            html.P(t("evaluate.not_saved", lang), className="evaluate-error"),
            html.Ul([html.Li(text) for text in texts], className="evaluate-problems"),
        ],
        role="alert",
        id="evaluate-problems",
    )
