"""The forecast figure on hand-made frames: the 95 % band outside the 80 % band outside the mean,
the start marked on every panel, what followed drawn only when the data go on, the official AQI
colours behind pollutants (not behind speeds), the skill in four languages, small multiples.

Every figure is read through `go.Figure(...)`, which validates each property name and value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from components.charts import FigureContext
from components.figures.forecast import (
    COLUMNS,
    MAX_PANELS,
    START_SHAPE,
    aqi_bands,
    forecast_figure,
    skill_text,
)
from components.figures.plot import KEY_FIGURE
from datasets.aqi import CATEGORIES
from datasets.cities import builtin_city
from i18n import LANGUAGES, fmt_number, t

CITY = builtin_city()
START = pd.Timestamp("2017-06-10 00:00")


def ctx(lang="en", theme="light", standard="hj633") -> FigureContext:
    return FigureContext(lang=lang, theme=theme, city=CITY, page_options={"aqi": standard})


def series_rows(key: str, measure: str = "pm25", followed: bool = True, mase: float = 0.71):
    """48 h of history and a 24-h forecast whose intervals widen with the horizon."""
    rng = np.random.default_rng(len(key))
    past = pd.date_range(START - pd.Timedelta(hours=48), periods=48, freq="h")
    ahead = pd.date_range(START, periods=24, freq="h")
    mean = 40 + 10 * np.sin(np.arange(24) / 4)
    spread = np.linspace(3, 12, 24)
    history = pd.DataFrame({"ts": past, "observed": 40 + rng.normal(0, 5, 48)})
    forecast = pd.DataFrame(
        {
            "ts": ahead,
            "observed": mean + rng.normal(0, 4, 24) if followed else np.nan,
            "mean": mean,
            "lo80": mean - spread,
            "hi80": mean + spread,
            "lo95": mean - 1.6 * spread,
            "hi95": mean + 1.6 * spread,
        }
    )
    rows = pd.concat([history, forecast], ignore_index=True)
    return rows.assign(
        series=key,
        label=f"Station {key}",
        measure=measure,
        start=START,
        model="arx",
        mase=mase,
        mase_naive=1.0,
        synthetic=True,
    ).reindex(columns=list(COLUMNS))


def traces(fig: dict, role: str, axis: str = "x") -> list[dict]:
    return [tr for tr in fig["data"] if tr.get("meta") == role and tr.get("xaxis", "x") == axis]


def band_edges(trace: dict) -> tuple[np.ndarray, np.ndarray]:
    """(upper, lower) of a filled outline: the upper edge forward, then the lower edge back."""
    y = np.asarray(trace["y"], dtype="float64")
    half = len(y) // 2
    return y[:half], y[half:][::-1]


def test_the_95_band_holds_the_80_band_which_holds_the_mean():
    fig = forecast_figure(series_rows("A"), ctx())
    go.Figure(fig)
    (b95,), (b80,), (mean,) = traces(fig, "band95"), traces(fig, "band80"), traces(fig, "mean")
    hi95, lo95 = band_edges(b95)
    hi80, lo80 = band_edges(b80)
    centre = np.asarray(mean["y"], dtype="float64")
    assert len(hi95) == len(hi80) == len(centre) == 24
    assert np.all(hi95 > hi80) and np.all(hi80 > centre)
    assert np.all(lo95 < lo80) and np.all(lo80 < centre)
    assert b95["fill"] == b80["fill"] == "toself"
    # the wider band is drawn first, so the narrower one shows on top of it
    roles = [tr.get("meta") for tr in fig["data"]]
    assert roles.index("band95") < roles.index("band80") < roles.index("mean")


def test_the_start_is_marked_and_the_history_stops_there():
    fig = forecast_figure(series_rows("A"), ctx())
    marks = [s for s in fig["layout"]["shapes"] if s.get("name") == START_SHAPE]
    assert len(marks) == 1
    assert pd.Timestamp(marks[0]["x0"]) == START
    (history,) = traces(fig, "history")
    assert pd.Timestamp(max(history["x"])) < START
    (mean,) = traces(fig, "mean")
    assert pd.Timestamp(min(mean["x"])) == START
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert any(text.startswith(t("forecast.start", "en", date="").split("{")[0]) for text in texts)


def test_what_followed_is_drawn_only_when_the_data_go_on():
    cut = forecast_figure(series_rows("A", followed=True), ctx())
    (actual,) = traces(cut, "actual")
    assert len(actual["x"]) == 24 and pd.Timestamp(min(actual["x"])) >= START
    latest = forecast_figure(series_rows("A", followed=False), ctx())
    assert traces(latest, "actual") == []
    go.Figure(latest)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_skill_and_the_model_are_written_on_the_chart_in_each_language(lang):
    fig = forecast_figure(series_rows("A", mase=0.71), ctx(lang))
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    (key,) = [a["text"] for a in fig["layout"]["annotations"] if a.get("name") == KEY_FIGURE]
    assert key == "Station A · " + t("forecast.skill", lang, mase=fmt_number(0.71, lang, 2),
                                     naive="1")  # fmt: skip
    model = t("forecast.model", lang, models=t("forecast.model.arx", lang))
    assert model + " · " + t("forecast.synthetic", lang) in texts


def test_skill_texts_differ_by_language_and_say_when_there_is_no_score():
    texts = {lang: skill_text(0.71, 1.0, lang) for lang in LANGUAGES}
    assert len(set(texts.values())) == len(LANGUAGES)
    assert "0.71" in texts["en"] and "0,71" in texts["fr"]
    assert skill_text(None, 1.0, "en") == t("forecast.skill.none", "en")
    assert "1.07" in skill_text(0.8, 1.07, "en")  # a naive score other than 1 is shown as is


def test_pollutants_sit_on_the_official_aqi_colours_and_speeds_do_not():
    fig = forecast_figure(series_rows("A", measure="pm25"), ctx())
    fills = [s["fillcolor"] for s in fig["layout"]["shapes"] if s.get("type") == "rect"]
    official = [c.color for c in CATEGORIES["hj633"]]
    assert fills and fills == official[: len(fills)]
    top = max(s["y1"] for s in fig["layout"]["shapes"] if s.get("type") == "rect")
    assert top <= 1.05 * max(series_rows("A")["hi95"].max(), series_rows("A")["observed"].max())
    speed = forecast_figure(series_rows("A", measure="speed"), ctx())
    assert not [s for s in speed["layout"]["shapes"] if s.get("type") == "rect"]


def test_aqi_bands_follow_each_standard():
    hj = aqi_bands("pm25", "hj633")
    assert [round(high) for _low, high, _c in hj[:3]] == [35, 75, 115]
    epa = aqi_bands("pm25", "epa")
    assert [high for _low, high, _c in epa[:2]] == [9.0, 35.4]
    assert [c for *_edges, c in epa] == [c.color for c in CATEGORIES["epa"]][: len(epa)]
    no2 = aqi_bands("no2", "epa")  # the EPA table is in ppb: the bands come back in µg/m³
    assert 95 < no2[0][1] < 105  # 53 ppb of NO2 ≈ 99.6 µg/m³
    assert aqi_bands("speed", "hj633") == []
    index = aqi_bands("aqi", "epa")
    assert [(low, high) for low, high, _c in index[:3]] == [(0, 50), (50, 100), (100, 150)]


def test_districts_are_small_multiples_each_with_its_start_and_skill():
    frame = pd.concat([series_rows(k, measure="flow", mase=m) for k, m in
                       (("1", 0.6), ("2", 0.7), ("3", 0.8), ("4", 0.9), ("5", 1.1))])  # fmt: skip
    fig = forecast_figure(frame, ctx("fr"))
    go.Figure(fig)
    axes = {tr.get("xaxis", "x") for tr in fig["data"]}
    assert len(axes) == MAX_PANELS  # the fifth district is left out
    marks = [s for s in fig["layout"]["shapes"] if s.get("name") == START_SHAPE]
    assert sorted(s["xref"] for s in marks) == sorted(axes)
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    for key, mase in (("1", 0.6), ("4", 0.9)):
        assert any(f"Station {key}" in x and fmt_number(mase, "fr", 2) in x for x in titles)
    models = t("forecast.model", "fr", models=t("forecast.model.arx", "fr"))
    assert sum(x.startswith(models) for x in titles) == 1  # the model, said once
    for axis in axes:  # no panel carries more than three lines
        lines = [tr for tr in fig["data"] if tr.get("xaxis", "x") == axis and "fill" not in tr]
        assert len(lines) <= 3
    shown = [tr["name"] for tr in fig["data"] if tr.get("showlegend")]
    assert len(shown) == len(set(shown)) == 5  # each role once in the legend


def test_dark_theme_lines_use_the_dark_ink():
    from components.theme import PALETTE

    fig = forecast_figure(series_rows("A"), ctx(theme="dark"))
    (history,) = traces(fig, "history")
    assert history["line"]["color"] == PALETTE["dark"]["text"]
