"""`evaluate_panel` fills every field; `evaluate` reads the demo pilot and keeps its result."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from datasets.evidence import evaluate as evaluate_module
from datasets.evidence.evaluate import EvaluationError, evaluate, evaluate_panel
from datasets.evidence.interventions import pilot_intervention
from datasets.evidence.model import Evaluation, Intervention
from datasets.evidence.simulate import make_panel

ISSUE_KEYS = {"estimate", "estimate_pct", "ci95", "ci95_pct", "p_value", "pre_trend_p",
              "placebo_p", "synthetic_control", "n_treated", "n_control"}  # fmt: skip


def _iv(**kw) -> Intervention:
    values = {"id": "t", "city": "c", "name": "t", "start": dt.date(2017, 7, 1), "treated": (),
              "control": (), "outcome": "traffic_readings.speed_kmh"} | kw  # fmt: skip
    return Intervention(**values)


def test_every_field_is_filled():
    ev = evaluate_panel(make_panel(seed=51, units=30), _iv(), unit_label="km/h", data_stamp="s")
    for f in dataclasses.fields(Evaluation):
        value = getattr(ev, f.name)
        assert value is not None, f.name
        if isinstance(value, float):
            assert math.isfinite(value), f.name
    assert ev.ci95[0] < ev.estimate < ev.ci95[1]
    assert ev.n_treated + ev.n_control == 30
    assert not ev.event_study.empty and not ev.placebo_times.empty
    assert ev.synthetic_control["estimate_pct"] > 0
    assert set(ev.as_json()) >= ISSUE_KEYS
    assert ev.as_json()["ci95_pct"] == list(ev.ci95_pct)


def test_an_ended_intervention_is_judged_until_its_end():
    panel = make_panel(seed=52, units=30)
    whole = evaluate_panel(panel, _iv())
    ended = evaluate_panel(panel, _iv(end=dt.date(2017, 8, 31)))
    assert ended.n_observations < whole.n_observations
    assert ended.event_study["week"].max() < whole.event_study["week"].max()


def test_an_empty_panel_is_an_error():
    with pytest.raises(EvaluationError):
        evaluate_panel(make_panel(seed=53, units=5).iloc[:0], _iv())


def test_the_demo_pilot_from_its_data(demo_workspace, demo_city):
    iv = pilot_intervention(demo_workspace, demo_city)
    evaluate_module.clear_cache()
    ev = evaluate(demo_workspace, iv)
    assert ev.intervention_id == iv.id
    assert ev.unit_label == "km/h"
    assert ev.synthetic_data is True
    assert ev.data_stamp
    assert ev.n_treated == len(iv.treated) and ev.n_control == len(iv.control)
    assert ev.estimate_pct > 0  # the demo's adaptive signals raise peak speed
    assert evaluate(demo_workspace, iv) is ev  # kept
    other = evaluate(demo_workspace, dataclasses.replace(iv, weekdays=False))
    assert other is not ev and other.n_observations > ev.n_observations
