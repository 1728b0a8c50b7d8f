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
from conftest import ROOT, add_analyst, screenshot

ANALYST = "e2e-analyst"
PASSWORD = "a long e2e password"
TITLE = "E2E air upload"
DATASET_ID = "e2e-air-upload"
XSS = "<img src=x onerror=window.__xss=1>"


@pytest.fixture(scope="module")
def analyst(data_dir) -> str:
    """The analyst, created as an operator would: the command line, password on stdin."""
    done = add_analyst(data_dir, ANALYST, PASSWORD)
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


# -- every setting of the overrides form is applied ---------------------------------------------


@pytest.fixture
def published_ids(data_dir):
    """The datasets a test publishes, deleted after it whatever happens."""
    ids: list[str] = []
    yield ids
    from datasets.catalog import Catalog, CatalogError

    for dataset_id in ids:
        with contextlib.suppress(CatalogError):
            Catalog(data_dir).delete(dataset_id)


def published_table(data_dir: Path, dataset_id: str) -> tuple[dict, dict]:
    """The published Parquet of a dataset: its values and its column types."""
    import pyarrow.parquet as pq

    from datasets.catalog import Catalog

    folder = Catalog(data_dir).get(dataset_id).folder
    table = pq.read_table(next(Path(folder).glob("*.parquet")))
    return table.to_pydict(), {f.name: str(f.type) for f in table.schema}


def upload_and_wait(page, app_url: str, path: Path) -> None:
    log_in(page, app_url, "/data/upload")
    page.wait_for_selector("#upload-file", state="attached")
    page.set_input_files("#upload-file", str(path))
    page.locator("#upload-verdict").wait_for(timeout=60_000)


def publish_as(page, title: str) -> None:
    page.fill("#upload-title", title)
    page.click("#upload-commit")
    page.locator("#upload-result").wait_for(timeout=60_000)


def test_type_date_format_and_decimal_set_on_the_page_are_published(
    page, app_url, analyst, data_dir, tmp_path, published_ids
):
    path = tmp_path / "gauges.csv"
    path.write_text(
        "day;level;count\n" + "".join(f"2017-03-{d:02d};{d}.250;{d + 12}\n" for d in range(1, 13)),
        encoding="utf-8",
    )
    upload_and_wait(page, app_url, path)
    preview = page.locator(".upload-preview")
    assert "2017-03-01" in preview.inner_text() and "1.25" in preview.inner_text()

    pick(page, pattern(name="decimal", type="up-set"), "comma 1,5")
    pick(page, pattern(name="thousands", type="up-set"), "'.'")
    page.fill(pattern(i=1, type="up-fmt"), "%Y-%d-%m")
    pick(page, pattern(i=3, type="up-type"), "number")
    page.click("#upload-reread")
    page.wait_for_function(
        "() => (document.querySelector('.upload-preview') || {}).innerText?.includes('1250')",
        timeout=60_000,
    )
    text = preview.inner_text()
    assert "2017-01-03" in text and "13.0" in text  # the preview shows what will be published
    assert "2017-01-03" in page.locator(".upload-report").inner_text()
    screenshot(page, "upload-overrides")

    publish_as(page, "E2E gauges overridden")
    published_ids.append("e2e-gauges-overridden")
    data, types = published_table(data_dir, "e2e-gauges-overridden")
    assert types["day"] == "date32[day]"
    assert [str(d) for d in data["day"][:2]] == ["2017-01-03", "2017-02-03"]
    assert data["level"][:2] == [1250, 2250]
    assert types["count"] == "double" and data["count"][:2] == [13.0, 14.0]


def test_a_delimiter_set_on_the_page_is_published_and_typed_fields_survive_the_check(
    page, app_url, analyst, data_dir, tmp_path, published_ids
):
    path = tmp_path / "places.csv"  # big enough that the check runs a moment in the background
    path.write_text(
        "place;code,count\n" + "".join(f"p{i};{i},{i * 2}\n" for i in range(1, 60_001)),
        encoding="utf-8",
    )
    upload_and_wait(page, app_url, path)
    page.fill("#upload-title", "E2E places by comma")
    pick(page, pattern(name="delimiter", type="up-set"), "comma ,")
    page.click("#upload-reread")
    page.fill("#upload-description", "typed while the file is checked")
    page.wait_for_function(
        "() => (document.querySelector('.upload-preview') || {}).innerText?.includes('place;code')",
        timeout=90_000,
    )
    page.locator("#upload-verdict").wait_for(timeout=60_000)
    assert page.input_value("#upload-title") == "E2E places by comma"
    assert page.input_value("#upload-description") == "typed while the file is checked"

    page.click("#upload-commit")
    page.locator("#upload-result").wait_for(timeout=90_000)
    published_ids.append("e2e-places-by-comma")
    data, _ = published_table(data_dir, "e2e-places-by-comma")
    assert list(data) == ["place;code", "count"]
    assert data["place;code"][0] == "p1;1" and data["count"][0] == 2


