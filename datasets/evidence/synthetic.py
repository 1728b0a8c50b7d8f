"""Synthetic control: the treated units' mean against a weighted mix of control units.

Weekly means (weeks from the start, as in the event study) of the treated units averaged, and
of each control unit. pysyncon's `Synth` finds non-negative weights summing to 1 that make the
mix of controls follow the treated series over the pre-period weeks (each week one predictor,
all weighed alike, so the fit is one quadratic programme rather than the nested search over
predictor weights); the estimate is the mean gap between the treated series and the mix after
the start. It answers the same question as the DiD with another assumption (a convex mix of
controls rather than parallel trends), so the two agreeing is reassuring.

The donor pool is the MAX_DONORS controls closest to the treated series before the start
(root mean square gap): the programme's cost grows quickly with the donors, and far-off units
get no weight anyway. Controls missing a week are left out. Fewer than MIN_CONTROLS usable
controls, or fewer than MIN_WEEKS weeks on a side: no synthetic control ({}).
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from .did import clean, to_timestamp
from .event_study import weeks_from

log = logging.getLogger(__name__)

MIN_CONTROLS = 5
MIN_WEEKS = 2
MAX_DONORS = 50
TOP_WEIGHTS = 10


def weekly(panel: pd.DataFrame, start: dt.date | str) -> tuple[pd.Series, pd.DataFrame]:
    """(treated mean by week, controls' means by week: weeks × units), weeks from the start."""
    data = panel.assign(week=weeks_from(panel["day"], start))
    treated = data[data["treated"]]
    by_unit = treated.groupby(["week", "unit"], sort=True)["value"].mean()
    target = by_unit.groupby(level="week").mean()
    controls = (
        data[~data["treated"]]
        .groupby(["week", "unit"], sort=True)["value"]
        .mean()
        .unstack("unit")
        .reindex(target.index)
    )
    return target, controls.dropna(axis=1)


def _donors(target: pd.Series, controls: pd.DataFrame, pre: np.ndarray) -> pd.DataFrame:
    gap = controls[pre].sub(target[pre], axis=0)
    rmse = np.sqrt((gap**2).mean(axis=0))
    return controls[rmse.nsmallest(MAX_DONORS).index]


def synthetic_control(
    panel: pd.DataFrame,
    start: dt.date | str,
    end: dt.date | str | None = None,
    baseline: float | None = None,
) -> dict:
    """`estimate` (mean post-start gap, outcome unit), `estimate_pct` (of `baseline`, the
    treated pre-period mean by default), `pre_rmspe`, `post_rmspe`, `weights` (the top units,
    unit → weight), `donors`, and for a chart `weeks` (ISO date of each week's first day),
    `treated`, `synthetic`; {} when too few controls or weeks allow one."""
    data = clean(panel, end)
    if data.empty or not data["treated"].any():
        return {}
    target, controls = weekly(data, start)
    weeks = target.index.to_numpy()
    pre, post = weeks < 0, weeks >= 0
    if controls.shape[1] < MIN_CONTROLS or pre.sum() < MIN_WEEKS or post.sum() < MIN_WEEKS:
        return {}
    donors = _donors(target, controls, pre)
    try:
        weights = _fit(target[pre], donors[pre])
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        # a second estimate that cannot be fitted must not cost the first one
        log.warning("synthetic control not fitted: %s", exc)
        return {}
    if not np.isfinite(weights).all():
        return {}
    synthetic = donors.to_numpy() @ weights
    gap = target.to_numpy() - synthetic
    estimate = float(gap[post].mean())
    if baseline is None:
        treated = data[data["treated"] & (data["day"] < to_timestamp(start))]
        baseline = float(treated["value"].mean())
    order = np.argsort(-weights)[:TOP_WEIGHTS]
    first = to_timestamp(start)
    return {
        "estimate": estimate,
        "estimate_pct": 100.0 * estimate / baseline if baseline else float("nan"),
        "pre_rmspe": float(np.sqrt((gap[pre] ** 2).mean())),
        "post_rmspe": float(np.sqrt((gap[post] ** 2).mean())),
        "weights": {str(donors.columns[i]): float(weights[i]) for i in order if weights[i] > 1e-3},
        "donors": int(donors.shape[1]),
        "weeks": [(first + pd.Timedelta(7 * int(w), "D")).date().isoformat() for w in weeks],
        "treated": [float(v) for v in target.to_numpy()],
        "synthetic": [float(v) for v in synthetic],
    }


def _fit(target: pd.Series, donors: pd.DataFrame) -> np.ndarray:
    """Donor weights (non-negative, summing to 1) matching `target` over its weeks."""
    from pysyncon import Synth  # imported here: it takes a second and only this needs it

    weeks = [f"w{int(w)}" for w in target.index]
    x0 = pd.DataFrame(donors.to_numpy(), index=weeks, columns=[str(c) for c in donors.columns])
    x1 = pd.Series(target.to_numpy(), index=weeks, name="__treated__")
    model = Synth()
    model.fit(X0=x0, X1=x1, Z0=x0, Z1=x1, custom_V=np.ones(len(weeks)))
    weights = np.clip(np.asarray(model.W, dtype=float), 0.0, None)
    return weights / weights.sum()
