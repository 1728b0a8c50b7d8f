"""Difference in differences with unit and day fixed effects, standard errors clustered by unit.

The regression is `value ~ treated × after + unit effects + day effects`, fitted by statsmodels
OLS with a cluster-robust covariance (clusters: units) on the panel with both sets of effects
partialled out first (Frisch-Waugh-Lovell: the coefficient and its residuals are those of the
full dummy regression). The effects are removed by alternating projections (subtract unit means,
then day means, until the unit means are zero), exact after one pass on a balanced panel; this
is what fixest and reghdfe do, and it keeps a 1,000-unit × 365-day panel under a second, where a
dummy regression (or linearmodels' PanelOLS on pandas 3, measured at 60-90 s) is far slower.

Inference follows the usual small-sample rules for clustered errors: the CR1 factor
`G/(G-1) · (N-1)/(N-K)` of statsmodels, K counting the absorbed day effects too (they are not
nested in the unit clusters; the unit effects are, and do not count), and a Student t with
`G - 1` degrees of freedom. With few units the interval is still only as good as the clusters
allow: `summary.caveats` says so below MIN_UNITS units a side.

Days are weighted equally, not by their number of readings `n`: `n` follows traffic and
detector uptime, which the intervention itself may change, so weighting by it would let the
treatment move the weights (and the estimand); a day is one observation of the unit's outcome.
Days holding less than MIN_READINGS_SHARE of the unit's usual number of readings are dropped
instead: their mean covers part of the window only (a detector down for half the peak) and
would be a different quantity.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

MIN_READINGS_SHARE = 0.5
MIN_UNITS = 5  # per group, below which clustered intervals are unreliable
_MAX_SWEEPS = 500


class EvaluationError(ValueError):
    """The panel cannot support an estimate (no unit or no day on one side of the start)."""


@dataclass(frozen=True)
class Fit:
    """An OLS fit on fixed-effects-demeaned data: coefficients, their clustered covariance,
    the number of clusters and observations."""

    params: np.ndarray
    cov: np.ndarray
    clusters: int
    nobs: int

    @property
    def df(self) -> int:
        return max(self.clusters - 1, 1)

    def interval(self, i: int, level: float = 0.95) -> tuple[float, float, float]:
        """(low, high, p-value) of coefficient `i`, Student t with G-1 degrees of freedom."""
        se = float(np.sqrt(max(self.cov[i, i], 0.0)))
        q = stats.t.ppf(0.5 + level / 2, self.df)
        b = float(self.params[i])
        p = float(2 * stats.t.sf(abs(b) / se, self.df)) if se > 0 else float("nan")
        return b - q * se, b + q * se, p


def to_timestamp(day: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


def clean(panel: pd.DataFrame, end: dt.date | str | None = None) -> pd.DataFrame:
    """The rows an estimate uses: finite values, days with at least MIN_READINGS_SHARE of the
    unit's median readings, nothing after `end` (inclusive) when the intervention ended."""
    kept = panel[np.isfinite(panel["value"].to_numpy(dtype=float)) & (panel["n"] > 0)]
    usual = kept.groupby("unit", sort=False)["n"].transform("median")
    kept = kept[kept["n"] >= MIN_READINGS_SHARE * usual]
    if end is not None:
        kept = kept[kept["day"] <= to_timestamp(end)]
    return kept.reset_index(drop=True)


