"""The deck's own charts, registered like the dashboard's (query + pure figure) so that a
presenter may add them to any deck."""

from __future__ import annotations

from datasets.queries import deck as deck_queries
from datasets.queries import ecology as eq
from datasets.queries import traffic as tq

from ..charts import Chart, ChartContext, register
from .evaluation import evaluation_data, evaluation_figure
from .headlines import HEADLINE_KINDS, headline_data, kpis_figure, sdg_figure
from .opening import city_data, city_figure, council_data, council_figure
from .playback import aqi_year_figure, speed_day_figure

# -- registration ---------------------------------------------------------------------------------


def _aqi_standard(ctx: ChartContext) -> str:
    return eq.standard_or_default((ctx.page_options or {}).get("aqi"))


COUNCIL = register(
    Chart(
        id="present-council",
        title="present.chart.council",
        data=council_data,
        figure=council_figure,
        kinds=(),
        sdg=("11.2", "11.6.2"),
    )
)
CITY = register(
    Chart(
        id="present-city",
        title="present.chart.city",
        data=city_data,
        figure=city_figure,
        kinds=(),
    )
)
KPIS = register(
    Chart(
        id="present-kpis",
        title="present.chart.kpis",
        data=headline_data,
        figure=kpis_figure,
        kinds=HEADLINE_KINDS,
        sdg=("11.2", "3.6", "11.6.2", "7.2"),
    )
)
SPEED_DAY = register(
    Chart(
        id="present-speed-day",
        title="present.chart.speed_day",
        data=lambda c: deck_queries.hourly_district_speeds(c.engine, c.city.id, c.filters),
        figure=speed_day_figure,
        kinds=(tq.READINGS,),
        sdg=("11.2",),
        note="present.note.speed_day",
        height=480,
    )
)
AQI_YEAR = register(
    Chart(
        id="present-aqi-year",
        title="present.chart.aqi_year",
        data=lambda c: eq.city_daily_aqi(c.engine, c.city.id, c.filters, _aqi_standard(c)),
        figure=aqi_year_figure,
        kinds=("air_quality_hourly", "air_stations"),
        sdg=("11.6.2", "3.9"),
        note="present.note.aqi_year",
        height=420,
    )
)
SDG = register(
    Chart(
        id="present-sdg",
        title="present.chart.sdg",
        data=headline_data,
        figure=sdg_figure,
        kinds=HEADLINE_KINDS,
        sdg=("11.2", "11.6.2", "7.2", "12.5", "3.6", "3.9"),
    )
)
EVALUATION = register(
    Chart(
        id="present-evaluation",
        title="present.chart.evaluation",
        data=evaluation_data,
        figure=evaluation_figure,
        kinds=(),
        note="present.note.evaluation",
        height=480,
        dated=False,  # the evaluation's own windows, whatever the dates of the view
    )
)
