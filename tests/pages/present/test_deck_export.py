"""Slides rendered like the dashboard, and the exports built from them (HTML, PDF)."""

from __future__ import annotations

import io
import re

import pytest
from plotly.io.json import to_json_plotly
from pypdf import PdfReader

import pages.ecology  # registers the ecology charts
import pages.traffic  # noqa: F401  (registers the traffic charts)
from components import export
from components.charts import REGISTRY, ChartContext, render
from components.evidence import ci_text, effect_text
from components.routing import filters_data, filters_from_data
from components.slides import EVALUATION, PROJECTOR_FONT, deck_title, render_slide
from components.state import ViewState
from components.theme import PALETTE
from datasets.decks import Deck, Slide, forum_deck
from datasets.evidence.evaluate import evaluate
from datasets.evidence.interventions import pilot_intervention
from i18n import t


@pytest.fixture(scope="module")
def make_context(demo_workspace, demo_city):
    def make(filters: dict, ui: dict, option):
        return ChartContext(
            lang=ui.get("lang", "en"),
            theme=ui.get("theme", "light"),
            city=demo_city,
            option=option,
            page_options=filters.get("options") or {},
            engine=demo_workspace.engine,
            filters=filters_from_data(filters),
        )

    return make


SMALL = Deck(
    name="small",
    title="Small deck",
    slides=(
        Slide(
            chart="traffic-volume-speed",
            query="?from=2017-03-01&to=2017-03-31",
            option="week",
            title="March",
            takeaway="Flow and speed",
            notes="say it",
        ),
        Slide(chart="present-speed-day", query="?from=2017-11-01&to=2017-11-30"),
        Slide(chart="no-such-chart"),
    ),
)


def test_a_slide_figure_is_the_dashboards_figure(make_context):
    view = render_slide(SMALL, 1, "fr", "dark", make_context)
    state = ViewState.from_query(SMALL.slides[0].query)
    ctx = make_context(filters_data(state), {"lang": "fr", "theme": "dark"}, "week")
    dashboard, _message, _hidden = render(REGISTRY["traffic-volume-speed"], ctx)
    assert to_json_plotly(view.figure["data"]) == to_json_plotly(dashboard["data"])
    assert view.figure["layout"]["font"]["size"] == PROJECTOR_FONT  # projector type, same data
    assert view.title == "March" and view.takeaway == "Flow and speed" and view.notes == "say it"
    assert (view.index, view.count) == (1, 3)
    assert any("synthetic" in line or "synthétique" in line for line in view.sources)


def test_the_day_playback_has_24_hourly_frames_on_one_colour_scale(make_context):
    view = render_slide(SMALL, 2, "en", "dark", make_context)
    frames = view.figure["frames"]
    assert view.animated and [f["name"] for f in frames] == [f"{h:02d}:00" for h in range(24)]
    data = view.figure["data"]
    ground = data[0]
    choropleths = [i for i, t in enumerate(data) if t["type"] == "choropleth"]
    labels = [i for i, t in enumerate(data) if t["type"] == "scattergeo" and t["mode"] == "text"]
    trace = data[choropleths[-1]]
    assert trace["zauto"] is False and trace["zmin"] < trace["zmax"]
    # the frames colour the data and rewrite the names' values, never the ground
    assert all(f["traces"] == [choropleths[-1], labels[-1]] for f in frames)
    assert all(len(f["data"][0]["z"]) == len(trace["locations"]) for f in frames)
    assert len(ground["locations"]) >= len(trace["locations"])
    shown = {f["name"]: f["data"][1]["text"] for f in frames}
    assert shown["03:00"] != shown["08:00"], "the values under the names follow the hour"
    assert len(shown["08:00"]) == len(data[labels[-1]]["text"])
    slider = view.figure["layout"]["sliders"][0]
    assert slider["active"] == 8 and len(slider["steps"]) == 24
    labels = [b["label"] for b in view.figure["layout"]["updatemenus"][0]["buttons"]]
    assert labels == ["▶ Play", "▮▮ Pause"]


