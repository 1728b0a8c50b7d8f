"""Ecology figure builders on hand-made frames: trace types, official AQI colours, translated
texts (fr, zh), locale number formats, the dark template and the SVG stations map.

The builders return plain dicts; every test reads them through `go.Figure(...)`, which
validates each property name and value, so a misspelt property still fails here."""

from __future__ import annotations

import inspect
import json

import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from components.charts import FigureContext, finish
from components.figures import ecology as figs
from components.theme import PALETTE
from datasets.aqi import CATEGORIES, aqi_frame
from datasets.cities import builtin_city
from i18n import LANGUAGES, t

CITY = builtin_city()


def ctx(lang="en", theme="light", standard="hj633", option=None) -> FigureContext:
    return FigureContext(
        lang=lang, theme=theme, city=CITY, option=option, page_options={"aqi": standard}
    )


@pytest.fixture(scope="module")
def city_daily() -> pd.DataFrame:
    """A year of daily inputs spanning every HJ 633 category, with the AQI columns."""
    rng = np.random.default_rng(3)
    dates = pd.date_range("2017-01-01", "2017-12-31", freq="D")
    pm25 = np.concatenate([[10, 50, 100, 130, 200, 400], rng.gamma(3, 15, len(dates) - 6)])
    frame = pd.DataFrame(
        {
            "date": dates,
            "pm25": pm25,
            "pm10": pm25 * 1.6,
            "no2": rng.gamma(6, 7, len(dates)),
            "so2": 10.0,
            "co": 0.8,
            "o3_8h": rng.gamma(8, 14, len(dates)),
        }
    )
    frame.loc[200, ["pm25", "pm10", "no2", "so2", "co", "o3_8h"]] = np.nan  # a day without data
    return frame


def with_aqi(frame: pd.DataFrame, standard: str) -> pd.DataFrame:
    return frame.join(aqi_frame(frame, standard))


def stations_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "station_id": ["A", "B", "C"],
            "name": ["Xixi", "Chaohui 5th District", "Qiandaohu"],
            "name_zh": ["西溪", "朝晖五区", "千岛湖"],
            "district": [330106, 330105, 330127],
            "lat": [30.275, 30.29, 29.641],
            "lon": [120.063, 120.157, 119.026],
            "kind": ["urban", "urban", "background"],
            "days": [365, 360, 350],
            "mean_aqi": [88.0, 104.0, 45.0],
            "category": ["good", "light", "excellent"],
            "good_share": [0.7, 0.6, 0.95],
            "pm25": [45.0, 48.0, 30.0],
            "no2": [41.0, 52.0, 17.0],
        }
    )


def pollutant_frame(days: int = 60, stations=("A", "B", "C")) -> pd.DataFrame:
    dates = pd.date_range("2017-01-01", periods=days, freq="D")
    names = dict(zip(["A", "B", "C"], ["Xixi", "Chaohui 5th District", "Qiandaohu"], strict=True))
    names_zh = dict(zip(["A", "B", "C"], ["西溪", "朝晖五区", "千岛湖"], strict=True))
    return pd.DataFrame(
        [
            {
                "date": d,
                "station_id": s,
                "name": names[s],
                "name_zh": names_zh[s],
                "pollutant": "no2",
                "value": 30.0 + i,
            }
            for i, s in enumerate(stations)
            for d in dates
        ]
    )


def no2_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    dates = pd.date_range("2017-03-01", periods=60, freq="D")
    volume = rng.integers(600_000, 950_000, len(dates))
    return pd.DataFrame(
        {
            "date": dates,
            "no2": 10 + volume / 25_000 + rng.normal(0, 3, len(dates)),
            "volume": volume,
            "weekend": dates.day_of_week >= 5,
        }
    )


def energy_frame() -> pd.DataFrame:
    months = pd.date_range("2017-01-01", periods=12, freq="MS")
    rows = []
    for m, month in enumerate(months):
        for sector, base in (("industry", 100.0), ("residential", 30.0), ("other", 50.0)):
            rows.append(
                {
                    "period": month,
                    "sector": sector,
                    "days": month.days_in_month,
                    "electricity_gwh_day": base + m,
                    "renewable_gwh_day": (base + m) * (0.12 + 0.003 * m),
                }
            )
    return pd.DataFrame(rows)


def mobility_frame() -> pd.DataFrame:
    weeks = pd.date_range("2017-01-02", periods=52, freq="7D")
    n = np.arange(len(weeks))
    return pd.DataFrame(
        {
            "period": weeks,
            "days": 7,
            "metro_riders": 900_000.0 + 1000 * n,
            "bus_riders": 4_000_000.0 + 0 * n,
            "public_bike_trips": 300_000.0 + 500 * n,
            "ev_charging_sessions": 5_000.0 + 20 * n,
        }
    )


