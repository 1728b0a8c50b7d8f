"""Plotly templates matching the page themes, and colour-blind-safe palettes.

The light theme is for officials' screens, the dark one for projectors; both use the Okabe-Ito
palette, which stays distinguishable under the common colour-vision deficiencies.
"""

from __future__ import annotations

from functools import cache

import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import sequential

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
DARK_COLORWAY = (
    "#56B4E9",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#F0E442",
    "#0072B2",
    "#FFFFFF",
)
SEQUENTIAL = "Viridis"  # perceptually uniform and colour-blind safe
DIVERGING = "RdBu"
FONT_FAMILY = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", '
    '"PingFang SC", "Microsoft YaHei", sans-serif'
)

MIN_FILL_CONTRAST = 1.5  # WCAG contrast a map fill keeps with the page, so no district vanishes
PALETTE = {
    "light": {"paper": "#ffffff", "plot": "#ffffff", "text": "#1f2933", "grid": "#e4e7eb"},
    "dark": {"paper": "#111827", "plot": "#111827", "text": "#e5e7eb", "grid": "#374151"},
}


@cache
def template(theme: str) -> go.layout.Template:
    base = pio.templates["plotly_dark" if theme == "dark" else "plotly_white"]
    colours = PALETTE[theme]
    tpl = go.layout.Template(base)
    tpl.layout.update(
        font={"family": FONT_FAMILY, "color": colours["text"], "size": 13},
        paper_bgcolor=colours["paper"],
        plot_bgcolor=colours["plot"],
        colorway=list(DARK_COLORWAY if theme == "dark" else OKABE_ITO),
        margin={"l": 56, "r": 16, "t": 16, "b": 48},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        colorscale={"sequential": SEQUENTIAL, "diverging": DIVERGING},
    )
    tpl.layout.xaxis.update(gridcolor=colours["grid"], zerolinecolor=colours["grid"])
    tpl.layout.yaxis.update(gridcolor=colours["grid"], zerolinecolor=colours["grid"])
    return tpl


def colorway(theme: str) -> tuple[str, ...]:
    return DARK_COLORWAY if theme == "dark" else OKABE_ITO


@cache
def template_json(theme: str) -> dict:
    """The template as plain JSON, built once per theme."""
    return template(theme).to_plotly_json()


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of a `#rrggbb` colour."""
    h = hex_colour.lstrip("#")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two `#rrggbb` colours, from 1 (same) to 21 (black on white)."""
    darker, lighter = sorted((_luminance(a), _luminance(b)))
    return (lighter + 0.05) / (darker + 0.05)


@cache
def map_colorscale(theme: str) -> tuple[tuple[float, str], ...]:
    """Viridis without the stops too close to the theme's background: its bright yellow end
    vanishes on white, its near-black purple end on the dark projector theme."""
    paper = PALETTE[theme]["paper"]
    stops = [c for c in sequential.Viridis if contrast_ratio(c, paper) >= MIN_FILL_CONTRAST]
    return tuple((i / (len(stops) - 1), colour) for i, colour in enumerate(stops))
