"""Round table 1, "Big data for urban governance": intelligent traffic control.

The page a control room would publish: headline KPIs with their trend, speeds per district on
the map, flow and speed over time, the weekly rhythm, the adaptive-signal pilot judged by a
difference in differences, incidents, emergency runs with and without signal priority, and the
real metro flows. Each chart is a `Chart` declaration (query + pure figure); the KPI values are
computed here with the same cached queries.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from dash import html

from components.charts import Chart, ChartContext, card, dataset_title
from components.charts import register as declare_chart
from components.datasets_choice import with_dataset_choices
from components.evidence import Evidence, attach, pilot_evidence, workspace_of
from components.figures import traffic as figures
from components.kpi import Kpi, kpi_block, kpi_card, page_header, register_kpis
from components.page import Page, PageContext
from components.period import comparison_of, kpi_caption, kpi_trend_note, no_data_note
from datasets.queries import traffic as queries
from datasets.query import MissingDataset
from i18n import t

from .forecasts import TRAFFIC_FORECAST
from .services import Services

BUCKET_OPTIONS = tuple((b, f"traffic.bucket.{b}") for b in queries.BUCKET_ORDER)


def _pilot(ctx: ChartContext) -> pd.DataFrame:
    """Daily peak-hour speeds of pilot and control detectors, carrying the pilot's causal
    evaluation for the figure to state. The evaluation judges every pilot corridor, so with a
    district chosen the figure keeps to the simple difference in differences of those
    districts and says why."""
    frame = queries.pilot_daily(ctx.engine, ctx.city.id, ctx.filters, queries.pilot_start(ctx.city))
    if frame.empty:
        return frame
    if ctx.filters.districts:
        return attach(frame, Evidence(problem="district"))
    return attach(frame, pilot_evidence(workspace_of(ctx.engine), ctx.city))


def _district_speeds(ctx: ChartContext) -> pd.DataFrame:
    """Speeds per district, the districts the filter bar chose marked (`chosen`), with an empty
    row for a chosen district without readings: the map then still draws, outlines the choice
    and says why it has no colour, instead of an empty card with no way back."""
    frame = queries.district_speeds(ctx.engine, ctx.city.id, ctx.filters)
    chosen = list(ctx.filters.districts)
    missing = [code for code in chosen if code not in set(frame["district"].astype(int))]
    if missing:
        empty_rows = pd.DataFrame({"district": missing}).reindex(columns=frame.columns)
        frame = pd.concat([frame, empty_rows], ignore_index=True) if len(frame) else empty_rows
    return frame.assign(chosen=frame["district"].astype(int).isin(chosen))


DISTRICT_MAP = declare_chart(
    Chart(
        id="traffic-district-map",
        title="traffic.chart.district_map",
        data=_district_speeds,
        figure=figures.district_map,
        kinds=(queries.READINGS,),
        sdg=("11.2", "9.1"),
        options=(("speed", "traffic.measure.speed"), ("tti", "traffic.measure.tti")),
        default_option="speed",
        note="traffic.note.district_map",
        height=420,
        filters_district=True,
    )
)
HOUR_WEEKDAY = declare_chart(
    Chart(
        id="traffic-hour-weekday",
        title="traffic.chart.hour_weekday",
        data=lambda ctx: queries.hour_weekday(ctx.engine, ctx.city.id, ctx.filters),
        figure=figures.hour_weekday_figure,
        kinds=(queries.READINGS,),
        sdg=("11.2",),
        options=(("speed", "traffic.measure.speed"), ("flow", "traffic.measure.flow")),
        default_option="speed",
        note="traffic.note.hour_weekday",
        height=420,
    )
)
VOLUME_SPEED = declare_chart(
    Chart(
        id="traffic-volume-speed",
        title="traffic.chart.volume_speed",
        data=lambda ctx: queries.volume_speed(
            ctx.engine, ctx.city.id, ctx.filters, ctx.option or "day"
        ),
        figure=figures.volume_speed_figure,
        kinds=(queries.READINGS,),
        sdg=("11.2", "9.1"),
        options=BUCKET_OPTIONS,
        default_option="day",
        note="traffic.note.volume_speed",
        height=360,
        wide=True,
    )
)
PILOT = declare_chart(
    Chart(
        id="traffic-pilot",
        title="traffic.chart.pilot",
        data=_pilot,
        figure=figures.pilot_figure,
        kinds=(queries.READINGS, queries.DETECTORS),
        sdg=("11.2", "9.1"),
        note="traffic.note.pilot",
        height=500,
        wide=True,
        dated=False,  # fixed windows around the pilot start, whatever the dates chosen
    )
)
INCIDENT_MAP = declare_chart(
    Chart(
        id="traffic-incident-map",
        title="traffic.chart.incident_map",
        data=lambda ctx: queries.incident_points(ctx.engine, ctx.city.id, ctx.filters),
        figure=figures.incident_map,
        kinds=(queries.INCIDENTS,),
        sdg=("3.6", "11.2"),
        note="traffic.note.incident_map",
        height=440,
    )
)
CLEARANCE = declare_chart(
    Chart(
        id="traffic-incident-clearance",
        title="traffic.chart.clearance",
        data=lambda ctx: queries.incident_clearance(ctx.engine, ctx.city.id, ctx.filters),
        figure=figures.clearance_figure,
        kinds=(queries.INCIDENTS,),
        sdg=("3.6", "11.2"),
        note="traffic.note.clearance",
        height=440,
    )
)
EMERGENCY = declare_chart(
    Chart(
        id="traffic-emergency",
        title="traffic.chart.emergency",
        data=lambda ctx: queries.emergency_by_distance(ctx.engine, ctx.city.id, ctx.filters),
        figure=figures.emergency_figure,
        kinds=(queries.RUNS,),
        sdg=("3.6", "11.2"),
        note="traffic.note.emergency",
        height=400,
    )
)
METRO = declare_chart(
    Chart(
        id="traffic-metro",
        title="traffic.chart.metro",
        data=lambda ctx: queries.metro_flow(ctx.engine, ctx.city.id, ctx.option or "profile"),
        figure=figures.metro_figure,
        kinds=(queries.METRO,),
        sdg=("11.2",),
        options=(
            ("profile", "traffic.metro.option.profile"),
            ("days", "traffic.metro.option.days"),
        ),
        default_option="profile",
        note="traffic.note.metro",
        height=400,
    )
)

CHARTS = (
    DISTRICT_MAP,
    HOUR_WEEKDAY,
    VOLUME_SPEED,
    TRAFFIC_FORECAST,
    PILOT,
    INCIDENT_MAP,
    CLEARANCE,
    EMERGENCY,
    METRO,
)


# -- KPIs -----------------------------------------------------------------------------------------


def kpi_row(ctx: ChartContext):
    """The four headline KPIs for the period of the filter bar, with their trends against the
    comparison it names."""
    engine, city, filters, lang = ctx.engine, ctx.city, ctx.filters, ctx.lang
    comparison = comparison_of(ctx.page_options)
    try:
        frame = queries.kpis(engine, city.id, filters, comparison)
    except MissingDataset:
        return html.P(t("chart.missing_dataset", lang), className="kpi-missing muted")
    now = frame.iloc[0]
    before = frame.iloc[1]

    def value(row, column):
        raw = row[column]
        return None if raw is None or raw != raw else float(raw)

    start, end = now["start"], now["end"]
    has_earlier = bool(pd.notna(before["start"]))
    readings = dataset_title(engine, city, queries.READINGS, lang)
    cards = [
        Kpi(
            id="traffic-speed",
            label="traffic.kpi.speed",
            value=value(now, "mean_speed_kmh"),
            previous=value(before, "mean_speed_kmh"),
            unit=" km/h",
            digits=1,
            better="up",
            sdg=("11.2",),
            source=readings,
        ),
        Kpi(
            id="traffic-tti",
            label="traffic.kpi.tti",
            value=value(now, "tti"),
            previous=value(before, "tti"),
            digits=2,
            better="down",
            sdg=("11.2", "9.1"),
            source=readings,
        ),
        Kpi(
            id="traffic-incidents",
            label="traffic.kpi.incidents",
            value=value(now, "incidents"),
            previous=value(before, "incidents"),
            better="down",
            sdg=("3.6",),
            source=dataset_title(engine, city, queries.INCIDENTS, lang),
        ),
        Kpi(
            id="traffic-response",
            label="traffic.kpi.response",
            value=value(now, "response_min"),
            previous=value(before, "response_min"),
            unit=" " + t("traffic.unit.min", lang),
            digits=1,
            better="down",
            sdg=("3.6", "11.2"),
            source=dataset_title(engine, city, queries.RUNS, lang),
        ),
    ]
    if filters.districts and cards[0].value is None and not cards[2].value:
        # no detector there: incidents are found on the detector network, so a count of 0 is
        # no observation, not a quiet district (the cards say "no data in this district")
        cards[2] = replace(cards[2], value=None, previous=None)
    if pd.isna(start) or pd.isna(end):  # no data at all: each card says so
        caption, trend_note = "", ""
    else:
        caption = kpi_caption(start, end, comparison, has_earlier, lang)
        trend_note = kpi_trend_note(comparison, (end - start).days + 1, lang)
    no_data = no_data_note(filters.districts, lang)
    no_trend = None if has_earlier else ""  # the caption says it once for the block
    explain = [caption, t("traffic.kpi.method", lang)]
    return [
        html.Div(
            [kpi_card(k, lang, trend_note, no_data, no_trend) for k in cards], className="kpi-row"
        ),
        html.P(" ".join(p for p in explain if p), className="kpi-method muted small"),
    ]


# -- layout ---------------------------------------------------------------------------------------


def layout(ctx: PageContext):
    lang = ctx.lang
    engine = ctx.workspace.engine
    return html.Div(
        [
            page_header(
                t("traffic.title", lang),
                t("traffic.subtitle", lang),
                t("traffic.intro", lang),
            ),
            kpi_block("traffic", t("traffic.kpi.heading", lang)),
            html.Div(
                [card(chart, engine, ctx.city, lang) for chart in CHARTS],
                className="chart-grid",
            ),
            html.P(t("traffic.footnote", lang), className="page-footnote muted small"),
        ],
        className="traffic-page",
    )


register_kpis("traffic", kpi_row, kinds=(queries.READINGS, queries.INCIDENTS, queries.RUNS))

PAGE = Page(path="/traffic", nav="nav.traffic", title="traffic.title", layout=layout)

PAGES = (with_dataset_choices(PAGE, CHARTS),)


def register(app, services: Services) -> None:
    """Nothing to wire: the room's charts and KPI blocks are declarations, drawn by the
    shell's shared callbacks (`components.charts`, `components.kpi`)."""
