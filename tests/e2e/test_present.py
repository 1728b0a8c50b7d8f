"""Presenter mode in a real browser: keys, kiosk, presenter window, saved decks (an analyst
saves, a visitor gets the log-in notice), exports.

Plotted data is read from `gd._fullData` (plotly 7 sends typed arrays); the slide number from
the URL. The export tests open the HTML file with every request aborted.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import urllib.request

import pytest
from conftest import ROOT, free_port, screenshot, wait_healthy
from pypdf import PdfReader

from components.slides import EVALUATION, KEY_FIGURE_FONT, PROJECTOR_FONT
from datasets.decks import Deck, DeckStore, Slide
from i18n import t
from server.accounts import Accounts

FORUM_SLIDES = 15
PLOT = "#present-graph .js-plotly-plot"
PRESENTER, PASSWORD = "e2e-presenter", "a long e2e presenter password"


@pytest.fixture(scope="module")
def presenter(data_dir) -> str:
    """An analyst account on the app's data folder (the server reads the accounts per login)."""
    Accounts(data_dir).add(PRESENTER, PASSWORD)
    return PRESENTER


def slide_ready(page, index: int, graph: str = PLOT) -> None:
    """Until the URL, the counter and the graph all show slide `index`."""
    page.wait_for_function(
        """([index, graph]) => {
            const slide = new URLSearchParams(location.search).get('slide') || '1';
            const counter = document.querySelector('#present-counter, #presenter-counter');
            const gd = document.querySelector(graph);
            return slide === String(index) && counter
                && counter.textContent.trim().startsWith(index + ' /')
                && gd && gd._fullData && gd._fullData.length > 0
                && !document.querySelector('[data-dash-is-loading="true"]');
        }""",
        arg=[index, graph],
        timeout=30_000,
    )


def slide_of(page) -> int:
    return int(page.evaluate("new URLSearchParams(location.search).get('slide') || '1'"))


def trace_data(page, selector: str) -> list[dict]:
    return page.evaluate(
        """(sel) => document.querySelector(sel)._fullData.map(tr => ({
            type: tr.type,
            x: tr.x ? Array.from(tr.x).map(String) : [],
            y: tr.y ? Array.from(tr.y).map(Number) : [],
        }))""",
        selector,
    )


def test_keys_move_between_slides_and_the_url_follows(page_factory, app_url):
    page = page_factory(1280, 720)
    page.goto(app_url + "/present?deck=forum&lang=en")
    slide_ready(page, 1)
    assert page.locator("#present-title").inner_text() == t("present.slide.council.title", "en")
    assert page.evaluate("document.body.classList.contains('present-mode')")

    for key, expected in [("ArrowRight", 2), ("Space", 3), ("PageDown", 4), ("ArrowLeft", 3),
                          ("PageUp", 2), ("End", FORUM_SLIDES), ("Home", 1)]:  # fmt: skip
        page.keyboard.press(key)
        slide_ready(page, expected)
    page.keyboard.press("1")
    page.keyboard.press("2")
    assert "12" in page.locator("#present-jump").inner_text()
    page.keyboard.press("Enter")
    slide_ready(page, 12)
    assert page.locator("#present-title").inner_text() == t("present.slide.no2.title", "en")
    assert "deck=forum" in page.url and "lang=en" in page.url

    # projector layout: no scrolling, a 16:9 slide, the dark theme by default
    for width, height in ((1280, 720), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        box = page.locator("#present-slide").bounding_box()
        assert abs(box["width"] / box["height"] - 16 / 9) < 0.02
        assert max(box["width"] / width, box["height"] / height) > 0.8
        sizes = page.evaluate(
            "[document.documentElement.scrollHeight, innerHeight,"
            " document.documentElement.scrollWidth, innerWidth]"
        )
        assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], sizes
        screenshot(page, f"present-{width}x{height}")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(11, 18, 32)"

    # a playback slide carries its frames, play and pause
    page.keyboard.press("5")
    page.keyboard.press("Enter")
    slide_ready(page, 5)
    frames = page.evaluate(f"document.querySelector('{PLOT}')._transitionData._frames.length")
    assert frames == 24
    assert page.locator(f"{PLOT} .updatemenu-button").count() == 2

    # Esc leaves for the dashboards
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.pathname === '/'")
    page.wait_for_selector("#page h1")
    page.wait_for_function("() => !document.body.classList.contains('present-mode')")
    assert page.locator(".site-footer").is_visible()