def test_a_date_order_the_file_leaves_open_is_asked_and_the_answer_published(
    page, app_url, analyst, data_dir, tmp_path, published_ids
):
    path = tmp_path / "one day of counts.csv"  # 10 February or 2 October: nothing in it says
    path.write_text(
        "Date,Count\n" + "".join(f"10/02/2012 {h:02d}:00,{h * 3}\n" for h in range(24)),
        encoding="utf-8",
    )
    upload_and_wait(page, app_url, path)
    report = page.locator(".upload-report")
    question = report.locator(".upload-question")
    question.wait_for(timeout=60_000)
    assert "Date: 10/02/2012 00:00 — 2 October 2012 or 10 February 2012?" in (question.inner_text())
    verdict = page.inner_text("#upload-verdict")
    assert "rows are good" not in verdict and "answer the question" in verdict
    screenshot(page, "upload-date-question")

    page.click(pattern(order="mdy", q=0, type="up-date-order"))
    page.wait_for_function(
        "() => (document.querySelector('#upload-verdict') || {}).innerText?.includes("
        "'All 24 rows are good')",
        timeout=60_000,
    )
    assert page.locator(".upload-question").count() == 0
    publish_as(page, "E2E counts month first")
    published_ids.append("e2e-counts-month-first")
    data, types = published_table(data_dir, "e2e-counts-month-first")
    assert types["Date"].startswith("timestamp")
    assert data["Date"][0] == dt.datetime(2012, 10, 2, 0)
    assert data["Date"][23] == dt.datetime(2012, 10, 2, 23)
    assert data["Count"][5] == 15


# -- each dataset in its city -------------------------------------------------------------------

SEATTLE_DISTRICTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Fremont"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-122.37, 47.64], [-122.33, 47.64], [-122.33, 47.67],
                                 [-122.37, 47.67], [-122.37, 47.64]]],
            },
        }
    ],
}  # fmt: skip


