"""The period the dashboard shows and the one its KPIs are compared with.

Every figure of a page (charts and KPI cards) describes one period. Without dates in the link it
is the last DEFAULT_DAYS days of the data (not of today: a city's records may end years ago).
Presets count back from the data's last day for the same reason. The comparison period is
either the period of equal length just before (`prev`) or the same days a year earlier (`yoy`).
"""

from __future__ import annotations

import datetime as dt

DEFAULT_DAYS = 30
COMPARISONS = ("prev", "yoy")
DEFAULT_COMPARISON = COMPARISONS[0]
PRESETS = ("last7", "last30", "month", "quarter", "year", "last_year")

Period = tuple[dt.date, dt.date]  # first and last day, both included


def default_period(first: dt.date | None, last: dt.date | None) -> Period | None:
    """The last DEFAULT_DAYS days of the data [first, last] (all of it when shorter); None
    when there is no data."""
    if last is None:
        return None
    start = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    return (max(start, first) if first else start), last


def year_earlier(day: dt.date) -> dt.date:
    """The same day a year before; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def preset_period(
    name: str, first: dt.date | None, last: dt.date | None, current: Period | None = None
) -> Period | None:
    """The period a preset button sets, counted back from the data's last day and kept within
    the data: last 7 / 30 days, this month, this quarter, this year (each up to the last day),
    or `last_year`, the current period a year earlier. None for an unknown preset, no data, or
    a period that would lie wholly before the data."""
    if last is None or name not in PRESETS:
        return None
    if name == "last7":
        start, end = last - dt.timedelta(days=6), last
    elif name == "last30":
        start, end = last - dt.timedelta(days=DEFAULT_DAYS - 1), last
    elif name == "month":
        start, end = last.replace(day=1), last
    elif name == "quarter":
        start, end = last.replace(month=(last.month - 1) // 3 * 3 + 1, day=1), last
    elif name == "year":
        start, end = last.replace(month=1, day=1), last
    else:
        base = current or default_period(first, last)
        start, end = year_earlier(base[0]), year_earlier(base[1])
    if first is not None and end < first:
        return None
    return (max(start, first) if first else start), end


def comparison_period(start: dt.date, end: dt.date, comparison: str) -> Period:
    """The period the KPIs of [start, end] are compared with: the same number of days just
    before (`prev`) or the same days a year earlier (`yoy`)."""
    if comparison == "yoy":
        return year_earlier(start), year_earlier(end)
    span = end - start + dt.timedelta(days=1)
    return start - span, start - dt.timedelta(days=1)


def parse_comparison(raw: object) -> str:
    """A comparison from a link (`cmp=yoy`): a known one, else the default."""
    return raw if isinstance(raw, str) and raw in COMPARISONS else DEFAULT_COMPARISON
