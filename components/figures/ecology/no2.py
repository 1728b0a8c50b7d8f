"""NO2 against traffic: one point a day, with the fitted line and its correlation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.charts import FigureContext
from components.figures.plot import (
    Figure,
    add_annotation,
    figure,
    update_layout,
    values,
)
from components.theme import PALETTE
from i18n import fmt_number, t

from .common import axis_title, day_label, pearson, sep

# -- NO2 and traffic -----------------------------------------------------------------------------


def no2_traffic_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Daily NO2 against daily traffic volume, workdays and weekends, with a least-squares line."""
    lang = ctx.lang
    fig = figure()
    groups = (
        (False, "eco.legend.workdays", "#0072B2" if ctx.theme == "light" else "#56B4E9"),
        (True, "eco.legend.weekends", "#E69F00"),
    )
    weekends = frame["weekend"].to_numpy(bool)
    volume, no2 = values(frame["volume"]), values(frame["no2"])
    labels = [[day_label(d, lang)] for d in frame["date"]]
    for weekend, key, colour in groups:
        at = np.flatnonzero(weekends == weekend)
        if not len(at):
            continue
        fig["data"].append(
            {
                "type": "scatter",
                "x": volume[at],
                "y": no2[at],
                "mode": "markers",
                "name": t(key, lang),
                "marker": {
                    "size": 7,
                    "color": colour,
                    "opacity": 0.75,
                    "symbol": "diamond" if weekend else "circle",
                },
                "customdata": [labels[i] for i in at],
                "hovertemplate": (
                    "<b>%{customdata[0]}</b><br>"
                    + t("eco.hover.vehicles", lang)
                    + sep(lang)
                    + "%{x:,.0f}<br>NO₂"
                    + sep(lang)
                    + "%{y:,.1f} µg/m³<extra></extra>"
                ),
            }
        )
    r = pearson(frame["volume"], frame["no2"])
    if r is not None:
        _add_fit(fig, frame, r, ctx)
    update_layout(
        fig,
        xaxis={
            "title": axis_title(t("eco.axis.vehicles", lang)),
            "separatethousands": True,
            "exponentformat": "none",
        },
        yaxis={"title": axis_title(t("eco.axis.no2", lang))},
        hovermode="closest",
    )
    return fig


def _add_fit(fig: Figure, frame: pd.DataFrame, r: float, ctx: FigureContext) -> None:
    """The least-squares line over the observed volumes, and the correlation in a corner."""
    lang = ctx.lang
    slope, intercept = np.polyfit(frame["volume"].astype(float), frame["no2"].astype(float), 1)
    xs = np.array([frame["volume"].min(), frame["volume"].max()], dtype=float)
    fig["data"].append(
        {
            "type": "scatter",
            "x": xs,
            "y": intercept + slope * xs,
            "mode": "lines",
            "name": t("eco.legend.fit", lang),
            "line": {"color": PALETTE[ctx.theme]["text"], "width": 2, "dash": "dash"},
            "hoverinfo": "skip",
        }
    )
    n = fmt_number(len(frame), lang)
    add_annotation(
        fig,
        t("eco.legend.correlation", lang, r=fmt_number(r, lang, 2), n=n),
        x=0.01,
        y=0.98,
        xanchor="left",
        yanchor="top",
        font={"size": 13},
        bgcolor=PALETTE[ctx.theme]["paper"],
        opacity=0.9,
    )
