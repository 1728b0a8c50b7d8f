"""A second city in a real browser: added from the command line while the app runs (no restart),
fed with the real Beijing station data, then `?city=` on every page, `/sdg` in two languages, the
annex, `/compare` against Hangzhou, and adding a third city through the page.

Beijing's district file is a simplified, hand-drawn test boundary (see
tests/fixtures/cities/beijing-simplified/README.md); its air quality is the real UCI file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, add_analyst, screenshot, wait_for_charts

BEIJING_DISTRICTS = (
    ROOT / "tests" / "fixtures" / "cities" / "beijing-simplified" / "districts.geojson"
)
BEIJING_AIR = ROOT / "tests" / "fixtures" / "real" / "PRSA_Data_Aotizhongxin_20130301-20170228.csv"
ANALYST = ("e2e-city-admin", "a long test password")
PAGES = ["/", "/traffic", "/ecology", "/sdg", "/compare", "/data", "/cities"]


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "datasets", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def beijing(app_url, data_dir) -> str:
    """Beijing, added and fed while the app is already running."""
    city_id = cli(
        data_dir, "add-city", "--name", "Beijing", "--name-fr", "Pékin", "--name-es", "Pekín",
        "--name-zh", "北京", "--districts", str(BEIJING_DISTRICTS), "--tz", "Asia/Shanghai",
        "--attribution", "Simplified test boundaries drawn by hand (not official)",
    )  # fmt: skip
    assert city_id == "beijing"
    cli(
        data_dir, "ingest", str(BEIJING_AIR), "--city", city_id, "-q",
        "--title", "Beijing Aotizhongxin hourly air quality",
        "--source", "UCI Beijing Multi-Site Air-Quality (DOI 10.24432/C5RK5G)",
        "--licence", "CC-BY-4.0",
    )  # fmt: skip
    return city_id


def test_the_new_city_is_known_without_a_restart(page, app_url, beijing):
    page.goto(app_url + f"/sdg?city={beijing}")
    page.wait_for_selector("#sdg-summary")
    assert page.locator("#city-block").is_visible()
    assert "Beijing" in page.locator("#city-select").inner_text()
    assert page.locator("#page h1").inner_text() == "The city's SDG targets"
    assert "for Beijing" in page.locator(".page-subtitle").inner_text()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_works_for_the_new_city(page, app_url, beijing, path):
    sep = "&" if "?" in path else "?"
    page.goto(app_url + path + f"{sep}city={beijing}")
    page.wait_for_selector("#page h1")
    if page.locator(".chart-card").count():
        wait_for_charts(page)
    assert "Beijing" in page.locator("#city-select").inner_text()
    # nothing (an empty state of a KPI block, say) lies over the page's heading
    assert page.evaluate(
        """() => {
            const h = document.querySelector('#page h1');
            const r = h.getBoundingClientRect();
            return h.contains(document.elementFromPoint(r.left + 5, r.top + r.height / 2));
        }"""
    )
    body = page.locator("#page").inner_text()
    if path == "/traffic":
        # a city with air quality only: every traffic chart shows its empty state, most of
        # them naming the missing dataset
        cards = page.locator(".chart-card")
        assert cards.count() >= 6
        messages = []
        for i in range(cards.count()):
            empty = cards.nth(i).locator(".empty-state")
            assert empty.is_visible(), cards.nth(i).get_attribute("id")
            messages.append(empty.inner_text().lower())
        assert sum("dataset" in m for m in messages) >= len(messages) - 1, messages
    if path == "/ecology":
        aqi = page.locator("#card-eco-aqi-daily")
        assert (
            aqi.locator(".js-plotly-plot").count() and not aqi.locator(".empty-state").is_visible()
        )
        assert page.locator("#card-eco-energy .empty-state").is_visible()
    if path == "/data":
        assert "Beijing Aotizhongxin hourly air quality" in body
        assert "Hourly air quality" not in body  # Hangzhou's datasets stay Hangzhou's
    if path == "/compare":
        assert page.locator("#compare-shared").count() == 1
    name = "overview" if path == "/" else path.strip("/")
    screenshot(page, f"city-beijing-{name}")


def test_sdg_page_in_two_languages(page_factory, app_url, beijing):
    page = page_factory()
    page.goto(app_url + "/sdg?lang=en")
    wait_for_charts(page)
    assert page.locator(".sdg-card:not(.sdg-gap)").count() == 15
    pm25 = page.locator("#sdg-pm25_annual")
    assert "µg/m³" in pm25.inner_text() and "2017" in pm25.inner_text()
    assert pm25.locator(".sdg-status").get_attribute("data-status") == "above_it"
    assert "WHO 2021 air-quality guideline: 5 µg/m³" in pm25.inner_text()
    assert page.locator(".sdg-target").first.get_attribute("data-target") == "11.2"
    assert page.locator("#gap-water_quality a").get_attribute("href").startswith("/data/upload")
    screenshot(page, "sdg-hangzhou-en")

    other = page_factory(locale="zh-CN")
    other.goto(app_url + f"/sdg?city={beijing}&lang=zh")
    wait_for_charts(other)
    assert other.locator("#page h1").inner_text() == "城市的可持续发展目标"
    cards = other.locator(".sdg-card:not(.sdg-gap)")
    assert cards.count() == 5  # the air-quality indicators
    pm25 = other.locator("#sdg-pm25_annual")
    assert "2016" in pm25.inner_text() and "2014–2016" in pm25.inner_text()  # real yearly trend
    gap = other.locator("#gap-renewable_share")
    assert "分行业每日电量" in gap.inner_text()
    assert gap.locator("a").get_attribute("href") == f"/data/upload?city={beijing}"
    screenshot(other, "sdg-beijing-zh")


def test_the_annex_is_served_for_the_new_city(page, app_url, beijing):
    page.goto(app_url + f"/sdg?city={beijing}&lang=fr")
    page.wait_for_selector("#sdg-annex")
    href = page.locator("#annex-fr-html").get_attribute("href")
    assert href == f"/sdg/annex?city={beijing}&lang=fr&format=html"
    response = page.request.get(app_url + href)
    text = response.text()
    assert response.ok and "Examen local volontaire : annexe statistique" in text
    assert (
        "Pékin" in text
        and "UCI Beijing Multi-Site Air-Quality" in text
        and "données réelles" in text
    )
    pdf = page.request.get(app_url + page.locator("#annex-fr-pdf").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.goto(app_url + href)
    screenshot(page, "annex-beijing-fr")


def plotted(page, chart_id: str) -> list[dict]:
    return page.evaluate(
        """(cid) => document.querySelector(`#card-${cid} .js-plotly-plot`)._fullData.map(
            tr => ({name: tr.name, n: tr.y ? Array.from(tr.y).length : 0}))""",
        chart_id,
    )


def test_compare_hangzhou_with_beijing(page, app_url, beijing):
    page.goto(app_url + "/compare")
    wait_for_charts(page)
    table = page.locator("#compare-shared")
    assert table.locator("th[scope=col]").all_inner_texts() == ["Hangzhou", "Beijing"]
    row = table.locator("tr[data-indicator=pm25_annual]")
    assert row.locator("td[data-city=hangzhou-2017] .compare-period").inner_text() == "2017"
    assert row.locator(f"td[data-city={beijing}] .compare-period").inner_text() == "2016"
    notes = page.locator(".compare-note").all_inner_texts()
    assert any("The periods differ" in n and "Beijing: 2016" in n for n in notes)
    assert any("Hangzhou 10, Beijing 1" in n for n in notes)
    profile = plotted(page, "compare-pm25-profile")
    assert [(tr["name"], tr["n"]) for tr in profile if tr["n"] == 12] == [
        ("Hangzhou · 2017", 12),
        ("Beijing · 2016", 12),
    ]
    assert len(plotted(page, "compare-good-days")) == 2
    assert "real" in page.locator("#card-compare-pm25-profile .chart-source").inner_text()
    screenshot(page, "compare")

    # unticking Beijing leaves one city: the URL and the table follow
    page.locator("#compare-cities label", has_text="Beijing").click()
    page.wait_for_function("() => location.search.includes('cities=hangzhou-2017')")
    page.wait_for_selector("text=Choose at least two cities.")


def has_accounts(app_url: str) -> bool:
    """Whether this build has analyst accounts (a login form at /login; without accounts the
    path is only the app's page-not-found)."""
    with urllib.request.urlopen(app_url + "/login") as response:
        return 'id="login-name"' in response.read().decode("utf-8", "replace")


def analyst_session(page, app_url, data_dir) -> bool:
    """Log in as an analyst where the app has accounts; False where it has none."""
    if not has_accounts(app_url):
        return False
    name, password = ANALYST
    add_analyst(data_dir, name, password)  # exists already on a second call
    page.goto(app_url + "/login?next=/cities")
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("#auth-submit")
    page.wait_for_url("**/cities**")
    return True


def test_add_a_city_through_the_page(page, app_url, data_dir, beijing, tmp_path):
    analyst_session(page, app_url, data_dir)
    page.goto(app_url + "/cities")
    page.wait_for_selector("#city-form")
    bad = tmp_path / "points.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "A"},
                        "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
                    }
                ],
            }
        )
    )
    page.fill("#city-name", "Pointville")
    # the file streams to the server, which checks it before the form is sent
    page.locator("#city-file input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("#city-file-status.error")
    assert (
        "Refused: points.geojson: feature 1 is a Point"
        in page.locator("#city-file-status").inner_text()
    )
    page.click("#city-submit")
    page.wait_for_selector("#city-message")
    assert page.locator("#city-message").inner_text() == (
        "Choose a GeoJSON file of the districts first."
    )

    page.fill("#city-name", "Beijing test")
    page.fill("#city-name-zh", "北京测试")
    page.locator("#city-file input[type=file]").set_input_files(str(BEIJING_DISTRICTS))
    page.wait_for_selector("text=File: districts.geojson: 2 districts, ready to add.")
    page.click("#city-submit")
    page.wait_for_selector("#city-open-sdg")
    assert "Beijing test added, with id beijing-test." in page.locator("#city-message").inner_text()
    assert page.locator("#city-file-status").inner_text() == ""  # the file became the city
    assert page.locator("#city-list [data-city=beijing-test]").count() == 1
    screenshot(page, "cities-added")
    page.click("#city-open-sdg")
    page.wait_for_selector("#sdg-summary")
    assert "Beijing test" in page.locator(".page-subtitle").inner_text()
    assert "0 indicators computed" in page.locator("#sdg-summary").inner_text()


def test_a_visitor_cannot_add_a_city_where_there_are_accounts(page, app_url):
    if not has_accounts(app_url):
        pytest.skip("this build has no accounts: the form is open to all")
    page.goto(app_url + "/cities")
    page.wait_for_selector(".city-known")
    assert page.locator("#city-form").count() == 0
    assert "Only analysts can add a city" in page.locator("#page").inner_text()
