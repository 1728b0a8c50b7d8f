"""What the traffic figures share: incident types and their colours, map backgrounds, hover
formats, customdata rows."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from babel import dates as babel_dates
from plotly.colors import sequential

from components.charts import FigureContext
from components.figures import geo
from components.figures.plot import (
    Figure,
    add_annotation,
    update_layout,
)
from components.theme import PALETTE, colorway
from i18n import BABEL_LOCALES, messages, t

INCIDENT_TYPES = ("crash", "breakdown", "congestion", "illegal_parking", "roadworks", "obstruction")
HOVER_FORMAT = {
    "5min": "%Y-%m-%d %H:%M",
    "hour": "%Y-%m-%d %H:%M",
    "day": "%a %Y-%m-%d",
    "week": "%Y-%m-%d",
    "month": "%B %Y",
}
EMERGENCY_MIN_RUNS = 10  # distance bins with fewer runs are left out (too noisy)


# -- helpers --------------------------------------------------------------------------------------


def label(prefix: str, value: object, lang: str) -> str:
    """The message `prefix.value` when there is one, else the value itself (uploaded codes)."""
    key = f"{prefix}.{value}"
    return t(key, lang) if key in messages() else str(value)


def weekday_names(lang: str) -> list[str]:
    """Abbreviated weekday names, Monday first, from the locale's CLDR data."""
    names = babel_dates.get_day_names("abbreviated", locale=BABEL_LOCALES[lang])
    return [names[i] for i in range(7)]


def type_colours(types: Iterable[str], theme: str) -> dict[str, str]:
    """A fixed colour per incident type (the same on the map and the clearance chart)."""
    palette = colorway(theme)
    ordered = list(INCIDENT_TYPES) + sorted(set(types) - set(INCIDENT_TYPES))
    return {name: palette[i % len(palette)] for i, name in enumerate(ordered)}


def rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def viridis_scale() -> list[list]:
    """Viridis as plotly's validator writes a named scale: plotly.py's 10 stops as
    `[[position, colour], ...]`. The name alone would draw plotly.js's own Viridis, whose stops
    differ slightly."""
    stops = sequential.Viridis
    return [[i / (len(stops) - 1), colour] for i, colour in enumerate(stops)]


def customdata_rows(*columns: pd.Series | np.ndarray | list) -> list[list]:
    """Per-point `customdata` rows from columns of equal length, as lists of plain Python
    values (`Series.tolist`), which orjson writes without a fallback walk."""
    lists = [c.tolist() if isinstance(c, pd.Series | np.ndarray) else list(c) for c in columns]
    return [list(row) for row in zip(*lists, strict=True)]


def map_background(theme: str) -> str:
    return PALETTE[theme]["paper"]


def map_layout(fig: Figure, ctx: FigureContext, bounds: geo.Bounds) -> Figure:
    """Give a dict figure the SVG map layout showing `bounds`."""
    return update_layout(
        fig,
        geo=geo.view(bounds, map_background(ctx.theme)),
        margin={"l": 0, "r": 0, "t": 8, "b": 0},
    )


def district_colours(theme: str) -> tuple[str, str]:
    """The ground and the outline of districts without data: a grey that keeps a contrast of
    `MIN_FILL_CONTRAST` with the page, so that the city's shape shows on a projector too."""
    if theme == "dark":
        return "#374151", "#6b7280"
    return "#cbd2d9", "#7b8794"


def corner_note(fig: Figure, text: str, ctx: FigureContext, y: float = 1.0) -> None:
    add_annotation(
        fig,
        text,
        x=1,
        y=y,
        xanchor="right",
        yanchor="bottom",
        align="right",
        font={"size": 11, "color": PALETTE[ctx.theme]["text"]},
    )
