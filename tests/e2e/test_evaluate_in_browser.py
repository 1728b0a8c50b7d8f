"""`/evaluate` in a real browser: a visitor opens the demo's signal pilot from the list and sees
its effect with the 95 % interval and the event-study chart with its band; an analyst records an
intervention whose start is outside the data (the problem is shown, nothing is stored), then a
valid one, which opens evaluated."""

from __future__ import annotations

import contextlib
import re

import pytest
from conftest import add_analyst, screenshot

from datasets.evidence.interventions import InterventionStore, pilot_id
from i18n import t

EVALUATOR = "e2e-evaluator"
PASSWORD = "an e2e evaluator password"
CITY = "hangzhou-2017"
NAME = "E2E bus priority"
EVENT_STUDY = "#evaluate-event-study .js-plotly-plot"


@pytest.fixture(scope="module")
def evaluator(data_dir) -> str:
    done = add_analyst(data_dir, EVALUATOR, PASSWORD)
    assert done.returncode == 0, done.stderr
    return EVALUATOR


@pytest.fixture
def cleanup(data_dir):
    """The interventions this test records are removed, whatever happens."""
    yield
    store = InterventionStore(data_dir)
    for iv in store.list(CITY):
        if iv.name == NAME:
            with contextlib.suppress(KeyError):
                store.remove(iv.id)


def evaluated(page, timeout: float = 120_000) -> None:
    """Until the result is drawn: the effect, and the event study with its data."""
    page.wait_for_function(
        """(graph) => {
            const gd = document.querySelector(graph);
            return document.querySelector('#evaluate-effect')
                && gd && gd._fullData && gd._fullData.length > 0;
        }""",
        arg=EVENT_STUDY,
        timeout=timeout,
    )


def test_a_visitor_sees_the_pilot_effect_its_interval_and_the_event_study(page, app_url):
    page.goto(f"{app_url}/evaluate")
    link = page.locator("#evaluate-list a", has_text=t("evaluate.pilot_name", "en"))
    link.click()
    page.wait_for_url(re.compile(rf".*intervention={re.escape(pilot_id(CITY))}.*"))
    evaluated(page)
    effect = page.locator("#evaluate-effect").inner_text()
    assert re.search(r"\d", effect) and "%" in effect
    ci = page.locator("#evaluate-ci").inner_text()
    assert ci.startswith("95") and len(re.findall(r"\d+\.\d", ci)) == 2
    band = page.evaluate(
        "(graph) => document.querySelector(graph).data.filter(tr => tr.fill === 'tonexty').length",
        EVENT_STUDY,
    )
    assert band == 1, "the event study draws no interval band"
    assert page.locator("#evaluate-summary").inner_text().strip()
    assert page.locator("#evaluate-demo").is_visible()
    assert page.locator("#evaluate-create").count() == 0  # a visitor has no form
    screenshot(page, "evaluate-pilot")


def log_in(page, app_url: str) -> None:
    page.goto(f"{app_url}/login?next=/evaluate")
    page.fill("#login-name", EVALUATOR)
    page.fill("#login-password", PASSWORD)
    page.click("#auth-submit")
    page.wait_for_url(f"{app_url}/evaluate")


def choose_treated(page, count: int) -> None:
    """The first `count` units of the treated list (a multi-select dropdown: a click on a chosen
    unit would drop it, so each pick is the next one)."""
    for index in range(count):
        page.locator("#evaluate-treated").click()
        page.locator("[data-radix-popper-content-wrapper] [role=option]").nth(index).click()
        page.keyboard.press("Escape")


def test_an_analyst_sees_a_problem_then_records_a_valid_intervention(
    page, app_url, evaluator, cleanup, data_dir
):
    log_in(page, app_url)
    page.wait_for_selector("#evaluate-create")
    page.fill("#evaluate-name", NAME)
    page.fill("#evaluate-start", "2030-01-01")
    page.wait_for_function("() => document.querySelectorAll('#evaluate-treated').length")
    choose_treated(page, 2)
    page.click("#evaluate-create")
    problems = page.locator("#evaluate-problems")
    problems.wait_for(timeout=60_000)
    assert "2030-01-01" in problems.inner_text()  # the start outside the data, named
    assert NAME not in [iv.name for iv in InterventionStore(data_dir).list(CITY)]

    page.fill("#evaluate-start", "2017-07-03")
    page.click("#evaluate-create")
    page.wait_for_url(re.compile(r".*intervention=e2e-bus-priority.*"), timeout=120_000)
    evaluated(page)
    assert page.locator("#evaluate-title").inner_text() == NAME
    assert "chosen" in (
        page.locator("#evaluate-list tr", has_text=NAME).get_attribute("class") or ""
    )
    stored = [iv for iv in InterventionStore(data_dir).list(CITY) if iv.name == NAME]
    assert len(stored) == 1 and len(stored[0].treated) == 2 and stored[0].control
    assert stored[0].created_by == EVALUATOR
    screenshot(page, "evaluate-created")
