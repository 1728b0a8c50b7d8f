"""Figures of the ecology page: pure builders, a small frame and a FigureContext in, a figure out.

Each builder returns a plain dict figure, `{"data": [trace dicts], "layout": {...}}` (see
`components.figures.plot`), not a plotly graph object: validating and deep-copying graph objects
cost 10-40 ms a chart, most of a callback's server time, for the same JSON. Arrays are numpy
arrays or lists (`plot.values`), so orjson writes them without a walk in Python; subplot grids
and secondary axes are written as `make_subplots` writes them (`plot.subplot_grid`,
`plot.secondary_y_axes`). The tests wrap every figure in `go.Figure`, which validates it.

AQI categories keep their official colours (they are what residents read in the news); every
other series uses the Okabe-Ito palette of `components.theme`. Every visible text comes from the
message catalogue; dates in hover labels are written by Babel, numbers by plotly with the
locale's separators (set by `finish()`, which the chart card applies).
"""

from __future__ import annotations

from .aqi import aqi_calendar_figure, aqi_daily_figure
from .common import (
    CALENDAR_MIN_WEEKS,
    DAY_MS,
    DEFAULT_STANDARD,
    HIGHLIGHTED_LINES,
    MAP_COLOURS,
    MAX_POINTS,
    MOBILITY_SERIES,
    OTHER_LINE,
    SECTOR_COLOURS,
    SHARE_LINE,
    STREAM_COLOURS,
    WHO_2021,
    axis_title,
    category_label,
    day_label,
    district_name,
    month_label,
    pearson,
    period_label,
    pollutant_label,
    sector_label,
    sep,
    share_axis,
    standard_of,
    station_name,
    stream_label,
)
from .no2 import no2_traffic_figure
from .resources import WEEK_MS, energy_figure, mobility_figure, waste_figure
from .stations import good_days_figure, pollutant_figure, stations_map_figure

__all__ = [
    "CALENDAR_MIN_WEEKS",
    "DAY_MS",
    "DEFAULT_STANDARD",
    "HIGHLIGHTED_LINES",
    "MAP_COLOURS",
    "MAX_POINTS",
    "MOBILITY_SERIES",
    "OTHER_LINE",
    "SECTOR_COLOURS",
    "SHARE_LINE",
    "STREAM_COLOURS",
    "WEEK_MS",
    "WHO_2021",
    "aqi_calendar_figure",
    "aqi_daily_figure",
    "axis_title",
    "category_label",
    "day_label",
    "district_name",
    "energy_figure",
    "good_days_figure",
    "mobility_figure",
    "month_label",
    "no2_traffic_figure",
    "pearson",
    "period_label",
    "pollutant_figure",
    "pollutant_label",
    "sector_label",
    "sep",
    "share_axis",
    "standard_of",
    "station_name",
    "stations_map_figure",
    "stream_label",
    "waste_figure",
]
