"""The explorer's figure: a small frame from `datasets.queries.explorer` and the spec in, a plotly
figure out. Pure: no query, no request, the same input gives the same figure.

Text that comes from a file (column names, categories, units) is escaped before plotly sees it,
because plotly reads `<b>`, `<br>`, `<a href>` in titles, ticks, legends and hovers as markup:
a cell holding `<a href=…>` is shown as those characters, never as a link.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import cycle

import pandas as pd
import plotly.graph_objects as go

from components.charts import FigureContext
from components.figures import geo
from components.theme import PALETTE, colorway
from datasets.queries.explorer import Spec
from i18n import t

MAP_HEIGHT = 480


@dataclass(frozen=True)
class Axes:
    """Labels the figure shows, from the dataset (escaped here, not by the caller)."""

    x_role: str | None = None
    bucket: str | None = None
    units: tuple[tuple[str, str], ...] = ()

    def unit(self, name: str | None) -> str:
        return dict(self.units).get(name or "", "")


def esc(text: object) -> str:
    """Text for plotly's pseudo-HTML: shown as written."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _label(name: str | None, axes: Axes) -> str:
    if not name:
        return ""
    unit = axes.unit(name)
    return esc(f"{name} ({unit})" if unit else name)


def value_label(spec: Spec, axes: Axes, lang: str) -> str:
    """ "mean of pm25 (µg/m³)", or "rows" for a count."""
    if spec.agg == "count" or not spec.y:
        return t("explorer.rows", lang)
    return t(f"explorer.agg_of.{spec.agg}", lang, column=_label(spec.y, axes))


def _category(values: pd.Series) -> list[str]:
    return [esc(v) if v is not None and v == v else "–" for v in values]


def _x_values(frame: pd.DataFrame, axes: Axes) -> list:
    if "x" not in frame:
        return []
    if axes.x_role in {"text", "bool"}:
        return _category(frame["x"])
    return list(frame["x"])


def _series(frame: pd.DataFrame, spec: Spec):
    """(name, part) per colour, in a stable order; one unnamed series without a colour."""
    if not spec.color or "color" not in frame:
        yield None, frame
        return
    for key, part in frame.groupby("color", sort=True, dropna=False):
        yield ("–" if key is None or key != key else esc(key)), part


def _colours(ctx: FigureContext) -> Iterator[str]:
    """The theme's palette, one colour per series: the query keeps at most `MAX_SERIES` of
    them, no more than the palette's colours, so no two series look alike."""
    return cycle(colorway(ctx.theme))


def _hover(spec: Spec, axes: Axes, lang: str, has_color: bool) -> str:
    x_format = "|%Y-%m-%d %H:%M" if axes.bucket in {"hour"} else "|%Y-%m-%d"
    x_part = "%{x" + (x_format if axes.x_role == "time" else "") + "}"
    lines = [f"{_label(spec.x, axes)}: {x_part}", f"{value_label(spec, axes, lang)}: %{{y:,.4~g}}"]
    if has_color:
        lines.insert(0, f"{esc(spec.color)}: %{{fullData.name}}")
    return "<br>".join(lines) + "<extra></extra>"


def _lines_or_bars(frame: pd.DataFrame, spec: Spec, axes: Axes, ctx: FigureContext) -> go.Figure:
    fig = go.Figure()
    hover = _hover(spec, axes, ctx.lang, bool(spec.color))
    for (name, part), colour in zip(_series(frame, spec), _colours(ctx), strict=False):
        x = _x_values(part, axes)
        if spec.chart == "bar":
            fig.add_trace(
                go.Bar(x=x, y=part["value"], name=name, marker_color=colour, hovertemplate=hover)
            )
        else:
            mode = "lines+markers" if len(part) <= 60 else "lines"
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=part["value"],
                    name=name,
                    mode=mode,
                    line_color=colour,
                    marker_color=colour,
                    hovertemplate=hover,
                )
            )
    fig.update_layout(
        barmode="group",
        showlegend=bool(spec.color),
        legend_title_text=esc(spec.color or ""),
        xaxis_title=_label(spec.x, axes),
        yaxis_title=value_label(spec, axes, ctx.lang),
    )
    if axes.x_role in {"text", "bool"}:
        fig.update_xaxes(type="category")
    return fig


def _scatter(frame: pd.DataFrame, spec: Spec, axes: Axes, ctx: FigureContext) -> go.Figure:
    fig = go.Figure()
    hover = f"{_label(spec.x, axes)}: %{{x}}<br>{_label(spec.y, axes)}: %{{y:,.4~g}}<extra></extra>"
    for (name, part), colour in zip(_series(frame, spec), _colours(ctx), strict=False):
        fig.add_trace(
            go.Scatter(
                x=_x_values(part, axes),
                y=part["y"],
                name=name,
                mode="markers",
                marker={"size": 5, "opacity": 0.6, "color": colour},
                hovertemplate=hover,
            )
        )
    fig.update_layout(
        showlegend=bool(spec.color),
        legend_title_text=esc(spec.color or ""),
        xaxis_title=_label(spec.x, axes),
        yaxis_title=_label(spec.y, axes),
    )
    return fig


