"""Analysts bring their own data, in a real browser: log in, upload a CSV through the page,
map it onto a kind, publish it, see it charted in the explorer, on /data and on its round-table
page (with the dataset chooser), then delete it. A visitor cannot upload: the page says so, and
a direct POST to the upload route is refused with nothing written."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, screenshot

ANALYST = "e2e-analyst"
PASSWORD = "a long e2e password"
TITLE = "E2E air upload"
DATASET_ID = "e2e-air-upload"
XSS = "<img src=x onerror=window.__xss=1>"


@pytest.fixture(scope="module")
def analyst(data_dir) -> str:
    """The analyst, created as an operator would: the command line, password on stdin."""
    done = subprocess.run(
        [sys.executable, "-m", "datasets", "add-analyst", ANALYST, "--password-stdin",
         "--data-dir", str(data_dir)],
        input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return ANALYST


@pytest.fixture(scope="module")
def air_csv(tmp_path_factory) -> Path:
    """Ten days of hourly PM2.5 at two demo stations, under names no detector knows."""
    rng = random.Random(17)
    lines = ["when,post,fine dust (µg/m³),nitrogen dioxide,remark"]
    start = dt.datetime(2017, 3, 1)
    for hour in range(24 * 10):
        moment = start + dt.timedelta(hours=hour)
        for station in ("1223A", "1227A"):
            remark = XSS if hour == 0 else "ok"
            lines.append(
                f"{moment:%Y-%m-%d %H:%M},{station},{20 + rng.random() * 40:.1f},"
                f"{15 + rng.random() * 30:.1f},{remark}"
            )
    path = tmp_path_factory.mktemp("upload") / "hangzhou air.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def cleanup(data_dir):
    """Whatever happens, the demo city is left as it was for the other browser tests."""
    yield
    from datasets.catalog import Catalog, CatalogError

    with contextlib.suppress(CatalogError):
        Catalog(data_dir).delete(DATASET_ID)


def log_in(page, app_url: str, next_path: str) -> None:
    page.goto(f"{app_url}/login?next={next_path}")
    page.fill("#login-name", ANALYST)
    page.fill("#login-password", PASSWORD)
    page.click("#auth-submit")
    page.wait_for_url(f"{app_url}{next_path}")


def pick(page, selector: str, option: str) -> None:
    page.locator(selector).click()
    page.get_by_role("option", name=option, exact=True).click()


def pattern(**component_id) -> str:
    return "[id='" + json.dumps(component_id, sort_keys=True, separators=(",", ":")) + "']"


def wait_for_chart(page, chart_id: str, timeout: float = 90_000) -> None:
    """Until one chart card has drawn data (the whole page may take a while on a busy host)."""
    page.wait_for_function(
        """(cid) => { const gd = document.querySelector(`#card-${cid} .js-plotly-plot`);
                      return gd && gd._fullData && gd._fullData.length > 0; }""",
        arg=chart_id,
        timeout=timeout,
    )


def chart_x(page, chart_id: str) -> list[str]:
    return page.evaluate(
        """(cid) => { const gd = document.querySelector(`#card-${cid} .js-plotly-plot`);
                      return Array.from(gd._fullData[0].x || []).map(String); }""",
        chart_id,
    )


def explorer_points(page) -> list[int]:
    return page.evaluate(
        """() => {
            const gd = document.querySelector('#explorer-graph .js-plotly-plot');
            return gd && gd._fullData ? gd._fullData.map(t => (t.x || []).length) : [];
        }"""
    )


def test_an_analyst_uploads_maps_publishes_explores_and_deletes(
    page, app_url, analyst, air_csv, cleanup
):
    log_in(page, app_url, "/data/upload")
    page.wait_for_selector("#upload-file", state="attached")
    page.set_input_files("#upload-file", str(air_csv))

    # detected, previewed and checked: no kind fits the names, so a generic table
    verdict = page.locator("#upload-verdict")
    verdict.wait_for(timeout=30_000)
    assert "All 480 rows are good" in verdict.inner_text()
    assert "Generic table" in verdict.inner_text()
    assert "transfer" in page.locator("#upload-transfer").inner_text().lower()
    preview = page.locator(".upload-preview")
    assert XSS in preview.inner_text()  # a cell shown as text, never as HTML
    assert page.locator("#upload-panel img").count() == 0
    assert page.evaluate("window.__xss") is None
    screenshot(page, "upload-detected")

    # map it onto air quality
    pick(page, "#upload-kind", "Air quality, hourly")
    page.get_by_text("Required columns still unmapped").wait_for(timeout=30_000)
    pick(page, pattern(t="ts", type="up-map"), "when")
    pick(page, pattern(t="station_id", type="up-map"), "post")
    pick(page, pattern(t="pm25", type="up-map"), "fine dust (µg/m³)")
    page.click("#upload-check")
    page.wait_for_function(
        "() => (document.querySelector('#upload-verdict') || {}).innerText?.includes('Air')",
        timeout=30_000,
    )
    assert "All 480 rows are good" in verdict.inner_text()
    report = page.locator(".upload-report").inner_text()
    assert "2017-03-01 00:00:00 → 2017-03-10 23:00:00" in report
    assert "Not imported" in report and "remark" in report
    screenshot(page, "upload-mapped")

    # publish, then follow the link to the explorer
    page.fill("#upload-title", TITLE)
    page.click("#upload-commit")
    result = page.locator("#upload-result")
    result.wait_for(timeout=30_000)
    assert DATASET_ID in result.inner_text() and "480 rows" in result.inner_text()
    page.click("#upload-explorer-link")
    page.wait_for_url(f"{app_url}/data/{DATASET_ID}")
    page.wait_for_function(
        """() => { const gd = document.querySelector('#explorer-graph .js-plotly-plot');
                   return gd && gd._fullData && gd._fullData.length > 0; }""",
        timeout=30_000,
    )
    assert explorer_points(page) == [240]  # hourly means over the two stations
    assert page.locator("#page h1").inner_text() == TITLE
    before = explorer_points(page)
    pick(page, pattern(name="color", type="page-option"), "station_id")
    page.wait_for_function("() => location.search.includes('color=station_id')")
    page.wait_for_function(
        """(before) => { const gd = document.querySelector('#explorer-graph .js-plotly-plot');
                         return gd && gd._fullData && gd._fullData.length === 2; }""",
        arg=before,
        timeout=30_000,
    )
    screenshot(page, "explorer-upload")

    # listed on /data, with its versions for the analyst
    page.goto(app_url + "/data")
    card = page.locator(".dataset-card", has_text=TITLE)
    card.wait_for()
    assert "upload by" in card.inner_text() or "upload" in card.inner_text()
    assert card.locator("a", has_text="Explore").get_attribute("href") == f"/data/{DATASET_ID}"
    assert card.locator(".analyst-actions").count() == 1

    # the ecology page shows it at once (most recent wins) and offers the demo's instead
    page.goto(app_url + "/ecology")
    wait_for_chart(page, "eco-aqi-daily")
    chooser = page.locator(".page-option-dataset")
    assert "Most recent: " + TITLE in chooser.inner_text()
    assert TITLE in page.locator("#card-eco-aqi-daily .chart-source").inner_text()
    march = chart_x(page, "eco-aqi-daily")
    assert march and all(x.startswith("2017-03") for x in march)  # the upload's ten days
    page.locator(".page-option-dataset .dataset-choice").click()
    page.get_by_role("option", name=re.compile(r"^Hourly air quality · v1")).click()
    page.wait_for_url(re.compile(r"ds_air_quality_hourly=hangzhou-2017-air-quality-hourly"))
    wait_for_chart(page, "eco-aqi-daily")
    assert TITLE not in page.locator("#card-eco-aqi-daily .chart-source").inner_text()
    assert "Hourly air quality" in page.locator(".page-option-dataset").inner_text()
    assert len(chart_x(page, "eco-aqi-daily")) > len(march)  # the demo's whole year
    screenshot(page, "ecology-chooser")

    # delete it (confirmed): gone from /data
    page.goto(app_url + "/data")
    card = page.locator(".dataset-card", has_text=TITLE)
    card.locator("summary", has_text="Versions").click()
    page.once("dialog", lambda dialog: dialog.accept())
    card.locator("button", has_text="Delete this dataset").click()
    page.get_by_text(f"“{TITLE}” was deleted.").wait_for(timeout=15_000)
    page.reload()
    page.wait_for_selector(".dataset-card")
    assert page.locator(".dataset-card", has_text=TITLE).count() == 0


def test_a_visitor_cannot_upload(page, app_url, data_dir, air_csv):
    uploads = data_dir / "uploads"
    before = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    page.goto(app_url + "/data/upload")
    notice = page.locator(".visitor-notice")
    notice.wait_for()
    assert "Uploading data is for analysts" in notice.inner_text()
    assert notice.locator("a", has_text="Log in").get_attribute("href").startswith("/login?next=")
    assert page.locator("#upload-file").count() == 0
    assert page.locator("#upload-drop").count() == 0
    screenshot(page, "upload-visitor")

    # the route refuses a direct POST too, with or without a made-up token
    for headers in ({}, {"X-CSRF-Token": "made-up"}):
        response = page.request.post(
            app_url + "/upload",
            data=air_csv.read_bytes(),
            headers={"X-Filename": "x.csv", "Content-Type": "application/octet-stream", **headers},
        )
        assert response.status == 401
        assert response.json()["reason"] == "login"
    after = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    assert after == before

    # and /data offers no versions, restore or delete to a visitor
    page.goto(app_url + "/data")
    page.wait_for_selector(".dataset-card")
    assert page.locator(".analyst-actions").count() == 0
    assert page.locator("#data-upload-link").count() == 0
