"""The forum deck's own slides: the headline KPIs state their period in the very words of the
dashboard's KPI block (`components.period.kpi_caption`), for the comparison the slide names."""

from __future__ import annotations

import pandas as pd
import pytest

from components.charts import ChartContext
from components.period import kpi_caption
from components.routing import filters_data, filters_from_data
from components.slides import render_slide
from components.state import ViewState
from datasets.decks import Deck, Slide
from datasets.queries import traffic as tq


@pytest.fixture(scope="module")
def make_context(demo_workspace, demo_city):
    def make(filters: dict, ui: dict, option):
        return ChartContext(
            lang=ui.get("lang", "en"),
            theme=ui.get("theme", "light"),
            city=demo_city,
            option=option,
            page_options=filters.get("options") or {},
            engine=demo_workspace.engine,
            filters=filters_from_data(filters),
        )

    return make


def kpi_notes(query: str, lang: str, make_context) -> list[str]:
    view = render_slide(
        Deck("k", "k", (Slide(chart="present-kpis", query=query),)), 1, lang, "dark", make_context
    )
    return [note["text"] for note in view.figure["layout"].get("annotations") or []]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    ("query", "comparison"),
    [
        ("", "prev"),  # the default period: the last 30 days of the data
        ("?from=2017-11-01&to=2017-11-30&cmp=yoy", "yoy"),
        ("?from=2017-01-01&to=2017-01-31", "prev"),  # no earlier period in the data
    ],
)
def test_the_kpi_slide_states_its_period_as_the_kpi_block_does(
    make_context, demo_workspace, demo_city, lang, query, comparison
):
    filters = filters_from_data(filters_data(ViewState.from_query(query)))
    frame = tq.kpis(demo_workspace.engine, demo_city.id, filters, comparison)
    now, before = frame.iloc[0], frame.iloc[1]
    has_earlier = bool(pd.notna(before["start"]))
    expected = kpi_caption(now["start"], now["end"], comparison, has_earlier, lang)
    assert expected in kpi_notes(query, lang, make_context)


def test_the_day_playback_speeds_are_the_mean_of_the_weekday_readings(demo_workspace, demo_city):
    """Checked against pandas over the raw readings of November: per hour of the working days
    and district, the mean of every speed read there, and the detectors that read them."""
    import datetime as dt

    from datasets.queries.deck import hourly_district_speeds
    from datasets.query import Filters

    engine = demo_workspace.engine
    filters = Filters(dt.date(2017, 11, 1), dt.date(2017, 11, 30))
    got = hourly_district_speeds(engine, demo_city.id, filters)
    raw = engine.frame(f"SELECT * FROM {engine.source(demo_city.id, tq.READINGS)}")
    raw = raw[(raw["ts"] >= "2017-11-01") & (raw["ts"] < "2017-12-01")]
    raw = raw[raw["ts"].dt.day_of_week < 5].assign(
        hour=lambda f: f["ts"].dt.hour, speed_kmh=lambda f: f["speed_kmh"].astype("float64")
    )
    expected = raw.groupby(["hour", "district"]).agg(
        detectors=("detector_id", "nunique"), speed_kmh=("speed_kmh", "mean")
    )
    merged = got.set_index(["hour", "district"]).join(expected.add_suffix("_pandas"), how="outer")
    assert len(merged) == 24 * raw["district"].nunique()
    assert (merged["detectors"] == merged["detectors_pandas"]).all()
    assert ((merged["speed_kmh"] - merged["speed_kmh_pandas"]).abs() < 1e-9).all()
    assert merged["tti"].between(0.8, 5).all()
