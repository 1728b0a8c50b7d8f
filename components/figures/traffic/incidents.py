"""Incidents: where they happen (a map) and how long each type takes to clear."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.charts import FigureContext, finish
from components.figures import geo
from components.figures.plot import (
    Figure,
    add_annotation,
    figure,
    update_layout,
    values,
)
from components.theme import PALETTE
from i18n import fmt_number, t

from .common import customdata_rows, district_colours, label, map_layout, type_colours

# -- 6. incidents ---------------------------------------------------------------------------------


def _incident_trace(points: dict[str, np.ndarray], kind: str, colour: str, lang: str) -> dict:
    """The markers of one incident type; `points` holds their columns as numpy arrays,
    with the hover texts `where` and `when`."""
    kind_label = label("traffic.incident", kind, lang)
    return {
        "type": "scattergeo",
        "lat": points["lat"],
        "lon": points["lon"],
        "mode": "markers",
        "name": kind_label,
        "marker": {
            "size": points["severity"].astype(float) * 3 + 4,
            "color": colour,
            "opacity": 0.8,
        },
        "customdata": customdata_rows(
            [kind_label] * len(points["lat"]),
            points["where"],
            points["when"],
            points["clear_min"],
            points["severity"],
        ),
        "hovertemplate": (
            "<b>%{customdata[0]}</b> · %{customdata[1]}<br>"
            + t("traffic.hover.detected", lang)
            + " %{customdata[2]}<br>"
            + t("traffic.hover.clear", lang)
            + " %{customdata[3]:.0f} min<br>"
            + t("traffic.hover.severity", lang)
            + " %{customdata[4]}/3<extra></extra>"
        ),
    }


def incident_map(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Incident locations coloured by type (a capped, deterministic sample)."""
    lang = ctx.lang
    colours = type_colours(frame["type"].unique(), ctx.theme)
    names = ctx.city.district_names(lang)
    # every column once as an array (one strftime for the hover times), then each type's
    # points by index: a filtered frame a type cost more than the rest of the figure
    columns = {
        "lat": frame["lat"].to_numpy("float64"),
        "lon": frame["lon"].to_numpy("float64"),
        "severity": frame["severity"].to_numpy(),
        "clear_min": frame["clear_min"].to_numpy("float64"),
        "where": np.array([names.get(int(d), str(d)) for d in frame["district"]], dtype=object),
        "when": frame["detected_at"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(object),
    }
    types = frame["type"].to_numpy(object)
    traces = []
    for kind in colours:
        index = np.flatnonzero(types == kind)
        if len(index):
            points = {name: column[index] for name, column in columns.items()}
            traces.append(_incident_trace(points, kind, colours[kind], lang))
    fig = figure(traces)
    # numpy's quantiles: pandas' own cost ~1 ms each (same linear interpolation, NaN skipped)
    lons = np.nanquantile(frame["lon"].to_numpy(dtype="float64"), [0.02, 0.98])
    lats = np.nanquantile(frame["lat"].to_numpy(dtype="float64"), [0.02, 0.98])
    _, outline = district_colours(ctx.theme)
    fig["data"].insert(0, geo.boundaries(ctx.city.geojson, "rgba(0,0,0,0)", outline, 0.8))
    map_layout(fig, ctx, geo.padded(geo.bounds_of(lons.tolist(), lats.tolist())))
    total, shown = int(frame["total"].iloc[0]), len(frame)
    update_layout(
        fig,
        geo={"domain": {"x": [0, 1], "y": [0, 0.86]}},
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "top"},
        margin={"t": 8, "b": 28},
    )
    add_annotation(
        fig,
        t(
            "traffic.incidents.sample" if shown < total else "traffic.incidents.all",
            lang,
            shown=fmt_number(shown, lang),
            total=fmt_number(total, lang),
        ),
        x=0,
        y=0,
        xanchor="left",
        yanchor="top",
        yshift=-4,
        font={"size": 11, "color": PALETTE[ctx.theme]["text"]},
    )
    return finish(fig, ctx)


def clearance_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Median minutes from detection to clearance per type, with the interquartile range."""
    lang = ctx.lang
    colours = type_colours(frame["type"], ctx.theme)
    ink = PALETTE[ctx.theme]["text"]
    data = frame.sort_values("median_min", ascending=False)
    labels = [label("traffic.incident", k, lang) for k in data["type"]]
    trace = {
        "type": "scatter",
        "x": values(data["median_min"]),
        "y": labels,
        "mode": "markers",
        "marker": {
            "size": 12,
            "color": [colours[k] for k in data["type"]],
            "line": {"width": 1, "color": ink},
        },
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": values(data["p75_min"] - data["median_min"]),
            "arrayminus": values(data["median_min"] - data["p25_min"]),
            "thickness": 2,
            "width": 0,
            "color": ink,
        },
        "customdata": customdata_rows(labels, data["incidents"], data["p25_min"], data["p75_min"]),
        "hovertemplate": (
            "<b>%{customdata[0]}</b><br>"
            + t("traffic.hover.median", lang)
            + " %{x:.0f} min<br>"
            + t("traffic.hover.iqr", lang)
            + " %{customdata[2]:.0f}–%{customdata[3]:.0f} min<br>"
            + t("traffic.hover.incidents", lang)
            + " %{customdata[1]:,}<extra></extra>"
        ),
        "showlegend": False,
    }
    fig = figure(
        [trace],
        xaxis={
            "title": {"text": t("traffic.axis.clear_min", lang)},
            "type": "log",
            "tickvals": [5, 10, 20, 50, 100, 200, 500, 1000],
        },
        yaxis={"showgrid": False, "automargin": True},
        margin={"l": 8},
    )
    return finish(fig, ctx)
