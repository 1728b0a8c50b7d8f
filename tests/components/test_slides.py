"""The forum deck's own slides: the headline KPIs state their period in the very words of the
dashboard's KPI block (`components.period.kpi_caption`), for the comparison the slide names; an
intervention's evaluation slide shows its effect larger than any key figure, with its interval,
summary and event study, or says why it cannot."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from components.charts import ChartContext, FigureContext
from components.evidence import Evidence, attach, ci_text
from components.figures.evidence import CI_NAME
from components.period import kpi_caption
from components.routing import filters_data, filters_from_data
from components.slides import (
    EVALUATION,
    KEY_FIGURE_FONT,
    PROJECTOR_FONT,
    as_sent,
    evaluation_figure,
    projector,
    render_slide,
)
from components.slides.evaluation import EVENT_COLUMNS
from components.state import ViewState
from datasets.cities import builtin_city
from datasets.decks import Deck, Slide
from datasets.evidence.evaluate import evaluate
from datasets.evidence.interventions import pilot_intervention
from datasets.evidence.summary import summary_text
from datasets.queries import traffic as tq
from i18n import fmt_percent, t
from tests.components.evidence_sample import sample_evidence


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


# -- the evaluation slide ---------------------------------------------------------------------


def evaluation_slide(evidence, lang: str = "en") -> dict:
    """The evaluation figure as a slide shows it (projector type)."""
    frame = attach(evidence.evaluation.event_study.loc[:, list(EVENT_COLUMNS)], evidence)
    figure = evaluation_figure(frame, FigureContext(lang=lang, theme="dark", city=builtin_city()))
    return projector(as_sent(figure))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_evaluation_slide_shows_the_effect_larger_than_a_key_figure(lang):
    evidence = sample_evidence(pct=10.4, ci_pct=(7.1, 13.8))
    figure = evaluation_slide(evidence, lang)
    go.Figure(figure)  # every property valid
    notes = {a.get("name"): a for a in figure["layout"]["annotations"]}
    effect = notes["evaluation-effect"]
    assert effect["text"] == "<b>+" + fmt_percent(0.104, lang, 1) + "</b>"
    assert effect["font"]["size"] >= KEY_FIGURE_FONT
    text = notes["evaluation-text"]["text"]
    assert ci_text(evidence.evaluation, lang) in text
    summary = summary_text(evidence.evaluation, evidence.intervention, lang)
    assert "".join(summary.split()) in "".join(html.unescape(text.replace("<br>", " ")).split())
    assert all(a["font"]["size"] >= PROJECTOR_FONT for a in notes.values())


def test_the_evaluation_slide_draws_the_event_study_with_its_intervals():
    evidence = sample_evidence()
    figure = evaluation_slide(evidence)
    study = evidence.evaluation.event_study
    (line,) = [trace for trace in figure["data"] if trace.get("mode") == "lines+markers"]
    assert line["x"] == study["week"].tolist()
    assert line["y"] == pytest.approx(study["coef"].tolist())
    band = [trace["y"] for trace in figure["data"] if trace.get("legendgroup") == CI_NAME]
    lower, upper = sorted(band, key=sum)
    assert lower == pytest.approx(study["lo"].tolist())
    assert upper == pytest.approx(study["hi"].tolist())
    start = [s for s in figure["layout"]["shapes"] if s["x0"] == s["x1"]]
    assert [s["x0"] for s in start] == [-0.5]  # between the reference week and the first
    text_share = figure["layout"]["xaxis"]["domain"][0]
    assert text_share > 0.4  # the chart leaves the left of the slide to the text


@pytest.mark.parametrize("problem", ["none", "failed"])
def test_an_evaluation_slide_without_an_evaluation_says_why(problem):
    frame = attach(pd.DataFrame({c: [np.nan] for c in EVENT_COLUMNS}), Evidence(problem=problem))
    figure = evaluation_figure(frame, FigureContext(lang="fr", theme="dark", city=builtin_city()))
    assert figure["data"] == []
    (note,) = figure["layout"]["annotations"]
    assert note["text"].replace("<br>", " ") == t(f"present.evaluation.{problem}", "fr")


def test_the_evaluation_slide_of_an_unknown_intervention_says_so(make_context):
    deck = Deck("e", "e", (Slide(chart=EVALUATION.id, query="?intervention=no-such-thing"),))
    view = render_slide(deck, 1, "en", "dark", make_context)
    texts = [a["text"] for a in view.figure["layout"]["annotations"]]
    assert texts and texts[0].replace("<br>", " ") == t("present.evaluation.none", "en")
    assert view.title == t("present.chart.evaluation", "en")


def test_the_evaluation_slide_shows_the_demo_pilot_by_default(
    make_context, demo_workspace, demo_city
):
    deck = Deck("e", "e", (Slide(chart=EVALUATION.id),))
    view = render_slide(deck, 1, "en", "dark", make_context)
    assert view.message == ""
    iv = pilot_intervention(demo_workspace, demo_city)
    text = next(
        a["text"]
        for a in view.figure["layout"]["annotations"]
        if a.get("name") == "evaluation-text"
    )
    assert iv.name in text
    ev = evaluate(demo_workspace, iv)
    assert ci_text(ev, "en") in text
    (line,) = [trace for trace in view.figure["data"] if trace.get("mode") == "lines+markers"]
    assert line["x"] == ev.event_study.sort_values("week")["week"].tolist()


def test_datasets_of_one_provenance_share_a_source_line(demo_workspace, demo_city):
    from components.slides import source_texts

    kinds = ("traffic_readings", "incidents", "air_quality_hourly")
    lines = source_texts(demo_workspace.engine, demo_city, kinds, "en")
    found = [demo_workspace.engine.find(demo_city.id, kind) for kind in kinds]
    assert len({(d.meta.source, d.meta.licence, d.current_version) for d in found}) == 1
    assert len(lines) == 1  # the demo generator, named once
    (line,) = lines
    assert line.count(found[0].meta.source) == 1
    for dataset in found:
        assert dataset.title("en") in line
