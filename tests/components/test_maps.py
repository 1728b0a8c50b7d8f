"""The maps a city official reads from the back of a room: each district named with its value in
the viewer's language, the whole city in the frame, every fill visible against the page on both
themes, a chosen district without data that keeps the map, and colours that do not depend on the
language. Figures are built from hand-made frames, except the no-data case, which goes through
the page's own query on a real demo workspace."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import pytest
from shapely.geometry import Point

from components.charts import ChartContext, FigureContext, draw
from components.figures import ecology as eco_figures
from components.figures import geo
from components.figures import traffic as figures
from components.theme import PALETTE, contrast_ratio
from datasets.cities import builtin_city
from datasets.query import Filters
from i18n import LANGUAGES, fmt_number, t
from pages import traffic as traffic_page

CITY = builtin_city()
XIHU, GONGSHU, CHUNAN = 330106, 330105, 330127
SPEEDS = {XIHU: 43.2, GONGSHU: 61.5}


def district_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district": list(SPEEDS),
            "detectors": [3, 2],
            "readings": [1000, 800],
            "speed_kmh": list(SPEEDS.values()),
            "tti": [1.31, 1.12],
            "vehicles": [120000, 90000],
        }
    )


def district_map(lang: str = "en", theme: str = "light", option: str = "speed") -> go.Figure:
    ctx = FigureContext(lang=lang, theme=theme, city=CITY, option=option)
    return go.Figure(figures.district_map(district_frame(), ctx))


def label_trace(fig: go.Figure):
    (trace,) = [tr for tr in fig.data if tr.type == "scattergeo" and "text" in tr.mode]
    return trace


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_district_is_named_with_its_value_in_the_viewers_language(lang):
    fig = district_map(lang)
    trace = label_trace(fig)
    names = CITY.district_names(lang)
    assert len(trace.text) == len(CITY.districts)
    by_name = {}
    for text in trace.text:
        name = next(n for n in names.values() if f"<b>{n}</b>" in text)
        by_name[name] = text
    assert set(by_name) == set(names.values())
    for code, speed in SPEEDS.items():
        assert fmt_number(speed, lang, 1) in by_name[names[code]]
    assert "km/h" not in by_name[names[CHUNAN]], "a district without data has no value"
    assert trace.textfont.size >= 14 and trace.textfont.shadow  # a halo on both themes
    # each name inside its district, or called out with a line from inside its district
    leaders = next(tr for tr in fig.data if tr.type == "scattergeo" and tr.mode == "lines")
    ends = list(zip(leaders.lon, leaders.lat, strict=True))
    lines = {ends[i + 1]: ends[i] for i in range(0, len(ends), 3)}
    for (lon, lat), code in zip(zip(trace.lon, trace.lat, strict=True), names, strict=True):
        anchor = lines.get((lon, lat), (lon, lat))
        assert CITY.district_shape(code).contains(Point(*anchor)), code
    assert 0 < len(lines) < len(CITY.districts) / 2  # the crowded centre only


def test_the_frame_holds_every_district_of_the_city():
    """Two districts have data; the frame is still the whole city, so none is cut."""
    for theme in ("light", "dark"):
        layout = district_map(theme=theme).layout.geo
        west, east = layout.lonaxis.range
        south, north = layout.lataxis.range
        for feature in CITY.geojson["features"]:
            d_west, d_east, d_south, d_north = geo.geojson_bounds([feature])
            assert west < d_west and d_east < east and south < d_south and d_north < north


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("option", ["speed", "tti"])
def test_every_fill_stands_out_from_the_background(theme, option):
    fig = district_map(theme=theme, option=option)
    background = PALETTE[theme]["paper"]
    assert fig.layout.geo.bgcolor == background
    fills = [colour for tr in fig.data if tr.type == "choropleth" for _, colour in tr.colorscale]
    assert fills
    for colour in fills:
        assert contrast_ratio(colour, background) >= 1.5, (theme, colour)
    for tr in fig.data:
        if tr.type == "choropleth":
            assert tr.marker.opacity in (None, 1), "a translucent fill sinks into the page"


def test_a_chosen_district_without_data_keeps_the_map_and_says_why(demo_workspace, demo_city):
    """Chun'an has no detector in the demo city: the map still draws the city with Chun'an
    outlined, and says there are no readings there, in the viewer's language."""
    for lang in ("en", "zh"):
        ctx = ChartContext(
            lang=lang,
            theme="dark",
            city=demo_city,
            option="speed",
            engine=demo_workspace.engine,
            filters=Filters(dt.date(2017, 1, 1), dt.date(2017, 3, 31), (CHUNAN,)),
        )
        figure, message, hidden = draw(traffic_page.DISTRICT_MAP, ctx)
        assert (message, hidden) == ("", True), "an empty card loses the way back"
        fig = go.Figure(figure)
        ground = fig.data[0]
        assert list(ground.locations) == [f["id"] for f in demo_city.geojson["features"]]
        widths = dict(zip(ground.locations, ground.marker.line.width, strict=True))
        assert widths[CHUNAN] > max(w for code, w in widths.items() if code != CHUNAN)
        notes = [a.text for a in fig.layout.annotations]
        name = demo_city.district_names(lang)[CHUNAN]
        assert t("traffic.map.no_readings", lang, districts=name) in notes
        assert len(label_trace(fig).text) == len(demo_city.districts)


def test_a_chosen_district_with_data_is_outlined():
    frame = district_frame().assign(chosen=lambda f: f["district"] == XIHU)
    ctx = FigureContext(lang="fr", theme="light", city=CITY, option="speed")
    trace = go.Figure(figures.district_map(frame, ctx)).data[-1]
    widths = dict(zip(trace.locations, trace.marker.line.width, strict=True))
    assert widths[XIHU] > widths[GONGSHU]


def stations_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "station_id": ["s1", "s2", "s3"],
            "name": ["Zhaohui", "Binjiang", "Xixi"],
            "name_zh": ["朝晖五区", "滨江", "西溪"],
            "lat": [30.29, 30.21, 30.27],
            "lon": [120.16, 120.20, 120.07],
            "district": [330103, 330108, 330106],
            "kind": ["urban", "urban", "background"],
            "mean_aqi": [40.0, 80.0, 120.0],
            "category": ["excellent", "good", "light"],
            "good_share": [0.9, 0.6, 0.3],
            "pm25": [20.0, 40.0, 70.0],
            "days": [300, 300, 300],
        }
    )


def test_stations_are_named_and_keep_their_colours_in_every_language():
    colours = {}
    for lang in ("en", "zh"):
        ctx = FigureContext(lang=lang, theme="dark", city=CITY)
        fig = go.Figure(eco_figures.stations_map_figure(stations_frame(), ctx))
        names = label_trace(fig)
        frame = stations_frame()
        assert list(names.text) == [
            eco_figures.station_name(n, z, lang)
            for n, z in zip(frame["name"], frame["name_zh"], strict=True)
        ]
        assert names.textfont.size >= 14
        colours[lang] = {
            (round(lon, 4), round(lat, 4)): tr.marker.color
            for tr in fig.data[2:]
            if tr.mode == "markers" and tr.name  # the stations, not their rings
            for lon, lat in zip(tr.lon, tr.lat, strict=True)
        }
    assert len(colours["en"]) == 3 and colours["en"] == colours["zh"]
