"""Every chart fully translated: Chinese numbers (万, 亿) and dates (2017年1月) on the axes,
source lines and units in the reader's language."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dash import html

import pages.ecology  # registers the ecology charts
import pages.traffic  # noqa: F401  (registers the traffic charts)
from components.charts import REGISTRY, ChartContext, FigureContext, draw, finish, source_line
from components.figures.plot import figure
from datasets.schemas import KINDS
from i18n import unit_text

# Words of an English source line that none of the other languages writes the same way.
ENGLISH_ONLY = {
    "fr": ["synthetic", "generator", "modelled", "published", "figures", "not stated", r"v\d+"],
    "es": ["source", "licence", "version", "synthetic", "generator", "not stated", r"v\d+"],
    "zh": ["source", "licence", "version", "synthetic", "real", "generator", "not stated", r"v\d+"],
}


@pytest.fixture(scope="module")
def ctx(demo_city):
    def make(lang: str, engine=None) -> ChartContext:
        return ChartContext(lang=lang, theme="light", city=demo_city, engine=engine)

    return make


def line_figure(peak: float) -> dict:
    days = np.arange("2017-01-01", "2017-12-31", dtype="datetime64[D]").astype("datetime64[ns]")
    return figure([{"type": "scatter", "x": days, "y": np.linspace(0, peak, days.size)}])


def test_a_chinese_axis_counts_in_wan(ctx):
    fig = finish(line_figure(3_000_000), FigureContext("zh", "light", ctx("zh").city))
    axis = fig["layout"].get("yaxis", {})
    assert "300万" in axis.get("ticktext", [])
    assert len(axis["tickvals"]) == len(axis["ticktext"]) >= 3
    assert all("," not in text and "000" not in text for text in axis["ticktext"])


def test_a_chinese_axis_above_1e8_counts_in_yi(ctx):
    fig = finish(line_figure(320_000_000), FigureContext("zh", "light", ctx("zh").city))
    ticks = fig["layout"].get("yaxis", {}).get("ticktext", [])
    assert any(text.endswith("亿") for text in ticks), ticks


def test_stacked_bars_are_counted_to_the_top_of_the_stack(ctx):
    bars = [{"type": "bar", "x": ["a", "b"], "y": [6_000, 6_000]} for _ in range(2)]
    fig = finish(figure(bars, barmode="stack"), FigureContext("zh", "light", ctx("zh").city))
    assert max(fig["layout"].get("yaxis", {}).get("tickvals", [0])) >= 12_000


def test_a_chinese_horizontal_bar_axis_counts_in_wan_too(ctx):
    """Horizontal bars draw their numbers along x: that axis gets the 万 ticks, the y axis of
    names none; stacked bars reach the sum of their stack at each name."""
    bars = [
        {"type": "bar", "orientation": "h", "y": ["a", "b"], "x": [2_000_000, 1_500_000]}
        for _ in range(2)
    ]
    fig = finish(figure(bars, barmode="stack"), FigureContext("zh", "light", ctx("zh").city))
    axis = fig["layout"].get("xaxis", {})
    assert "400万" in axis.get("ticktext", []), axis
    assert all("," not in text and "000" not in text for text in axis["ticktext"])
    assert "tickvals" not in fig["layout"].get("yaxis", {})
    single = finish(figure(bars[:1]), FigureContext("zh", "light", ctx("zh").city))
    assert "200万" in single["layout"].get("xaxis", {}).get("ticktext", [])


def test_other_languages_keep_plotlys_own_ticks(ctx):
    for lang in ("en", "fr", "es"):
        fig = finish(line_figure(3_000_000), FigureContext(lang, "light", ctx(lang).city))
        assert "tickvals" not in fig["layout"].get("yaxis", {})
        assert "tickformatstops" not in fig["layout"].get("xaxis", {})


def date_formats(axis: dict) -> list[str]:
    return [axis.get("tickformat", "")] + [s["value"] for s in axis.get("tickformatstops", [])]


def test_every_date_axis_of_every_chart_writes_chinese_dates(ctx, demo_workspace):
    date_axes = 0
    for chart in REGISTRY.values():
        fig, _message, _shown = draw(chart, ctx("zh", demo_workspace.engine))
        for key, axis in fig["layout"].items():
            if not key.startswith("xaxis"):
                continue
            if axis.get("type") != "date" and "tickformatstops" not in axis:
                continue
            if axis.get("ticktext"):  # labelled by its builder: in Chinese, no English month
                texts = " ".join(map(str, axis["ticktext"]))
                assert not re.search(r"[A-Za-z]", texts), f"{chart.id} {key}: {texts}"
                date_axes += 1
                continue
            if "tickformatstops" not in axis and not axis.get("tickformat"):
                types = {trace.get("type") for trace in fig["data"]}
                pytest.fail(f"{chart.id} {key}: plotly's English date ticks ({types})")
            date_axes += 1
            formats = " ".join(date_formats(axis))
            assert "%b" not in formats, f"{chart.id} {key}: {formats}"
            assert "年" in formats or "月" in formats or "%H" in formats, chart.id
    assert date_axes >= 5


def test_the_month_axis_reads_year_then_month_in_chinese(ctx):
    fig = finish(line_figure(100), FigureContext("zh", "light", ctx("zh").city))
    stops = {s["value"] for s in fig["layout"].get("xaxis", {}).get("tickformatstops", [])}
    assert "%Y年%-m月" in stops


@pytest.mark.parametrize("lang", ["fr", "es", "zh"])
def test_every_source_line_is_in_the_readers_language(demo_workspace, demo_city, lang):
    lines = 0
    for chart in REGISTRY.values():
        line = source_line(demo_workspace.engine, demo_city, chart.kinds, lang)
        text = " ".join(c for c in html.Div(line)._traverse() if isinstance(c, str)).lower()
        for word in ENGLISH_ONLY[lang]:
            assert not re.search(rf"\b{word}\b", text), f"{chart.id} ({lang}): {word!r} in {text!r}"
        lines += 1
    assert lines >= 10


def test_unit_words_are_translated_and_symbols_kept():
    units = {c.unit for kind in KINDS.values() for c in kind.columns if c.unit}
    for unit in units:
        chinese = unit_text(unit, "zh")
        assert not re.search(r"[a-z]{3,}", chinese), f"{unit!r} → {chinese!r}"
    for lang, lanes in {"fr": "voies", "es": "carriles", "zh": "车道"}.items():
        assert unit_text("lanes", lang) == lanes
    assert unit_text("µg/m³", "zh") == "µg/m³" and unit_text("km/h", "zh") == "km/h"
