"""The forecast cards in a real browser: /ecology and /traffic draw their forecast with the 95 %
and 80 % bands, the line where the forecast starts (the end of the chosen period) and what
followed, and write the skill on the chart."""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS, wait_for_charts

from components.figures.forecast import START_SHAPE
from i18n import t

PERIOD = "from=2017-10-01&to=2017-10-31"

# The roles of the drawn traces (their `meta`), the forecast-start lines and the texts on top.
DRAWN = """([cid, start]) => {
    const gd = document.querySelector(`#card-${cid} .js-plotly-plot`);
    return {
        roles: gd._fullData.map(tr => tr.meta),
        filled: gd._fullData.filter(tr => tr.fill === 'toself' && tr.y.length > 0).length,
        starts: (gd._fullLayout.shapes || []).filter(s => s.name === start).map(s => String(s.x0)),
        texts: (gd._fullLayout.annotations || []).map(a => a.text),
        title: document.querySelector(`#title-${cid}`).textContent,
    };
}"""


@pytest.mark.parametrize(
    ("path", "chart", "title", "panels"),
    [
        ("/ecology", "eco-forecast", "forecast.chart.air", 1),
        ("/traffic", "traffic-forecast", "forecast.chart.traffic", 2),
    ],
)
def test_forecast_cards_draw_their_bands_start_and_skill(page, app_url, path, chart, title, panels):
    page.goto(f"{app_url}{path}?lang=en&{PERIOD}")
    page.locator(f"#card-{chart}").scroll_into_view_if_needed()
    wait_for_charts(page)
    drawn = page.evaluate(DRAWN, [chart, START_SHAPE])
    assert drawn["title"] == t(title, "en")
    assert drawn["filled"] >= 2 * panels  # a 95 % and an 80 % band per panel at least
    assert drawn["roles"].count("band95") == drawn["roles"].count("band80") >= panels
    assert drawn["roles"].count("actual") >= panels  # October is cut: November followed
    assert drawn["starts"] and all(x.startswith("2017-11-01") for x in drawn["starts"])
    assert any("MASE" in text for text in drawn["texts"])
    assert any(t("forecast.synthetic", "en") in text for text in drawn["texts"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(f"#card-{chart}").screenshot(path=str(ARTIFACTS / f"forecast-{chart}.png"))
