"""The dashboards in a real browser: loading, filters in the URL, languages, theme, empty state.

Plotted values are read from `gd._fullData` / `gd._fullLayout` (plotly 7 sends typed arrays, so
the DOM and `gd.data` are not reliable places to read numbers from).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import screenshot, wait_for_charts

PAGES = ["/", "/traffic", "/ecology", "/data"]
VOLUME = "traffic-volume-speed"


def full_data(page, chart_id: str) -> list[dict]:
    """Trace names, x and y of a chart's plotted data, as plain lists."""
    return page.evaluate(
        """(cid) => {
            const gd = document.querySelector(`#card-${cid} .js-plotly-plot`);
            return gd._fullData.map(tr => ({
                name: tr.name,
                x: tr.x ? Array.from(tr.x).map(String) : [],
                y: tr.y ? Array.from(tr.y).map(Number) : [],
                z: tr.z ? Array.from(tr.z).length : 0,
                locations: tr.locations ? Array.from(tr.locations).map(String) : [],
                text: tr.text ? Array.from(tr.text).map(String) : [],
            }));
        }""",
        chart_id,
    )


def changed_data(page, chart_id: str, previous: list[dict], timeout_s: float = 60) -> list[dict]:
    """The chart's data once it differs from `previous` (a re-render follows the URL change)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        current = full_data(page, chart_id)
        if current != previous:
            wait_for_charts(page)
            return full_data(page, chart_id)
        page.wait_for_timeout(100)
    raise AssertionError(f"{chart_id} did not change")


def layout_value(page, chart_id: str, path: str):
    return page.evaluate(
        """([cid, path]) => {
            const gd = document.querySelector(`#card-${cid} .js-plotly-plot`);
            return path.split('.').reduce((o, k) => (o == null ? o : o[k]), gd._fullLayout);
        }""",
        [chart_id, path],
    )


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_with_no_error_and_no_outside_request(page, app_url, path):
    page.goto(app_url + path)
    page.wait_for_selector("#page h1")
    if path in ("/traffic", "/ecology"):
        wait_for_charts(page)
        assert page.locator(".chart-card").count() >= 8
        assert page.locator(".kpi-card").count() >= 4
    name = "overview" if path == "/" else path.strip("/")
    screenshot(page, f"page-{name}")
    # the page names the synthetic nature of the demo data
    assert "synthetic" in page.locator("body").inner_text().lower()


def test_first_load_syncs_the_url_once_and_fetches_plotly_once(page, app_url):
    """Each round trip before the router adds to the first load: the URL-sync callback runs
    once, and plotly.js, the app's own bundle without maplibre, is fetched once."""
    posts, scripts = [], []

    def seen(request):
        if request.method == "POST" and "/_dash-update-component" in request.url:
            posts.append(request.post_data_json["output"])
        elif "plotly" in urlparse(request.url).path.rsplit("/", 1)[-1]:
            scripts.append(urlparse(request.url).path)

    page.on("request", seen)
    page.goto(app_url + "/traffic?from=2017-02-01&to=2017-02-28")
    wait_for_charts(page)
    syncs = [output for output in posts if output.startswith("..url.search.")]
    assert len(syncs) == 1, syncs
    assert scripts == ["/assets/vendor/plotly.min.js"], scripts
    assert page.locator('link[rel="preload"][href$="async-graph.js"]').count() == 1
    assert page.locator("canvas").count() == 0  # both maps are SVG


def test_filter_change_updates_charts_and_url_and_the_url_restores_the_view(page_factory, app_url):
    page = page_factory()
    page.goto(app_url + "/traffic")
    wait_for_charts(page)
    before = full_data(page, VOLUME)

    page.goto(app_url + "/traffic?from=2017-03-01&to=2017-03-31&district=330106,330105")
    wait_for_charts(page)
    march = full_data(page, VOLUME)
    assert march != before
    assert all(x.startswith("2017-03") for x in march[0]["x"]), march[0]["x"][:3]

    # change a control: the URL follows, and the charts change again
    page.locator("#filter-districts").click()
    page.get_by_role("option", name=re.compile("Binjiang")).click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('330108')")
    with_binjiang = changed_data(page, VOLUME, march)
    url = page.url
    assert "district=330106%2C330105%2C330108" in url or "district=330106,330105,330108" in url

    # the same URL in a fresh page reproduces the view
    other = page_factory()
    other.goto(url)
    wait_for_charts(other)
    assert full_data(other, VOLUME) == with_binjiang
    assert "Binjiang" in other.locator("#filter-districts").inner_text()

    # the back button returns to the previous view
    page.go_back()
    page.wait_for_function("() => !location.search.includes('330108')")
    assert changed_data(page, VOLUME, with_binjiang) == march


