"""Periods, trends and status: the reporting period an input covers, the yearly or monthly
trend, and an indicator's status against its reference or its trend.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import MIN_MONTH_SHARE, STABLE, Gap, Indicator, Inputs, Reference, Result


def covered_days(dates: pd.Series, monthly: bool = False) -> pd.DatetimeIndex:
    """The days an input covers: its dates, or every day of each month for monthly inputs."""
    days = pd.DatetimeIndex(pd.to_datetime(dates.dropna().unique())).normalize().unique()
    if not monthly or days.empty:
        return days.sort_values()
    spans = [pd.date_range(d, d + pd.offsets.MonthEnd(0), freq="D") for d in days]
    return pd.DatetimeIndex(np.concatenate([s.values for s in spans])).unique().sort_values()


def complete_years(days: pd.DatetimeIndex) -> list[int]:
    """Calendar years in which every month has data on at least half of its days."""
    if days.empty:
        return []
    frame = pd.DataFrame({"year": days.year, "month": days.month})
    counts = frame.groupby(["year", "month"]).size()
    years = []
    for year in sorted(frame["year"].unique()):
        ok = all(
            counts.get((year, m), 0) >= MIN_MONTH_SHARE * calendar.monthrange(year, m)[1]
            for m in range(1, 13)
        )
        if ok:
            years.append(int(year))
    return years


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    partial: bool
    years: tuple[int, ...]  # complete years (the trend's points when two or more)


def reporting_period(days: pd.DatetimeIndex) -> Period | None:
    """The latest complete calendar year, else the whole span (partial)."""
    if days.empty:
        return None
    years = complete_years(days)
    if years:
        last = years[-1]
        return Period(dt.date(last, 1, 1), dt.date(last, 12, 31), False, tuple(years))
    return Period(days.min().date(), days.max().date(), True, ())


def _rows_in(frame: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    dates = frame["date"]
    return frame[
        (dates >= pd.Timestamp(start)) & (dates < pd.Timestamp(end) + pd.Timedelta(days=1))
    ]


def _days_in(days: pd.DatetimeIndex, start: dt.date, end: dt.date) -> int:
    return int(((days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))).sum())


def value_for(
    indicator: Indicator,
    frame: pd.DataFrame,
    days: pd.DatetimeIndex,
    start: dt.date,
    end: dt.date,
    inputs: Inputs,
) -> float | None:
    rows = _rows_in(frame, start, end)
    n = _days_in(days, start, end)
    if rows.empty and not n:
        return None
    value = indicator.compute(rows, Inputs(inputs.population, inputs.district_population, n))
    return None if value is None or not np.isfinite(value) else float(value)


def monthly_values(
    indicator: Indicator,
    frame: pd.DataFrame,
    days: pd.DatetimeIndex,
    period: Period,
    inputs: Inputs,
) -> pd.DataFrame:
    months = pd.date_range(
        pd.Timestamp(period.start).to_period("M").start_time,
        pd.Timestamp(period.end),
        freq="MS",
    )
    rows = []
    for month in months:
        start = max(month.date(), period.start)
        end = min((month + pd.offsets.MonthEnd(0)).date(), period.end)
        rows.append(
            {"period": month, "value": value_for(indicator, frame, days, start, end, inputs)}
        )
    out = pd.DataFrame(rows, columns=["period", "value"])
    return out.astype({"value": "float64"})


def yearly_values(
    indicator: Indicator,
    frame: pd.DataFrame,
    days: pd.DatetimeIndex,
    years: tuple[int, ...],
    inputs: Inputs,
) -> pd.DataFrame:
    rows = [
        {
            "period": pd.Timestamp(year, 1, 1),
            "value": value_for(
                indicator, frame, days, dt.date(year, 1, 1), dt.date(year, 12, 31), inputs
            ),
        }
        for year in years
    ]
    return pd.DataFrame(rows, columns=["period", "value"]).astype({"value": "float64"})


def status_of(value: float | None, reference: Reference | None, better: str, trend: pd.DataFrame,
              trend_unit: str) -> tuple[str, str]:  # fmt: skip
    """(status, class). With a reference: who_aqg, it1…it4 (the strictest WHO interim target
    met), above_it (none met), meets or misses. Without: improving, worsening or stable from the
    first to the last complete year, or baseline when there is only one."""
    if value is None:
        return "no_data", "neutral"
    if reference is not None:
        if reference.direction == "max":
            if value <= reference.value:
                return ("who_aqg", "good") if reference.interim else ("meets", "good")
            if reference.interim:
                met = [n for n, limit in enumerate(reference.interim, 1) if value <= limit]
                if not met:
                    return "above_it", "bad"
                strictest = max(met)
                share = strictest / len(reference.interim)
                return f"it{strictest}", "fair" if share > 0.5 else "poor"
            return "misses", "bad"
        return ("meets", "good") if value >= reference.value else ("misses", "bad")
    values = trend["value"].dropna() if trend_unit == "year" else pd.Series(dtype=float)
    if len(values) < 2 or values.iloc[0] == 0:
        return "baseline", "neutral"
    change = values.iloc[-1] / values.iloc[0] - 1
    if abs(change) < STABLE:
        return "stable", "neutral"
    improving = (change < 0) == (better == "down")
    return ("improving", "good") if improving else ("worsening", "bad")


def compute(
    indicator: Indicator,
    frame: pd.DataFrame,
    days: pd.DatetimeIndex,
    inputs: Inputs,
    datasets: tuple = (),
) -> Result | Gap:
    """One indicator from its input frame (pure: the unit tests call this directly)."""
    for column in indicator.columns:
        if column not in frame or frame[column].isna().all():
            return Gap(indicator.id, indicator.target, "no_column", indicator.kinds, column)
    if indicator.per_resident and not inputs.population:
        return Gap(indicator.id, indicator.target, "no_population", indicator.kinds)
    period = reporting_period(days)
    if period is None:
        return Gap(indicator.id, indicator.target, "no_data", indicator.kinds)
    value = value_for(indicator, frame, days, period.start, period.end, inputs)
    if value is None:
        return Gap(indicator.id, indicator.target, "no_data", indicator.kinds)
    months = monthly_values(indicator, frame, days, period, inputs)
    if len(period.years) >= 2:
        trend, unit = yearly_values(indicator, frame, days, period.years, inputs), "year"
    else:
        trend, unit = months, "month"
    status, css = status_of(value, indicator.reference, indicator.better, trend, unit)
    rows = _rows_in(frame, period.start, period.end)
    variant = indicator.variant(rows, inputs) if indicator.variant else ""
    stations = int(rows["station_id"].nunique()) if "station_id" in rows else None
    return Result(
        indicator=indicator,
        value=value,
        period=(period.start, period.end),
        partial=period.partial,
        trend=trend,
        trend_unit=unit,
        months=months,
        status=status,
        status_class=css,
        variant=variant,
        datasets=datasets,
        stations=stations,
    )
