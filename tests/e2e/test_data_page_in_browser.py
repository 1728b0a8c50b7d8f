"""`/data` in the browser: its cards appear quickly, and a preview's rows come when it is opened.

Times are the best of a few fresh loads (no cache, a new browser context each) after one that
warms the server: the bound checks what the page costs the browser, not the machine's busiest
second. They are printed (pytest -s) for the report."""

from __future__ import annotations

import time

CARDS_WITHIN_S = 2.0  # the target is 1 s on an idle machine; CI shares 2 cores with the app
# On a machine so busy that the shell alone takes longer, the cards may come this much after
# a page of the same shell with nothing in it (they came 1.9 s after when previews were drawn)
OVER_THE_SHELL_S = 1.0
LOADS = 3


def visible_after(browser, url: str, selector: str) -> tuple[float, int]:
    """Seconds from navigation to `selector` drawn, and the page's element count."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.locator(selector).first.wait_for(state="visible", timeout=60_000)
        seconds = time.perf_counter() - started
        return seconds, page.evaluate("document.querySelectorAll('#page *').length")
    finally:
        context.close()


def test_the_catalog_cards_are_visible_within_2_s(browser, app_url):
    visible_after(browser, app_url + "/data", ".dataset-card")  # the server's first render
    shell, cards = [], []
    for _ in range(LOADS):
        shell.append(visible_after(browser, app_url + "/no-such-page", ".not-found")[0])
        cards.append(visible_after(browser, app_url + "/data", ".dataset-card"))
    times = sorted(seconds for seconds, _ in cards)
    print(
        f"/data cards visible after {', '.join(f'{s:.2f}' for s in times)} s; an empty page "
        f"of the shell after {', '.join(f'{s:.2f}' for s in sorted(shell))} s"
    )
    assert times[0] <= max(CARDS_WITHIN_S, min(shell) + OVER_THE_SHELL_S), (times, shell)
    # each component costs the browser time: the previews' tables are not drawn with the page
    assert max(elements for _, elements in cards) < 700, cards


def test_a_preview_shows_its_rows_when_opened(page, app_url):
    page.goto(app_url + "/data")
    readings = page.locator(".dataset-card", has_text="Traffic readings every 5 minutes")
    readings.wait_for()
    assert readings.locator("table").count() == 0
    readings.locator("summary", has_text="Preview").click()
    rows = readings.locator("table.data-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 8
    assert "43.900001525878906" not in readings.inner_text()
    csv_link = readings.locator("a", has_text="CSV")
    assert "about" in csv_link.inner_text() and "MB" in csv_link.inner_text()
