"""Slides: the charts that only the forum deck needs, and a slide rendered for a screen or a file.

The deck's charts are ordinary registered `Chart`s (query + pure figure), so a presenter may add
them to a deck like any other: the council and the host city (opening), the headline KPIs,
two time playbacks (a weekday of speeds by district as 24 hourly frames of the district map, a
year of daily AQI revealed week by week), the SDG table, and an intervention's evaluation (its
effect with the 95 % interval, the summary and the event study). `render_slide` renders any
slide with the dashboard's own `render(chart, ctx)`, so a slide's figure is the dashboard's.
"""

from __future__ import annotations

from .deck_charts import AQI_YEAR, CITY, COUNCIL, EVALUATION, KPIS, SDG, SPEED_DAY
from .evaluation import EFFECT_FONT, INTERVENTION_OPTION, evaluation_data, evaluation_figure
from .headlines import (
    HEADLINE_KINDS,
    HEADLINES,
    KPI_SLIDE,
    SDG_ROWS,
    headline_data,
    kpis_figure,
    sdg_figure,
)
from .opening import COUNCIL_FACTS, city_data, city_figure, council_data, council_figure
from .playback import AQI_STEP_DAYS, BASE_HOUR, aqi_year_figure, speed_day_figure
from .render import (
    KEY_FIGURE_FONT,
    PROJECTOR_FONT,
    ContextFactory,
    SlideView,
    as_sent,
    deck_title,
    explorer_slide,
    projector,
    render_slide,
    slide_context,
    slide_text,
    slide_title,
    source_line,
    source_texts,
    still,
)

__all__ = [
    "AQI_STEP_DAYS",
    "AQI_YEAR",
    "BASE_HOUR",
    "CITY",
    "COUNCIL",
    "COUNCIL_FACTS",
    "EFFECT_FONT",
    "EVALUATION",
    "HEADLINES",
    "HEADLINE_KINDS",
    "INTERVENTION_OPTION",
    "KEY_FIGURE_FONT",
    "KPIS",
    "KPI_SLIDE",
    "PROJECTOR_FONT",
    "SDG",
    "SDG_ROWS",
    "SPEED_DAY",
    "ContextFactory",
    "SlideView",
    "aqi_year_figure",
    "as_sent",
    "city_data",
    "city_figure",
    "council_data",
    "council_figure",
    "deck_title",
    "evaluation_data",
    "evaluation_figure",
    "explorer_slide",
    "headline_data",
    "kpis_figure",
    "projector",
    "render_slide",
    "sdg_figure",
    "slide_context",
    "slide_text",
    "slide_title",
    "source_line",
    "source_texts",
    "speed_day_figure",
    "still",
]
