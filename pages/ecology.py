"""Round table 2: "Smart applications and sustainable ecological development".

Air quality first (AQI under China's HJ 633-2012 or the US EPA index, chosen with the page
option `aqi`), then what stands behind it: road traffic, electricity, green mobility and waste.
Each chart is a `Chart` declaration (query + pure figure); the KPI cards sit above them.

"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import html

from components.charts import Chart, ChartContext, card, dataset_title
from components.charts import register as declare_chart
from components.datasets_choice import with_dataset_choices
from components.figures import ecology as figures
from components.kpi import Kpi, kpi_block, kpi_card, page_header, register_kpis
from components.page import Page, PageContext, PageOption
from components.period import comparison_of, kpi_caption, kpi_trend_note, no_data_note
from datasets.queries import ecology as q
from i18n import t

from .forecasts import AIR_FORECAST
from .forecasts import STATION as FORECAST_STATION
from .services import Services


def _standard(ctx: ChartContext) -> str:
    return q.standard_or_default((ctx.page_options or {}).get("aqi"))


# -- charts ----------------------------------------------------------------------------------------

AIR = ("air_quality_hourly", "air_stations")

CHARTS: tuple[Chart, ...] = (
    declare_chart(
        Chart(
            id="eco-aqi-daily",
            title="eco.chart.aqi_daily",
            data=lambda c: q.city_daily_aqi(c.engine, c.city.id, c.filters, _standard(c)),
            figure=figures.aqi_daily_figure,
            kinds=AIR,
            sdg=("11.6.2", "3.9"),
            note="eco.note.aqi_daily",
            height=320,
            wide=True,
        )
    ),
    declare_chart(
        Chart(
            id="eco-aqi-calendar",
            title="eco.chart.calendar",
            data=lambda c: q.city_daily_aqi(c.engine, c.city.id, c.filters, _standard(c)),
            figure=figures.aqi_calendar_figure,
            kinds=AIR,
            sdg=("11.6.2",),
            note="eco.note.calendar",
            height=250,
            wide=True,
        )
    ),
    AIR_FORECAST,
    declare_chart(
        Chart(
            id="eco-stations-map",
            title="eco.chart.map",
            data=lambda c: q.station_summary(c.engine, c.city.id, c.filters, _standard(c)),
            figure=figures.stations_map_figure,
            kinds=("air_stations", "air_quality_hourly"),
            sdg=("11.6.2",),
            note="eco.note.map",
            height=430,
            filters_district=True,
        )
    ),
    declare_chart(
        Chart(
            id="eco-good-days",
            title="eco.chart.good_days",
            data=lambda c: q.category_share(
                c.engine, c.city.id, c.filters, _standard(c), by=c.option or "month"
            ),
            figure=figures.good_days_figure,
            kinds=AIR,
            sdg=("11.6.2", "3.9"),
            options=(("month", "eco.option.by_month"), ("station", "eco.option.by_station")),
            default_option="month",
            note="eco.note.good_days",
            height=430,
        )
    ),
    declare_chart(
        Chart(
            id="eco-pollutants",
            title="eco.chart.pollutants",
            data=lambda c: q.pollutant_daily(c.engine, c.city.id, c.filters, c.option or "pm25"),
            figure=figures.pollutant_figure,
            kinds=AIR,
            sdg=("11.6.2", "3.9"),
            options=tuple(
                (p, f"eco.option.{p}") for p in ("pm25", "pm10", "no2", "o3", "so2", "co")
            ),
            default_option="pm25",
            note="eco.note.pollutants",
            height=380,
            wide=True,
        )
    ),
    declare_chart(
        Chart(
            id="eco-no2-traffic",
            title="eco.chart.no2_traffic",
            data=lambda c: q.no2_vs_traffic(c.engine, c.city.id, c.filters),
            figure=figures.no2_traffic_figure,
            kinds=("air_quality_hourly", "traffic_readings"),
            sdg=("11.2", "3.9"),
            note="eco.note.no2_traffic",
            height=380,
        )
    ),
    declare_chart(
        Chart(
            id="eco-energy",
            title="eco.chart.energy",
            data=lambda c: q.energy_by_sector(c.engine, c.city.id, c.filters),
            figure=figures.energy_figure,
            kinds=("energy_daily",),
            sdg=("7.2", "13.2"),
            note="eco.note.energy",
            height=380,
        )
    ),
    declare_chart(
        Chart(
            id="eco-mobility",
            title="eco.chart.mobility",
            data=lambda c: q.mobility(c.engine, c.city.id, c.filters),
            figure=figures.mobility_figure,
            kinds=("mobility_daily",),
            sdg=("11.2", "13.2"),
            note="eco.note.mobility",
            height=380,
        )
    ),
    declare_chart(
        Chart(
            id="eco-waste",
            title="eco.chart.waste",
            data=lambda c: q.waste_by_stream(c.engine, c.city.id, c.filters),
            figure=figures.waste_figure,
            kinds=("waste_monthly",),
            sdg=("11.6.1", "12.5"),
            note="eco.note.waste",
            height=380,
        )
    ),
)


# -- KPI cards -------------------------------------------------------------------------------------


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


def _kpis(ctx: ChartContext, frame: pd.DataFrame, standard: str) -> tuple[Kpi, ...]:
    """The ecology cards from the KPI query's rows (one per kpi: value, previous)."""
    engine, city, lang = ctx.engine, ctx.city, ctx.lang
    values = frame.set_index("kpi")

    def value(kpi: str, column: str) -> float | None:
        number = values.loc[kpi, column]
        return None if pd.isna(number) else float(number)

    return (
        Kpi(
            "eco-pm25",
            "eco.kpi.pm25",
            value("pm25", "value"),
            "µg/m³",
            value("pm25", "previous"),
            digits=1,
            better="down",
            sdg=("11.6.2",),
            source=t("eco.kpi.pm25_source", lang),
        ),
        Kpi(
            "eco-good-days",
            f"eco.kpi.good_days.{standard}",
            value("good_days", "value"),
            previous=value("good_days", "previous"),
            better="up",
            sdg=("11.6.2", "3.9"),
            source=t(f"eco.aqi.{standard}", lang),
            percent=True,
        ),
        Kpi(
            "eco-renewable",
            "eco.kpi.renewable",
            value("renewable", "value"),
            previous=value("renewable", "previous"),
            digits=1,
            better="up",
            sdg=("7.2",),
            source=dataset_title(engine, city, "energy_daily", lang),
            percent=True,
        ),
        Kpi(
            "eco-bike-trips",
            "eco.kpi.bike_trips",
            value("bike_trips", "value"),
            t("eco.unit.trips", lang),
            value("bike_trips", "previous"),
            better="up",
            sdg=("11.2",),
            source=dataset_title(engine, city, "mobility_daily", lang),
        ),
        Kpi(
            "eco-recycled",
            "eco.kpi.recycled",
            value("recycled", "value"),
            previous=value("recycled", "previous"),
            digits=1,
            better="up",
            sdg=("12.5",),
            source=dataset_title(engine, city, "waste_monthly", lang),
            percent=True,
        ),
    )


