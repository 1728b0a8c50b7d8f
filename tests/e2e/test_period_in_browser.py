"""One period in a real browser: the picker, the filter bar's period line, the KPI cards and the
charts of /traffic show the same days; presets and the comparison are links in the URL.

The e2e app holds the demo city's 2017: without dates the period is its last 30 days.
"""

from __future__ import annotations

import datetime as dt

from conftest import screenshot, wait_for_charts

from components.period import fmt_period

VOLUME = "traffic-volume-speed"
DECEMBER = fmt_period(dt.date(2017, 12, 2), dt.date(2017, 12, 31), "en")
LAST_WEEK = fmt_period(dt.date(2017, 12, 25), dt.date(2017, 12, 31), "en")


def plotted_days(page, chart_id: str) -> list[str]:
    """The first and last x of a chart's first trace, as days."""
    return page.evaluate(
        """(cid) => {
            const gd = document.querySelector(`#card-${cid} .js-plotly-plot`);
            const x = Array.from(gd._fullData[0].x).map(String);
            return [x[0].slice(0, 10), x[x.length - 1].slice(0, 10)];
        }""",
        chart_id,
    )


def kpi_caption(page) -> str:
    return (
        page.locator("#kpi-traffic-speed")
        .locator("xpath=../..")
        .locator(".kpi-method")
        .inner_text()
    )


def test_without_dates_the_picker_the_bar_the_kpis_and_the_charts_show_one_period(page, app_url):
    page.goto(app_url + "/traffic")
    wait_for_charts(page)
    page.wait_for_selector("#period-statement")
    assert page.locator("#filter-start").input_value() == "2017-12-02"
    assert page.locator("#filter-end").input_value() == "2017-12-31"
    statement = page.locator("#period-statement").inner_text()
    assert DECEMBER in statement and "compared with the previous 30 days" in statement
    page.wait_for_selector("#kpi-traffic-speed")
    assert DECEMBER in kpi_caption(page)
    assert "No dates chosen" not in page.locator("#page").inner_text()
    first, last = plotted_days(page, VOLUME)
    assert "2017-12-01" <= first <= "2017-12-02" and last <= "2017-12-31", (first, last)
    screenshot(page, "traffic-period")


def test_a_preset_sets_the_url_the_picker_the_kpis_and_the_charts(page, app_url):
    page.goto(app_url + "/traffic")
    wait_for_charts(page)
    page.locator("#preset-last7").click()
    page.wait_for_function("() => location.search.includes('from=2017-12-25')")
    assert "to=2017-12-31" in page.url
    page.wait_for_function(
        "(p) => document.querySelector('#period-statement').innerText.includes(p)", arg=LAST_WEEK
    )
    page.wait_for_function(
        "(p) => [...document.querySelectorAll('.kpi-method')].some(e => e.innerText.includes(p))",
        arg=LAST_WEEK,
        timeout=60_000,
    )
    assert page.locator("#filter-start").input_value() == "2017-12-25"
    wait_for_charts(page)
    page.wait_for_function(
        """(cid) => {
            const gd = document.querySelector(`#card-${cid} .js-plotly-plot`);
            return gd && String(gd._fullData[0].x[0]).slice(0, 10) >= '2017-12-24';
        }""",
        arg=VOLUME,
        timeout=60_000,
    )
    assert "active" in page.locator("#preset-last7").get_attribute("class")


def test_the_comparison_link_changes_every_kpi_s_wording(page, app_url):
    page.goto(app_url + "/traffic")
    wait_for_charts(page)
    page.wait_for_selector("#kpi-traffic-speed")
    assert "vs the previous 30 days" in page.locator("#kpi-traffic-speed").inner_text()
    page.locator("#cmp-yoy").click()
    page.wait_for_function("() => location.search.includes('cmp=yoy')")
    page.wait_for_function(
        "() => document.querySelector('#period-statement').innerText"
        ".includes('compared with the same period last year')"
    )
    # 2016 is not in the data: the block says so once, no card claims a trend
    page.wait_for_function(
        "() => [...document.querySelectorAll('.kpi-method')]"
        ".some(e => e.innerText.includes('no earlier period'))",
        timeout=60_000,
    )
    cards = page.locator(".kpi-row").first.inner_text()
    assert "vs the previous" not in cards and "no earlier period" not in cards
    assert "active" in page.locator("#cmp-yoy").get_attribute("class")
    # the comparison stays when moving to another page
    assert "cmp=yoy" in page.locator("#nav-ecology").get_attribute("href")


def test_a_district_without_data_says_so_in_the_kpi_cards(page, app_url):
    page.goto(app_url + "/traffic?district=330182")  # no detector in the demo's Jiande
    wait_for_charts(page)
    page.wait_for_selector("#kpi-traffic-speed")
    for card in ("speed", "tti", "incidents"):
        text = page.locator(f"#kpi-traffic-{card}").inner_text()
        assert "no data in this district" in text, (card, text)
        assert "no earlier period" not in text