@pytest.fixture
def seattle(data_dir, tmp_path):
    """A second city, added as an operator would; removed after the test with its datasets."""
    boundaries = tmp_path / "seattle.geojson"
    boundaries.write_text(json.dumps(SEATTLE_DISTRICTS), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "datasets", "add-city", "--name", "Seattle", "--id", "e2e-seattle",
         "--districts", str(boundaries), "--tz", "America/Los_Angeles",
         "--data-dir", str(data_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    yield "e2e-seattle"
    import shutil

    from datasets.catalog import Catalog

    catalog = Catalog(data_dir)
    for dataset in catalog.datasets(city="e2e-seattle"):
        catalog.delete(dataset.id)
    shutil.rmtree(data_dir / "cities" / "e2e-seattle", ignore_errors=True)


def test_an_upload_is_published_in_the_city_chosen_on_the_page(
    page, app_url, analyst, data_dir, tmp_path, seattle
):
    path = tmp_path / "fremont bridge.csv"
    rows = [f"2025-02-01 {h:02d}:00,Fremont Bridge,47.648,-122.3496,{h}" for h in range(24)]
    path.write_text("Date,Counter,Latitude,Longitude,Bikes\n" + "\n".join(rows) + "\n")
    upload_and_wait(page, app_url, path)
    warnings = page.locator("#upload-place")
    page.wait_for_function(
        "() => document.querySelector('#upload-place').innerText.includes('outside')",
        timeout=60_000,
    )  # the city being viewed, Hangzhou, is chosen at first
    assert "24 of 24 points fall outside Hangzhou" in warnings.inner_text()
    pick(page, "#upload-city", "Seattle")
    page.wait_for_function(
        "() => !document.querySelector('#upload-place').innerText.includes('outside')",
        timeout=60_000,
    )
    screenshot(page, "upload-city")
    publish_as(page, "E2E Fremont Bridge counts")

    from datasets.catalog import Catalog

    assert Catalog(data_dir).get("e2e-fremont-bridge-counts").meta.city == seattle
    page.goto(f"{app_url}/data?city={seattle}")
    page.get_by_text("E2E Fremont Bridge counts").first.wait_for(timeout=60_000)
    page.goto(f"{app_url}/data?city=hangzhou-2017")
    page.locator("#page .dataset-header").first.wait_for(timeout=60_000)  # the demo's datasets
    assert "E2E Fremont Bridge counts" not in page.locator("#page").inner_text()


def report_columns(page) -> dict[str, list[str]]:
    """The report's table of columns as shown: {column name: the row's cells}."""
    rows = page.evaluate(
        """() => Array.from(document.querySelectorAll('.upload-report tbody tr'))
                     .map(tr => Array.from(tr.cells).map(td => td.innerText.trim()))"""
    )
    return {cells[0]: cells for cells in rows if cells}


def test_header_line_missing_markers_unit_and_encoding_set_on_the_page_are_published(
    page, app_url, analyst, data_dir, tmp_path, published_ids
):
    # two lines above the header, as wide as the table: the detection takes the first for it
    lines = ["exported by,gauge tool,v2", "site,Lac Léman,west shore", "place,depth (m),level"]
    for i in range(1, 13):
        level = {3: "-9999", 5: "n/a"}.get(i, f"{5000 + i}.5")  # -9999: no outlier
        lines.append(f"Quai {i} é{' €' if i == 12 else ''},{i * 100},{level}")
    path = tmp_path / "quays.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    upload_and_wait(page, app_url, path)
    preview = page.locator(".upload-preview")
    assert "exported by" in preview.inner_text()  # the junk line taken for the header
    assert page.input_value(pattern(name="header_line", type="up-set")) == "1"
    assert (
        page.locator(pattern(name="encoding", type="up-set"))
        .inner_text()
        .startswith("Windows-1252")
    )

    # header line, missing markers and encoding (each changes how the whole file is read)
    page.fill(pattern(name="header_line", type="up-set"), "3")
    page.fill(pattern(name="missing", type="up-set"), "-9999, n/a")
    pick(page, pattern(name="encoding", type="up-set"), "ISO-8859-1 (Latin-1)")
    page.click("#upload-reread")
    page.wait_for_function(
        "() => (document.querySelector('.upload-preview thead') || {}).innerText?.includes("
        "'place')",
        timeout=60_000,
    )
    page.locator("#upload-verdict").wait_for(timeout=60_000)
    text = preview.inner_text()
    assert "exported by" not in text and "Quai 1 é" in text and "5001.5" in text
    header = preview.locator("thead th").all_inner_texts()
    assert [h.strip() for h in header][1:] == ["place", "depth (m)", "level"]
    cells = [
        preview.locator("tbody tr").nth(r).locator("td").nth(3).inner_text().strip()
        for r in range(5)
    ]
    assert cells[0].splitlines()[-1] == "5001.5"
    # the markers are read as nulls, said to be missing (not unreadable)
    assert cells[2].splitlines() == ["-9999", "missing"]
    assert cells[4].splitlines() == ["n/a", "missing"]
    level = report_columns(page)["level"]
    assert level[5:7] == ["2", "0"], level  # the two markers: nulls, not errors
    assert page.input_value(pattern(name="header_line", type="up-set")) == "3"

    # then the unit of a column (a change of structure above drops per-column overrides)
    assert page.input_value(pattern(i=2, type="up-unit")) == "m"
    page.fill(pattern(i=2, type="up-unit"), "km")
    page.click("#upload-reread")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.upload-report tbody tr'))
                 .some(tr => tr.cells[0]?.innerText.trim() === 'depth (m)'
                             && tr.cells[3]?.innerText.trim() === 'km')""",
        timeout=60_000,
    )
    assert page.input_value(pattern(i=2, type="up-unit")) == "km"
    assert page.input_value(pattern(name="header_line", type="up-set")) == "3"  # kept
    screenshot(page, "upload-overrides-header-missing-unit-encoding")

    publish_as(page, "E2E quays overridden")
    published_ids.append("e2e-quays-overridden")
    data, types = published_table(data_dir, "e2e-quays-overridden")
    assert list(data) == ["place", "depth (m)", "level"]
    assert data["place"][:11] == [f"Quai {i} é" for i in range(1, 12)]
    assert data["place"][11] == "Quai 12 é \x80"  # Latin-1, as set: € is 0x80 in Windows-1252
    assert data["depth (m)"] == [i * 100 for i in range(1, 13)]
    assert types["level"] == "double"
    assert data["level"] == [None if i in (3, 5) else 5000 + i + 0.5 for i in range(1, 13)]
    from datasets.catalog import Catalog

    columns = Catalog(data_dir).get("e2e-quays-overridden").current.columns
    assert {c["name"]: c["unit"] for c in columns}["depth (m)"] == "km"
