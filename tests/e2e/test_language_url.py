"""A language in a link applies to that view; one chosen with the header's selector persists."""

from __future__ import annotations

import re

from conftest import wait_for_charts

LANG_IS = "(lang) => document.documentElement.lang.startsWith(lang)"


def choose_language(page, name: str) -> None:
    """Pick a language in the header's dropdown, as a visitor does."""
    page.locator("#lang-select").click()
    page.locator(".dash-dropdown-option", has_text=name).first.click()


def test_a_language_in_the_url_does_not_become_the_default(page, app_url):
    page.goto(app_url + "/?lang=zh")
    page.wait_for_function(LANG_IS, arg="zh")
    assert page.locator("#nav-data").inner_text() == "数据集"
    page.goto(app_url + "/traffic?theme=dark")
    wait_for_charts(page)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#nav-data").inner_text() == "Datasets"
    assert page.evaluate("document.body.classList.contains('theme-dark')")


def test_a_language_chosen_in_the_header_persists(page, app_url):
    page.goto(app_url + "/")
    page.wait_for_function(LANG_IS, arg="en")
    choose_language(page, "中文")
    page.wait_for_function(LANG_IS, arg="zh")
    page.goto(app_url + "/traffic")
    wait_for_charts(page)
    assert page.evaluate("document.documentElement.lang").startswith("zh")
    assert page.locator("#nav-data").inner_text() == "数据集"


def test_chinese_charts_draw_chinese_dates(page, app_url):
    page.goto(app_url + "/traffic?lang=zh")
    wait_for_charts(page)
    ticks = page.evaluate(
        "[...document.querySelectorAll('.xaxislayer-above .xtick text')].map(e => e.textContent)"
    )
    months = [tick for tick in ticks if "月" in tick]
    # plotly's own month ticks put the year on a second line after the month ("1月" "2017")
    chinese = re.compile(r"(\d{4}年)?\d{1,2}月(\d{1,2}日)?")
    assert months and all(chinese.fullmatch(tick) for tick in months), ticks
