"""Tests for components.figures.traffic: figures built from small hand-made frames.

The builders return plain dicts; every test reads them through `go.Figure(...)`, which validates
each property name and value, so a misspelt property or a bad value still fails here. They
check what a viewer relies on: the trace types (no WebGL chart on the page: the maps are SVG),
translated titles and labels in French and Chinese, district names in the viewer's language,
the dark template, maps over the city's districts without a base map, and the notes a figure
adds (coarsened buckets, the pilot's evaluation with its interval and summary, or the simple
difference in differences without one, the sample size), and that
orjson writes every dict as it is (no slow fallback walk in plotly's serialiser).
"""

from __future__ import annotations

import datetime as dt
import html
import re

import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
import pytest

from components.charts import FigureContext
from components.evidence import Evidence, attach
from components.figures import traffic as figures
from components.figures.plot import KEY_FIGURE
from components.figures.traffic.series import SUMMARY_WIDTH
from components.state import ViewState
from components.theme import DARK_COLORWAY, OKABE_ITO, PALETTE
from datasets.cities import builtin_city
from datasets.evidence.summary import summary_text
from datasets.queries import traffic as queries
from i18n import LANGUAGES, fmt_percent, messages, t
from tests.components.evidence_sample import sample_evidence

CITY = builtin_city()
XIHU, GONGSHU = 330106, 330105


def ctx(lang: str = "en", theme: str = "light", option: str | None = None) -> FigureContext:
    return FigureContext(lang=lang, theme=theme, city=CITY, option=option)


# -- hand-made frames shaped like the queries' output --------------------------------------------


def district_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district": [XIHU, GONGSHU],
            "detectors": [3, 2],
            "readings": [1000, 800],
            "speed_kmh": [43.2, 61.5],
            "tti": [1.31, 1.12],
            "vehicles": [120000, 90000],
        }
    )


def volume_frame(bucket: str = "day", requested: str = "day") -> pd.DataFrame:
    starts = pd.date_range("2017-03-01", periods=10, freq="D")
    return pd.DataFrame(
        {
            "period_start": starts,
            "flow_vph": np.linspace(2000, 2400, 10),
            "speed_kmh": np.linspace(45, 55, 10),
            "readings": 288,
            "bucket": bucket,
            "requested": requested,
        }
    )


def heatmap_frame() -> pd.DataFrame:
    rows = [
        {"weekday": d, "hour": h, "speed_kmh": 50 - (h in (8, 18)) * 20, "flow_vph": 100.0 * h}
        for d in range(1, 8)
        for h in range(24)
    ]
    return pd.DataFrame(rows).assign(readings=12)


def pilot_frame() -> pd.DataFrame:
    start = dt.date(2017, 7, 1)
    days = pd.date_range("2017-03-01", "2017-11-30", freq="B")
    rows = []
    for day in days:
        after = day.date() >= start
        rows.append(
            {"day": day, "group": "pilot", "readings": 100, "speed_kmh": 44.0 if after else 40.0}
        )
        rows.append(
            {"day": day, "group": "control", "readings": 100, "speed_kmh": 50.5 if after else 50.0}
        )
    return pd.DataFrame(rows).assign(pilot_start=pd.Timestamp(start))


def incident_frame(total: int = 500) -> pd.DataFrame:
    kinds = ["crash", "breakdown", "roadworks", "illegal_parking"]
    return pd.DataFrame(
        {
            "incident_id": [f"INC{i:04d}" for i in range(8)],
            "lat": np.linspace(30.20, 30.32, 8),
            "lon": np.linspace(120.10, 120.30, 8),
            "type": [kinds[i % 4] for i in range(8)],
            "source": "video_ai",
            "severity": [1, 2, 3, 1, 2, 3, 1, 2],
            "district": [XIHU] * 4 + [GONGSHU] * 4,
            "detected_at": pd.date_range("2017-03-01 08:00", periods=8, freq="h"),
            "clear_min": np.linspace(10, 200, 8),
            "total": total,
        }
    )


def clearance_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "type": ["illegal_parking", "crash", "roadworks"],
            "incidents": [300, 400, 120],
            "p25_min": [13.0, 36.0, 130.0],
            "median_min": [20.0, 56.0, 220.0],
            "p75_min": [31.0, 89.0, 330.0],
        }
    )