def test_a_slide_draws_the_same_data_as_the_dashboard(page_factory, app_url):
    page = page_factory()
    page.goto(app_url + "/present?deck=forum&slide=7&lang=fr")  # traffic-pilot, no filter
    slide_ready(page, 7)
    on_slide = trace_data(page, PLOT)
    page.goto(app_url + "/traffic?lang=fr&theme=dark")
    selector = "#card-traffic-pilot .js-plotly-plot"
    page.wait_for_function(
        "(s) => { const gd = document.querySelector(s); return gd && gd._fullData"
        " && gd._fullData.length > 0; }",
        arg=selector,
    )
    assert trace_data(page, selector) == on_slide


def test_kiosk_shows_no_control_and_advances_on_its_own(page_factory, app_url):
    page = page_factory(1920, 1080)
    page.add_init_script(
        """window.__timers = 0;
        const setInterval0 = window.setInterval;
        window.setInterval = function () {
            window.__timers++;
            return setInterval0.apply(this, arguments);
        };"""
    )
    page.goto(app_url + "/present?deck=forum&slide=14&kiosk=1&advance=2&lang=zh")
    slide_ready(page, 14)
    page.wait_for_function("document.body.classList.contains('present-kiosk')")
    for selector in (".site-header", "#main-nav", "#filter-bar", ".site-footer",
                     "#present-toolbar", "#lang-select", ".modebar-container"):  # fmt: skip
        assert not page.locator(selector).first.is_visible(), selector
    visible_controls = page.evaluate(
        """() => [...document.querySelectorAll('a, button, input, select, textarea, summary,'
                + ' [role=button], .updatemenu-container, .slider-container')]
            .filter(el => { const r = el.getBoundingClientRect();
                            return r.width > 0 && r.height > 0
                                && getComputedStyle(el).visibility !== 'hidden'; })
            .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert visible_controls == []
    screenshot(page, "present-kiosk")
    timers = page.evaluate("window.__timers")
    # on its own: 14 → 15 → 1 (looping) → 2, without a key
    slide_ready(page, 15)
    slide_ready(page, 1)
    slide_ready(page, 2)
    # one graph reused, no timer or map added per slide
    assert page.locator(".js-plotly-plot").count() == 1
    assert page.locator(".js-plotly-plot svg .geo").count() <= 1  # maps are SVG: no WebGL
    assert page.locator("canvas").count() == 0
    assert page.evaluate("window.__timers") == timers
    assert page.locator("#present-title").inner_text() == t("present.slide.city.title", "zh")


def test_a_kiosk_reloads_itself_at_the_end_of_a_loop_once_its_time_is_up(page_factory, app_url):
    page = page_factory(1280, 720)
    page.add_init_script(
        "sessionStorage.setItem('loads', String(Number(sessionStorage.getItem('loads')) + 1))"
    )
    page.goto(app_url + "/present?deck=forum&slide=15&kiosk=1&advance=2&reload=2&lang=en")
    # the loop ends after slide 15: a fresh page, on the first slide
    page.wait_for_function("() => sessionStorage.getItem('loads') === '2'", timeout=30_000)
    slide_ready(page, 1)
    assert "kiosk=1" in page.url and "reload=2" in page.url
    assert page.evaluate("document.body.classList.contains('present-kiosk')")


def test_the_presenter_view_follows_the_audience_window(page_factory, app_url):
    audience = page_factory(1280, 720)
    audience.goto(app_url + "/present?deck=forum&slide=1&lang=en")
    slide_ready(audience, 1)
    presenter = audience.context.new_page()  # same browser context: same BroadcastChannel
    errors = []
    presenter.on("pageerror", lambda exc: errors.append(str(exc)))
    presenter.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    presenter.goto(app_url + "/present/presenter?deck=forum&slide=1&lang=en")
    slide_ready(presenter, 1, "#presenter-graph .js-plotly-plot")

    audience.keyboard.press("ArrowRight")
    audience.keyboard.press("ArrowRight")
    slide_ready(audience, 3)
    slide_ready(presenter, 3, "#presenter-graph .js-plotly-plot")
    notes = presenter.locator("#presenter-notes").inner_text()
    assert notes.startswith(t("present.slide.kpis.notes", "en").split("\n")[0])
    next_title = presenter.locator("#presenter-next-title").inner_text()
    assert next_title == t("present.slide.speed-map.title", "en")
    assert re.fullmatch(r"\d\d:\d\d", presenter.locator("#presenter-elapsed").inner_text())

    # and the other way round: the presenter's clicker drives the room
    presenter.keyboard.press("PageDown")
    slide_ready(presenter, 4, "#presenter-graph .js-plotly-plot")
    slide_ready(audience, 4)
    screenshot(presenter, "present-presenter")
    assert errors == []


def start_app(data_dir, port: int):
    env = {**os.environ, "CITYLENS_DEMO_DETECTORS": "16", "CITYLENS_DEMO_DAYS": "365"}
    log = open(data_dir / f"server-{port}.log", "w")  # noqa: SIM115 (closed by the caller)
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), "--data-dir",
         str(data_dir)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return proc, log


def test_a_deck_built_from_two_charts_survives_a_restart(
    page_factory, app_url, data_dir, presenter
):
    page = page_factory()
    page.goto(app_url + "/login?next=/present")
    page.fill("#login-name", presenter)
    page.fill("#login-password", PASSWORD)
    page.click("#auth-submit")
    page.wait_for_url(app_url + "/present")
    page.goto(app_url + "/traffic?from=2017-03-01&to=2017-03-31&lang=en")
    page.wait_for_selector('#card-traffic-pilot [id*="chart-add-to-deck"]')
    page.evaluate("localStorage.removeItem('citylens.deck.draft')")
    volume = page.locator('#card-traffic-volume-speed [id*="chart-add-to-deck"]')
    volume.click()
    page.wait_for_function(
        "() => document.querySelector('#card-traffic-volume-speed [id*=\"chart-add-to-deck\"]')"
        ".textContent.includes('✓ 1')"
    )
    page.locator('#card-traffic-pilot [id*="chart-add-to-deck"]').click()
    page.wait_for_function(
        "() => document.querySelector('#card-traffic-pilot [id*=\"chart-add-to-deck\"]')"
        ".textContent.includes('✓ 2')"
    )

    page.goto(app_url + "/present/edit?deck=new&lang=en")
    page.wait_for_function(
        "() => { const b = document.querySelector('#deck-draft-append');"
        " const info = document.querySelector('#deck-draft-info');"
        " return b && !b.disabled && info.textContent.includes('2'); }"
    )
    page.locator("#deck-draft-append").click()
    page.wait_for_selector(".deck-slide >> nth=1")
    assert page.locator(".deck-slide").count() == 2
    assert page.evaluate("localStorage.getItem('citylens.deck.draft')") is None
    # the pilot first, with a title and a takeaway of our own
    page.locator('.deck-slide[data-chart="traffic-pilot"] button[title="Move up"]').click()
    page.wait_for_function(
        "() => document.querySelector('.deck-slide').dataset.chart === 'traffic-pilot'"
    )
    page.locator(".deck-slide").first.locator("input").first.fill("The pilot in March")
    page.locator(".deck-slide").first.locator("input").nth(1).fill("Faster where it ran.")
    page.locator("#deck-title").fill("Two charts")
    page.locator("#deck-name").fill("Two Charts!")
    page.locator("#deck-save").click()
    page.wait_for_selector("#deck-present-link")
    assert page.locator("#deck-name").input_value() == "two-charts"
    assert f"Owner: {presenter}. Version 1," in page.locator("#deck-owner").inner_text()
    stored = json.loads((data_dir / "decks" / "two-charts.json").read_text(encoding="utf-8"))
    assert [s["chart"] for s in stored["slides"]] == ["traffic-pilot", "traffic-volume-speed"]
    assert stored["slides"][1]["query"] == "?from=2017-03-01&to=2017-03-31"
    assert (stored["owner"], stored["version"]) == (presenter, 1)

    # a second server on the same data folder (a restart) presents it
    port = free_port()
    proc, log = start_app(data_dir, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        other = page_factory()
        other.goto(url + "/present?deck=two-charts&slide=1&lang=en")
        slide_ready(other, 1)
        assert other.locator("#present-title").inner_text() == "The pilot in March"
        assert other.locator("#present-takeaway").inner_text() == "Faster where it ran."
        other.keyboard.press("ArrowRight")
        slide_ready(other, 2)
        title = t("traffic.chart.volume_speed", "en")
        assert other.locator("#present-title").inner_text() == title
        xs = trace_data(other, PLOT)[0]["x"]
        assert xs and all(x.startswith("2017-03") for x in xs), xs[:3]
        other.keyboard.press("ArrowRight")  # the last slide stays the last
        other.wait_for_timeout(300)
        assert slide_of(other) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_a_visitor_builds_a_deck_but_the_save_button_is_a_log_in_notice(page, app_url):
    draft = {"slides": [{"chart": "traffic-pilot", "query": "", "option": None}]}
    page.goto(app_url + "/present/edit?deck=new&lang=en")
    page.evaluate("(d) => localStorage.setItem('citylens.deck.draft', JSON.stringify(d))", draft)
    page.reload()
    page.wait_for_function(
        "() => { const b = document.querySelector('#deck-draft-append'); return b && !b.disabled; }"
    )
    page.locator("#deck-draft-append").click()
    page.wait_for_selector('.deck-slide[data-chart="traffic-pilot"]')

    notice = page.locator(".deck-meta .visitor-notice")
    assert t("present.editor.visitor", "en") in notice.inner_text()
    login = notice.locator("a", has_text="Log in").get_attribute("href")
    assert login.startswith("/login?next=/present/edit")
    assert page.locator("#deck-save").count() == 0
    assert page.locator("#deck-history").count() == 0
    # the charts stay in the browser, to be added again once logged in
    kept = page.evaluate("JSON.parse(localStorage.getItem('citylens.deck.draft'))")
    assert [s["chart"] for s in kept["slides"]] == ["traffic-pilot"]
    screenshot(page, "present-editor-visitor")


def test_the_exported_html_opens_with_the_network_blocked(browser, app_url, tmp_path):
    with urllib.request.urlopen(
        app_url + "/present/export?deck=forum&format=html&lang=fr", timeout=120
    ) as response:
        assert response.headers["Content-Type"].startswith("text/html")
        assert "citylens-forum-fr.html" in response.headers["Content-Disposition"]
        path = tmp_path / "forum.html"
        path.write_bytes(response.read())

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    requested, errors = [], []

    def block(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(path.as_uri())
        page.wait_for_function(
            "() => { const gd = document.querySelector('#present-graph');"
            " return gd && gd._fullData && gd._fullData.length > 0; }"
        )
        assert page.locator("#present-title").inner_text() == t("present.slide.council.title", "fr")
        drawn = []
        for index in range(1, FORUM_SLIDES + 1):
            if index > 1:
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "(i) => location.hash === '#' + i"
                " && document.querySelector('#present-graph')._fullData.length > 0",
                arg=index,
            )
            drawn.append(page.evaluate("document.querySelector('#present-graph')._fullData.length"))
        assert all(n > 0 for n in drawn) and len(drawn) == FORUM_SLIDES
        page.keyboard.press("Home")
        page.wait_for_function("() => location.hash === '#1'")
        page.keyboard.press("1")
        page.keyboard.press("0")
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.hash === '#10'")
        frames = page.evaluate("document.querySelector('#present-graph')._transitionData._frames")
        assert len(frames) > 50  # the year playback travels with the file
        screenshot(page, "present-export-html")
        assert requested == [] and errors == []
    finally:
        context.close()


def test_the_pdf_button_shows_progress_and_gives_one_page_per_slide(page_factory, app_url):
    page = page_factory()
    page.goto(app_url + "/present?deck=forum&lang=es")
    slide_ready(page, 1)
    with page.expect_download(timeout=120_000) as download_info:
        page.locator("#present-export-pdf").click()
        page.wait_for_function(
            "() => /\\d+\\/\\d+/.test(document.querySelector('#present-status').textContent)",
            timeout=60_000,
        )
    download = download_info.value
    assert download.suggested_filename == "citylens-forum-es.pdf"
    reader = PdfReader(io.BytesIO(download.path().read_bytes()))
    assert len(reader.pages) == FORUM_SLIDES
    assert t("present.js.export_done", "es") in page.locator("#present-status").inner_text()


@pytest.mark.parametrize("query", ["?deck=..%2Fetc", "?deck=no-such-deck"])
def test_a_bad_deck_link_says_what_is_wrong(page, app_url, query):
    page.goto(app_url + "/present" + query)
    if "no-such" in query:
        page.wait_for_selector(".present-error")
        assert "no-such-deck" in page.locator(".present-error").inner_text()
    else:  # not a name: the forum deck
        slide_ready(page, 1)


def test_an_evaluation_slide_is_picked_in_the_editor_and_its_effect_reads_large(
    page_factory, app_url, data_dir
):
    """The editor's picker appends the evaluation slide (the city's signal pilot by default);
    on a 1080p screen its effect is the largest text, no smaller than a key figure, and no
    text of the slide is below projector size."""
    page = page_factory(1920, 1080)
    page.goto(app_url + "/present/edit?deck=new&lang=en")
    page.locator("#deck-evaluation-add").click()
    page.wait_for_selector('.deck-slide[data-chart="present-evaluation"]')
    assert t("present.chart.evaluation", "en") in page.locator(".deck-slide").first.inner_text()

    deck = Deck("evaluation-e2e", "Evaluation", (Slide(chart=EVALUATION.id),))
    DeckStore(data_dir / "decks").save(deck, PRESENTER)
    page.goto(app_url + "/present?deck=evaluation-e2e&lang=en&slide=1")
    slide_ready(page, 1)
    texts = page.evaluate(
        """() => {
            const walker = document.createTreeWalker(
                document.querySelector('#present-slide'), NodeFilter.SHOW_TEXT);
            const out = [];
            while (walker.nextNode()) {
                const text = walker.currentNode.textContent.trim();
                const el = walker.currentNode.parentElement;
                if (!text || el.closest('.modebar-container, .hoverlayer, [hidden]')) continue;
                const box = el.getBoundingClientRect();
                if (box.width === 0 || box.height === 0) continue;
                out.push({text, size: parseFloat(getComputedStyle(el).fontSize)});
            }
            return out;
        }"""
    )
    largest = max(texts, key=lambda x: x["size"])
    assert re.fullmatch(r"[+−-]?\d+(\.\d)?%", largest["text"]), largest
    assert largest["size"] >= KEY_FIGURE_FONT
    small = [x for x in texts if x["size"] < PROJECTOR_FONT - 0.5]
    assert not small, small
