"""Placebos in time and in units; the closed form the permutations use."""

from __future__ import annotations

import pandas as pd
import pytest

from datasets.evidence.did import did_estimate
from datasets.evidence.placebo import (
    fast_did,
    placebo_times,
    placebo_units,
    unit_changes,
)
from datasets.evidence.simulate import make_panel

START = "2017-07-01"


def _balanced(seed: int, **kw) -> pd.DataFrame:
    return make_panel(seed=seed, **kw).assign(n=24)  # no day dropped for its readings


@pytest.mark.parametrize("effect", [0.12, 0.0, -0.05])
def test_fast_path_equals_the_regression_on_a_balanced_panel(effect):
    panel = _balanced(31, units=25, effect=effect)
    changes, treated = unit_changes(panel, START)
    assert len(changes) == 25 and treated.sum() == 8
    assert fast_did(changes, treated) == pytest.approx(did_estimate(panel, START)["estimate"])


def test_permutation_p_is_small_with_an_effect_and_not_without():
    assert placebo_units(_balanced(32, units=40, effect=0.12), START) < 0.01
    assert placebo_units(_balanced(33, units=40, effect=0.0), START) > 0.05


def test_permutation_p_is_never_zero_and_reproducible():
    panel = _balanced(34, units=40, effect=0.3)
    p = placebo_units(panel, START, draws=99)
    assert p == pytest.approx(1 / 100)
    assert placebo_units(panel, START, draws=99) == p


def test_too_few_treated_units_give_no_permutation_test():
    panel = _balanced(35, units=4, treated_share=0.25)
    assert placebo_units(panel, START) is None


def test_fake_starts_use_the_pre_period_only():
    panel = make_panel(seed=36, units=30, effect=0.5)  # a large real effect...
    frame = placebo_times(panel, START)
    assert list(frame.columns) == ["start", "estimate", "p_value"]
    assert len(frame) == 4
    assert (frame["start"] < pd.Timestamp(START)).all()
    real = did_estimate(panel, START)["estimate"]
    assert (frame["estimate"].abs() < 0.1 * real).all()  # ...that no fake start sees


def test_fake_starts_see_diverging_pre_trends():
    frame = placebo_times(make_panel(seed=37, units=30, effect=0.0, pre_trend=0.3), START)
    assert (frame["p_value"] < 0.05).any()