def emergency_frame() -> pd.DataFrame:
    rows = []
    for priority in (False, True):
        rows.append(
            {
                "priority": priority,
                "km_from": None,
                "runs": 900,
                "median_min": 13.0 if not priority else 7.0,
                "p25_min": 9.0,
                "p75_min": 18.0,
                "min_per_km": 3.7 if not priority else 2.0,
            }
        )
        for km in range(0, 13):
            rows.append(
                {
                    "priority": priority,
                    "km_from": float(km),
                    "runs": 5 if km == 0 else 60,
                    "median_min": (km + 0.5) * (2.0 if priority else 3.8),
                    "p25_min": km * 1.8,
                    "p75_min": km * 4.2 + 2,
                    "min_per_km": 3.0,
                }
            )
    return pd.DataFrame(rows)


def metro_profile_frame() -> pd.DataFrame:
    minutes = np.arange(0, 1440, 10)
    parts = [
        pd.DataFrame(
            {
                "day_type": kind,
                "minute_of_day": minutes,
                "inflow": scale * (1 + np.sin(minutes / 229)),
                "outflow": 1.0,
                "days": 5,
            }
        )
        for kind, scale in (("weekday", 9000.0), ("weekend", 5000.0))
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(2, "time", [f"{m // 60:02d}:{m % 60:02d}" for m in frame["minute_of_day"]])
    return frame


def metro_days_frame() -> pd.DataFrame:
    ts = pd.date_range("2019-01-01", periods=144 * 3, freq="10min")
    return pd.DataFrame({"ts": ts, "inflow": np.arange(len(ts)), "outflow": np.arange(len(ts))})


BUILDERS = {
    "district_map": (figures.district_map, district_frame),
    "volume_speed": (figures.volume_speed_figure, volume_frame),
    "hour_weekday": (figures.hour_weekday_figure, heatmap_frame),
    "pilot": (figures.pilot_figure, pilot_frame),
    "incident_map": (figures.incident_map, incident_frame),
    "clearance": (figures.clearance_figure, clearance_frame),
    "emergency": (figures.emergency_figure, emergency_frame),
    "metro_profile": (figures.metro_figure, metro_profile_frame),
    "metro_days": (figures.metro_figure, metro_days_frame),
}
MAP_TYPES = {"choroplethmap", "scattermap", "densitymap"}
WEBGL_TYPES = MAP_TYPES | {"scattergl", "heatmapgl", "splom", "parcoords", "scatter3d", "surface"}


def build_dict(name: str, lang: str = "en", theme: str = "light", option: str | None = None):
    builder, make = BUILDERS[name]
    return builder(make(), ctx(lang, theme, option))


def build(name: str, lang: str = "en", theme: str = "light", option: str | None = None):
    """The builder's dict as a validated graph object."""
    return go.Figure(build_dict(name, lang, theme, option))


def texts(fig: go.Figure) -> str:
    """Every string in the figure (titles, names, hover templates, annotations), as JSON."""
    return fig.to_json()


# -- trace types, no WebGL -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "types"),
    [
        ("district_map", {"choropleth", "scattergeo"}),
        ("volume_speed", {"scatter"}),
        ("hour_weekday", {"heatmap"}),
        ("pilot", {"scatter"}),
        ("incident_map", {"choropleth", "scattergeo"}),
        ("clearance", {"scatter"}),
        ("emergency", {"scatter"}),
        ("metro_profile", {"scatter"}),
        ("metro_days", {"scatter"}),
    ],
)
def test_trace_types(name, types):
    fig = build(name)
    assert {trace.type for trace in fig.data} == types


def test_no_webgl_chart_on_the_page():
    """Maps are SVG (`geo`): a WebGL context a chart made a page of two maps slow to open."""
    from pages import traffic as page

    webgl = []
    by_builder = {builder: name for name, (builder, _) in BUILDERS.items()}
    # a chart drawn by another module's builder (the forecast) is checked in its own tests
    drawn_here = [chart for chart in page.CHARTS if chart.figure in by_builder]
    assert {chart.figure for chart in drawn_here} == set(by_builder)  # every builder is on it
    for chart in drawn_here:
        fig = build(by_builder[chart.figure], option=chart.default_option)
        if {trace.type for trace in fig.data} & WEBGL_TYPES:
            webgl.append(chart.id)
    assert webgl == []


