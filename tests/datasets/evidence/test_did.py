"""The DiD on panels whose effect is known: recovered within its interval, and the same
coefficient as a library's two-way fixed-effects regression."""

from __future__ import annotations

import numpy as np
import pytest

from datasets.evidence.did import EvaluationError, clean, did_estimate, within
from datasets.evidence.simulate import make_panel

START = "2017-07-01"


def test_known_effect_is_inside_its_interval_and_zero_is_not():
    result = did_estimate(make_panel(seed=11, units=40, effect=0.12), START)
    lo, hi = result["ci95_pct"]
    assert lo <= 12.0 <= hi
    assert lo > 0
    assert lo <= result["estimate_pct"] <= hi
    assert result["p_value"] < 0.001
    assert result["n_treated"] == 12 and result["n_control"] == 28


def test_no_effect_interval_covers_zero():
    result = did_estimate(make_panel(seed=12, units=40, effect=0.0), START)
    lo, hi = result["ci95_pct"]
    assert lo <= 0.0 <= hi
    assert result["p_value"] > 0.05


def test_a_falling_outcome_gives_a_negative_estimate():
    result = did_estimate(make_panel(seed=13, units=40, effect=-0.10), START)
    lo, hi = result["ci95_pct"]
    assert hi < 0 and lo <= -10.0 <= hi


def test_percent_is_the_level_over_the_treated_pre_period_mean():
    panel = make_panel(seed=14, units=30)
    result = did_estimate(panel, START)
    pre = panel[panel["treated"] & (panel["day"] < START)]
    baseline = clean(pre)["value"].mean()
    assert result["baseline"] == pytest.approx(baseline)
    assert result["estimate_pct"] == pytest.approx(100 * result["estimate"] / baseline)
    lo, hi = result["ci95"]
    assert result["ci95_pct"] == pytest.approx((100 * lo / baseline, 100 * hi / baseline))


def test_same_coefficient_as_linearmodels_panelols_on_an_unbalanced_panel():
    from linearmodels import PanelOLS

    panel = clean(make_panel(seed=15, units=12, days=200, start="2017-04-01", missing=0.1))
    ours = did_estimate(panel, "2017-04-01")
    frame = panel.assign(d=(panel["treated"] & (panel["day"] >= "2017-04-01")).astype(float))
    frame = frame.set_index(["unit", "day"])
    theirs = PanelOLS(frame["value"], frame[["d"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True
    )
    assert ours["estimate"] == pytest.approx(float(theirs.params["d"]), rel=1e-6)
    # the same clustered error up to the small-sample factors (within 10 %)
    assert ours["se"] == pytest.approx(float(theirs.std_errors["d"]), rel=0.1)


def test_within_removes_unit_and_day_means():
    rng = np.random.default_rng(0)
    units = rng.integers(0, 7, 500)
    days = rng.integers(0, 30, 500)
    out = within(rng.normal(size=(500, 2)), units, days)
    for groups in (units, days):
        sums = np.stack([np.bincount(groups, out[:, j]) for j in range(2)], axis=1)
        assert np.abs(sums).max() < 1e-6


def test_days_with_few_readings_are_left_out():
    panel = make_panel(seed=16, units=20)
    broken = panel.copy()
    row = broken.index[(broken["treated"]) & (broken["day"] == "2017-08-01")][0]
    broken.loc[row, ["value", "n"]] = [1e6, 1]  # one reading of nonsense
    assert did_estimate(broken, START)["estimate"] == pytest.approx(
        did_estimate(panel.drop(index=row), START)["estimate"]
    )


def test_days_after_the_end_are_not_counted():
    panel = make_panel(seed=17, units=20)
    ended = did_estimate(panel, START, end="2017-08-31")
    cut = did_estimate(panel[panel["day"] <= "2017-08-31"], START)
    assert ended["estimate"] == pytest.approx(cut["estimate"])
    assert ended["n_observations"] < did_estimate(panel, START)["n_observations"]


def test_no_data_after_the_start_is_an_error():
    panel = make_panel(seed=18, units=10)
    with pytest.raises(EvaluationError):
        did_estimate(panel[panel["day"] < START], START)
    with pytest.raises(EvaluationError):
        did_estimate(panel[~panel["treated"]], START)
