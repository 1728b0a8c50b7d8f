"""Readable from the back of the room, measured in a real browser at 1920×1080 (and 1366×768
for the KPI cards): the computed font size of every visible text on each slide of the forum
deck, KPI values that stay inside their cards in English and French, rows of KPI cards
without a lone card, and the width `/sdg` takes on a wide screen."""

from __future__ import annotations

import pytest

from components.slides import KEY_FIGURE_FONT, PROJECTOR_FONT
from i18n import t

FORUM_SLIDES = 15
PLOT = "#present-graph .js-plotly-plot"
PILOT_SLIDE = 7  # the adaptive-signal pilot: its difference in differences is the key figure

# Every visible text of an element: its characters, computed font size and tag. Plotly's
# hover layer and toolbar are left out (they show only under the pointer).
VISIBLE_TEXTS = """(selector) => {
    const root = document.querySelector(selector);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const out = [];
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent.trim();
        const el = walker.currentNode.parentElement;
        if (!text || el.closest('.modebar-container, .hoverlayer, [hidden]')) continue;
        if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        out.push({text: text.slice(0, 60), size: parseFloat(getComputedStyle(el).fontSize),
                  tag: el.tagName});
    }
    return out;
}"""


def slide_ready(page, index: int) -> None:
    page.wait_for_function(
        """([index, graph]) => {
            const counter = document.querySelector('#present-counter');
            const gd = document.querySelector(graph);
            return counter && counter.textContent.trim().startsWith(index + ' /')
                && gd && gd._fullData && gd._fullData.length > 0
                && !document.querySelector('[data-dash-is-loading="true"]');
        }""",
        arg=[index, PLOT],
        timeout=60_000,
    )


def test_no_text_on_a_slide_is_smaller_than_24_px_and_key_figures_are_larger(page_factory, app_url):
    page = page_factory(1920, 1080)
    offenders: list[str] = []
    for index in range(1, FORUM_SLIDES + 1):
        page.goto(f"{app_url}/present?deck=forum&lang=en&slide={index}")
        slide_ready(page, index)
        texts = page.evaluate(VISIBLE_TEXTS, "#present-slide")
        assert texts, f"slide {index} shows no text"
        offenders += [
            f"slide {index}: {x['tag']} {x['size']}px {x['text']!r}"
            for x in texts
            if x["size"] < PROJECTOR_FONT - 0.5
        ]
        if index == PILOT_SLIDE:
            did = t("traffic.pilot.summary.did", "en", did="").split(":")[0]
            key = [x["size"] for x in texts if x["text"].startswith(did)]
            assert key and min(key) >= KEY_FIGURE_FONT - 0.5, key
            takeaway = page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('#present-takeaway')).fontSize)"
            )
            assert takeaway > PROJECTOR_FONT
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_kpi_values_fit_their_cards_and_no_card_is_alone_in_a_row(
    page_factory, app_url, width, height, lang
):
    page = page_factory(width, height)
    page.goto(f"{app_url}/?lang={lang}")  # the overview: traffic and ecology cards
    page.wait_for_function(  # every block of cards filled in (no placeholder left)
        """() => document.querySelectorAll('.kpi-card').length > 0
            && !document.querySelector('.kpi-placeholder')""",
        timeout=90_000,
    )
    cards = page.evaluate(
        """() => [...document.querySelectorAll('.kpi-card')].map(card => {
            const value = card.querySelector('.kpi-value');
            const box = card.getBoundingClientRect();
            const number = card.querySelector('.kpi-number').getBoundingClientRect();
            const unit = card.querySelector('.kpi-unit').getBoundingClientRect();
            const rows = [...document.querySelectorAll('.kpi-row')];
            return {
                text: value.textContent, row: rows.indexOf(card.parentElement),
                top: Math.round(box.top), scroll: value.scrollWidth, client: value.clientWidth,
                inside: number.right <= box.right + 0.5 && unit.right <= box.right + 0.5,
            };
        })"""
    )
    assert cards
    spilled = [c["text"] for c in cards if c["scroll"] > c["client"] or not c["inside"]]
    assert not spilled, spilled
    lines: dict[int, dict[int, int]] = {}  # cards per line of each row of cards
    for card in cards:
        counts = lines.setdefault(card["row"], {})
        counts[card["top"]] = counts.get(card["top"], 0) + 1
    for counts in lines.values():
        per_line = list(counts.values())
        assert not (1 in per_line and max(per_line) > 1), f"cards per line: {per_line}"


def test_sdg_uses_the_width_of_a_1920_screen(page_factory, app_url):
    page = page_factory(1920, 1080)
    page.goto(f"{app_url}/sdg?lang=en")
    page.wait_for_selector(".sdg-card")
    width = page.evaluate("document.querySelector('.page-sdg').getBoundingClientRect().width")
    assert width >= 1700, width