def test_volume_and_speed_use_two_y_axes():
    fig = build("volume_speed")
    assert [trace.yaxis or "y" for trace in fig.data] == ["y", "y2"]
    assert fig.layout.yaxis2.overlaying == "y"
    assert fig.layout.yaxis2.side == "right"


# -- maps -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["district_map", "incident_map"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_maps_are_svg_over_the_city_districts_without_a_base_map(name, theme):
    fig = build(name, theme=theme)
    assert fig.layout.geo.visible is False and fig.layout.geo.projection.type == "mercator"
    assert fig.layout.geo.bgcolor == PALETTE[theme]["paper"]
    ground = fig.data[0]
    assert ground.type == "choropleth" and ground.hoverinfo == "skip"
    assert list(ground.locations) == [f["id"] for f in CITY.geojson["features"]]
    west, east = fig.layout.geo.lonaxis.range
    south, north = fig.layout.geo.lataxis.range
    for trace in fig.data[1:]:
        if trace.type == "scattergeo":  # None: the gap between two lines of a trace
            assert all(west <= x <= east for x in trace.lon if x is not None)
            assert all(south <= y <= north for y in trace.lat if y is not None)


def test_choropleth_uses_district_codes_and_names_in_the_viewers_language():
    fig = build("district_map", lang="zh")
    trace = fig.data[-1]
    assert list(trace.locations) == [XIHU, GONGSHU]
    assert trace.featureidkey in (None, "id")
    assert {f["id"] for f in trace.geojson["features"]} == {XIHU, GONGSHU}
    names = [row[0] for row in trace.customdata]
    assert names == ["西湖区", "拱墅区"]
    assert t("traffic.hover.speed", "zh") in trace.hovertemplate


def test_choropleth_measure_follows_the_option():
    speed = build("district_map", option="speed").data[-1]
    tti = build("district_map", option="tti").data[-1]
    assert list(speed.z) == [43.2, 61.5]
    assert list(tti.z) == [1.31, 1.12]
    assert tti.reversescale and not speed.reversescale, "bright means free-flowing in both"


def test_incident_map_colours_by_type_and_says_it_is_a_sample():
    fig = build("incident_map", lang="fr")
    fig.data = fig.data[1:]  # the district outlines under the incidents
    names = [trace.name for trace in fig.data]
    assert names == [
        t(f"traffic.incident.{k}", "fr")
        for k in ("crash", "breakdown", "illegal_parking", "roadworks")
    ]
    colours = {trace.name: trace.marker.color for trace in fig.data}
    assert len(set(colours.values())) == len(colours)
    note = fig.layout.annotations[0].text
    assert note == t("traffic.incidents.sample", "fr", shown="8", total="500")
    assert [row[0] for row in fig.data[0].customdata] == [t("traffic.incident.crash", "fr")] * 2
    everything = go.Figure(figures.incident_map(incident_frame(total=8), ctx("en")))
    assert everything.layout.annotations[0].text == t(
        "traffic.incidents.all", "en", shown="8", total="8"
    )


def test_custom_data_never_starts_with_a_number():
    """The shell reads a number at customdata[0] of any clicked point as a district code."""
    for name in BUILDERS:
        for trace in build(name).data:
            custom = getattr(trace, "customdata", None)
            if custom is None or name == "district_map":
                continue
            assert all(isinstance(row[0], str) for row in custom), name


# -- translations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "zh"])
def test_axis_titles_are_translated(lang):
    fig = build("volume_speed", lang=lang)
    assert fig.layout.yaxis.title.text == t("traffic.axis.flow", lang)
    assert fig.layout.yaxis2.title.text == t("traffic.axis.speed", lang)
    assert fig.layout.xaxis.title.text == t("traffic.axis.time.day", lang)
    assert fig.layout.yaxis.title.text != t("traffic.axis.flow", "en")
    assert [trace.name for trace in fig.data] == [
        t("traffic.series.flow", lang),
        t("traffic.series.speed", lang),
    ]
    assert build("hour_weekday", lang=lang).layout.xaxis.title.text == t("traffic.axis.hour", lang)
    assert build("pilot", lang=lang).layout.yaxis.title.text == t("traffic.axis.peak_speed", lang)
    assert build("clearance", lang=lang).layout.xaxis.title.text == t(
        "traffic.axis.clear_min", lang
    )
    assert build("emergency", lang=lang).layout.xaxis.title.text == t("traffic.axis.distance", lang)
    metro = build("metro_profile", lang=lang)
    assert metro.layout.yaxis.title.text == t("traffic.axis.metro_inflow", lang)


