"""Chinese numeric axes keep 万/亿 when a viewer zooms in the browser (assets/axis_ticks.js): the
server's fixed ticks fall out of a zoomed range, and plotly.js alone would write "15k"."""

from __future__ import annotations

import re

from conftest import wait_for_charts

# The first graph with an axis the server labelled in 万 or 亿, its axis name and top tick.
FIND_COMPACT_AXIS = """() => {
  for (const card of document.querySelectorAll('.chart-card')) {
    const gd = card.querySelector('.js-plotly-plot');
    if (!gd || !gd.layout) continue;
    for (const name of Object.keys(gd.layout)) {
      const axis = gd.layout[name];
      if (/^yaxis\\d*$/.test(name) && axis && Array.isArray(axis.ticktext)
          && axis.ticktext.some(text => /[万亿]/.test(text))) {
        return {card: card.id, axis: name, top: Math.max(...axis.tickvals)};
      }
    }
  }
  return null;
}"""

UNITS = {"万": 1e4, "亿": 1e8}


def tick_labels(page, card: str, axis: str) -> list[str]:
    letter_id = axis[0] + axis[5:]  # "yaxis2" -> "y2": plotly's tick group class
    return page.evaluate(
        """([card, id]) => [...document.querySelectorAll(`#${card} .${id}tick text`)]
            .map(t => t.textContent)""",
        [card, letter_id],
    )


def value_of(label: str) -> float:
    match = re.fullmatch(r"(-?[\d.]+)([万亿]?)", label)
    assert match, label
    return float(match.group(1)) * UNITS.get(match.group(2), 1)


def test_a_zoomed_chinese_axis_is_labelled_in_wan(page, app_url):
    page.goto(app_url + "/traffic?lang=zh")
    wait_for_charts(page)
    page.wait_for_load_state("networkidle")
    found = page.evaluate(FIND_COMPACT_AXIS)
    assert found, "no chart on /traffic?lang=zh has an axis labelled in 万"
    card, axis = found["card"], found["axis"]
    # above every tick the server placed: what is shown there is plotly.js's or the script's
    low, high = found["top"] * 1.2, found["top"] * 1.8
    page.evaluate(
        """([card, axis, low, high]) => Plotly.relayout(
            document.querySelector(`#${card} .js-plotly-plot`),
            {[axis + '.range']: [low, high]})""",
        [card, axis, low, high],
    )
    page.wait_for_function(
        """([card, id]) => {
            const texts = [...document.querySelectorAll(`#${card} .${id}tick text`)];
            return texts.length >= 3 && texts.every(t => /[万亿]/.test(t.textContent));
        }""",
        arg=[card, axis[0] + axis[5:]],
        timeout=10_000,
    )
    labels = tick_labels(page, card, axis)
    assert not any(re.search(r"[kKMG]", label) for label in labels), labels
    values = [value_of(label) for label in labels]
    assert all(low <= v <= high for v in values), (labels, low, high)
    assert values == sorted(values) and len(set(values)) == len(values), labels
