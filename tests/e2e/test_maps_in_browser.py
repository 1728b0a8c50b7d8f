"""The district map in the browser at projector size: every district's name written on the map
(SVG text) in the page's language, large enough to read, and a chosen district without readings
that keeps the map and says so."""

from __future__ import annotations

import pytest
from conftest import screenshot, wait_for_charts

from datasets.cities import builtin_city
from i18n import t

CITY = builtin_city()
CARD = "#card-traffic-district-map"
CHUNAN = 330127  # no detector of the demo city stands in it


def map_texts(page) -> list[dict]:
    """The text of the map's SVG labels with their font size in pixels, once drawn (a geo map
    draws after its figure arrives, when plotly has loaded the world outline it asks for)."""
    page.wait_for_function(
        f"document.querySelectorAll('{CARD} .scatterlayer text').length >= {len(CITY.districts)}"
    )
    return page.eval_on_selector_all(
        f"{CARD} .scatterlayer text",
        """nodes => nodes.map(n => ({
            text: n.textContent,
            size: parseFloat(getComputedStyle(n).fontSize),
        }))""",
    )


@pytest.mark.parametrize(("lang", "theme"), [("zh", "dark"), ("fr", "light")])
def test_the_district_map_names_every_district_in_the_page_language(
    page_factory, app_url, lang, theme
):
    page = page_factory(width=1920, height=1080)
    page.goto(f"{app_url}/traffic?from=2017-03-01&to=2017-03-31&lang={lang}&theme={theme}")
    wait_for_charts(page)
    labels = map_texts(page)
    screenshot_path = screenshot(page, f"maps-traffic-{lang}-{theme}")
    page.locator(CARD).screenshot(path=str(screenshot_path.with_name(f"maps-card-{lang}.png")))
    written = " ".join(label["text"] for label in labels)
    for name in CITY.district_names(lang).values():
        assert name in written, (name, written)
    assert "km/h" in written  # the districts with readings carry their speed
    assert min(label["size"] for label in labels) >= 14


def test_a_chosen_district_without_readings_keeps_the_map(page_factory, app_url):
    page = page_factory(width=1920, height=1080)
    page.goto(f"{app_url}/traffic?from=2017-03-01&to=2017-03-31&lang=en&district={CHUNAN}")
    wait_for_charts(page)
    card = page.locator(CARD)
    labels = map_texts(page)
    card.screenshot(path=str(screenshot(page, "maps-no-data").with_name("maps-card-no-data.png")))
    assert card.locator(".empty-state").is_hidden()
    name = CITY.district_names("en")[CHUNAN]
    note = t("traffic.map.no_readings", "en", districts=name)
    assert card.locator(".annotation-text", has_text=note).count() == 1
    assert len(labels) == len(CITY.districts)


# The boxes the browser gives every name written on a map (SVG text), once drawn.
NAME_BOXES = """(selector) => [...document.querySelectorAll(selector + ' .scatterlayer text')]
    .filter(n => n.textContent.trim())
    .map(n => {
        const b = n.getBoundingClientRect();
        return {text: n.textContent, x0: b.left, y0: b.top, x1: b.right, y1: b.bottom};
    })"""
SLIDE_GRAPH = "#present-graph .js-plotly-plot"
MAP_SLIDES = (4, 5)  # the district map, and the day playback drawn on it


def touching(boxes: list[dict]) -> list[str]:
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            dy = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if dx > 0.5 and dy > 0.5:
                out.append(f"{a['text']!r} meets {b['text']!r}")
    return out


@pytest.mark.parametrize(
    ("width", "height", "lang"), [(1920, 1080, "en"), (1366, 768, "en"), (1366, 768, "zh")]
)
def test_no_two_district_names_meet_on_a_card_or_a_slide(
    page_factory, app_url, width, height, lang
):
    page = page_factory(width=width, height=height)
    page.goto(f"{app_url}/traffic?from=2017-03-01&to=2017-03-31&lang={lang}")
    wait_for_charts(page)
    map_texts(page)
    problems = [f"card: {p}" for p in touching(page.evaluate(NAME_BOXES, CARD))]
    for index in MAP_SLIDES:
        page.goto(f"{app_url}/present?deck=forum&lang={lang}&slide={index}")
        page.wait_for_function(
            f"document.querySelectorAll('{SLIDE_GRAPH} .scatterlayer text').length > 0",
            timeout=60_000,
        )
        page.wait_for_timeout(500)  # the geo layer draws its names after the world outline
        boxes = page.evaluate(NAME_BOXES, SLIDE_GRAPH)
        assert len(boxes) >= len(CITY.districts) // 2, boxes
        problems += [f"slide {index}: {p}" for p in touching(boxes)]
        screenshot(page, f"maps-slide-{index}-{width}-{lang}")
    assert not problems, "\n".join(problems)
