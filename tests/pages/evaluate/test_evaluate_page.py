"""`/evaluate` as served: the city's interventions listed (the demo's pilot first), one chosen in
the URL evaluated with its interval and charts, an unknown or malformed id answered with a
message, and a visitor's forged create request refused by the server."""

from __future__ import annotations

import hashlib

import pytest

import app as app_module
import config
from components.evidence import p_text
from components.state import ViewState
from datasets.demo import generate_demo
from datasets.evidence.interventions import InterventionStore, pilot_id
from datasets.workspace import Workspace
from i18n import LANGUAGES, t
from pages.evaluate.result import show
from pages.evaluate.room import Room

from .conftest import UI
from .test_evaluate_form import text


@pytest.fixture(scope="module")
def demo_app(demo_workspace):
    return app_module.create_app(config.Config(data_dir=demo_workspace.data_dir), demo_workspace)


def page(app, query: str = "", lang: str = "en") -> str:
    """The /evaluate layout the router sends, as JSON text."""
    with app.server.test_request_context("/evaluate"):
        content, _ = app.site.render_page(
            app.site.find("/evaluate"),
            ViewState.from_query(query),
            {**UI, "lang": lang},
            "/evaluate",
        )
    return text(content)


def test_the_room_is_registered_with_its_page_in_the_navigation(demo_app):
    found = demo_app.site.find("/evaluate")
    assert found is not None and found in demo_app.site.nav_pages
    assert t(found.nav, "zh") != t(found.nav, "en")


def test_the_list_shows_the_pilot_first_and_a_visitor_sees_no_form(demo_app, demo_city):
    body = page(demo_app)
    assert t("evaluate.pilot_name", "en") in body
    assert f"intervention={pilot_id(demo_city.id)}" in body
    assert "evaluate-create" not in body and "visitor-notice" in body
    assert "evaluate-chosen" not in body  # nothing chosen: nothing evaluated


@pytest.mark.parametrize("bad", ["no-such-id", "x" * 5000, "%00", "<script>"])
def test_an_unknown_id_is_a_clear_message(demo_app, bad):
    body = page(demo_app, f"?intervention={bad}")
    assert t("evaluate.unknown", "en") in body
    assert "evaluate-chosen" not in body


def test_a_chosen_intervention_is_evaluated_in_a_callback_with_its_source(demo_app, demo_city):
    body = page(demo_app, f"?intervention={pilot_id(demo_city.id)}", lang="fr")
    assert '"evaluate-chosen"' in body and pilot_id(demo_city.id) in body
    assert t("evaluate.loading", "fr") in body  # drawn in the loading state first
    assert t("evaluate.method.title", "fr") in body and "chart-source" in body
    assert t("evaluate.demo_note", "fr") in body  # the demo's data are synthetic


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_result_shows_effect_interval_p_values_and_charts(room, pilot, quick_evaluation, lang):
    body = text(show(room, pilot.id, {**UI, "lang": lang}))
    assert quick_evaluation == [pilot.id]
    elements = (
        "evaluate-effect", "evaluate-ci", "evaluate-p", "evaluate-pre-trend", "evaluate-placebo",
        "evaluate-event-study", "evaluate-placebo-chart", "evaluate-synthetic-chart",
        "evaluate-effect-chart", "evaluate-summary",
    )  # fmt: skip
    for element in elements:
        assert f'"{element}"' in body, element
    assert "+10" in body and ("13,8" in body or "13.8" in body)  # 10.4 %, CI to 13.8 %
    assert t("evaluate.chart.event_study", lang) in body


def test_the_result_of_an_unknown_id_or_a_refused_evaluation_is_a_message(room, pilot, monkeypatch):
    assert t("evaluate.unknown", "en") in text(show(room, "nope", UI))
    assert t("evaluate.unknown", "en") in text(show(room, {"id": 1}, UI))

    def refuse(workspace, iv):
        raise ValueError("too few weeks")

    monkeypatch.setattr("pages.evaluate.result.evaluate", refuse)
    assert "too few weeks" in text(show(room, pilot.id, UI))


def test_the_real_evaluation_of_the_demo_pilot(room, pilot):
    """On the demo the pilot raised speeds: the interval holds its estimate and the charts come."""
    body = text(show(room, pilot.id, UI))
    assert '"evaluate-effect"' in body and '"evaluate-event-study"' in body
    assert t("evaluate.unknown", "en") not in body


def test_a_forged_create_from_a_visitor_is_refused_and_nothing_stored(demo_app, room, demo_city):
    client = demo_app.server.test_client()
    output = next(
        key for key in demo_app.callback_map if "evaluate-go.href" in key and "form-status" in key
    )
    states = [
        {"id": f"evaluate-{name}", "property": "value", "value": value}
        for name, value in (
            ("name", "Forged"),
            ("start", "2017-07-03"),
            ("end", None),
            ("unit", "detector"),
            ("outcome", "traffic_readings.speed_kmh"),
            ("treated", ["D0001"]),
            ("control", ["D0002"]),
            ("hours", ""),
            ("weekdays", []),
        )
    ]
    payload = {
        "output": output,
        "outputs": [
            {"id": "evaluate-form-status", "property": "children"},
            {"id": "evaluate-go", "property": "href"},
        ],
        "inputs": [{"id": "evaluate-create", "property": "n_clicks", "value": 1}],
        "state": [{"id": "ui", "property": "data", "value": UI}, *states],
        "changedPropIds": ["evaluate-create.n_clicks"],
    }
    reply = client.post("/_dash-update-component", json=payload)
    assert reply.status_code == 200, reply.data[:300]
    assert b"visitor-notice" in reply.data
    assert "Forged" not in [iv.name for iv in room.store().list(demo_city.id)]


def test_p_values_of_the_checks_keep_a_third_decimal_below_one_percent():
    assert p_text(0.004, "en") == "0.004" and p_text(0.62, "en") == "0.62"
    assert p_text(0.00001, "fr").startswith("< 0,001") and p_text(None, "en") == "–"


def files(folder) -> dict:
    """Every file of a data folder but the shared caches, with its content's hash."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in {"cache", ".reply-locks"}
    }


def test_a_visitor_s_requests_write_nothing_the_pilot_is_recorded_at_start(tmp_path):
    workspace = Workspace.open(tmp_path)
    generate_demo(workspace, UI["city"], detectors=4, days=60)
    for iv in InterventionStore(tmp_path).list():  # a data folder from before interventions
        InterventionStore(tmp_path).remove(iv.id)
    dash_app = app_module.create_app(config.Config(data_dir=tmp_path), workspace)
    assert [iv.id for iv in InterventionStore(tmp_path).list()] == [pilot_id(UI["city"])]
    before = files(tmp_path)
    body = page(dash_app, f"?intervention={pilot_id(UI['city'])}")
    assert t("evaluate.pilot_name", "en") in body
    room = Room(workspace=workspace, default_city=UI["city"])
    show(room, pilot_id(UI["city"]), UI)
    assert files(tmp_path) == before
