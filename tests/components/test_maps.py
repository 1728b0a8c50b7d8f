"""The maps a city official reads from the back of a room: each district named with its value in
the viewer's language, the whole city in the frame, every fill visible against the page on both
themes, a chosen district without data that keeps the map, and colours that do not depend on the
language. Figures are built from hand-made frames, except the no-data case, which goes through
the page's own query on a real demo workspace."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import plotly.graph_objects as go
import pytest
from shapely.geometry import Point

from components.charts import ChartContext, FigureContext, draw
from components.figures import ecology as eco_figures
from components.figures import geo, labels
from components.figures import traffic as figures
from components.slides import PROJECTOR_FONT, as_sent, projector, speed_day_figure
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


def assert_frames_the_city(layout) -> None:
    west, east = layout.lonaxis.range
    south, north = layout.lataxis.range
    for feature in CITY.geojson["features"]:
        d_west, d_east, d_south, d_north = geo.geojson_bounds([feature])
        assert west < d_west and d_east < east and south < d_south and d_north < north


def test_the_frame_holds_every_district_of_the_city():
    """Two districts have data; the frame is still the whole city, so none is cut."""
    for theme in ("light", "dark"):
        assert_frames_the_city(district_map(theme=theme).layout.geo)


def test_the_stations_map_frames_the_whole_city_as_the_district_map_does():
    """Three stations in the centre: the frame is still the city, with the district map's
    margin around it, so both maps of a page show the same place."""
    ctx = FigureContext(lang="en", theme="light", city=CITY)
    layout = go.Figure(eco_figures.stations_map_figure(stations_frame(), ctx)).layout.geo
    assert_frames_the_city(layout)
    city = geo.geojson_bounds(CITY.geojson["features"])
    south, north = layout.lataxis.range
    assert (north - south) == pytest.approx((city[3] - city[2]) * (1 + 2 * geo.CITY_PAD))


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


def label_boxes(fig: dict, size: tuple[float, float]) -> list[tuple[str, tuple]]:
    """The box (pixels) of every name written on a map drawn `size` pixels large: a name is
    centred on its point, a callout starts just right of it; lines of `<br>` text stack."""
    layout = fig["layout"]["geo"]
    frame = (*layout["lonaxis"]["range"], *layout["lataxis"]["range"])
    at = labels.Projection(frame, size)
    out = []
    for trace in fig["data"]:
        if trace.get("type") != "scattergeo" or "text" not in trace.get("mode", ""):
            continue
        font = trace["textfont"]["size"]
        places = trace.get("textposition")
        for i, (lon, lat, text) in enumerate(
            zip(trace["lon"], trace["lat"], trace["text"], strict=True)
        ):
            if not text:
                continue
            lines = [re.sub("<[^>]+>", "", line) for line in text.split("<br>")]
            width = max(labels.text_width(line, font, bold=True) for line in lines)
            height = font * (1 + labels.LINE_SPACING * (len(lines) - 1))
            x, y = at.point(lon, lat)
            right = isinstance(places, list) and places[i] == "middle right"
            x0 = x if right else x - width / 2
            out.append((lines[0], (x0, y - height / 2, x0 + width, y + height / 2)))
    return out


def assert_apart(boxes: list[tuple[str, tuple]]) -> None:
    for i, (name, a) in enumerate(boxes):
        for other, b in boxes[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, f"{name!r} meets {other!r}"


# The district map's plot area in pixels, measured in the browser: a card of the traffic page
# and the two map slides of the forum deck (the day playback leaves room for its slider), on
# 1920×1080 and 1366×768 screens.
SCREENS = ("1920×1080", "1366×768")
CARD_SIZES = {"1920×1080": (800, 412), "1366×768": (548, 412)}
SLIDE_SIZES = {
    "map": {"1920×1080": (1487, 659), "1366×768": (978, 403)},
    "day": {"1920×1080": (1487, 567), "1366×768": (978, 271)},
}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_two_district_names_meet_on_a_card(screen, lang):
    """Every district with a value: the crowded centre's names and values all drawn."""
    frame = pd.DataFrame(
        {
            "district": [d.code for d in CITY.districts],
            "detectors": 2,
            "readings": 100,
            "speed_kmh": 48.25,
            "tti": 1.25,
        }
    )
    fig = figures.district_map(frame, FigureContext(lang=lang, theme="dark", city=CITY))
    boxes = label_boxes(fig, CARD_SIZES[screen])
    assert len(boxes) >= len(CITY.districts) - 2  # all but a few are named
    assert_apart(boxes)


def day_frame() -> pd.DataFrame:
    """24 hours of speeds in every district, slower at the peaks."""
    rows = [
        {"hour": h, "district": d.code, "detectors": 2, "speed_kmh": 40.0 + h % 7, "tti": 1.2}
        for h in range(24)
        for d in CITY.districts
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("slide", ["map", "day"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_two_district_names_meet_on_a_slide(screen, slide, lang):
    """A slide writes the map's names in projector type: it lays them out again (shorter,
    fewer) so that none meets another even on the smallest slide map; the day playback's
    frames write their hourly values into the same layout."""
    ctx = FigureContext(lang=lang, theme="dark", city=CITY, option="speed")
    if slide == "map":
        built = figures.district_map(district_frame(), ctx)
    else:
        built = speed_day_figure(day_frame(), ctx).to_plotly_json()
    fig = projector(as_sent(built))
    boxes = label_boxes(fig, SLIDE_SIZES[slide][screen])
    assert len(boxes) >= len(CITY.districts) // 2
    written = [tr for tr in fig["data"] if tr.get("mode") == "text"]
    assert all(trace["textfont"]["size"] >= PROJECTOR_FONT for trace in written)
    assert_apart(boxes)
    (names,) = written
    for frame in fig.get("frames") or []:
        texts = frame["data"][1]["text"]
        assert [bool(t) for t in texts] == [bool(t) for t in names["text"]]
        assert [t.count("<br>") for t in texts] == [t.count("<br>") for t in names["text"]]
