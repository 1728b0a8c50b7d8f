"""Placebo tests: fake start dates before the real one, and treatment given to other units.

In time: the DiD re-estimated on the pre-period alone with a start inside it. Nothing happened
then, so an "effect" there (p < 0.05) says the gap between the groups moves on its own.

In units: the treatment reassigned at random among all units (as many treated as there are)
`draws` times; the permutation p-value is the share of draws whose estimate is at least as far
from 0 as the real one (counting the real assignment, so it is never 0). Each draw uses the
closed form of the two-way fixed-effects DiD on a balanced panel, the mean over treated units of
(post mean - pre mean) minus the same over controls, so 500 draws take milliseconds. On an
unbalanced panel the closed form is an approximation of the regression's estimate, but the real
assignment is scored with the same statistic, so the test is still exact for its statistic.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .did import EvaluationError, clean, did_estimate, to_timestamp

FAKE_STARTS = 4
MIN_SIDE_DAYS = 14
DRAWS = 500
TIME_COLUMNS = ["start", "estimate", "p_value"]


def unit_changes(
    panel: pd.DataFrame, start: dt.date | str, end: dt.date | str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per unit with data on both sides of the start: (post mean - pre mean, treated?)."""
    data = clean(panel, end)
    after = data["day"] >= to_timestamp(start)
    means = data.groupby(["unit", after.rename("after")], sort=True)["value"].mean().unstack()
    means = means.dropna()
    if True not in means.columns or False not in means.columns:
        return np.array([]), np.array([], dtype=bool)
    treated = data.groupby("unit", sort=True)["treated"].first().reindex(means.index)
    return (means[True] - means[False]).to_numpy(), treated.to_numpy(dtype=bool)


def fast_did(changes: np.ndarray, treated: np.ndarray) -> float:
    """The DiD of a balanced panel from its unit changes: treated mean minus control mean."""
    return float(changes[treated].mean() - changes[~treated].mean())


def placebo_units(
    panel: pd.DataFrame,
    start: dt.date | str,
    end: dt.date | str | None = None,
    draws: int = DRAWS,
    seed: int = 0,
) -> float | None:
    """The permutation p-value of the DiD; None with fewer than 2 units in either group."""
    changes, treated = unit_changes(panel, start, end)
    k = int(treated.sum())
    if k < 2 or len(changes) - k < 2:
        return None
    observed = abs(fast_did(changes, treated))
    rng = np.random.default_rng(seed)
    chosen = rng.random((draws, len(changes))).argpartition(k, axis=1)[:, :k]
    treated_sum = changes[chosen].sum(axis=1)
    stat = treated_sum / k - (changes.sum() - treated_sum) / (len(changes) - k)
    extreme = np.abs(stat) >= observed - 1e-12 * (1.0 + observed)
    return float((1 + extreme.sum()) / (draws + 1))


def fake_starts(days: pd.Series, start: dt.date | str, count: int = FAKE_STARTS) -> list:
    """Up to `count` dates evenly inside the pre-period, each with MIN_SIDE_DAYS on both sides."""
    first = days.min()
    real = to_timestamp(start)
    span = (real - first).days
    if span < 2 * MIN_SIDE_DAYS:
        return []
    offsets = np.linspace(MIN_SIDE_DAYS, span - MIN_SIDE_DAYS, count)
    return sorted({first + pd.Timedelta(round(float(o)), "D") for o in offsets})


def placebo_times(
    panel: pd.DataFrame, start: dt.date | str, count: int = FAKE_STARTS
) -> pd.DataFrame:
    """`start` (a fake one), `estimate` and `p_value` of the DiD on the pre-period alone."""
    pre = panel[panel["day"] < to_timestamp(start)]
    rows = []
    for fake in fake_starts(pre["day"], start, count) if not pre.empty else []:
        try:
            result = did_estimate(pre, fake)
        except EvaluationError:
            continue
        rows.append({"start": fake, "estimate": result["estimate"], "p_value": result["p_value"]})
    frame = pd.DataFrame(rows, columns=TIME_COLUMNS)
    return frame.astype({"start": "datetime64[ns]", "estimate": float, "p_value": float})
