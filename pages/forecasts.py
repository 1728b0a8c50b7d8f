"""Forecast cards of the round-table pages: air quality for the next 72 h at one station on
/ecology, flow and speed for the next 24 h per district on /traffic, each with 80 % and 95 %
intervals and the skill of the model the backtest chose.

The forecast starts where the chosen period ends (the filter bar's last day, midnight after it),
so a presenter can set it against what actually followed; with no dates, at the end of the data.
A card draws one station, or the chosen or busiest districts, and forecasts only those (each
series costs a backtest of its models), then reads what followed for them over the forecast
hours; forecasts are kept per dataset version, column, cut and series
(`datasets.evidence.forecast`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from components.charts import Chart, ChartContext
from components.charts import register as declare_chart
from components.figures.ecology.common import station_name
from components.figures.forecast import COLUMNS, MAX_PANELS, forecast_figure
from components.page import PageContext, PageOption
from datasets.evidence.forecast import ForecastError, forecast
from datasets.evidence.forecast_series import hourly, resolve
from datasets.evidence.model import Forecast
from datasets.queries import ecology as eco
from datasets.queries import traffic as traffic_queries
from datasets.query import Filters, MissingDataset
from i18n import t

AIR = "air_quality_hourly"
READINGS = traffic_queries.READINGS
AIR_HORIZON_H = 72
TRAFFIC_HORIZON_H = 24
AIR_HISTORY_H = 96  # four days before the start: the daily cycle and the last episode
TRAFFIC_HISTORY_H = 72  # three days: the weekday rhythm the forecast continues
AIR_MEASURES = ("aqi", "pm25", "pm10", "no2", "o3")
AQI_COLUMNS = {"hj633": "aqi", "epa": "aqi_epa"}  # the hourly index under each standard
# Flow as the page's other charts give it: vehicles per hour at a detector of the district.
TRAFFIC_COLUMNS = {"flow": "flow_vph", "speed": "speed_kmh"}  # option: forecast column
EMPTY = pd.DataFrame(columns=list(COLUMNS))
COMPLETE_SHARE = 0.9  # of the best-covered station's days: a station with gaps is not shown


def forecast_start(filters: Filters) -> pd.Timestamp | None:
    """The first forecast hour: midnight after the filter bar's last day (None: after the
    data's last hour)."""
    if filters.end is None:
        return None
    return pd.Timestamp(filters.end + dt.timedelta(days=1))


def data_until(ctx: ChartContext, kind: str) -> pd.Timestamp | None:
    """The last moment of the chosen period the forecast may read (its last second), None
    when the period reaches the end of the data (the forecast then follows the data)."""
    start = forecast_start(ctx.filters)
    dataset = ctx.engine.find(ctx.city.id, kind)
    if start is None or dataset is None or not dataset.current.time_max:
        return None
    last = pd.Timestamp(dataset.current.time_max)
    return None if start > last else start - pd.Timedelta(seconds=1)


def card_forecast(ctx: ChartContext, kind: str, column: str, by: str, horizon_h: int,
                  labels: dict[str, str]) -> tuple[Forecast, pd.DataFrame] | None:  # fmt: skip
    """The forecast of the city's `kind` dataset cut at the end of the chosen period, and what
    was observed in the hours it covers for the series in `labels` (empty at the end of the
    data); None when the period leaves too little data before it."""
    dataset = ctx.engine.find(ctx.city.id, kind)
    if dataset is None:
        raise MissingDataset(f"{ctx.city.id} has no {kind} dataset")
    until = data_until(ctx, kind)
    wanted = tuple(sorted(labels))
    try:
        fc = forecast(ctx.engine, dataset.id, column, by, horizon_h, until, series=wanted)
    except ForecastError:
        return None
    if until is None or fc.frame.empty:
        return fc, pd.DataFrame(columns=["series", "ts", "value"])
    first, last = fc.frame["ts"].min(), fc.frame["ts"].max()
    query = resolve(ctx.engine, dataset.id, column, by)
    followed = hourly(ctx.engine, query, first, last + pd.Timedelta(hours=1), len(wanted), wanted)
    return fc, followed


