"""Panels with a known effect, so the estimators can be checked against the truth.

A unit's daily value is the sum of its own level, a weekly profile, a shock common to every
unit that day and AR(1) noise of its own (days follow each other, so a unit's errors are
correlated in time: the case clustered standard errors are for); the treated units' value is
multiplied by `1 + effect` from the start (and, with `pre_trend`, drifts away from the controls
before it). The true effect in percent is therefore `100 * effect` of what the treated units
would have shown without the intervention.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEKLY_PROFILE = np.array([0.0, 0.5, 0.8, 0.6, -0.4, 3.0, 3.5])  # Monday first, km/h-like


def make_panel(
    seed: int = 0,
    units: int = 40,
    days: int = 365,
    treated_share: float = 0.3,
    effect: float = 0.12,
    start: str = "2017-07-01",
    first_day: str = "2017-01-01",
    level: float = 40.0,
    unit_sd: float = 6.0,
    shock_sd: float = 2.0,
    noise_sd: float = 3.0,
    rho: float = 0.6,
    pre_trend: float = 0.0,
    missing: float = 0.0,
) -> pd.DataFrame:
    """A panel `unit`, `day`, `value`, `n`, `treated` (one row per unit and day, sorted).

    `pre_trend` adds that much per week to the treated units before the start, reaching 0 at
    the start (treated and control diverging beforehand); `missing` drops that share of the
    unit-days at random (an unbalanced panel).
    """
    rng = np.random.default_rng(seed)
    calendar = pd.date_range(first_day, periods=days, freq="D")
    n_treated = int(np.clip(round(units * treated_share), 1, units - 1))
    treated_units = np.zeros(units, dtype=bool)
    treated_units[rng.choice(units, n_treated, replace=False)] = True

    mu = level + rng.normal(0.0, unit_sd, units)
    season = WEEKLY_PROFILE[calendar.day_of_week.to_numpy()]
    shocks = rng.normal(0.0, shock_sd, days)
    innovations = rng.normal(0.0, noise_sd * np.sqrt(1 - rho**2), (days, units))
    noise = np.empty((days, units))
    noise[0] = rng.normal(0.0, noise_sd, units)
    for d in range(1, days):
        noise[d] = rho * noise[d - 1] + innovations[d]

    base = mu[None, :] + (season + shocks)[:, None] + noise  # (days, units)
    weeks_to_start = ((calendar - pd.Timestamp(start)).days.to_numpy() / 7.0)[:, None]
    after = weeks_to_start >= 0
    value = base * np.where(after & treated_units[None, :], 1.0 + effect, 1.0)
    value = value + pre_trend * np.where(~after & treated_units[None, :], weeks_to_start, 0.0)
    readings = rng.poisson(24.0, (days, units)).clip(1)

    frame = pd.DataFrame(
        {
            "unit": pd.Series(np.tile([f"u{i:04d}" for i in range(units)], days), dtype="str"),
            "day": np.repeat(calendar.to_numpy(), units),
            "value": value.ravel(),
            "n": readings.ravel().astype("int64"),
            "treated": np.tile(treated_units, days),
        }
    )
    if missing > 0:
        frame = frame[rng.random(len(frame)) >= missing]
    return frame.sort_values(["unit", "day"], ignore_index=True)
