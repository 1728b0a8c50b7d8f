"""Synthetic control as the second estimate."""

from __future__ import annotations

import numpy as np
import pytest

from datasets.evidence.simulate import make_panel
from datasets.evidence.synthetic import MIN_CONTROLS, synthetic_control

START = "2017-07-01"


def test_recovers_a_known_effect():
    sc = synthetic_control(make_panel(seed=41, units=40, effect=0.12), START)
    assert sc["estimate_pct"] == pytest.approx(12.0, abs=2.0)
    assert sc["pre_rmspe"] < sc["post_rmspe"]
    weights = np.array(list(sc["weights"].values()))
    assert (weights > 0).all() and weights.sum() <= 1 + 1e-9
    assert len(sc["weeks"]) == len(sc["treated"]) == len(sc["synthetic"])
    assert sc["weeks"][0] < START <= sc["weeks"][-1]


def test_no_effect_gives_a_small_estimate():
    sc = synthetic_control(make_panel(seed=42, units=40, effect=0.0), START)
    assert abs(sc["estimate_pct"]) < 3.0


def test_too_few_controls_give_nothing():
    panel = make_panel(seed=43, units=MIN_CONTROLS + 2, treated_share=0.5)
    assert panel.loc[~panel["treated"], "unit"].nunique() < MIN_CONTROLS
    assert synthetic_control(panel, START) == {}