@pytest.mark.parametrize(
    ("lang", "monday", "sunday"),
    [("en", "Mon", "Sun"), ("fr", "lun.", "dim."), ("zh", "周一", "周日")],
)
def test_heatmap_weekdays_are_translated_monday_first(lang, monday, sunday):
    fig = build("hour_weekday", lang=lang)
    days = list(fig.data[0].y)
    assert days[0] == monday and days[-1] == sunday and len(days) == 7
    assert fig.layout.yaxis.autorange == "reversed"
    assert list(fig.data[0].x)[:2] == ["00", "01"]


def test_heatmap_measure_follows_the_option():
    speed = build("hour_weekday", option="speed").data[0]
    flow = build("hour_weekday", option="flow").data[0]
    assert np.asarray(speed.z)[0][8] == 30 and np.asarray(flow.z)[0][8] == 800


def test_every_traffic_message_has_four_real_translations():
    traffic = {k: v for k, v in messages().items() if k.startswith("traffic.")}
    assert len(traffic) > 50
    copied = []
    for key, entry in traffic.items():
        assert set(entry) >= set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key
        if entry["zh"] == entry["en"]:
            copied.append(key)
    # only symbols and abbreviations may stay the same in Chinese
    assert set(copied) <= {"traffic.map.colorbar.speed"}


# -- notes the figures add -------------------------------------------------------------------------


def test_coarsened_bucket_is_said_in_the_figure():
    fine = go.Figure(figures.volume_speed_figure(volume_frame("day", "5min"), ctx("fr")))
    note = " ".join(a.text for a in fine.layout.annotations)
    assert note == t(
        "traffic.volume.coarsened",
        "fr",
        requested=t("traffic.bucket.5min", "fr"),
        used=t("traffic.bucket.day", "fr"),
    )
    assert not go.Figure(figures.volume_speed_figure(volume_frame(), ctx("fr"))).layout.annotations


def test_pilot_figure_marks_the_start_and_states_the_did_in_the_locale():
    fig = build("pilot", lang="fr")
    assert [trace.name for trace in fig.data] == [
        t("traffic.pilot.control", "fr"),
        t("traffic.pilot.pilot", "fr"),
    ]
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 1 and pd.Timestamp(lines[0].x0) == pd.Timestamp("2017-07-01")
    assert len([s for s in fig.layout.shapes if s.type == "rect"]) == 2
    summary = next(a.text for a in fig.layout.annotations if "→" in (a.text or ""))
    # pilot 40 → 44 (+10 %), control 50 → 50.5 (+1 %): DiD +9.0 points, French decimals
    assert "40,0 → 44,0" in summary
    assert "+9,0" in summary
    assert t("traffic.pilot.summary.did", "fr", did="+9,0") in summary


def annotation_named(fig: go.Figure, name: str) -> str:
    return next(a.text for a in fig.layout.annotations if a.name == name)


def test_pilot_figure_states_the_evaluation_with_its_interval_and_links_its_details():
    evidence = sample_evidence(pct=10.4, ci_pct=(7.1, 13.8), pre_trend_p=0.62)
    fig = go.Figure(figures.pilot_figure(attach(pilot_frame(), evidence), ctx("fr")))
    key = annotation_named(fig, KEY_FIGURE)
    plus = "+" + fmt_percent(0.104, "fr", 1)
    assert t("traffic.pilot.evaluation.effect", "fr", effect=plus) in key
    lo, hi = "+" + fmt_percent(0.071, "fr", 1), "+" + fmt_percent(0.138, "fr", 1)
    assert (
        t("present.evidence.ci", "fr", range=t("present.evidence.range", "fr", lo=lo, hi=hi)) in key
    )
    assert t("present.evidence.pre_trend", "fr", p="= 0,62") in key
    assert "→" not in key and "points de pourcentage" not in key  # no point estimate left
    footnote = annotation_named(fig, "pilot-summary")
    summary = summary_text(evidence.evaluation, evidence.intervention, "fr")
    assert html.unescape(footnote.replace("<br>", " ")).startswith(summary)
    href = re.search(r'<a href="(/evaluate\?[^"]+)" target="_self">', footnote)[1]
    view = ViewState.from_query(href.split("?", 1)[1])
    assert (view.city, view.lang) == ("hangzhou-2017", "fr")
    assert view.options == {"intervention": "corridor-retiming"}
    assert t("traffic.pilot.evaluation.details", "fr") in footnote