def waste_frame() -> pd.DataFrame:
    months = pd.date_range("2017-01-01", periods=12, freq="MS")
    rows = [
        {"month": month, "stream": stream, "tonnes": tonnes + 100 * m}
        for m, month in enumerate(months)
        for stream, tonnes in (
            ("incinerated", 150_000.0),
            ("landfilled", 160_000.0),
            ("recycled", 5_000.0),
            ("kitchen", 8_000.0),
        )
    ]
    return pd.DataFrame(rows)


def share_frame(city_daily, standard="hj633") -> pd.DataFrame:
    daily = with_aqi(city_daily, standard).dropna(subset=["aqi"])
    daily["group"] = daily["date"].dt.to_period("M").dt.start_time
    counts = daily.groupby(["group", "category"]).size().rename("days").reset_index()
    counts["share"] = counts["days"] / counts.groupby("group")["days"].transform("sum")
    counts["name"] = None
    counts["name_zh"] = None
    return counts


def title_of(axis) -> str:
    return axis.title.text or ""


# -- AQI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("standard", ["hj633", "epa"])
def test_daily_aqi_bars_use_official_colours(city_daily, standard):
    frame = with_aqi(city_daily, standard)
    fig = go.Figure(figs.aqi_daily_figure(frame, ctx(standard=standard)))
    assert all(isinstance(trace, go.Bar) for trace in fig.data)
    colours = {cat.key: cat.color for cat in CATEGORIES[standard]}
    present = [c for c in colours if c in set(frame["category"].dropna())]
    assert [trace.marker.color for trace in fig.data] == [colours[c] for c in present]
    assert sum(len(trace.x) for trace in fig.data) == frame["aqi"].notna().sum()


def test_daily_aqi_translated(city_daily):
    frame = with_aqi(city_daily, "hj633")
    fr = go.Figure(figs.aqi_daily_figure(frame, ctx("fr")))
    zh = go.Figure(figs.aqi_daily_figure(frame, ctx("zh")))
    assert title_of(fr.layout.yaxis) == "IQA (Chine HJ 633-2012)"
    assert title_of(zh.layout.yaxis) == "AQI（中国 HJ 633-2012）"
    assert {trace.name for trace in zh.data} >= {"优", "良", "轻度污染"}
    assert "Polluant principal" in fr.data[1].hovertext[0]


@pytest.mark.parametrize("standard", ["hj633", "epa"])
def test_calendar_discrete_colourscale_from_categories(city_daily, standard):
    frame = with_aqi(city_daily, standard)
    fig = go.Figure(figs.aqi_calendar_figure(frame, ctx(standard=standard)))
    heatmap = fig.data[0]
    assert isinstance(heatmap, go.Heatmap)
    cats = CATEGORIES[standard]
    scale_colours = [colour for _, colour in heatmap.colorscale]
    assert scale_colours == [c.color for c in cats for _ in range(2)]
    # each band of the scale covers exactly one integer z value
    assert heatmap.zmin == -0.5 and heatmap.zmax == len(cats) - 0.5
    z = np.array(heatmap.z, dtype=float)
    assert z.shape == (7, 53)
    assert np.isnan(z).sum() == 7 * 53 - frame["aqi"].notna().sum()
    # 2 January 2017 is a Monday in week 1; its category index matches its AQI
    jan2 = frame.loc[frame["date"] == "2017-01-02"].iloc[0]
    assert z[0, 1] == [c.key for c in cats].index(jan2["category"])
    legend = [trace for trace in fig.data[1:] if trace.showlegend]
    assert [trace.marker.color for trace in legend] == [c.color for c in cats]


def test_calendar_translated(city_daily):
    frame = with_aqi(city_daily, "epa")
    zh = go.Figure(figs.aqi_calendar_figure(frame, ctx("zh", standard="epa")))
    fr = go.Figure(figs.aqi_calendar_figure(frame, ctx("fr", standard="epa")))
    assert tuple(zh.data[0].y)[:2] == ("周一", "周二")
    assert tuple(fr.data[0].y)[:2] == ("lun.", "mar.")
    assert [trace.name for trace in fr.data[1:]][:3] == [
        "Bon",
        "Modéré",
        "Mauvais pour les groupes sensibles",
    ]
    assert [trace.name for trace in zh.data[1:]][-1] == "危险"


# -- pollutants, map, good days -------------------------------------------------------------------