def test_the_year_playback_reveals_the_daily_aqi_week_by_week(make_context):
    deck = Deck("y", "y", (Slide(chart="present-aqi-year"),))
    view = render_slide(deck, 1, "zh", "dark", make_context)
    frames = view.figure["frames"]
    assert 50 <= len(frames) <= 54
    first = sum(len(tr["x"]) for tr in frames[0]["data"])
    last = sum(len(tr["x"]) for tr in frames[-1]["data"])
    assert first <= 7 < last
    shown = sum(len(tr["x"]) for tr in view.figure["data"] if tr.get("x") is not None)
    assert last == shown  # the last frame is the still picture: the whole year
    assert view.figure["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ 播放"


def test_an_unknown_chart_says_so_instead_of_failing(make_context):
    view = render_slide(SMALL, 3, "es", "dark", make_context)
    assert view.message == t("present.unknown_chart", "es", chart="no-such-chart")
    assert view.figure["data"] == []


def test_slide_numbers_are_clamped(make_context):
    assert render_slide(SMALL, 99, "en", "dark", make_context).index == 3
    assert render_slide(SMALL, 0, "en", "dark", make_context).index == 1


def test_the_html_export_is_self_contained(make_context):
    views = export.render_views(SMALL, "fr", "dark", make_context)
    page = export.build_html(views, "Petite présentation", "fr", "dark")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    library = export._inline_script(export.PLOTLY_JS.read_text(encoding="utf-8"))
    assert library in page and "plotly.js v" in library  # the library itself is inline
    # the day playback is a map: the world outline plotly loads for it travels with the file
    assert page.index("window.PlotlyGeoAssets = {topojson: {world_110m: {") < page.index(library)
    # nothing else refers to the network: no src/href to an address, no @import, no fetch
    rest = page.replace(library, "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", rest)
    assert "@import" not in rest and "<link" not in rest and "<script src" not in rest
    assert "window.CityLensPresent.standalone(" in page and "function onKey" in page
    deck = export.deck_json_of(page)
    assert [s["title"] for s in deck["slides"]][:1] == ["March"]
    assert deck["slides"][1]["figure"]["frames"]  # the playback travels with the file
    assert deck["config"]["locale"] == "fr" and deck["messages"]["paused"]
    # the JSON cannot end the script element early
    body = page.split('id="present-deck">', 1)[1].split("</script>", 1)[0]
    assert "</" not in body


def test_the_html_export_of_the_forum_deck_has_every_slide(make_context):
    data = export.export_deck(forum_deck(), "html", "zh", "dark", make_context)
    deck = export.deck_json_of(data.decode("utf-8"))
    assert len(deck["slides"]) == len(forum_deck().slides)
    assert deck["slides"][0]["title"] == t("present.slide.council.title", "zh")
    assert all(s["figure"]["data"] for s in deck["slides"])


def test_a_pdf_page_is_a_static_16_9_slide(make_context):
    view = render_slide(SMALL, 2, "en", "dark", make_context)
    fig = export.pdf_figure(view, "en", "dark")
    layout = fig["layout"]
    assert (layout["width"], layout["height"]) == (1600, 900)
    assert "frames" not in fig and "sliders" not in layout and "updatemenus" not in layout
    assert layout["title"]["text"] == f"<b>{view.title}</b>"
    texts = [a["text"] for a in layout["annotations"]]
    assert any("2 / 3" in text for text in texts)
    assert "frames" in view.figure  # the slide itself is left as it was


def test_the_pdf_has_one_page_per_slide(make_context):
    progress = []
    deck = Deck("two", "Two", SMALL.slides[:2])
    data = export.export_deck(
        deck, "pdf", "zh", "dark", make_context, lambda done, total: progress.append((done, total))
    )
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert abs(width / height - 16 / 9) < 0.01
    assert progress[-1] == (4, 4) and progress == sorted(progress)


def test_unknown_formats_are_refused(make_context):
    with pytest.raises(ValueError, match="unknown export format"):
        export.export_deck(SMALL, "pptx", "en", "dark", make_context)
    assert export.filename("forum", "fr", "pdf") == "citylens-forum-fr.pdf"


def _lines_of(view, lang: str) -> list[str]:
    """The texts the PDF page lays out around the chart, line by line as printed."""
    takeaway = export._wrap(view.takeaway, export._line_width(export.TAKEAWAY_PX, lang, True))
    sources = [
        line
        for source in view.sources
        for line in export._wrap(source, export._line_width(export.SOURCE_PX, lang))
    ]
    return [view.title, *(takeaway if view.takeaway else []), *sources]


@pytest.fixture(scope="module")
def forum_pdf(make_context) -> bytes:
    """The forum deck printed in English on the dark theme (one Chromium run for the tests)."""
    return export.export_deck(forum_deck(), "pdf", "en", "dark", make_context)


def test_pdf_pages_are_titled_framed_dark_and_their_texts_do_not_collide(make_context, forum_pdf):
    """Measured on the printed PDF: pdfplumber finds each of the page's own lines (title,
    takeaway, sources: whole, so not cut) and the box of every word; none of these lines may
    run off the page or touch a word that is not its own (the chart's axis titles, tick labels,
    legends). pypdfium2 renders the page to check its corners are the dark slide's colour."""
    import pdfplumber
    import pypdfium2

    deck = forum_deck()
    data = forum_pdf
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == deck_title(deck, "en")
    assert reader.metadata.author == "CityLens" and reader.metadata.subject
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]

    views = [render_slide(deck, i, "en", "dark", make_context) for i in range(1, 16)]
    problems = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, (page, view) in enumerate(zip(pdf.pages, views, strict=True), start=1):
            words = page.extract_words(extra_attrs=["upright"])
            below = 0.0  # the lines come from the top down: each is found under the last one
            for line in _lines_of(view, "en"):
                found = [m for m in page.search(line, regex=False) if m["top"] >= below - 0.5]
                if not found:
                    problems.append(f"page {number}: not printed whole: {line!r}")
                    continue
                box = found[0]
                below = box["bottom"]
                if box["x0"] < 0 or box["x1"] > page.width or box["bottom"] > page.height:
                    problems.append(f"page {number}: off the page: {line!r}")
                for word in words:
                    inside = (
                        word["x0"] >= box["x0"] - 0.5
                        and word["x1"] <= box["x1"] + 0.5
                        and word["top"] >= box["top"] - 0.5
                        and word["bottom"] <= box["bottom"] + 0.5
                    )
                    dx = min(word["x1"], box["x1"]) - max(word["x0"], box["x0"])
                    dy = min(word["bottom"], box["bottom"]) - max(word["top"], box["top"])
                    if not inside and dx > 1 and dy > 1:
                        problems.append(f"page {number}: {line!r} meets {word['text']!r}")
    assert not problems, "\n".join(problems)

    paper = tuple(int(PALETTE["dark"]["paper"][i : i + 2], 16) for i in (1, 3, 5))
    document = pypdfium2.PdfDocument(data)
    for index in (0, 6, 10):
        image = document[index].render(scale=1).to_pil().convert("RGB")
        width, height = image.size
        corners = [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]
        assert all(image.getpixel(xy) == paper for xy in corners), f"white frame, page {index + 1}"