def test_the_pilot_summary_is_wrapped_and_gets_a_band_under_the_axis():
    fig = build_dict("pilot")
    evaluated = figures.pilot_figure(attach(pilot_frame(), sample_evidence()), ctx("en"))
    for drawn in (fig, evaluated):
        text = next(
            a["text"] for a in drawn["layout"]["annotations"] if a.get("name") == "pilot-summary"
        )
        lines = text.split("<br>")
        assert all(len(re.sub(r"<[^>]+>", "", line)) <= SUMMARY_WIDTH + 12 for line in lines)
        bottom = drawn["layout"]["yaxis"]["domain"][0]
        assert bottom >= 0.2 + 0.08 * len(lines)  # room for the axis and every line


@pytest.mark.parametrize("problem", ["none", "failed", "district"])
def test_without_an_evaluation_the_pilot_keeps_the_simple_did_and_says_why(problem):
    frame = pilot_frame() if problem == "none" else attach(pilot_frame(), Evidence(problem=problem))
    fig = go.Figure(figures.pilot_figure(frame, ctx("es")))
    assert t("traffic.pilot.summary.did", "es", did="+9,0") in annotation_named(fig, KEY_FIGURE)
    footnote = annotation_named(fig, "pilot-summary").replace("<br>", " ")
    assert footnote == t(f"traffic.pilot.evaluation.{problem}", "es")
    assert "/evaluate" not in footnote


def test_pilot_did_is_computed_by_the_query_module():
    summary = queries.did_summary(pilot_frame())
    assert summary["pilot_change"] == pytest.approx(0.1)
    assert summary["control_change"] == pytest.approx(0.01)
    assert summary["did"] == pytest.approx(0.09)


def test_emergency_figure_leaves_out_thin_bins_and_states_the_medians():
    fig = build("emergency", lang="es")
    bands = [trace for trace in fig.data if trace.fill == "toself"]
    assert len(bands) == 2 and all(band.mode == "lines" for band in bands), "no band markers"
    lines = [trace for trace in fig.data if trace.mode == "lines+markers"]
    assert [trace.name for trace in lines] == [
        t("traffic.emergency.without", "es"),
        t("traffic.emergency.with", "es"),
    ]
    assert min(lines[0].x) == 1.5, "the 0-1 km bin holds fewer than 10 runs"
    assert lines[0].customdata[-1][0] == "≥ 12"
    note = fig.layout.annotations[0].text
    assert "7,0" in note and "13,0" in note


# -- themes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BUILDERS))
def test_dark_template_is_applied(name):
    dark = build(name, theme="dark")
    assert dark.layout.template.layout.paper_bgcolor == PALETTE["dark"]["paper"]
    assert list(dark.layout.template.layout.colorway) == list(DARK_COLORWAY)
    light = build(name, theme="light")
    assert light.layout.template.layout.paper_bgcolor == PALETTE["light"]["paper"]
    assert list(light.layout.template.layout.colorway) == list(OKABE_ITO)


def test_line_colours_come_from_the_theme_colorway():
    light = build("volume_speed", theme="light")
    dark = build("volume_speed", theme="dark")
    assert light.data[0].line.color == OKABE_ITO[0]
    assert dark.data[0].line.color == DARK_COLORWAY[0]


def test_figures_serialise():
    for name in BUILDERS:
        for lang in LANGUAGES:
            assert texts(build(name, lang=lang, theme="dark"))


@pytest.mark.parametrize("name", list(BUILDERS))
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_figures_are_dicts_orjson_writes_as_they_are(name, theme):
    """No graph objects, pandas values or object arrays: plotly's orjson path would otherwise
    fall back to a walk over the whole figure in Python."""
    for lang in LANGUAGES:
        fig = build_dict(name, lang=lang, theme=theme)
        assert isinstance(fig, dict) and set(fig) == {"data", "layout"}
        assert all(isinstance(trace, dict) and trace.get("type") for trace in fig["data"])
        orjson.dumps(fig, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