def codes(panel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the units and of the days."""
    unit_codes, _ = pd.factorize(panel["unit"], sort=False)
    day_codes, _ = pd.factorize(panel["day"], sort=False)
    return unit_codes.astype(np.intp), day_codes.astype(np.intp)


def within(columns: np.ndarray, units: np.ndarray, days: np.ndarray) -> np.ndarray:
    """`columns` (rows × k) with unit and day means removed (alternating projections)."""
    out = np.array(columns, dtype=float, copy=True)
    unit_n = np.bincount(units).astype(float)
    day_n = np.bincount(days).astype(float)
    scale = np.abs(out).max(axis=0) + 1.0

    def means(groups: np.ndarray, counts: np.ndarray) -> np.ndarray:
        sums = [np.bincount(groups, out[:, j], minlength=len(counts)) for j in range(out.shape[1])]
        return np.stack(sums, axis=1) / np.maximum(counts, 1)[:, None]

    for _ in range(_MAX_SWEEPS):
        out -= means(units, unit_n)[units]
        out -= means(days, day_n)[days]
        if (np.abs(means(units, unit_n)).max(axis=0) <= 1e-10 * scale).all():
            break
    return out


def one_blas_thread() -> contextlib.AbstractContextManager:
    """BLAS on one thread: the matrices here are tall and thin, so more threads gain nothing,
    and on a busy server they fight the other workers (an SVD measured 8× slower)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def fe_ols(y: np.ndarray, x: np.ndarray, units: np.ndarray, days: np.ndarray) -> Fit:
    """OLS of `y` on `x` (rows × k) with unit and day fixed effects, clustered by unit."""
    from statsmodels.regression.linear_model import OLS  # a second to import: only here

    data = within(np.column_stack([y, x]), units, days)
    with one_blas_thread():
        fitted = OLS(data[:, 0], data[:, 1:]).fit(
            method="qr", cov_type="cluster", cov_kwds={"groups": units, "use_correction": True}
        )
        cov = np.asarray(fitted.cov_params())
    nobs, k = x.shape
    absorbed_days = int(np.count_nonzero(np.bincount(days))) - 1
    # statsmodels' CR1 counts only the k slopes; the day effects cost degrees of freedom too
    factor = (nobs - k) / max(nobs - k - absorbed_days, 1)
    clusters = int(np.count_nonzero(np.bincount(units)))
    return Fit(np.asarray(fitted.params), cov * factor, clusters, nobs)


def _check_sides(panel: pd.DataFrame, after: np.ndarray) -> None:
    treated = panel["treated"].to_numpy(dtype=bool)
    for name, group in (("treated", treated), ("control", ~treated)):
        if not (group & ~after).any() or not (group & after).any():
            raise EvaluationError(f"no {name} unit has data both before and after the start")


def did_estimate(
    panel: pd.DataFrame, start: dt.date | str, end: dt.date | str | None = None
) -> dict:
    """The two-way fixed-effects DiD of `panel` (`unit`, `day`, `value`, `n`, `treated`).

    Returns `estimate` (outcome unit), `se`, `ci95`, `p_value`, `baseline` (the treated units'
    pre-period mean), `estimate_pct` and `ci95_pct` (both divided by the baseline, in %),
    `n_treated`, `n_control`, `n_observations`, `clusters`. Raises EvaluationError when either
    group lacks data on a side of the start.
    """
    data = clean(panel, end)
    after = (data["day"] >= to_timestamp(start)).to_numpy()
    _check_sides(data, after)
    treated = data["treated"].to_numpy(dtype=bool)
    units, days = codes(data)
    fit = fe_ols(data["value"].to_numpy(dtype=float), (treated & after)[:, None] * 1.0, units, days)
    lo, hi, p = fit.interval(0)
    estimate = float(fit.params[0])
    baseline = float(data["value"].to_numpy()[treated & ~after].mean())
    pct = 100.0 / baseline if baseline else float("nan")
    return {
        "estimate": estimate,
        "se": float(np.sqrt(fit.cov[0, 0])),
        "ci95": (lo, hi),
        "p_value": p,
        "baseline": baseline,
        "estimate_pct": estimate * pct,
        "ci95_pct": (min(lo * pct, hi * pct), max(lo * pct, hi * pct)),
        "n_treated": int(data.loc[treated, "unit"].nunique()),
        "n_control": int(data.loc[~treated, "unit"].nunique()),
        "n_observations": len(data),
        "clusters": fit.clusters,
    }
