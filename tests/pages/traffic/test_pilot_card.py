"""The traffic page's pilot card on the demo city: its data carries the pilot's causal
evaluation, and the card states the effect with its 95 % interval, the pre-trend test, the
summary and the link to the details; with a district chosen it keeps to the simple difference
in differences and says why."""

from __future__ import annotations

import pytest

from components.charts import ChartContext, draw
from components.evidence import attached, ci_text, details_href, effect_text, pre_trend_text
from datasets.evidence.evaluate import evaluate
from datasets.evidence.interventions import pilot_id, pilot_intervention
from datasets.query import Filters
from i18n import t
from pages.traffic import PILOT


def context(workspace, city, lang: str = "en", districts: tuple[int, ...] = ()) -> ChartContext:
    return ChartContext(
        lang=lang,
        theme="light",
        city=city,
        engine=workspace.engine,
        filters=Filters(districts=districts),
    )


def named(figure: dict, name: str) -> str:
    return next(a["text"] for a in figure["layout"]["annotations"] if a.get("name") == name)


@pytest.fixture(scope="module")
def pilot(demo_workspace, demo_city):
    iv = pilot_intervention(demo_workspace, demo_city)
    return iv, evaluate(demo_workspace, iv)


def test_the_pilot_data_carry_the_evaluation_of_the_demo_pilot(demo_workspace, demo_city, pilot):
    frame = PILOT.data(context(demo_workspace, demo_city))
    evidence = attached(frame)
    assert evidence is not None and evidence.ok
    assert evidence.intervention.id == pilot_id(demo_city.id)
    assert evidence.evaluation.estimate_pct == pytest.approx(pilot[1].estimate_pct)
    assert not frame.empty and {"day", "group", "speed_kmh"} <= set(frame.columns)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_pilot_card_states_the_effect_with_its_interval(demo_workspace, demo_city, pilot, lang):
    iv, ev = pilot
    figure, message, shown = draw(PILOT, context(demo_workspace, demo_city, lang))
    assert shown and message == ""
    key = named(figure, "key-figure")
    assert t("traffic.pilot.evaluation.effect", lang, effect=effect_text(ev, lang)) in key
    assert ci_text(ev, lang) in key and pre_trend_text(ev, lang) in key
    footnote = named(figure, "pilot-summary")
    assert details_href(iv, lang) in footnote


def test_with_a_district_chosen_the_card_keeps_the_simple_did(demo_workspace, demo_city):
    chosen = (context(demo_workspace, demo_city, "fr", (d.code,)) for d in demo_city.districts)
    ctx, frame = next((c, f) for c in chosen if not (f := PILOT.data(c)).empty)
    assert attached(frame).problem == "district"
    figure, _message, _shown = draw(PILOT, ctx)
    assert named(figure, "pilot-summary").replace("<br>", " ") == t(
        "traffic.pilot.evaluation.district", "fr"
    )