def test_pollutant_lines_per_station_with_translated_names():
    frame = pollutant_frame()
    en = go.Figure(figs.pollutant_figure(frame, ctx("en")))
    zh = go.Figure(figs.pollutant_figure(frame, ctx("zh")))
    assert all(isinstance(trace, go.Scatter) and trace.mode == "lines" for trace in en.data)
    assert sorted(trace.name for trace in en.data) == ["Chaohui 5th District", "Qiandaohu", "Xixi"]
    assert sorted(trace.name for trace in zh.data) == sorted(["西溪", "朝晖五区", "千岛湖"])
    assert title_of(zh.layout.yaxis) == "NO₂ 24小时平均（µg/m³）"
    fr = go.Figure(figs.pollutant_figure(frame, ctx("fr")))
    assert title_of(fr.layout.yaxis) == "NO₂, moyenne sur 24 h (µg/m³)"
    assert any(shape.y0 == 25.0 for shape in fr.layout.shapes)  # WHO 2021 NO2 24-h guideline


def test_pollutant_traces_stay_under_5000_points():
    frame = pollutant_frame(days=6000, stations=("A",))
    fig = go.Figure(figs.pollutant_figure(frame, ctx()))
    assert 0 < len(fig.data[0].x) <= figs.MAX_POINTS


def test_stations_map_is_svg_over_the_districts():
    fig = go.Figure(figs.stations_map_figure(stations_frame(), ctx("zh")))
    kinds = [type(trace).__name__ for trace in fig.data]
    assert kinds[0] == "Choropleth" and set(kinds[1:]) == {"Scattergeo"}
    assert fig.layout.geo.visible is False  # no base map: nothing to fetch
    assert [trace.mode for trace in fig.data[1:]] == ["markers"] * 4 + ["markers+text"]
    west, east = fig.layout.geo.lonaxis.range
    south, north = fig.layout.geo.lataxis.range
    for trace in fig.data[1:]:
        assert all(west < x < east for x in trace.lon) and all(south < y < north for y in trace.lat)
    colours = {trace.name: trace.marker.color for trace in fig.data[2:-1]}
    assert colours == {"优": "#00E400", "良": "#FFFF00", "轻度污染": "#FF7E00"}
    by_name = {trace.name: trace for trace in fig.data[2:-1]}
    assert "朝晖五区" in by_name["轻度污染"].hovertext[0]
    assert "拱墅区" in by_name["轻度污染"].hovertext[0]  # district name in the viewer's language
    assert by_name["轻度污染"].customdata[0][0] == 330105  # a click filters by district
    assert len(fig.data[0].locations) == len(CITY.geojson["features"])


def test_good_days_by_month_and_station(city_daily):
    fig = go.Figure(figs.good_days_figure(share_frame(city_daily), ctx("fr")))
    bars = [trace for trace in fig.data if isinstance(trace, go.Bar)]
    assert [b.marker.color for b in bars] == [c.color for c in CATEGORIES["hj633"]]
    assert title_of(fig.layout.yaxis) == "Part des jours"
    assert list(bars[0].x)[:2] == ["janv.", "févr."]
    by_station = pd.DataFrame(
        {
            "group": ["A", "A", "B"],
            "name": ["Xixi", "Xixi", "Qiandaohu"],
            "name_zh": ["西溪", "西溪", "千岛湖"],
            "category": ["excellent", "light", "excellent"],
            "days": [3, 1, 4],
            "share": [0.75, 0.25, 1.0],
        }
    )
    fig = go.Figure(figs.good_days_figure(by_station, ctx("zh")))
    bars = [trace for trace in fig.data if isinstance(trace, go.Bar)]
    assert all(b.orientation == "h" for b in bars)
    assert list(bars[0].y) == ["西溪", "千岛湖"]  # lowest share of good days first
    text = next(trace for trace in fig.data if isinstance(trace, go.Scatter))
    assert list(text.text) == ["75%", "100%"]


# -- traffic link, energy, mobility, waste --------------------------------------------------------


def test_no2_traffic_scatter_fit_and_correlation():
    frame = no2_frame()
    fig = go.Figure(figs.no2_traffic_figure(frame, ctx("fr")))
    markers = [trace for trace in fig.data if trace.mode == "markers"]
    line = [trace for trace in fig.data if trace.mode == "lines"]
    assert len(markers) == 2 and len(line) == 1
    r = np.corrcoef(frame["volume"], frame["no2"])[0, 1]
    expected = f"{r:.2f}".replace(".", ",")
    assert fig.layout.annotations[0].text == f"r = {expected} (60 jours)"
    slope, intercept = np.polyfit(frame["volume"], frame["no2"], 1)
    assert line[0].y[0] == pytest.approx(intercept + slope * frame["volume"].min())
    assert title_of(fig.layout.xaxis) == "Véhicules comptés par jour (tous les capteurs)"
    zh = go.Figure(figs.no2_traffic_figure(frame, ctx("zh")))
    assert title_of(zh.layout.yaxis) == "NO₂ 24小时平均（µg/m³）"
    assert {trace.name for trace in zh.data} == {"工作日", "周末", "最小二乘拟合线"}


