"""A slide rendered for a screen, a presenter view or a file, with the dashboard's own
`render(chart, ctx)` and projector-sized type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
from plotly.io.json import to_json_plotly

from datasets.catalog import CatalogError, Dataset
from datasets.decks import Deck, Slide
from datasets.query import QueryEngine
from i18n import t

from ..charts import REGISTRY, ChartContext, blank_figure, render
from ..explorer_view import DATASET_OPTION, EXPLORER, explorer_chart
from ..figures.axes import axis_keys
from ..figures.labels import fit_labels
from ..figures.plot import KEY_FIGURE
from ..routing import filters_data
from ..state import ViewState

# -- a slide, rendered ----------------------------------------------------------------------------

PROJECTOR_FONT = 24  # px: the smallest text legible from the back of a room at 1080p
KEY_FIGURE_FONT = 34  # px: a chart's key figure (KEY_FIGURE annotations), read first
TICK_STANDOFF = PROJECTOR_FONT // 2  # px between an x axis and its tick labels
# The smallest chart a slide shows (a 1366×768 screen, a long title and takeaway): a map's
# names are laid out for it, in projector type (`labels.fit_labels`).
SLIDE_GRAPH_PX = (960, 360)

ContextFactory = Callable[[dict, dict, str | None], ChartContext]


@dataclass(frozen=True)
class SlideView:
    """Everything a screen, a presenter view or an export shows of one slide."""

    index: int  # 1-based
    count: int
    chart: str
    title: str
    takeaway: str
    notes: str
    section: str  # translated name of the agenda part, or ""
    figure: dict
    message: str  # the empty-state message ("" when the figure has data)
    sources: tuple[str, ...]
    sdg: tuple[str, ...]
    animated: bool

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "count": self.count,
            "chart": self.chart,
            "title": self.title,
            "takeaway": self.takeaway,
            "notes": self.notes,
            "section": self.section,
            "figure": self.figure,
            "message": self.message,
            "sources": list(self.sources),
            "sdg": list(self.sdg),
            "animated": self.animated,
        }


def slide_text(slide: Slide, field_name: str, lang: str) -> str:
    raw = getattr(slide, field_name)
    if slide.keys and raw:
        return t(raw, lang)
    return raw


def deck_title(deck: Deck, lang: str) -> str:
    return t(deck.title, lang) if deck.builtin else deck.title


def slide_title(slide: Slide, lang: str) -> str:
    title = slide_text(slide, "title", lang)
    if title:
        return title
    if slide.chart == EXPLORER:
        return t("explorer.title", lang)
    chart = REGISTRY.get(slide.chart)
    return t(chart.title, lang) if chart else slide.chart


def _provenance(found: Dataset, lang: str) -> str:
    """source · licence · version · date · synthetic/real."""
    flag = t("data.synthetic" if found.meta.synthetic else "data.real", lang)
    licence = f" · {found.meta.licence}" if found.meta.licence else ""
    version = f"v{found.current_version} · {found.updated_at[:10]}"
    return f"{found.meta.source}{licence} · {version} · {flag}"


def source_line(found: Dataset, lang: str) -> str:
    """A dataset's provenance: title · source · licence · version · date · synthetic/real."""
    return f"{found.title(lang)} · {_provenance(found, lang)}"


def source_texts(engine: QueryEngine | None, city, kinds: tuple[str, ...], lang: str) -> tuple:
    """The datasets behind a chart (the dataset the slide draws: `engine.find` answers with a
    dataset chosen for it, else the kind's default), one line per provenance: datasets of the
    same source, licence, version, date and nature share a line ("A, B · source · …"), so a
    slide built on six datasets of one generator does not say it six times."""
    if engine is None:
        return ()
    titles: dict[str, list[str]] = {}
    for kind in kinds:
        found = engine.find(city.id, kind)
        if found is not None:
            titles.setdefault(_provenance(found, lang), []).append(found.title(lang))
    return tuple(f"{', '.join(names)} · {tail}" for tail, names in titles.items())


def explorer_slide(
    slide: Slide, ctx: ChartContext, make_context: ContextFactory
) -> tuple[dict, str, tuple[str, ...], str]:
    """An explorer view on a slide: (figure, empty-state message, source line, the dataset's
    title), drawn by the explorer's own `explorer_chart` from the view kept in the query, in the
    dataset's city (whose outlines a map draws) as the explorer draws it."""
    options = dict(ViewState.from_query(slide.query).options)
    dataset_id = options.pop(DATASET_OPTION, "")
    try:
        dataset = ctx.engine.catalog.get(dataset_id) if ctx.engine is not None else None
    except CatalogError:
        dataset = None
    if dataset is None:
        return blank_figure(ctx), t("explorer.missing", ctx.lang, id=dataset_id), (), ""
    if ctx.city is None or ctx.city.id != dataset.meta.city:
        ui = {"lang": ctx.lang, "theme": ctx.theme, "city": dataset.meta.city}
        ctx = make_context({}, ui, None)
    try:
        figure, note = explorer_chart(ctx.engine, dataset, options, ctx)
    except ValueError as exc:  # the explorer's queries raise DuckDB's refusals as QueryFailed
        figure, note = blank_figure(ctx), t("explorer.error", ctx.lang, error=str(exc)[:200])
    message = "" if figure.get("data") else note
    return figure, message, (source_line(dataset, ctx.lang),), dataset.title(ctx.lang)