def _overlap(a: dict, b: dict) -> float:
    """The area two word boxes of pdfplumber share (0 when they are apart)."""
    dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
    dy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return dx * dy if dx > 0 and dy > 0 else 0.0


def test_no_two_tick_labels_of_a_printed_chart_touch(make_context, forum_pdf):
    """Every page of the forum deck that draws axes, and the headline KPIs, as printed: no word
    (tick label, axis title, legend entry, note, figure, change) touches another, none runs off
    the page. Measured on the words
    pdfplumber finds, upright ones (a vertical axis title is printed letter by letter)."""
    import pdfplumber

    from components.figures.axes import axis_keys

    deck = forum_deck()
    views = [render_slide(deck, i, "en", "dark", make_context) for i in range(1, 16)]
    charts = [number for number, view in enumerate(views, start=1) if axis_keys(view.figure)]
    assert len(charts) >= 8  # the rhythm, pilot, emergency, incidents, AQI, NO2 … slides
    kpis = [n for n, slide in enumerate(deck.slides, start=1) if slide.chart == "present-kpis"]
    assert kpis  # the headline figures with their change: large numbers, small deltas
    problems = []
    with pdfplumber.open(io.BytesIO(forum_pdf)) as pdf:
        for number in sorted({*charts, *kpis}):
            page = pdf.pages[number - 1]
            words = [w for w in page.extract_words(extra_attrs=["upright"]) if w["upright"]]
            for i, word in enumerate(words):
                if word["x0"] < 0 or word["x1"] > page.width:
                    problems.append(f"page {number}: {word['text']!r} runs off the page")
                for other in words[i + 1 :]:
                    if _overlap(word, other) > 0.25:  # a quarter of a square point: touching
                        problems.append(f"page {number}: {word['text']!r} meets {other['text']!r}")
    assert not problems, "\n".join(problems)


def test_an_evaluation_slide_is_exported_with_its_effect_and_interval(
    make_context, demo_workspace, demo_city
):
    """The demo's signal pilot (the slide names no intervention) in both files: the effect and
    its interval in the HTML deck's figure, and printed on the PDF page."""
    ev = evaluate(demo_workspace, pilot_intervention(demo_workspace, demo_city))
    deck = Deck("evaluation", "Evaluation", (Slide(chart=EVALUATION.id),))
    document = export.export_deck(deck, "html", "en", "dark", make_context).decode("utf-8")
    (slide,) = export.deck_json_of(document)["slides"]
    text = " ".join(a["text"] for a in slide["figure"]["layout"]["annotations"])
    assert effect_text(ev, "en") in text and ci_text(ev, "en") in text
    printed = PdfReader(io.BytesIO(export.export_deck(deck, "pdf", "en", "dark", make_context)))
    words = "".join(printed.pages[0].extract_text().split())
    assert "".join(effect_text(ev, "en").split()) in words
    assert "".join(ci_text(ev, "en").split()) in words
