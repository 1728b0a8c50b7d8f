"""A chart's toolbar in the browser: nothing that sends the chart out, downloads at projector
size, the link to the view copied, "Add to deck" in one click."""

from __future__ import annotations

import json
import re
import struct

from conftest import wait_for_charts

from datasets.workspace import Workspace

VIEW = "/traffic?from=2017-03-01&to=2017-03-31&lang=en"
CARD = "#card-traffic-volume-speed"
CLOUD = re.compile(r"share|cloud|chart studio|edit in", re.IGNORECASE)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    return struct.unpack(">II", data[16:24])  # the IHDR chunk: width, height


def open_view(page_factory, app_url):
    page = page_factory()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page.goto(app_url + VIEW)
    wait_for_charts(page)
    return page


def test_no_graph_offers_to_send_the_chart_out(page_factory, app_url):
    page = open_view(page_factory, app_url)
    titles = page.eval_on_selector_all(
        ".modebar-btn", "buttons => buttons.map(b => b.getAttribute('data-title') || '')"
    )
    graphs = page.locator(".chart-card .js-plotly-plot").count()
    assert graphs >= 8
    assert len(titles) >= graphs  # the modebars are there (each has at least the camera)
    assert not [title for title in titles if CLOUD.search(title)], titles
    assert page.locator(".modebar-btn[data-title*='Download plot']").count() >= graphs


def test_png_and_svg_downloads_are_projector_sized(page_factory, app_url, tmp_path):
    page = open_view(page_factory, app_url)
    card = page.locator(CARD)
    with page.expect_download() as png:
        card.locator("[data-chart-action='png']").click()
    png_path = tmp_path / "chart.png"
    png.value.save_as(png_path)
    assert png.value.suggested_filename.endswith(".png")
    assert png_size(png_path.read_bytes()) == (1920, 1080)

    with page.expect_download() as svg:
        card.locator("[data-chart-action='svg']").click()
    svg_path = tmp_path / "chart.svg"
    svg.value.save_as(svg_path)
    text = svg_path.read_text(encoding="utf-8")
    assert svg.value.suggested_filename.endswith(".svg")
    assert text.lstrip().startswith("<svg")
    assert 'width="1920"' in text[:400] and 'height="1080"' in text[:400]


def test_copy_link_puts_the_view_and_the_chart_in_the_clipboard(page_factory, app_url):
    page = open_view(page_factory, app_url)
    button = page.locator(f"{CARD} [data-chart-action='link']")
    assert button.inner_text() == "Copy link to this view"
    button.click()
    page.wait_for_function(
        "s => document.querySelector(s).textContent === 'Link copied'",
        arg=f"{CARD} [data-chart-action='link']",
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.url.split("#")[0] + "#card-traffic-volume-speed"
    assert "from=2017-03-01" in copied and "to=2017-03-31" in copied

    # over plain http on a LAN the page is no secure context: no asynchronous clipboard
    page.evaluate("navigator.clipboard.writeText('')")
    page.evaluate("Object.defineProperty(window, 'isSecureContext', {value: false})")
    page.locator("#card-traffic-pilot [data-chart-action='link']").click()
    page.wait_for_function("async () => (await navigator.clipboard.readText()).includes('#card')")
    assert page.evaluate("navigator.clipboard.readText()").endswith("#card-traffic-pilot")

    # the link opens the view at its chart
    linked = page_factory()
    linked.goto(copied)
    wait_for_charts(linked)
    linked.wait_for_function(
        "() => { const r = document.querySelector('#card-traffic-volume-speed')"
        ".getBoundingClientRect(); return r.top >= -2 && r.top < window.innerHeight / 2; }"
    )


def test_add_to_deck_takes_one_click_on_a_chart(page_factory, app_url):
    page = open_view(page_factory, app_url)
    page.evaluate("localStorage.removeItem('citylens.deck.draft')")
    button = page.locator(f"{CARD} [id*='chart-add-to-deck']")
    assert button.is_visible()
    button.click()
    page.wait_for_function(
        "() => { const d = JSON.parse(localStorage.getItem('citylens.deck.draft') || 'null');"
        " return d && d.slides.length === 1; }"
    )
    draft = json.loads(page.evaluate("localStorage.getItem('citylens.deck.draft')"))
    assert draft["slides"][0]["chart"] == "traffic-volume-speed"
    assert "from=2017-03-01" in draft["slides"][0]["query"]


def test_the_explorer_chart_has_the_same_toolbar(page_factory, app_url, data_dir, tmp_path):
    catalog = Workspace.open(data_dir).catalog
    weather = next(d for d in catalog.datasets() if d.meta.kind == "weather_daily")
    page = page_factory()
    page.goto(app_url + f"/data/{weather.id}?lang=en")
    page.wait_for_function(
        "() => { const gd = document.querySelector('#explorer-graph .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData.length > 0; }"
    )
    toolbar = page.locator("#card-explorer .chart-toolbar")
    assert toolbar.locator("#explorer-add-to-deck").is_visible()
    with page.expect_download() as png:
        toolbar.locator("[data-chart-action='png']").click()
    path = tmp_path / "explorer.png"
    png.value.save_as(path)
    assert png_size(path.read_bytes()) == (1920, 1080)
