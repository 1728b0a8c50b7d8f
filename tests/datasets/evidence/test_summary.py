"""The plain-language sentence and its caveats, in the four languages."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from datasets.evidence.model import Evaluation, Intervention
from datasets.evidence.summary import caveats, hour_ranges, summary_text

IV = Intervention(
    id="pilot", city="hangzhou-2017", name="Signals", start=dt.date(2017, 7, 1),
    treated=("a",), control=("b",), outcome="traffic_readings.speed_kmh", unit="corridor",
    hours=(7, 8, 17, 18), weekdays=True,
)  # fmt: skip


def _ev(pct: float = 10.4, lo: float = 7.1, hi: float = 13.8, **kw) -> Evaluation:
    values = dict(
        intervention_id="pilot", outcome=IV.outcome, unit_label="km/h",
        estimate=pct / 4, estimate_pct=pct, ci95=(lo / 4, hi / 4), ci95_pct=(lo, hi),
        p_value=0.001, pre_trend_p=0.62, placebo_p=0.002, n_treated=20, n_control=40,
        n_observations=1000, baseline=25.0,
        event_study=pd.DataFrame(columns=["week", "coef", "lo", "hi"]),
        placebo_times=pd.DataFrame({"start": pd.to_datetime(["2017-03-01"]),
                                    "estimate": [0.1], "p_value": [0.5]}),
        synthetic_control={"estimate_pct": 9.8},
    ) | kw  # fmt: skip
    return Evaluation(**values)


@pytest.mark.parametrize(
    "lang, words",
    [
        ("en", ["Speed", "rose", "10.4%", "7.1%", "13.8%", "control corridors", "p = 0.62"]),
        ("fr", ["La vitesse", "augmenté", "10,4", "7,1", "13,8", "axes témoins", "p = 0,62"]),
        ("es", ["La velocidad", "subió", "10,4", "7,1", "13,8", "corredores de control", "0,62"]),
        ("zh", ["车速", "上升", "10.4%", "7.1%", "13.8%", "对照路段", "p = 0.62"]),
    ],
)
def test_the_sentence_in_four_languages(lang, words):
    text = summary_text(_ev(), IV, lang)
    for word in words:
        assert word in text, (word, text)
    assert "07:00–09:00" in text and "17:00–19:00" in text


def test_verbs_follow_the_interval():
    assert "fell 8.0%" in summary_text(_ev(-8.0, -10.9, -5.1), IV, "en")
    assert "(95 % CI 5.1% to 10.9%)" in summary_text(_ev(-8.0, -10.9, -5.1), IV, "en")
    flat = summary_text(_ev(1.2, -1.0, 3.4), IV, "en")
    assert "no clear change" in flat and "+1.2%" in flat and "-1.0%" in flat
    assert "baissé" in summary_text(_ev(-8.0, -10.9, -5.1), IV, "fr")
    assert "没有明显变化" in summary_text(_ev(1.2, -1.0, 3.4), IV, "zh")


def test_pre_trend_clause():
    assert "pre-trends not parallel (p < 0.01)" in summary_text(_ev(pre_trend_p=0.001), IV, "en")
    alone = summary_text(_ev(pre_trend_p=None), IV, "en")
    assert "pre-trends" not in alone and alone.endswith(".")


def test_hour_ranges():
    assert hour_ranges((7, 8, 17, 18)) == [(7, 9), (17, 19)]
    assert hour_ranges((12,)) == [(12, 13)]
    assert hour_ranges(()) == []


def test_no_caveat_for_a_clean_result():
    assert caveats(_ev(), IV, "en") == []


@pytest.mark.parametrize(
    "change, word",
    [
        ({"pre_trend_p": 0.01}, "did not move together"),
        ({"pre_trend_p": None}, "Too few units or weeks"),
        ({"n_treated": 3}, "Only 3 treated"),
        ({"placebo_p": 0.3}, "randomly chosen units"),
        ({"synthetic_control": {"estimate_pct": 2.0}}, "synthetic control gives 2.0%"),
        ({"synthetic_data": True}, "synthetic data"),
        ({"placebo_times": pd.DataFrame({"start": pd.to_datetime(["2017-03-01"]),
                                         "estimate": [3.0], "p_value": [0.001]})},
         "2017-03-01"),
    ],
)  # fmt: skip
def test_each_caveat(change, word):
    notes = caveats(dataclasses.replace(_ev(), **change), IV, "en")
    assert len(notes) == 1 and word in notes[0]
    for lang in ("fr", "es", "zh"):
        translated = caveats(dataclasses.replace(_ev(), **change), IV, lang)
        assert len(translated) == 1 and translated[0] != notes[0]