def _box(frame: pd.DataFrame, spec: Spec, axes: Axes, ctx: FigureContext) -> go.Figure:
    fig = go.Figure()
    for (name, part), colour in zip(_series(frame, spec), _colours(ctx), strict=False):
        x = _x_values(part, axes) if spec.x else [esc(spec.y)] * len(part)
        fig.add_trace(
            go.Box(
                marker_color=colour,
                x=x,
                q1=part["q1"],
                median=part["median"],
                q3=part["q3"],
                lowerfence=part["lo"],
                upperfence=part["hi"],
                name=name,
                boxpoints=False,
            )
        )
    fig.update_layout(
        boxmode="group" if spec.color else "overlay",
        showlegend=bool(spec.color),
        legend_title_text=esc(spec.color or ""),
        xaxis_title=_label(spec.x, axes),
        yaxis_title=_label(spec.y, axes),
    )
    return fig


def _heatmap(frame: pd.DataFrame, spec: Spec, axes: Axes, ctx: FigureContext) -> go.Figure:
    data = frame.copy()
    data["x"] = _x_values(data, axes) if spec.x else [""] * len(data)
    data["row"] = _category(data["color"]) if spec.color and "color" in data else [""] * len(data)
    grid = data.pivot_table(index="row", columns="x", values="value", aggfunc="first", sort=True)
    fig = go.Figure(
        go.Heatmap(
            x=list(grid.columns),
            y=list(grid.index),
            z=grid.to_numpy(),
            colorscale="Viridis",
            colorbar={"title": {"text": value_label(spec, axes, ctx.lang)}},
            hovertemplate=f"{_label(spec.x, axes)}: %{{x}}<br>{esc(spec.color or '')}: %{{y}}"
            f"<br>{value_label(spec, axes, ctx.lang)}: %{{z:,.4~g}}<extra></extra>",
        )
    )
    fig.update_layout(xaxis_title=_label(spec.x, axes), yaxis_title=esc(spec.color or ""))
    if axes.x_role in {"text", "bool"}:
        fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def _map(frame: pd.DataFrame, spec: Spec, axes: Axes, ctx: FigureContext) -> go.Figure:
    label = value_label(spec, axes, ctx.lang)
    fig = go.Figure()
    if spec.color and "color" in frame:
        palette = colorway(ctx.theme)
        for i, (name, part) in enumerate(_series(frame, spec)):
            fig.add_trace(
                go.Scattergeo(
                    lat=part["lat"],
                    lon=part["lon"],
                    mode="markers",
                    name=name,
                    marker={"size": 9, "color": palette[i % len(palette)]},
                    customdata=part[["value"]].to_numpy(),
                    hovertemplate=f"{esc(spec.color)}: {name}<br>{label}: %{{customdata[0]:,.4~g}}"
                    "<extra></extra>",
                )
            )
    else:
        fig.add_trace(
            go.Scattergeo(
                lat=frame["lat"],
                lon=frame["lon"],
                mode="markers",
                marker={
                    "size": 9,
                    "color": frame["value"],
                    "colorscale": "Viridis",
                    "showscale": True,
                    "colorbar": {"title": {"text": label}},
                },
                hovertemplate=f"%{{lat:.4f}}, %{{lon:.4f}}<br>{label}: %{{marker.color:,.4~g}}"
                "<extra></extra>",
                showlegend=False,
            )
        )
    if ctx.city is not None and ctx.city.geojson:
        fig.add_trace(geo.boundaries(ctx.city.geojson, "rgba(0,0,0,0)", "#9aa5b1"))
        fig.data = fig.data[-1:] + fig.data[:-1]  # the outlines under the points
    box = geo.bounds_of(frame["lon"].astype(float), frame["lat"].astype(float))
    fig.update_layout(
        geo=geo.view(geo.padded(box, pad=0.15, min_span=1e-3), PALETTE[ctx.theme]["paper"]),
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=bool(spec.color),
    )
    return fig


BUILDERS = {
    "line": _lines_or_bars,
    "bar": _lines_or_bars,
    "scatter": _scatter,
    "box": _box,
    "heatmap": _heatmap,
    "map": _map,
}


def explorer_figure(frame: pd.DataFrame, spec: Spec, axes: Axes, ctx: FigureContext) -> go.Figure:
    return BUILDERS[spec.chart](frame, spec, axes, ctx)
