"""Take a deck home: one self-contained HTML file, or a PDF with one slide per page.

Both start from the same slides the screen shows (`components.slides.render_slide`, i.e. the
dashboard's `render(chart, ctx)`).

- HTML: plotly.js (the app's own bundle, `assets/vendor`, with the world outline its maps load),
  the app's CSS, `assets/present.js` and the deck's
  figures as JSON, all inline: it opens from a USB stick with no server and no network, with the
  same keyboard controls (the slide number goes in the `#hash`).
- PDF: each slide becomes a 1600×900 figure (title, takeaway and sources drawn into it, playback
  controls left out), rendered by kaleido with the system Chromium, and the pages are joined with
  pypdf. Each PDF starts its own Chromium and closes it when it is done, fails or is cancelled (a
  `progress` call that raises stops it between two pages): none stays alive between exports.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import html
import io
import json
import os
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from plotly.io.json import to_json_plotly

from datasets.decks import Deck
from i18n import t

from .charts import graph_config
from .slides import ContextFactory, SlideView, deck_title, render_slide, still
from .theme import PALETTE

FORMATS = ("html", "pdf")
MIMETYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
ASSETS = Path(__file__).resolve().parents[1] / "assets"
PLOTLY_JS = ASSETS / "vendor" / "plotly.min.js"
TOPOJSON = ASSETS / "topojson"
GEO_TRACES = {"choropleth", "scattergeo"}
PAGE_WIDTH, PAGE_HEIGHT = 1600, 900
TOP_PX = 150  # room for the title above the chart
# Below the chart, from top to bottom: its tick labels and axis title, the takeaway, the sources.
AXIS_PX = 76
TAKEAWAY_PX, SOURCE_PX = 26, 18  # font sizes: read from the back of a room, printed
LINE_HEIGHT = 1.3  # of a plotly annotation's lines, in font sizes
GAP_PX = 12
SIDE_PX = 56  # the page's left and right text edges

PAGE_TIMEOUT_S = 60  # one slide printed by Chromium; beyond that the export fails

Progress = Callable[[int, int], None]


def language_tag(lang: str) -> str:
    """The BCP 47 tag of an app language, for the HTML file and the PDF: Chinese is written in
    simplified characters."""
    return "zh-Hans" if lang == "zh" else lang


def filename(deck: str, lang: str, fmt: str) -> str:
    return f"citylens-{deck}-{lang}.{fmt}"


def render_views(
    deck: Deck,
    lang: str,
    theme: str,
    make_context: ContextFactory,
    progress: Progress | None = None,
    total: int | None = None,
) -> list[SlideView]:
    views = []
    count = len(deck.slides)
    for i in range(1, count + 1):
        views.append(render_slide(deck, i, lang, theme, make_context))
        if progress:
            progress(i, total or count)
    return views


def export_deck(
    deck: Deck,
    fmt: str,
    lang: str,
    theme: str,
    make_context: ContextFactory,
    progress: Progress | None = None,
) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    count = len(deck.slides)
    if fmt == "html":
        views = render_views(deck, lang, theme, make_context, progress)
        return build_html(views, deck_title(deck, lang), lang, theme).encode("utf-8")
    views = render_views(deck, lang, theme, make_context, progress, total=2 * count)

    def page_done(i: int, _n: int) -> None:
        if progress:
            progress(count + i, 2 * count)

    return build_pdf(views, lang, theme, deck_title(deck, lang), page_done)


# -- HTML -----------------------------------------------------------------------------------------


def _script_json(value) -> str:
    """JSON that is safe inside a <script> element."""
    return to_json_plotly(value).replace("</", "<\\/").replace("<!--", "<\\!--")


def _inline_script(source: str) -> str:
    return source.replace("</script", "<\\/script")


def _plotly_scripts(views: list[SlideView]) -> str:
    """plotly.js, and the world outline plotly loads for a map, inline: the file works offline."""
    scripts = [PLOTLY_JS.read_text(encoding="utf-8")]
    if any(trace.get("type") in GEO_TRACES for v in views for trace in v.figure["data"]):
        world = (TOPOJSON / "world_110m.json").read_text(encoding="utf-8")
        scripts.insert(0, f"window.PlotlyGeoAssets = {{topojson: {{world_110m: {world}}}}};")
    return "".join(f"<script>{_inline_script(script)}</script>" for script in scripts)


def build_html(views: list[SlideView], title: str, lang: str, theme: str) -> str:
    deck = {
        "title": title,
        "lang": lang,
        "theme": theme,
        "config": {**graph_config(lang, "citylens-slide"), "displayModeBar": "hover"},
        "slides": [view.to_json() for view in views],
        "messages": {
            key: t(f"present.js.{key}", lang)
            for key in ("paused", "playing", "exporting", "export_done", "export_failed", "jump")
        },
    }
    css = (ASSETS / "citylens.css").read_text(encoding="utf-8") + (
        ASSETS / "present.css"
    ).read_text(encoding="utf-8")
    player = (ASSETS / "present.js").read_text(encoding="utf-8")
    body_class = f"present-mode present-export theme-{theme}" + (
        " present-light" if theme == "light" else ""
    )
    hint = html.escape(t("present.keys_help", lang))
    buttons = "".join(
        f'<button class="btn present-btn" data-present-action="{action}" '
        f'title="{html.escape(t(key, lang))}" aria-label="{html.escape(t(key, lang))}">'
        f"{label}</button>"
        for label, action, key in (
            ("⇤", "first", "present.key.first"),
            ("◀", "prev", "present.key.prev"),
            ("▶", "next", "present.key.next"),
            ("▮▮", "pause", "present.key.pause"),
            ("⤢", "fullscreen", "present.key.fullscreen"),
            ("✎", "notes", "present.key.notes"),
        )
    )
    html_lang = language_tag(lang)
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="CityLens">
<title>{html.escape(title)}</title>
<style>{css}</style>
{_plotly_scripts(views)}
</head>
<body class="{body_class}">
<div id="present-root" class="present-root" data-role="export" data-count="{len(views)}"
 data-kiosk="0" data-advance="0" data-theme="{theme}" data-lang="{lang}">
<div class="present-stage"><div class="present-slide" id="present-slide">
<div class="present-top"><span id="present-section" class="present-section"></span>
<span id="present-counter" class="present-counter"></span></div>
<h1 id="present-title" class="present-title"></h1>
<div class="present-chart"><div id="present-graph" class="present-graph"></div>
<div id="present-empty" class="empty-state" role="status" hidden></div></div>
<p id="present-takeaway" class="present-takeaway"></p>
<div id="present-sources" class="present-sources"></div>
</div></div>
<div class="present-toolbar" id="present-toolbar">{buttons}
<span id="present-status" class="present-status" role="status"></span>
<span class="present-spacer"></span><span class="present-help muted">{hint}</span></div>
<aside id="present-notes" class="present-notes-panel" hidden></aside>
<div id="present-jump" class="present-jump" hidden></div>
</div>
<script type="application/json" id="present-deck">{_script_json(deck)}</script>
<script>{_inline_script(player)}</script>
<script>window.CityLensPresent.standalone(
  JSON.parse(document.getElementById("present-deck").textContent));</script>
</body>
</html>
"""