def _raise_fonts(node, floor: int) -> None:
    """Every font size set in a figure part (tick labels, annotations, legend, trace text)
    raised to `floor` px at least, in place: a dashboard chart sets small ones (11 px notes)
    that a projector cannot carry. Lists of values are skipped, not walked."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("font") and isinstance(value, dict):
                size = value.get("size")
                if isinstance(size, int | float) and size < floor:
                    value["size"] = floor
            _raise_fonts(value, floor)
    elif isinstance(node, list) and node and isinstance(node[0], dict | list):
        for item in node:
            _raise_fonts(item, floor)


def projector(figure: dict) -> dict:
    """The dashboard figure with projector-sized type (a chart's key figure larger still);
    its traces and data are left as they are. Changes `figure` (a fresh copy: `as_sent`)."""
    layout = figure.setdefault("layout", {})
    layout["font"] = {**(layout.get("font") or {}), "size": PROJECTOR_FONT}
    _raise_fonts(figure, PROJECTOR_FONT)
    for note in layout.get("annotations") or []:
        if note.get("name") == KEY_FIGURE:
            note["font"] = {**(note.get("font") or {}), "size": KEY_FIGURE_FONT}
    _ticks_apart(figure)
    margin = layout.get("margin") or {}
    map_px = (
        SLIDE_GRAPH_PX[0] - margin.get("l", 0) - margin.get("r", 0),
        SLIDE_GRAPH_PX[1] - margin.get("t", 0) - margin.get("b", 0),
    )
    fit_labels(figure, map_px, PROJECTOR_FONT)
    layout.pop("height", None)
    layout["autosize"] = True
    return figure


def _ticks_apart(figure: dict) -> None:
    """The x tick labels moved down by half a line of projector type: the lowest y tick label
    is centred on the x axis, so at this size it reaches below the axis, where the first x
    tick label is written (the two zeros of a chart's corner would touch)."""
    layout = figure["layout"]
    for key in axis_keys(figure):
        axis = layout.setdefault(key, {})
        if key.startswith("xaxis") and isinstance(axis, dict):
            axis.setdefault("ticklabelstandoff", TICK_STANDOFF)


def as_sent(figure: dict) -> dict:
    """The figure as the dashboard's callback sends it: written by plotly's orjson path and
    read back. A freshly rendered figure holds numpy arrays; alone, orjson writes them as they
    are, but in a response that also holds Dash components (the slide's) plotly falls back to
    a walk in Python that spells times differently ("...T00:00:00.000000"), so the slide would
    not draw the dashboard's very data. Also a deep copy: the memoised figure stays as it is."""
    return orjson.loads(to_json_plotly(figure, engine="orjson"))


def still(figure: dict) -> dict:
    """The figure without its playback (frames, play button, slider): previews, print."""
    out = {k: v for k, v in figure.items() if k != "frames"}
    out["layout"] = {
        k: v for k, v in (figure.get("layout") or {}).items() if k not in ("updatemenus", "sliders")
    }
    return out


def slide_context(slide: Slide, lang: str, theme: str, make_context: ContextFactory):
    chart = REGISTRY.get(slide.chart)
    state = ViewState.from_query(slide.query)
    ui = {"lang": lang, "theme": theme, "city": state.city or ""}
    option = slide.option or (chart.default_option if chart else None)
    return chart, make_context(filters_data(state), ui, option)


def render_slide(
    deck: Deck, index: int, lang: str, theme: str, make_context: ContextFactory
) -> SlideView:
    """Slide `index` (1-based, clamped) of `deck` with its chart rendered by `render()`."""
    count = len(deck.slides)
    index = min(max(int(index), 1), max(count, 1))
    if not count:
        ctx = make_context({}, {"lang": lang, "theme": theme}, None)
        return SlideView(
            1,
            0,
            "",
            deck_title(deck, lang),
            t("present.empty_deck", lang),
            "",
            "",
            blank_figure(ctx),
            t("present.empty_deck", lang),
            (),
            (),
            False,
        )
    slide = deck.slides[index - 1]
    chart, ctx = slide_context(slide, lang, theme, make_context)
    title = slide_title(slide, lang)
    if slide.chart == EXPLORER:
        figure, message, sources, dataset_title = explorer_slide(slide, ctx, make_context)
        title = slide_text(slide, "title", lang) or dataset_title or title
        sdg = ()
    elif chart is None:
        figure, message = blank_figure(ctx), t("present.unknown_chart", lang, chart=slide.chart)
        sources, sdg = (), ()
    else:
        figure, message, _hidden = render(chart, ctx)
        sources = source_texts(ctx.engine, ctx.city, chart.kinds, lang)
        sdg = chart.sdg
    figure = projector(as_sent(figure))
    return SlideView(
        index=index,
        count=count,
        chart=slide.chart,
        title=title,
        takeaway=slide_text(slide, "takeaway", lang),
        notes=slide_text(slide, "notes", lang),
        section=t(f"present.section.{slide.section}", lang) if slide.section else "",
        figure=figure,
        message=message,
        sources=sources,
        sdg=sdg,
        animated=bool(figure.get("frames")),
    )
