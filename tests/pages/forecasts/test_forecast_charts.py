"""The forecast cards' data functions: `view_frame` on a hand-made `Forecast` (the series drawn
and their order, the history window, what followed, the skill at the card's horizon), then the
cards of /ecology and /traffic on the demo city: one station for 72 h, the chosen or busiest
districts for 24 h, starting where the chosen period ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from components.charts import ChartContext
from components.figures.forecast import COLUMNS, MAX_PANELS, forecast_figure
from datasets.evidence.model import Forecast
from datasets.query import Filters
from pages import ecology, forecasts, traffic

START = pd.Timestamp("2017-03-01")


def fake_forecast(keys=("a", "b", "c")) -> Forecast:
    """Three series: 10 days of history, a 24-h forecast, skill scored at 1 h, 24 h and 48 h."""
    ahead = pd.date_range(START, periods=24, freq="h")
    past = pd.date_range(START - pd.Timedelta(days=10), START, freq="h", inclusive="left")
    frame = pd.concat(
        pd.DataFrame({"series": k, "ts": ahead, "mean": 5.0 + i, "lo80": 4.0 + i,
                      "hi80": 6.0 + i, "lo95": 3.0 + i, "hi95": 7.0 + i})
        for i, k in enumerate(keys)
    )  # fmt: skip
    history = pd.concat(
        pd.DataFrame({"series": k, "ts": past, "value": np.arange(len(past), dtype=float) + i})
        for i, k in enumerate(keys)
    )
    skill = pd.DataFrame(
        [
            (k, "arx", h, 0.5 + h / 100 + i / 10, 1.0)
            for i, k in enumerate(keys)
            for h in (1, 24, 48)
        ],
        columns=["series", "model", "horizon_h", "mase", "mase_naive"],
    )
    return Forecast("ds", "pm25", "station", 24, START, frame, history, skill)


def followed(keys=("a", "b", "c")) -> pd.DataFrame:
    """What was observed in the forecast hours (one hour missing in each series)."""
    ahead = pd.date_range(START, periods=24, freq="h")[1:]
    return pd.concat(pd.DataFrame({"series": k, "ts": ahead, "value": 9.0}) for k in keys)


NOTHING = pd.DataFrame(columns=["series", "ts", "value"])


def test_view_frame_keeps_the_series_drawn_in_their_order():
    rows = forecasts.view_frame(
        fake_forecast(), followed(), {"c": "Gamma", "a": "Alpha"}, "pm25", 48, True
    )
    assert list(rows.columns) == list(COLUMNS)
    assert list(dict.fromkeys(rows["series"])) == ["c", "a"]
    assert set(rows.loc[rows["series"] == "c", "label"]) == {"Gamma"}
    assert (rows["measure"] == "pm25").all() and rows["synthetic"].all()


def test_view_frame_cuts_the_history_and_joins_what_followed():
    rows = forecasts.view_frame(fake_forecast(), followed(), {"a": "Alpha"}, "pm25", 48, False)
    before = rows[rows["ts"] < START]
    after = rows[rows["ts"] >= START]
    assert len(before) == 48 and before["ts"].min() == START - pd.Timedelta(hours=48)
    assert before["mean"].isna().all()
    assert len(after) == 24 and after["mean"].notna().all()
    assert after["observed"].isna().tolist() == [True] + [False] * 23  # the hour missing
    assert (after["observed"].dropna() == 9.0).all()
    assert (rows["start"] == START).all()
    latest = forecasts.view_frame(fake_forecast(), NOTHING, {"a": "A"}, "pm25", 48, False)
    assert latest.loc[latest["ts"] >= START, "observed"].isna().all()


def test_view_frame_reports_the_skill_over_the_hours_forecast():
    rows = forecasts.view_frame(fake_forecast(), NOTHING, {"a": "A", "b": "B"}, "pm25", 24, False)
    skill = rows.groupby("series")["mase"].first()
    # horizons 1 h and 24 h count, 48 h is beyond the 24-h forecast
    assert skill["a"] == pytest.approx(0.5 + (1 + 24) / 200)
    assert skill["b"] == pytest.approx(0.6 + (1 + 24) / 200)
    assert set(rows["model"]) == {"arx"} and (rows["mase_naive"] == 1.0).all()


def test_the_forecast_starts_at_midnight_after_the_chosen_period():
    assert forecasts.forecast_start(Filters()) is None
    chosen = Filters(dt.date(2017, 5, 1), dt.date(2017, 5, 31))
    assert forecasts.forecast_start(chosen) == pd.Timestamp("2017-06-01 00:00")


def test_the_cards_are_on_their_pages():
    assert forecasts.AIR_FORECAST in ecology.CHARTS
    assert forecasts.TRAFFIC_FORECAST in traffic.CHARTS


# -- on the demo city -----------------------------------------------------------------------------

PERIOD = Filters(dt.date(2017, 10, 1), dt.date(2017, 10, 31))
CUT = pd.Timestamp("2017-11-01")


@pytest.fixture(scope="module")
def context(demo_workspace, demo_city):
    def make(option: str, filters: Filters = PERIOD, lang: str = "en") -> ChartContext:
        return ChartContext(lang=lang, theme="light", city=demo_city, option=option,
                            engine=demo_workspace.engine, filters=filters)  # fmt: skip

    return make


def check_shape(rows: pd.DataFrame, horizon: int, start: pd.Timestamp) -> None:
    assert list(rows.columns) == list(COLUMNS)
    for _key, series in rows.groupby("series"):
        ahead = series[series["ts"] >= start]
        assert len(ahead) == horizon
        assert (series["start"] == start).all()
        assert ahead["observed"].notna().mean() > 0.9  # the demo goes on after the cut
        assert (ahead["lo95"] <= ahead["lo80"]).all() and (ahead["lo80"] <= ahead["mean"]).all()
        assert (ahead["mean"] <= ahead["hi80"]).all() and (ahead["hi80"] <= ahead["hi95"]).all()
        assert series[series["ts"] < start]["observed"].notna().any()
        assert np.isfinite(series["mase"].iloc[0]) and series["model"].iloc[0]


@pytest.mark.parametrize("option", ["pm25", "no2"])
def test_the_air_card_forecasts_one_station_for_72_hours(context, option):
    ctx = context(option)
    rows = forecasts.air_forecast(ctx)
    assert rows["series"].nunique() == 1
    assert rows["series"].iloc[0] == forecasts.air_station(ctx)[0]
    check_shape(rows, forecasts.AIR_HORIZON_H, CUT)
    assert (rows["measure"] == option).all() and rows["synthetic"].all()
    go.Figure(forecast_figure(rows, ctx))


def test_the_station_drawn_has_the_worst_air_among_the_complete_ones(context, demo_workspace):
    ctx = context("pm25")
    summary = ecology.q.station_summary(ctx.engine, ctx.city.id, PERIOD, "hj633")
    drawn = summary.set_index("station_id").loc[forecasts.air_station(ctx)[0]]
    complete = summary[summary["days"] >= 0.9 * summary["days"].max()]
    assert drawn["days"] >= 0.9 * summary["days"].max()
    assert drawn["mean_aqi"] == complete["mean_aqi"].max()


def test_the_air_card_follows_the_district_filter(context, demo_workspace, demo_city):
    stations = ecology.q.stations(demo_workspace.engine, demo_city.id, Filters())
    district = int(stations["district"].iloc[-1])
    ctx = context("pm25", Filters(PERIOD.start, PERIOD.end, (district,)))
    rows = forecasts.air_forecast(ctx)
    inside = set(stations.loc[stations["district"] == district, "station_id"])
    assert set(rows["series"]) <= inside and len(rows)


def test_a_station_chosen_on_the_page_is_the_one_forecast(context, demo_workspace, demo_city):
    auto = forecasts.air_station(context("pm25"))[0]
    stations = ecology.q.stations(demo_workspace.engine, demo_city.id, Filters())
    other = next(s for s in stations["station_id"].astype(str) if s != auto)
    ctx = replace(context("pm25"), page_options={"station": other})
    assert set(forecasts.air_forecast(ctx)["series"]) == {other}
    unknown = replace(context("pm25"), page_options={"station": "../x"})
    assert forecasts.air_station(unknown)[0] == auto


def test_the_station_choices_list_every_station_after_the_automatic_one(demo_workspace, demo_city):
    page_ctx = SimpleNamespace(workspace=demo_workspace, city=demo_city, lang="zh")
    choices = forecasts.station_choices(page_ctx)
    stations = ecology.q.stations(demo_workspace.engine, demo_city.id, Filters())
    assert choices[0] == ("", "污染最重（自动）")
    assert [value for value, _ in choices[1:]] == list(stations["station_id"].astype(str))
    assert forecasts.STATION in ecology.PAGE.options


@pytest.mark.parametrize("option", ["flow", "speed"])
def test_the_traffic_card_draws_the_busiest_districts_for_24_hours(context, option):
    ctx = context(option)
    rows = forecasts.traffic_forecast(ctx)
    drawn = list(dict.fromkeys(rows["series"]))
    assert 1 <= len(drawn) <= MAX_PANELS
    speeds = traffic.queries.district_speeds(ctx.engine, ctx.city.id, ctx.filters)
    busiest = speeds.sort_values("vehicles", ascending=False)["district"].astype(int).astype(str)
    assert drawn == list(busiest[: len(drawn)])
    check_shape(rows, forecasts.TRAFFIC_HORIZON_H, CUT)
    go.Figure(forecast_figure(rows, ctx))


def test_the_traffic_card_draws_the_chosen_district_alone(context, demo_city):
    rows_all = forecasts.traffic_forecast(context("flow"))
    code = int(list(dict.fromkeys(rows_all["series"]))[-1])
    rows = forecasts.traffic_forecast(context("flow", Filters(PERIOD.start, PERIOD.end, (code,))))
    assert set(rows["series"]) == {str(code)}
    names = {d.code: d.label("en") for d in demo_city.districts}
    assert set(rows["label"]) == {names[code]}


def test_without_dates_the_forecast_starts_after_the_data(context):
    rows = forecasts.traffic_forecast(context("speed", Filters()))
    start = rows["start"].iloc[0]
    assert rows.loc[rows["ts"] < start, "ts"].max() == start - pd.Timedelta(hours=1)
    assert rows.loc[rows["ts"] >= start, "observed"].isna().all()  # nothing followed yet
