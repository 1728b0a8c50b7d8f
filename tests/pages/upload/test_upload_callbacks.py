"""The upload page's callbacks called as plain functions: the analyst is a value, so a visitor,
another analyst and the owner are each one call away, with no browser and no forged request."""

from __future__ import annotations

import time

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

import app as app_module
import config
from datasets.workspace import Workspace
from pages.upload.city import place
from pages.upload.mapping import CheckForm, check, form_of
from pages.upload.panel import poll
from pages.upload.publish import again, cancel, commit, target_disabled
from pages.upload.report import answer_date_order
from pages.upload.room import Room
from server.accounts import Accounts
from tests.pages.upload.test_upload_route import CSV, PASSWORD, client_for, csrf, post, wait

UI = {"lang": "en"}


@pytest.fixture
def dash_app(tmp_path):
    for name in ("ana", "ben"):
        Accounts(tmp_path).add(name, PASSWORD)
    return app_module.create_app(config.Config(data_dir=tmp_path), Workspace.open(tmp_path))


@pytest.fixture
def room(dash_app) -> Room:
    store = dash_app.server.extensions["citylens_jobs"]
    return Room(workspace=dash_app.workspace, jobs=store, default_city="hangzhou-2017")


@pytest.fixture
def job_data(dash_app) -> dict:
    """The page's job store once ana's file is read and checked."""
    client = client_for(dash_app, "ana")
    token = post(client, CSV, token=csrf(client)).get_json()["token"]
    wait(client, token)
    return {"token": token}


def settled(room: Room, data: dict, timeout: float = 30) -> dict:
    job = room.jobs.get(data["token"], "ana")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = job.read()
        if state.get("status") not in {"running", "received"}:
            return state
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def text(component) -> str:
    return str(component.to_plotly_json() if hasattr(component, "to_plotly_json") else component)


# -- the panel --------------------------------------------------------------------------------


def test_poll_shows_a_visitor_the_log_in_notice_and_stops(room, job_data):
    status, panel, disabled, key = poll(room, None, data=job_data, rendered=None, ui=UI)
    assert "visitor-notice" in text(status) and panel == [] and disabled and key is None


def test_poll_tells_another_analyst_the_job_is_gone(room, job_data):
    status, panel, disabled, _ = poll(room, "ben", data=job_data, rendered=None, ui=UI)
    assert "no longer available" in text(status)
    assert panel == [] or panel is no_update
    assert disabled


def test_poll_draws_the_panel_once_per_revision(room, job_data):
    _, panel, disabled, key = poll(room, "ana", data=job_data, rendered=None, ui=UI)
    assert disabled and key.startswith(job_data["token"])
    assert "upload-detection" in text(panel) and "upload-publish" in text(panel)
    _, again_panel, _, same_key = poll(room, "ana", data=job_data, rendered=key, ui=UI)
    assert again_panel is no_update and same_key == key


# -- checking again -----------------------------------------------------------------------------


def test_a_drawn_button_without_a_click_is_no_request(room, job_data):
    with pytest.raises(PreventUpdate):
        check(room, "ana", trigger="upload-check", reread=0, checked=0, kind=None,
              form=CheckForm(), city=None, data=job_data, ui=UI)  # fmt: skip


def test_a_visitor_checking_gets_the_notice_and_nothing_changes(room, job_data):
    before = settled(room, job_data)
    form = CheckForm(settings={"decimal": ","})
    status, disabled = check(room, None, trigger="upload-reread", reread=1, checked=0,
                             kind=None, form=form, city=None, data=job_data, ui=UI)  # fmt: skip
    assert "visitor-notice" in text(status) and disabled
    assert settled(room, job_data).get("overrides") == before.get("overrides")


def test_reading_again_applies_the_controls(room, job_data):
    form = CheckForm(settings={"decimal": ","})
    _, disabled = check(room, "ana", trigger="upload-reread", reread=1, checked=0, kind=None,
                        form=form, city=None, data=job_data, ui=UI)  # fmt: skip
    assert disabled is False
    assert settled(room, job_data)["overrides"]["decimal"] == ","


def test_the_form_is_read_by_each_controls_name_and_id():
    grouping = {
        "settings": [{"id": {"type": "up-set", "name": "delimiter"}, "value": ";"}],
        "types": [{"id": {"type": "up-type", "i": 2}, "value": "float"}],
        "sources": [{"id": {"type": "up-map", "t": "time"}, "value": "c:when"}],
        "generic": [],
    }
    form = form_of(grouping)
    assert form.settings == {"delimiter": ";"} and form.types == {2: "float"}
    assert form.sources == {"time": "c:when"} and form.generic is None and form.units == {}