def _skill_rows(fc: Forecast) -> pd.DataFrame:
    """Per series the model and its MASE averaged over the hours the card shows (1 h to the
    forecast's horizon), as the backtest chose the model, beside the seasonal-naive one's."""
    skill = fc.skill
    if skill.empty:  # no backtest
        return pd.DataFrame(columns=["series", "model", "mase", "mase_naive"])
    if "horizon_h" in skill:
        skill = skill[skill["horizon_h"] <= fc.horizon_h]
    skill = skill.assign(series=skill["series"].astype(str))
    return (
        skill.groupby("series", sort=False)
        .agg(model=("model", "first"), mase=("mase", "mean"), mase_naive=("mase_naive", "mean"))
        .reset_index()
    )


def _of(frame: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    frame = frame.assign(series=frame["series"].astype(str))
    return frame[frame["series"].isin(wanted)]


def view_frame(
    fc: Forecast,
    followed: pd.DataFrame,
    labels: dict[str, str],
    measure: str,
    history_h: int,
    synthetic: bool,
) -> pd.DataFrame:
    """The rows `forecast_figure` draws for the series `labels` names, in that order: the last
    `history_h` hours before the start, then the forecast hours with what was observed then
    (`followed`: `series, ts, value`, empty when the forecast starts at the end of the data)."""
    wanted = list(labels)
    frame = _of(fc.frame, wanted)
    if frame.empty:
        return EMPTY.copy()
    starts = frame.groupby("series")["ts"].min().rename("start")
    history = _of(fc.history, wanted).join(starts, on="series")
    past = history[
        (history["ts"] < history["start"])
        & (history["ts"] >= history["start"] - pd.Timedelta(hours=history_h))
    ]
    actual = _of(followed, wanted)[["series", "ts", "value"]]
    actual = actual.assign(ts=actual["ts"].astype(frame["ts"].dtype))
    ahead = frame.merge(actual, on=["series", "ts"], how="left")
    rows = pd.concat(
        [
            past[["series", "ts", "value"]].rename(columns={"value": "observed"}),
            ahead.rename(columns={"value": "observed"}),
        ],
        ignore_index=True,
    )
    rows = rows.join(starts, on="series").merge(_skill_rows(fc), on="series", how="left")
    order = {key: i for i, key in enumerate(wanted)}
    rows = rows.assign(
        label=rows["series"].map(labels),
        measure=measure,
        synthetic=synthetic,
        _order=rows["series"].map(order),
    ).sort_values(["_order", "ts"], kind="stable")
    return rows.reindex(columns=list(COLUMNS)).reset_index(drop=True)


def _synthetic(ctx: ChartContext, kind: str) -> bool:
    found = ctx.engine.find(ctx.city.id, kind)
    return bool(found is not None and found.meta.synthetic)


# -- /ecology -------------------------------------------------------------------------------------


def _standard(ctx: ChartContext) -> str:
    return eco.standard_or_default((ctx.page_options or {}).get("aqi"))


def air_station(ctx: ChartContext) -> tuple[str, str] | None:
    """(id, name) of the station drawn: the one chosen on the page (`?station=<id>`) if it has
    data over the period, else, among the stations of the chosen districts (all of them without
    a choice) with nearly complete data over the period, the one with the worst mean AQI. The
    same cached summary feeds the page's station map."""
    summary = eco.station_summary(ctx.engine, ctx.city.id, ctx.filters, _standard(ctx))
    if summary.empty:
        return None
    chosen = summary[summary["station_id"].astype(str) == (ctx.page_options or {}).get("station")]
    complete = summary[summary["days"] >= COMPLETE_SHARE * summary["days"].max()]
    ranked = complete.sort_values(["mean_aqi", "station_id"], ascending=[False, True])
    row = (chosen if len(chosen) else ranked).iloc[0]
    return str(row["station_id"]), station_name(row["name"], row["name_zh"], ctx.lang)


def station_choices(page_ctx: PageContext) -> list[tuple[str, str]]:
    """The stations the air-quality forecast can show (`?station=<id>`), after the automatic
    choice (the most polluted station of the period)."""
    try:
        frame = eco.stations(page_ctx.workspace.engine, page_ctx.city.id, Filters())
    except MissingDataset:
        return []
    lang = page_ctx.lang
    named = [
        (str(row.station_id), station_name(row.name, row.name_zh, lang))
        for row in frame.itertuples()
    ]
    return [("", t("forecast.station.auto", lang)), *named]


STATION = PageOption(
    name="station",
    label="forecast.option.station",
    choices=(),
    default="",
    choices_from=station_choices,
)


def _card_rows(ctx: ChartContext, kind: str, column: str, by: str, labels: dict[str, str],
               measure: str, horizon_h: int, history_h: int) -> pd.DataFrame:  # fmt: skip
    """What a forecast card draws for the series in `labels`; empty when no forecast can be
    made from the chosen period."""
    found = card_forecast(ctx, kind, column, by, horizon_h, labels)
    if found is None:
        return EMPTY.copy()
    return view_frame(*found, labels, measure, history_h, _synthetic(ctx, kind))


def air_forecast(ctx: ChartContext) -> pd.DataFrame:
    """The chosen index or pollutant over the next 72 h at one station (see `air_station`)."""
    measure = ctx.option if ctx.option in AIR_MEASURES else AIR_MEASURES[0]
    column = AQI_COLUMNS[_standard(ctx)] if measure == "aqi" else measure
    station = air_station(ctx)
    if station is None:
        return EMPTY.copy()
    labels = {station[0]: station[1]}
    return _card_rows(ctx, AIR, column, "station", labels, measure, AIR_HORIZON_H, AIR_HISTORY_H)


AIR_FORECAST = declare_chart(
    Chart(
        id="eco-forecast",
        title="forecast.chart.air",
        data=air_forecast,
        figure=forecast_figure,
        kinds=(AIR, "air_stations"),
        sdg=("11.6.2", "3.9"),
        options=tuple((p, f"forecast.option.{p}") for p in AIR_MEASURES),
        default_option=AIR_MEASURES[0],
        note="forecast.note.air",
        height=400,
        wide=True,
    )
)


# -- /traffic -------------------------------------------------------------------------------------


def traffic_districts(ctx: ChartContext) -> dict[str, str]:
    """District code (as text) -> name of the districts drawn: the filter bar's choice, else
    the `MAX_PANELS` districts with the most vehicles over the period (the cached query behind
    the page's district map)."""
    names = {d.code: d.label(ctx.lang) for d in ctx.city.districts}
    chosen = list(ctx.filters.districts)
    if not chosen:
        speeds = traffic_queries.district_speeds(ctx.engine, ctx.city.id, ctx.filters)
        busiest = speeds.sort_values(["vehicles", "district"], ascending=[False, True])
        chosen = [int(code) for code in busiest["district"] if not np.isnan(float(code))]
    return {str(code): names.get(code, str(code)) for code in chosen[:MAX_PANELS]}


def traffic_forecast(ctx: ChartContext) -> pd.DataFrame:
    """Flow or speed over the next 24 h in each district drawn (see `traffic_districts`)."""
    measure = ctx.option if ctx.option in TRAFFIC_COLUMNS else "flow"
    labels = traffic_districts(ctx)
    if not labels:
        return EMPTY.copy()
    column = TRAFFIC_COLUMNS[measure]
    horizon, history = TRAFFIC_HORIZON_H, TRAFFIC_HISTORY_H
    return _card_rows(ctx, READINGS, column, "district", labels, measure, horizon, history)


TRAFFIC_FORECAST = declare_chart(
    Chart(
        id="traffic-forecast",
        title="forecast.chart.traffic",
        data=traffic_forecast,
        figure=forecast_figure,
        kinds=(READINGS,),
        sdg=("11.2",),
        options=tuple((m, f"traffic.measure.{m}") for m in TRAFFIC_COLUMNS),
        default_option="flow",
        note="forecast.note.traffic",
        height=520,
        wide=True,
    )
)
