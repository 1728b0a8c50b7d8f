"""The event study and its pre-trend test."""

from __future__ import annotations

from datasets.evidence.did import did_estimate
from datasets.evidence.event_study import LAGS, event_study
from datasets.evidence.simulate import make_panel

START = "2017-07-01"


def test_diverging_pre_trends_are_rejected():
    panel = make_panel(seed=21, units=40, effect=0.0, pre_trend=0.25)
    _, p = event_study(panel, START)
    assert p is not None and p < 0.01


def test_parallel_pre_trends_are_rejected_about_as_often_as_the_level_says():
    """At the 5 % level, 30 panels with parallel trends: expect 1.5 rejections; 5 or more has
    a probability of 2 % for a test of the right size (a clustered Wald test of the 11 leads
    rejected a fifth to a third of such panels)."""
    values = [event_study(make_panel(seed=s, units=20, effect=0.0), START)[1] for s in range(30)]
    assert all(p is not None for p in values)
    assert sum(p < 0.05 for p in values) <= 4


def test_weeks_coefficients_and_intervals():
    panel = make_panel(seed=23, units=40, effect=0.12)
    frame, _ = event_study(panel, START)
    assert list(frame.columns) == ["week", "coef", "lo", "hi"]
    assert frame["week"].is_monotonic_increasing
    ref = frame[frame["week"] == -1].iloc[0]
    assert (ref["coef"], ref["lo"], ref["hi"]) == (0.0, 0.0, 0.0)
    assert frame["week"].max() == LAGS
    assert (frame["lo"] <= frame["coef"]).all() and (frame["coef"] <= frame["hi"]).all()
    after = frame[frame["week"] >= 0]
    assert (after["lo"] > 0).all()  # every week after the start shows the effect
    estimate = did_estimate(panel, START)["estimate"]
    # each week is measured against week -1 alone, the DiD against the whole pre-period
    assert after["lo"].min() < estimate < after["hi"].max()


def test_leads_are_capped_by_the_number_of_units():
    frame, p = event_study(make_panel(seed=24, units=6), START)
    leads = frame[frame["week"] <= -2]
    assert 1 <= len(leads) <= 6 - 2
    assert p is not None


def test_no_pre_period_gives_no_test():
    panel = make_panel(seed=25, units=10)
    frame, p = event_study(panel[panel["day"] >= START], START)
    assert frame.empty and p is None