def kpi_section(ctx: ChartContext) -> list:
    """The caption saying which periods are compared, and the row of KPI cards."""
    engine, city, filters, lang = ctx.engine, ctx.city, ctx.filters, ctx.lang
    standard = _standard(ctx)
    comparison = comparison_of(ctx.page_options)
    frame = q.kpis(engine, city.id, filters, standard, comparison)
    if frame.empty:
        return []
    first = frame.iloc[0]
    start, end = _date(first["start"]), _date(first["end"])
    # each KPI's comparison period lies before its own dataset's first day or not; the block
    # says "no earlier period" once when none of them has one
    has_earlier = bool(frame["previous"].notna().any())
    caption = kpi_caption(start, end, comparison, has_earlier, lang)
    specs = _kpis(ctx, frame, standard)
    note = kpi_trend_note(comparison, (end - start).days + 1, lang)
    no_data = no_data_note(filters.districts, lang)
    no_trend = None if has_earlier else ""
    return [
        html.P(caption, className="kpi-period muted"),
        html.Div(
            [kpi_card(kpi, lang, note, no_data, no_trend) for kpi in specs], className="kpi-row"
        ),
    ]


# -- page ------------------------------------------------------------------------------------------


def layout(ctx: PageContext):
    engine = ctx.workspace.engine
    return html.Div(
        [
            page_header(
                t("eco.title", ctx.lang), t("eco.subtitle", ctx.lang), t("eco.intro", ctx.lang)
            ),
            kpi_block("ecology", t("eco.kpi.heading", ctx.lang), cards=5),
            html.Div(
                [card(chart, engine, ctx.city, ctx.lang) for chart in CHARTS],
                className="chart-grid",
            ),
        ],
        className="page-ecology",
    )


register_kpis(
    "ecology",
    kpi_section,
    kinds=("air_quality_hourly", "energy_daily", "mobility_daily", "waste_monthly"),
)

PAGE = Page(
    path="/ecology",
    nav="nav.ecology",
    title="eco.title",
    layout=layout,
    period_kind="air_quality_hourly",
    options=(
        PageOption(
            "aqi",
            "eco.option.aqi",
            choices=(("hj633", "eco.aqi.hj633"), ("epa", "eco.aqi.epa")),
            default="hj633",
        ),
        FORECAST_STATION,
    ),
)

PAGES = (with_dataset_choices(PAGE, CHARTS),)


def register(app, services: Services) -> None:
    """Nothing to wire: the room's charts and KPI blocks are declarations, drawn by the
    shell's shared callbacks (`components.charts`, `components.kpi`)."""
