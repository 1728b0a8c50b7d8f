"""The deck's two playbacks: a weekday of speeds by district (24 hourly frames of the district
map) and a year of daily AQI revealed week by week."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from datasets.aqi import CATEGORIES
from i18n import fmt_date, t

from ..charts import FigureContext
from ..figures import ecology as eco_figures
from ..figures import traffic as traffic_figures
from ..figures.labels import cut_text

# -- playback 1: a weekday of speeds by district --------------------------------------------------

BASE_HOUR = 8  # the static picture of the day playback: the morning peak
AQI_STEP_DAYS = 7


def _play_controls(lang: str, steps: list[dict], active: int, frame_ms: int, redraw: bool):
    play = {
        "label": "▶ " + t("present.play", lang),
        "method": "animate",
        "args": [
            None,
            {
                "frame": {"duration": frame_ms, "redraw": redraw},
                "transition": {"duration": 0},
                "fromcurrent": False,
                "mode": "immediate",
            },
        ],
    }
    pause = {
        "label": "▮▮ " + t("present.pause", lang),
        "method": "animate",
        "args": [
            [None],
            {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
        ],
    }
    menus = [
        {
            "type": "buttons",
            "direction": "left",
            "showactive": False,
            "x": 0,
            "y": 0,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 36, "r": 10},
            "buttons": [play, pause],
            "name": "playback",
        }
    ]
    slider = {
        "active": active,
        "x": 0.26,
        "len": 0.74,
        "y": 0,
        "yanchor": "top",
        "pad": {"t": 30, "b": 4},
        "currentvalue": {"prefix": "", "visible": True, "xanchor": "left"},
        "transition": {"duration": 0},
        "steps": steps,
        "name": "playback",
    }
    return menus, slider


def _step(name: str, label: str, redraw: bool) -> dict:
    return {
        "method": "animate",
        "label": label,
        "args": [
            [name],
            {"mode": "immediate", "frame": {"duration": 0, "redraw": redraw}, "transition": {}},
        ],
    }


def speed_day_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """The district map at the morning peak, with 24 hourly frames of a weekday to play."""
    lang = ctx.lang
    hours = sorted(int(h) for h in frame["hour"].unique())
    base_hour = BASE_HOUR if BASE_HOUR in hours else hours[0]
    at_base = frame[frame["hour"] == base_hour].dropna(subset=["speed_kmh"])
    map_ctx = FigureContext(lang, ctx.theme, ctx.city, "speed", ctx.page_options)
    fig = go.Figure(traffic_figures.district_map(at_base, map_ctx))  # a dict: frames need go
    # the choropleth colours the districts; the text trace before it names them with values
    data_trace = max(i for i, trace in enumerate(fig.data) if trace.type == "choropleth")
    label_trace = max(
        i for i, trace in enumerate(fig.data) if trace.type == "scattergeo" and trace.mode == "text"
    )
    districts = [int(c) for c in fig.data[data_trace].locations]
    modes = fig.data[label_trace].meta["modes"]
    names = ctx.city.district_names(lang)
    speeds = frame.dropna(subset=["speed_kmh"])
    fig.data[data_trace].update(
        zauto=False,
        zmin=float(np.floor(speeds["speed_kmh"].min())),
        zmax=float(np.ceil(speeds["speed_kmh"].max())),
    )
    frames, steps = [], []
    for hour in hours:
        part = frame[frame["hour"] == hour].set_index("district").reindex(districts)
        z = [None if v != v else round(float(v), 2) for v in part["speed_kmh"]]
        custom = [
            [
                names.get(code, str(code)),
                None if d != d else int(d),
                None if s != s else round(float(s), 2),
                None if x != x else round(float(x), 3),
            ]
            for code, d, s, x in zip(
                districts, part["detectors"], part["speed_kmh"], part["tti"], strict=True
            )
        ]
        name = f"{hour:02d}:00"
        texts = [  # written as the map's layout writes each name
            cut_text(text, mode)
            for text, mode in zip(
                traffic_figures.district_label_texts(
                    dict(zip(districts, part["speed_kmh"], strict=True)), "speed", map_ctx
                ),
                modes,
                strict=True,
            )
        ]
        frames.append(
            go.Frame(
                name=name,
                data=[go.Choropleth(z=z, customdata=custom), go.Scattergeo(text=texts)],
                traces=[data_trace, label_trace],
            )
        )
        steps.append(_step(name, name, redraw=True))
    menus, slider = _play_controls(lang, steps, hours.index(base_hour), 700, redraw=True)
    slider["currentvalue"]["prefix"] = t("present.speed_day.hour", lang) + " "
    fig.frames = frames
    fig.update_layout(updatemenus=menus, sliders=[slider], margin={"b": 96})
    return fig


# -- playback 2: a year of daily AQI --------------------------------------------------------------


def aqi_year_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """The dashboard's daily AQI bars (the whole period), with weekly frames that reveal it."""
    fig = go.Figure(eco_figures.aqi_daily_figure(frame, ctx))  # a dict (or a graph object)
    standard = eco_figures.standard_of(ctx)
    days = frame.dropna(subset=["aqi"]).copy()
    days["date"] = pd.to_datetime(days["date"])
    shown = [c.key for c in CATEGORIES[standard] if (days["category"] == c.key).any()]
    first, last = days["date"].min(), days["date"].max()
    ends = list(pd.date_range(first + pd.Timedelta(days=AQI_STEP_DAYS - 1), last, freq="7D"))
    if not ends or ends[-1] < last:
        ends.append(last)
    parts = {
        key: days[days["category"] == key].sort_values("date")[["date", "aqi"]] for key in shown
    }
    frames, steps = [], []
    for end in ends:
        data = []
        for key in shown:
            part = parts[key][parts[key]["date"] <= end]
            data.append(
                go.Bar(
                    x=part["date"].dt.strftime("%Y-%m-%d").tolist(),
                    y=part["aqi"].astype(float).round(1).tolist(),
                )
            )
        name = end.strftime("%Y-%m-%d")
        frames.append(go.Frame(name=name, data=data, traces=list(range(len(shown)))))
        steps.append(_step(name, fmt_date(end.date(), ctx.lang), redraw=True))
    menus, slider = _play_controls(ctx.lang, steps, len(steps) - 1, 220, redraw=True)
    slider["currentvalue"]["prefix"] = t("present.aqi_year.until", ctx.lang) + " "
    day = pd.Timedelta(days=1)
    fig.frames = frames
    fig.update_layout(
        updatemenus=menus,
        sliders=[slider],
        margin={"b": 110},
        xaxis={"range": [first - day, last + day], "autorange": False},
        yaxis={"range": [0, float(days["aqi"].max()) * 1.08], "autorange": False},
    )
    return fig
