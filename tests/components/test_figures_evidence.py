"""Tests for components.figures.evidence: figures built from hand-made evaluations.

Each figure is read through `go.Figure(...)`, which validates every property, and checked for
what a reader relies on: every estimate carries its 95 % interval (a band or error bars whose
ends are the evaluation's own bounds), the start is marked, texts are translated.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
import pytest

from components.charts import FigureContext
from components.figures import evidence as figures
from datasets.cities import builtin_city
from datasets.evidence.model import Evaluation, Intervention
from i18n import t

CITY = builtin_city()
START = dt.date(2017, 6, 1)


def ctx(lang: str = "en", theme: str = "light") -> FigureContext:
    return FigureContext(lang=lang, theme=theme, city=CITY)


def intervention() -> Intervention:
    return Intervention(
        id="pilot",
        city=CITY.id,
        name="Pilot",
        start=START,
        treated=("d1", "d2"),
        control=("d3", "d4", "d5"),
        outcome="traffic_readings.speed_kmh",
    )


def evaluation(synthetic: bool = True) -> Evaluation:
    weeks = np.arange(-6, 7)
    coef = np.where(weeks < 0, 0.1 * np.sin(weeks), 4.0 + 0.1 * weeks)
    coef[weeks == -1] = 0.0
    event = pd.DataFrame({"week": weeks, "coef": coef, "lo": coef - 1.5, "hi": coef + 1.5})
    placebo = pd.DataFrame(
        {
            "start": pd.to_datetime(["2017-03-01", "2017-03-15", "2017-04-01"]),
            "estimate": [0.3, -0.4, 0.2],
            "p_value": [0.7, 0.6, 0.8],
        }
    )
    sc = {}
    if synthetic:
        days = pd.date_range("2017-04-03", periods=16, freq="7D")
        sc = {
            "estimate": 3.9,
            "estimate_pct": 9.1,
            "ci95_pct": [5.0, 13.0],
            "weeks": [d.strftime("%Y-%m-%d") for d in days],
            "treated": [40.0 + i for i in range(len(days))],
            "synthetic": [40.0 + i * 0.6 for i in range(len(days))],
        }
    return Evaluation(
        intervention_id="pilot",
        outcome="traffic_readings.speed_kmh",
        unit_label="km/h",
        estimate=4.2,
        estimate_pct=10.4,
        ci95=(2.9, 5.5),
        ci95_pct=(7.1, 13.8),
        p_value=0.0004,
        pre_trend_p=0.62,
        placebo_p=0.05,
        n_treated=2,
        n_control=3,
        n_observations=1200,
        baseline=40.4,
        event_study=event,
        placebo_times=placebo,
        synthetic_control=sc,
    )


def checked(fig: dict) -> go.Figure:
    """The dict figure as plotly validates it; orjson writes it as it is."""
    orjson.dumps(fig, option=orjson.OPT_SERIALIZE_NUMPY)
    return go.Figure(fig)


def test_event_study_draws_the_interval_band_around_each_week_and_the_start_line():
    ev = evaluation()
    fig = checked(figures.event_study_figure(ev, ctx()))
    band = [tr for tr in fig.data if tr.legendgroup == figures.CI_NAME]
    assert len(band) == 2 and band[1].fill == "tonexty"
    assert list(band[0].y) == list(ev.event_study["hi"]) and list(band[1].y) == list(
        ev.event_study["lo"]
    )
    point = next(tr for tr in fig.data if tr.mode == "lines+markers")
    assert list(point.x) == list(ev.event_study["week"])
    starts = [s for s in fig.layout.shapes if s.x0 == s.x1 == -0.5]
    assert starts, "no start line between week -1 and week 0"
    assert t("evaluate.figure.start", "en") in [a.text for a in fig.layout.annotations]


def test_event_study_sorts_weeks_and_survives_an_empty_study():
    ev = evaluation()
    shuffled = Evaluation(
        **{**ev.__dict__, "event_study": ev.event_study.sample(frac=1, random_state=1)}
    )
    fig = checked(figures.event_study_figure(shuffled, ctx()))
    point = next(tr for tr in fig.data if tr.mode == "lines+markers")
    assert list(point.x) == sorted(point.x)
    empty = Evaluation(**{**ev.__dict__, "event_study": ev.event_study.iloc[0:0]})
    assert checked(figures.event_study_figure(empty, ctx())).data == ()


def test_placebo_shows_each_fake_start_and_the_real_estimate_with_its_interval():
    ev, iv = evaluation(), intervention()
    fig = checked(figures.placebo_figure(ev, iv, ctx()))
    fakes, real = fig.data
    assert list(fakes.y) == list(ev.placebo_times["estimate"])
    assert list(real.x) == [START.isoformat()] and list(real.y) == [ev.estimate]
    lo, hi = ev.ci95
    assert real.error_y.array[0] == pytest.approx(hi - ev.estimate)
    assert real.error_y.arrayminus[0] == pytest.approx(ev.estimate - lo)


def test_synthetic_control_draws_treated_and_synthetic_with_the_start():
    ev, iv = evaluation(), intervention()
    fig = checked(figures.synthetic_figure(ev, iv, ctx("fr")))
    names = {tr.name for tr in fig.data}
    assert names == {t("evaluate.figure.treated", "fr"), t("evaluate.figure.synthetic", "fr")}
    assert any(s.x0 == START.isoformat() for s in fig.layout.shapes)
    assert figures.synthetic_series({}).empty
    assert figures.synthetic_series(
        {"weeks": ["2017-01-02"], "treated": [1.0], "synthetic": []}
    ).empty
    assert list(fig.data[1].y) == ev.synthetic_control["treated"]


def test_effect_is_a_forest_row_per_method_with_its_interval():
    ev = evaluation()
    fig = checked(figures.effect_figure(ev, ctx("zh")))
    did, sc = fig.data
    assert did.y == (t("evaluate.method.did", "zh"),) and sc.y == (
        t("evaluate.method.synthetic", "zh"),
    )
    lo, hi = ev.ci95_pct
    assert did.x[0] + did.error_x.array[0] == pytest.approx(hi)
    assert did.x[0] - did.error_x.arrayminus[0] == pytest.approx(lo)
    assert sc.error_x.array[0] == pytest.approx(13.0 - 9.1)
    only = checked(figures.effect_figure(evaluation(synthetic=False), ctx()))
    assert len(only.data) == 1


def test_dark_theme_and_signed_numbers():
    fig = figures.event_study_figure(evaluation(), ctx(theme="dark"))
    assert fig["layout"]["template"]["layout"]["paper_bgcolor"] != "#ffffff"
    assert figures.signed(1.25, "fr", 1) == "+1,2" or figures.signed(1.25, "fr", 1) == "+1,3"
    assert figures.signed(-2.0, "en", 1) == "−2.0"
    assert figures.signed(float("nan"), "en") == "–"