def test_clicking_a_district_on_the_map_filters_the_page(page, app_url):
    page.goto(app_url + "/traffic?from=2017-05-01&to=2017-05-31")
    wait_for_charts(page)
    page.wait_for_load_state("networkidle")  # no callback still in flight to redraw the map
    # an SVG map: click inside Binjiang's shape, as a viewer would (a point the shape itself
    # fills and no label covers, found once the scroll has settled)
    page.evaluate(
        """() => [...document.querySelectorAll(
            '#card-traffic-district-map .choroplethlayer .trace:last-child path')]
            .find(p => p.__data__ && String(p.__data__.loc) === '330108')
            .scrollIntoView({block: 'center'})"""
    )
    box = page.evaluate(
        """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
            const shape = [...document.querySelectorAll(
                '#card-traffic-district-map .choroplethlayer .trace:last-child path')]
                .find(p => p.__data__ && String(p.__data__.loc) === '330108');
            const r = shape.getBoundingClientRect();
            for (let i = 0; i < 400; i++) {
                const x = r.x + r.width * (0.2 + 0.6 * ((i * 7) % 20) / 19);
                const y = r.y + r.height * (0.2 + 0.6 * Math.floor(i / 20) / 19);
                if (document.elementFromPoint(x, y) === shape) return done({x, y});
            }
            done({x: r.x + r.width / 2, y: r.y + r.height / 2});
        })))"""
    )
    page.mouse.click(box["x"], box["y"])
    page.wait_for_function("() => location.search.includes('district=330108')")
    wait_for_charts(page)
    assert "Binjiang" in page.locator("#filter-districts").inner_text()


@pytest.mark.parametrize(
    ("lang", "title", "district"),
    [("fr", "Régulation du trafic", "Binjiang"), ("zh", "智能交通", "滨江区")],
)
def test_language_changes_titles_axes_and_district_names(page, app_url, lang, title, district):
    page.goto(app_url + f"/traffic?lang={lang}&district=330108")
    wait_for_charts(page)
    assert (
        title in page.locator("#page h1").inner_text() or title in page.locator("nav").inner_text()
    )
    english_axis = "Day"
    axis = layout_value(page, VOLUME, "xaxis.title.text")
    assert axis and axis != english_axis
    assert district in page.locator("#filter-districts").inner_text()
    assert page.evaluate("document.documentElement.lang").startswith(lang)
    screenshot(page, f"traffic-{lang}")


def test_language_follows_the_browser_and_the_choice_persists(page_factory, app_url):
    page = page_factory(locale="es-ES")
    page.goto(app_url + "/ecology")
    page.wait_for_selector("#page h1")
    assert page.locator("#nav-ecology").inner_text() == "Ecología"
    page.locator("#lang-select").click()
    page.locator(".dash-dropdown-option", has_text="中文").first.click()
    page.wait_for_function("() => document.documentElement.lang.startsWith('zh')")
    page.goto(app_url + "/data")
    page.wait_for_function("() => document.documentElement.lang.startsWith('zh')")
    assert page.locator("#nav-data").inner_text() == "数据集"


def test_dark_theme_applies_to_the_charts(page, app_url):
    page.goto(app_url + "/ecology?theme=dark")
    wait_for_charts(page)
    assert "theme-dark" in page.evaluate("document.body.className")
    assert layout_value(page, "eco-aqi-daily", "paper_bgcolor") in ("#111827", "rgb(17, 24, 39)")
    screenshot(page, "ecology-dark")


def test_a_filter_that_matches_nothing_shows_the_empty_state(page, app_url):
    page.goto(app_url + "/traffic?from=2030-01-01&to=2030-01-31")
    wait_for_charts(page)
    empty = page.locator(f"#card-{VOLUME} .empty-state")
    assert empty.is_visible()
    assert "No data match these filters" in empty.inner_text()


def test_chart_data_downloads_as_csv(page, app_url):
    page.goto(app_url + "/ecology?from=2017-06-01&to=2017-06-30")
    wait_for_charts(page)
    with page.expect_download() as download:
        page.locator("#card-eco-energy button", has_text="CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) > 1 and "," in lines[0]


def test_dataset_catalog_shows_provenance_and_downloads(page, app_url):
    page.goto(app_url + "/data")
    page.wait_for_selector(".dataset-card")
    metro = page.locator(".dataset-card", has_text="Metro passenger flows")
    assert "real" in metro.inner_text().lower()
    assert "10.5281/zenodo.3145403" in metro.inner_text()
    readings = page.locator(".dataset-card", has_text="Traffic readings every 5 minutes")
    assert "synthetic" in readings.inner_text().lower()
    readings.locator("summary").click()
    readings.locator("table.data-table tbody tr").first.wait_for()  # drawn once opened
    href = readings.locator("a", has_text="CSV").get_attribute("href")
    response = page.request.get(app_url + href)
    assert response.ok and response.body()[:40].decode().startswith("ts,detector_id")


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_layout_fits_laptop_and_projector_widths(page_factory, app_url, width, height):
    page = page_factory(width=width, height=height)
    page.goto(app_url + "/ecology")
    wait_for_charts(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, f"ecology-{width}x{height}")


def test_controls_are_reachable_by_keyboard(page, app_url):
    page.goto(app_url + "/traffic")
    wait_for_charts(page)
    seen = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert any("filter" in str(s) or "lang" in str(s) for s in seen), seen


def test_kpi_cards_follow_the_filters(page, app_url):
    page.goto(app_url + "/traffic?from=2017-04-01&to=2017-04-30")
    wait_for_charts(page)
    whole_city = page.locator("#kpi-traffic-incidents .kpi-number").inner_text()
    page.goto(app_url + "/traffic?from=2017-04-01&to=2017-04-30&district=330108")
    wait_for_charts(page)
    page.wait_for_function(
        "(before) => document.querySelector('#kpi-traffic-incidents .kpi-number')"
        ".innerText !== before",
        arg=whole_city,
    )
    one_district = page.locator("#kpi-traffic-incidents .kpi-number").inner_text()
    assert int(one_district.replace(",", "")) < int(whole_city.replace(",", ""))