def test_energy_stacked_sectors_and_renewable_share():
    frame = energy_frame()
    fig = go.Figure(figs.energy_figure(frame, ctx("zh")))
    bars = [trace for trace in fig.data if isinstance(trace, go.Bar)]
    assert [b.name for b in bars] == ["工业", "居民生活", "服务业及其他"]
    share = next(trace for trace in fig.data if isinstance(trace, go.Scatter))
    assert share.yaxis == "y2"
    jan = frame[frame["period"] == frame["period"].min()]
    assert share.y[0] == pytest.approx(
        jan["renewable_gwh_day"].sum() / jan["electricity_gwh_day"].sum()
    )
    assert fig.layout.barmode == "stack"
    assert title_of(fig.layout.yaxis) == "用电量（吉瓦时/日）"
    fr = go.Figure(figs.energy_figure(frame, ctx("fr")))
    assert title_of(fr.layout.yaxis) == "Électricité (GWh par jour)"
    assert title_of(fr.layout.yaxis2) == "Part renouvelable"


def test_mobility_small_multiples_translated():
    fig = go.Figure(figs.mobility_figure(mobility_frame(), ctx("fr")))
    assert len(fig.data) == 4 and all(isinstance(trace, go.Scatter) for trace in fig.data)
    titles = [annotation.text for annotation in fig.layout.annotations]
    assert titles == [
        "Voyageurs du métro",
        "Voyageurs des bus",
        "Trajets en vélo public",
        "Recharges de véhicules électriques",
    ]
    partial = mobility_frame().drop(columns=["bus_riders", "ev_charging_sessions"])
    assert len(go.Figure(figs.mobility_figure(partial, ctx("zh"))).data) == 2


def test_waste_streams_and_recycled_share():
    frame = waste_frame()
    fig = go.Figure(figs.waste_figure(frame, ctx("fr")))
    bars = [trace for trace in fig.data if isinstance(trace, go.Bar)]
    assert [b.name for b in bars] == [
        "Incinérés",
        "Mis en décharge",
        "Recyclés",
        "Biodéchets de cuisine",
    ]
    share = next(trace for trace in fig.data if isinstance(trace, go.Scatter))
    assert share.y[0] == pytest.approx(5_000 / 323_000)
    assert title_of(fig.layout.yaxis) == "Tonnes par mois"


# -- every builder, every language, both themes ---------------------------------------------------


