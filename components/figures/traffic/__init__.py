"""Figures of the traffic page: a small frame and a FigureContext in, a plotly figure out as a
plain dict (`{"data": [trace dicts], "layout": {...}}`, see `components.figures.plot`).

Dicts rather than graph objects because plotly's validation and deep copies cost 7-70 ms a chart,
most of a callback's server time, while a dict costs nothing to build and orjson writes it in one
pass: every array is a numpy array of numbers or naive times, or a list of plain values. The
tests pass each figure through `plotly.graph_objects.Figure`, which validates every property.

No builder queries anything: the frames come from `datasets.queries.traffic`. Every visible
text is a message of `i18n/messages/traffic.json`; district names come from the city profile
in the viewer's language; numbers written into annotations go through the locale formatters
(plotly formats the rest with the `separators` that `finish` sets). Colours come from the theme's
colour-blind-safe colorway; the two maps are SVG maps of the city's districts
(`components.figures.geo`).
"""

from __future__ import annotations

from .common import (
    EMERGENCY_MIN_RUNS,
    HOVER_FORMAT,
    INCIDENT_TYPES,
    district_colours,
    label,
    map_background,
    type_colours,
    weekday_names,
)
from .incidents import clearance_figure, incident_map
from .maps import (
    CALLOUT_GAP,
    CALLOUT_WIDTH,
    SMALL_DISTRICT_SHARE,
    callout_bounds,
    district_label_texts,
    district_map,
)
from .runs import emergency_figure, metro_figure
from .series import hour_weekday_figure, pilot_figure, volume_speed_figure

__all__ = [
    "CALLOUT_GAP",
    "CALLOUT_WIDTH",
    "EMERGENCY_MIN_RUNS",
    "HOVER_FORMAT",
    "INCIDENT_TYPES",
    "SMALL_DISTRICT_SHARE",
    "callout_bounds",
    "clearance_figure",
    "district_colours",
    "district_label_texts",
    "district_map",
    "emergency_figure",
    "hour_weekday_figure",
    "incident_map",
    "label",
    "map_background",
    "metro_figure",
    "pilot_figure",
    "type_colours",
    "volume_speed_figure",
    "weekday_names",
]