# -- PDF ------------------------------------------------------------------------------------------


def _wrap(text: str, width: int) -> list[str]:
    """The lines of a plotly annotation (which does not wrap by itself), at most `width`
    characters each; text without spaces (Chinese) is cut anywhere."""
    if " " not in text.strip():
        return [text[i : i + width] for i in range(0, len(text), width)] or [""]
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def _line_width(size: int, lang: str, bold: bool = False) -> int:
    """How many characters of `size` px fit on a line across the page, with room to spare (an
    average Latin glyph is 0.55 em wide, 0.6 em in bold; a Chinese one a whole em)."""
    em = 1.0 if lang == "zh" else 0.6 if bold else 0.55
    return int((PAGE_WIDTH - 2 * SIDE_PX) / (size * em) * 0.92)


def _text(text: str, x: float, y: float, size: int, colour: str, **props) -> dict:
    """A text annotation in paper coordinates."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "showarrow": False,
        "font": {"size": size, "color": colour},
        **props,
    }


def _page_lines(view: SlideView, lang: str) -> tuple[list[str], list[str]]:
    """The takeaway's and the sources' lines, as wrapped on the page."""
    takeaway = _wrap(view.takeaway, _line_width(TAKEAWAY_PX, lang, bold=True))
    sources = [
        line for source in view.sources for line in _wrap(source, _line_width(SOURCE_PX, lang))
    ]
    return (takeaway if view.takeaway else []), sources


def _page_margin(margin: dict | None, takeaway: list[str], sources: list[str]) -> dict:
    """The chart's margins on the page: the title above, and below, measured from the text it
    holds (the chart's tick labels and axis title, then the takeaway's lines, then the
    sources' lines), so none of them meet."""
    takeaway_px = len(takeaway) * TAKEAWAY_PX * LINE_HEIGHT
    sources_px = len(sources) * SOURCE_PX * LINE_HEIGHT
    margin = dict(margin or {})
    margin.update(
        t=TOP_PX + int(margin.get("t", 16) or 16),
        b=AXIS_PX + int(takeaway_px) + int(sources_px) + 2 * GAP_PX,
        l=max(margin.get("l", SIDE_PX) or 0, SIDE_PX),
        r=max(margin.get("r", SIDE_PX) or 0, SIDE_PX),
    )
    return margin


def _page_notes(
    view: SlideView, lang: str, theme: str, margin: dict, takeaway: list[str], sources: list[str]
) -> list[dict]:
    """What the page writes around the chart: section and counter above it, the takeaway and
    the sources under it, the empty-state message across it."""
    text = PALETTE[theme]["text"]
    plot_height = PAGE_HEIGHT - margin["t"] - margin["b"]
    plot_width = PAGE_WIDTH - margin["l"] - margin["r"]
    page_left = -(margin["l"] - SIDE_PX) / plot_width  # paper x of the page's left text edge
    top = f"{html.escape(view.section)}    " if view.section else ""
    counter = top + t("present.counter", lang, index=view.index, count=view.count)
    notes = [
        _text(
            counter,
            1 + (margin["r"] - SIDE_PX) / plot_width,
            1 + (margin["t"] - 20) / plot_height,
            SOURCE_PX,
            text,
            xanchor="right",
            yanchor="top",
        )
    ]
    under = {"xanchor": "left", "align": "left"}
    if takeaway:
        lines = "<br>".join(f"<b>{html.escape(line)}</b>" for line in takeaway)
        colour = "#56b4e9" if theme == "dark" else "#0072b2"
        y = -(AXIS_PX + GAP_PX) / plot_height
        notes.append(_text(lines, page_left, y, TAKEAWAY_PX, colour, yanchor="top", **under))
    if sources:
        lines = "<br>".join(html.escape(line) for line in sources)
        colour = "#4b5563" if theme == "light" else "#9ca3af"
        y = -(margin["b"] - GAP_PX) / plot_height
        notes.append(_text(lines, page_left, y, SOURCE_PX, colour, yanchor="bottom", **under))
    if view.message:
        notes.append(_text(html.escape(view.message), 0.5, 0.5, 26, text))
    return notes


def pdf_figure(view: SlideView, lang: str, theme: str) -> dict:
    """A slide as one static 16:9 figure: section and counter, title, chart, takeaway, sources."""
    fig = copy.deepcopy(still(view.figure))
    layout = fig.setdefault("layout", {})
    colours = PALETTE[theme]
    takeaway, sources = _page_lines(view, lang)
    margin = _page_margin(layout.get("margin"), takeaway, sources)
    layout.update(
        width=PAGE_WIDTH,
        height=PAGE_HEIGHT,
        autosize=False,
        margin=margin,
        paper_bgcolor=colours["paper"],
        title={
            "text": f"<b>{html.escape(view.title)}</b>",
            "x": SIDE_PX / PAGE_WIDTH,
            "xanchor": "left",
            "y": 1 - 52 / PAGE_HEIGHT,
            "yanchor": "top",
            "yref": "container",
            "font": {"size": 34, "color": colours["text"]},
        },
    )
    notes = _page_notes(view, lang, theme, margin, takeaway, sources)
    layout["annotations"] = [*(layout.get("annotations") or []), *notes]
    return fig


def _page_generator():
    """Kaleido's page without a page margin: kaleido asks Chromium to print with 0.1 inch
    margins, left white around the figure (a frame glaring around a dark slide); a CSS
    `@page` margin wins over those, since kaleido prints with `preferCSSPageSize`."""
    import kaleido

    class FlushPage(kaleido.PageGenerator):
        header = kaleido.PageGenerator.header + "<style>@page { margin: 0; }</style>\n"

    return FlushPage(mathjax=False)


def _describe(writer, title: str, lang: str) -> None:
    """Title (shown by viewers in place of the file name), author, subject and language."""
    from pypdf.generic import NameObject, TextStringObject

    writer.add_metadata(
        {
            "/Title": title,
            "/Author": "CityLens",
            "/Subject": t("present.pdf.subject", lang, title=title),
            "/Creator": "CityLens",
        }
    )
    writer.create_viewer_preferences()
    writer.viewer_preferences.display_doctitle = True
    writer._root_object[NameObject("/Lang")] = TextStringObject(language_tag(lang))


async def _print_pages(
    views: list[SlideView], lang: str, theme: str, title: str, progress: Progress | None
) -> bytes:
    import kaleido
    from pypdf import PdfWriter

    writer = PdfWriter()
    chromium = kaleido.Kaleido(n=1, timeout=PAGE_TIMEOUT_S, page_generator=_page_generator())
    try:
        async with chromium:
            for i, view in enumerate(views, start=1):
                page = await chromium.calc_fig(
                    pdf_figure(view, lang, theme),
                    opts={"format": "pdf", "width": PAGE_WIDTH, "height": PAGE_HEIGHT},
                    topojson=TOPOJSON.as_uri() + "/",
                )
                writer.append(io.BytesIO(page))
                if progress:
                    progress(i, len(views))
    finally:
        _stop_group(getattr(chromium, "subprocess", None))
    _describe(writer, title, lang)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stop_group(process: subprocess.Popen | None) -> None:
    """Kill what is left of Chromium's process group: kaleido's close can return while helpers
    (renderers, zygotes) still run, and the next export must not start beside them. Kaleido
    starts Chromium in a session of its own, so the group is Chromium's alone."""
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def build_pdf(
    views: list[SlideView], lang: str, theme: str, title: str, progress: Progress | None = None
) -> bytes:
    """One PDF page per slide, printed by a Chromium that lives as long as this call."""
    pages = _print_pages(views, lang, theme, title, progress)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(pages)
    # A caller already inside an event loop (Playwright's sync API keeps one in its thread)
    # cannot start another there: the pages are printed from a thread of their own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, pages).result()


def deck_json_of(html_text: str) -> dict:
    """The deck embedded in an exported HTML file (for tests and tooling)."""
    found = re.search(
        r'<script type="application/json" id="present-deck">(.*?)</script>', html_text, re.S
    )
    if not found:
        raise ValueError("no deck in this file")
    return json.loads(found.group(1).replace("<\\/", "</").replace("<\\!--", "<!--"))