def all_figures(city_daily, lang, theme):
    c = ctx(lang, theme)
    hj = with_aqi(city_daily, "hj633")
    return {
        "aqi_daily": figs.aqi_daily_figure(hj, c),
        "calendar": figs.aqi_calendar_figure(hj, c),
        "pollutants": figs.pollutant_figure(pollutant_frame(), c),
        "map": figs.stations_map_figure(stations_frame(), c),
        "good_days": figs.good_days_figure(share_frame(city_daily), c),
        "no2": figs.no2_traffic_figure(no2_frame(), c),
        "energy": figs.energy_figure(energy_frame(), c),
        "mobility": figs.mobility_figure(mobility_frame(), c),
        "waste": figs.waste_figure(waste_frame(), c),
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_figure_builds_and_serialises(city_daily, lang):
    for name, fig in all_figures(city_daily, lang, "light").items():
        finished = go.Figure(finish(fig, ctx(lang)))
        assert json.loads(finished.to_json())["data"], name


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_figure_is_a_dict_orjson_writes(city_daily, lang, theme):
    """Plotly's orjson path falls back to a slow walk in Python when orjson cannot write a
    value (a pandas Series, a Timestamp, a numpy object array): every value must be native."""
    for name, fig in all_figures(city_daily, lang, theme).items():
        assert isinstance(fig, dict) and set(fig) == {"data", "layout"}, name
        assert all(isinstance(trace, dict) and trace.get("type") for trace in fig["data"]), name
        orjson.dumps(fig, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def test_builders_use_no_graph_objects():
    source = inspect.getsource(figs)
    assert "import plotly" not in source and "from plotly" not in source


def layout_without_template(fig) -> dict:
    layout = fig.to_plotly_json()["layout"]
    layout.pop("template", None)
    return layout


@pytest.mark.parametrize("columns", [4, 3, 2, 1])
def test_subplot_axes_are_those_of_make_subplots(columns):
    """The grids are written by hand: they must stay what `make_subplots` writes."""
    frame = mobility_frame()
    series = [column for column, _ in figs.MOBILITY_SERIES][:columns]
    fig = go.Figure(figs.mobility_figure(frame[["period", "days", *series]], ctx("fr")))
    rows, cols = (2 if columns > 2 else 1), (2 if columns > 1 else 1)
    titles = [t(f"eco.mobility.{column}", "fr") for column in series]
    grid = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=0.16,
        horizontal_spacing=0.16,
    )
    expected = layout_without_template(grid)
    layout = fig.to_plotly_json()["layout"]
    for key, axis in expected.items():
        if key != "annotations":
            assert {k: layout[key][k] for k in axis} == axis, key
    assert [(a["x"], a["y"], a["text"]) for a in layout["annotations"]] == [
        (a["x"], a["y"], a["text"]) for a in expected["annotations"]
    ]
    assert [(trace.xaxis, trace.yaxis) for trace in fig.data] == [
        (f"x{i or ''}", f"y{i or ''}") for i in [0, 2, 3, 4][:columns]
    ]
    secondary = layout_without_template(make_subplots(specs=[[{"secondary_y": True}]]))
    for builder, frame in (
        (figs.energy_figure, energy_frame()),
        (figs.waste_figure, waste_frame()),
    ):
        layout = go.Figure(builder(frame, ctx())).to_plotly_json()["layout"]
        for key, axis in secondary.items():
            assert {k: layout[key][k] for k in axis} == axis, key


def test_dark_template(city_daily):
    dark = ctx("zh", "dark")
    for name, fig in all_figures(city_daily, "zh", "dark").items():
        finished = go.Figure(finish(fig, dark))
        assert finished.layout.template.layout.paper_bgcolor == PALETTE["dark"]["paper"], name
        assert finished.layout.template.layout.font.color == PALETTE["dark"]["text"], name
    fig = go.Figure(figs.stations_map_figure(stations_frame(), dark))
    assert fig.layout.geo.bgcolor == figs.MAP_COLOURS["dark"]["land"]


def test_messages_complete_in_four_languages():
    from i18n import messages

    keys = [key for key in messages() if key.startswith("eco.")]
    assert len(keys) > 80
    for key in keys:
        entry = messages()[key]
        assert all(entry.get(lang) for lang in LANGUAGES), key
    for standard, cats in CATEGORIES.items():
        for cat in cats:
            assert t(f"eco.cat.{standard}.{cat.key}", "zh")


def test_pollutants_of_eleven_stations_highlight_at_most_seven_lines():
    dates = pd.date_range("2017-01-01", periods=90, freq="D")
    frame = pd.DataFrame(
        [
            {
                "date": d,
                "station_id": f"S{i:02d}",
                "name": f"Station {i:02d}",
                "name_zh": f"站点{i:02d}",
                "pollutant": "pm25",
                "value": 20.0 + 3 * i,
            }
            for i in range(11)
            for d in dates
        ]
    )
    fig = figs.pollutant_figure(frame, ctx("en", "dark"))
    lines = [trace for trace in fig["data"] if trace.get("mode") == "lines"]
    grey = figs.OTHER_LINE["dark"]
    coloured = [trace["name"] for trace in lines if trace["line"]["color"] != grey]
    assert len(lines) == 11  # every station is still drawn (and named in its hover)
    assert 0 < len(coloured) <= 7
    # the highlighted ones are the most polluted stations
    assert set(coloured) == {f"Station {i:02d}" for i in range(11 - len(coloured), 11)}
    assert sum(trace.get("showlegend", True) for trace in lines) <= 8  # one entry for the rest


@pytest.mark.parametrize(
    ("figure", "frame", "axis"),
    [("energy_figure", "energy", "yaxis2"), ("waste_figure", "waste", "yaxis2")],
)
def test_share_axes_tick_at_round_percentages(figure, frame, axis):
    frames = {"energy": energy_frame, "waste": waste_frame}
    fig = getattr(figs, figure)(frames[frame](), ctx("en"))
    share_axis = fig["layout"][axis]
    step = share_axis.get("dtick")
    assert step is not None, "plotly would pick the ticks from the range: 0/5/9/14/19 %"
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 5)) < 1e-9
    top = share_axis["range"][1]
    assert top / step == pytest.approx(round(top / step))
    assert share_axis["tick0"] == 0
