"""Figures as plain dicts, the shape plotly.js reads.

The dashboard's figure builders write their figures as dicts rather than plotly graph objects:
graph objects validate and deep-copy every property on each update (15-70 ms a chart, most of
a callback's server time), while a dict costs nothing to build and orjson writes it without a
walk in Python when its arrays are numpy arrays or lists (`values`). The tests pass each
figure through `plotly.graph_objects.Figure`, which validates every property name and value,
so a typo still fails.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

Figure = dict[str, Any]


def values(column: pd.Series | pd.Index | Iterable) -> np.ndarray | list:
    """A column as orjson writes it natively: numbers and naive times as numpy arrays (missing
    values become null), anything else (text, dates, aware times) as a list."""
    if not isinstance(column, pd.Series | pd.Index):
        return column if isinstance(column, np.ndarray | list) else list(column)
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiubM":
        return column.to_numpy()
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return column.to_numpy(dtype="float64", na_value=np.nan)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return [None if pd.isna(v) else v.isoformat() for v in column]
    return [None if v is None or v is pd.NA or v is pd.NaT else v for v in column.tolist()]


def figure(traces: Iterable[dict] = (), **layout: Any) -> Figure:
    return {"data": list(traces), "layout": layout}


def deep_update(target: dict, changes: dict) -> dict:
    """Merge `changes` into `target` key by key (nested dicts merged, not replaced), as
    plotly's `update_layout` does."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_update(target[key], value)
        else:
            target[key] = value
    return target


def update_layout(fig: Figure, **changes: Any) -> Figure:
    deep_update(fig.setdefault("layout", {}), changes)
    return fig


# The `name` of an annotation that states a chart's key figure (a difference in differences, a
# median): a slide prints it large enough to read from the back of the room.
KEY_FIGURE = "key-figure"


def annotation(text: str, **props: Any) -> dict:
    """A text annotation placed against the plot area (paper coordinates) unless told."""
    return {"text": text, "xref": "paper", "yref": "paper", "showarrow": False, **props}


def add_annotation(fig: Figure, text: str, **props: Any) -> Figure:
    fig["layout"].setdefault("annotations", []).append(annotation(text, **props))
    return fig


def add_shape(fig: Figure, **shape: Any) -> Figure:
    fig["layout"].setdefault("shapes", []).append(shape)
    return fig


def hline(y: float, **props: Any) -> dict:
    """A horizontal line across the plot (plotly's `add_hline`)."""
    line = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y}
    return {**line, **props}


def vline(x: Any, **props: Any) -> dict:
    """A vertical line up the plot (plotly's `add_vline`)."""
    line = {"type": "line", "yref": "y domain", "y0": 0, "y1": 1, "xref": "x", "x0": x, "x1": x}
    return {**line, **props}


def vrect(x0: Any, x1: Any, **props: Any) -> dict:
    """A band across the plot's height between two x values (plotly's `add_vrect`)."""
    rect = {"type": "rect", "yref": "y domain", "y0": 0, "y1": 1, "xref": "x", "x0": x0, "x1": x1}
    return {**rect, **props}


# -- subplots (what plotly's `make_subplots` writes, without building a graph object) -----------


def secondary_y_axes() -> dict:
    """Layout axes of `make_subplots(specs=[[{"secondary_y": True}]])`: the x axis leaves 6 %
    of the width for the right axis' title; traces on the right axis carry `yaxis="y2"`."""
    return {
        "xaxis": {"anchor": "y", "domain": [0.0, 0.94]},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
        "yaxis2": {"anchor": "x", "overlaying": "y", "side": "right"},
    }


def axis_refs(row: int, col: int, cols: int) -> dict:
    """The `xaxis`/`yaxis` a trace needs to sit in cell (row, col) of a grid (1-based), as
    `make_subplots(...).add_trace(trace, row=, col=)` sets them."""
    n = (row - 1) * cols + col
    suffix = "" if n == 1 else str(n)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def _axis_key(ref: str) -> str:
    """The layout key of an axis reference: "x" -> "xaxis", "y3" -> "yaxis3"."""
    return f"{ref[0]}axis{ref[1:]}"


def _grid_domains(count: int, spacing: float, max_extent: float = 1.0) -> list[list[float]]:
    """[start, end] of each of `count` equal cells, first at 0 (plotly's arithmetic, so the
    numbers match `make_subplots` to the last bit)."""
    size = (max_extent - spacing * (count - 1)) / count
    sizes = [size] * count
    starts = [sum(sizes[:i]) + i * spacing for i in range(count)]
    return [[start, start + size] for start in starts]


def subplot_grid(
    rows: int,
    cols: int,
    *,
    titles: Iterable[str] | None = None,
    shared_xaxes: bool = False,
    horizontal_spacing: float | None = None,
    vertical_spacing: float | None = None,
) -> dict:
    """The layout `make_subplots(rows, cols, ...)` writes for a regular grid filled from the
    top left: one x/y axis pair per cell with its domain and anchor, the subplot titles as
    paper annotations above each cell (font size 16, as plotly) and, with `shared_xaxes`, every
    column's axes matching its bottom one, whose tick labels alone are shown. Place traces
    with `axis_refs`."""
    hspace = 0.2 / cols if horizontal_spacing is None else horizontal_spacing
    default_vspace = (0.3 if titles is None else 0.5) / rows  # room for titles, as plotly
    vspace = default_vspace if vertical_spacing is None else vertical_spacing
    titles = list(titles or ())
    x_domains = _grid_domains(cols, hspace)
    y_domains = _grid_domains(rows, vspace)[::-1]  # the first row on top
    layout: dict = {}
    cells = []
    for row in range(1, rows + 1):
        for col in range(1, cols + 1):
            refs = axis_refs(row, col, cols)
            x_domain = [max(0.0, x_domains[col - 1][0]), min(1.0, x_domains[col - 1][1])]
            y_domain = [max(0.0, y_domains[row - 1][0]), min(1.0, y_domains[row - 1][1])]
            layout[_axis_key(refs["xaxis"])] = {"anchor": refs["yaxis"], "domain": x_domain}
            layout[_axis_key(refs["yaxis"])] = {"anchor": refs["xaxis"], "domain": y_domain}
            cells.append((x_domain, y_domain))
    if shared_xaxes:
        for col in range(1, cols + 1):
            bottom = axis_refs(rows, col, cols)["xaxis"]
            for row in range(1, rows):
                axis = layout[_axis_key(axis_refs(row, col, cols)["xaxis"])]
                axis.update(matches=bottom, showticklabels=False)
    annotations = [
        annotation(
            title,
            x=sum(x_domain) / 2.0,
            y=y_domain[1],
            xanchor="center",
            yanchor="bottom",
            font={"size": 16},
        )
        for title, (x_domain, y_domain) in zip(titles, cells, strict=False)
        if title
    ]
    if annotations:
        layout["annotations"] = annotations
    return layout


def update_axes(fig: Figure, letter: str, **changes: Any) -> Figure:
    """Merge `changes` into every `xaxis*` (letter "x") or `yaxis*` axis of the layout, as
    plotly's `update_xaxes`/`update_yaxes` do on a figure with subplots."""
    layout = fig.setdefault("layout", {})
    for key, axis in layout.items():
        if key.startswith(letter + "axis") and isinstance(axis, dict):
            deep_update(axis, copy.deepcopy(changes))  # no nested dict shared between axes
    return fig