# -- the date question, the city ------------------------------------------------------------------


def test_a_date_answer_needs_a_click_on_an_open_question(room, job_data):
    with pytest.raises(PreventUpdate):
        answer_date_order(room, "ana", button={"q": 0, "order": "dmy"}, clicked=False,
                          city=None, data=job_data, ui=UI)  # fmt: skip
    with pytest.raises(PreventUpdate):  # the file leaves no date order open
        answer_date_order(room, "ana", button={"q": 0, "order": "dmy"}, clicked=True,
                          city=None, data=job_data, ui=UI)  # fmt: skip
    status, disabled = answer_date_order(room, None, button={"q": 0, "order": "dmy"},
                                         clicked=True, city=None, data=job_data, ui=UI)  # fmt: skip
    assert "visitor-notice" in text(status) and disabled


def test_place_warnings_are_the_owners_only(room, job_data):
    assert place(room, None, city="hangzhou-2017", data=job_data, ui=UI) == []
    assert place(room, "ben", city="hangzhou-2017", data=job_data, ui=UI) == []


# -- publishing, cancelling -----------------------------------------------------------------------


def publish_values(**changes) -> dict:
    values = dict(clicks=1, mode="new", target=None, title="Fine dust", description="",
                  source="", source_url="", licence="", round_table="ecology", sdg=[],
                  drop_bad=[], city=None, ui=UI)  # fmt: skip
    return {**values, **changes}


def test_a_new_version_needs_its_dataset(room, job_data):
    status, disabled = commit(room, "ana", data=job_data, **publish_values(mode="append"))
    assert "upload-error" in text(status) and disabled


def test_a_visitor_cannot_publish(room, job_data, dash_app):
    status, _ = commit(room, None, data=job_data, **publish_values())
    assert "visitor-notice" in text(status)
    assert dash_app.workspace.catalog.datasets() == []


def test_a_forged_mode_publishes_a_new_dataset(room, job_data, dash_app):
    _, disabled = commit(room, "ana", data=job_data, **publish_values(mode="overwrite-all"))
    assert disabled is False
    state = settled(room, job_data)
    assert state["status"] == "committed" and state["result"]["mode"] == "new"
    [dataset] = dash_app.workspace.catalog.datasets()
    assert dataset.title("en") == "Fine dust" and dataset.meta.source == "upload by ana"


def test_cancel_discards_the_owners_job_only(room, job_data):
    refused = cancel(room, None, clicks=1, data=job_data, ui=UI)
    assert refused[0] is no_update and "visitor-notice" in text(refused[2])
    assert room.jobs.get(job_data["token"], "ana") is not None
    store, panel, note, rendered = cancel(room, "ana", clicks=1, data=job_data, ui=UI)
    assert store is None and panel == [] and rendered is None and "cancelled" in text(note).lower()
    assert room.jobs.get(job_data["token"], "ana") is None or (
        room.jobs.get(job_data["token"], "ana").read().get("status") == "discarded"
    )


def test_again_empties_the_page_and_the_mode_enables_the_target():
    with pytest.raises(PreventUpdate):
        again(0)
    assert again(1) == (None, [], [], None)
    assert target_disabled("new") and not target_disabled("append")


def test_every_refusal_of_the_job_layer_is_worded_in_each_language():
    """A refused stage (busy, finished, not ready, no disk) reads in the analyst's language: the
    reasons the job layer raises each have a message, and no language falls back to English."""
    import ast
    import pathlib

    from i18n import LANGUAGES, t
    from pages.upload.room import REFUSALS, refusal_text
    from server.upload_state import JobError

    raised = set()
    server = pathlib.Path(__file__).resolve().parents[3] / "server"
    for path in server.glob("upload_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "JobError"
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
            ):
                raised.add(node.args[1].value)
    assert raised and raised <= set(REFUSALS), raised - set(REFUSALS)
    for reason in REFUSALS:
        english = refusal_text(JobError("english text", reason), "en")
        assert english == t(f"upload.refused.{reason}", "en") != "english text"
        for lang in LANGUAGES[1:]:
            assert refusal_text(JobError("english text", reason), lang) != english
