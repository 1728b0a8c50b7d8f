"""A hand-made intervention and evaluation, shaped like `datasets.evidence`'s, for the views
that state one (the pilot card, the evaluation slide, the VLR annex) to be checked without
running an estimate."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from components.evidence import Evidence
from datasets.evidence.model import Evaluation, Intervention


def sample_intervention(iv_id: str = "corridor-retiming", city: str = "hangzhou-2017"):
    return Intervention(
        id=iv_id,
        city=city,
        name="Corridor retiming",
        start=dt.date(2017, 7, 1),
        treated=("d1", "d2"),
        control=("d3", "d4", "d5"),
        outcome="traffic_readings.speed_kmh",
        hours=(7, 8, 17, 18),
        weekdays=True,
    )


def sample_evaluation(
    iv_id: str = "corridor-retiming",
    pct: float = 10.4,
    ci_pct: tuple[float, float] = (7.1, 13.8),
    pre_trend_p: float | None = 0.62,
) -> Evaluation:
    weeks = np.arange(-6, 7)
    coef = np.where(weeks < 0, 0.1 * np.sin(weeks), 4.0)
    coef[weeks == -1] = 0.0
    study = pd.DataFrame({"week": weeks, "coef": coef, "lo": coef - 1.2, "hi": coef + 1.2})
    study.loc[study["week"] == -1, ["lo", "hi"]] = 0.0
    baseline = 40.0
    return Evaluation(
        intervention_id=iv_id,
        outcome="traffic_readings.speed_kmh",
        unit_label="km/h",
        estimate=baseline * pct / 100,
        estimate_pct=pct,
        ci95=(baseline * ci_pct[0] / 100, baseline * ci_pct[1] / 100),
        ci95_pct=ci_pct,
        p_value=0.0004,
        pre_trend_p=pre_trend_p,
        placebo_p=0.02,
        n_treated=2,
        n_control=3,
        n_observations=1300,
        baseline=baseline,
        event_study=study,
        placebo_times=pd.DataFrame({"start": [], "estimate": [], "p_value": []}),
    )


def sample_evidence(**evaluation) -> Evidence:
    iv = sample_intervention()
    return Evidence(iv, sample_evaluation(iv.id, **evaluation))
