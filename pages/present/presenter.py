"""`/present/presenter?deck=…`: the current slide, its notes, the elapsed time and the next
slide, kept in step with the audience window through a BroadcastChannel (same origin, no server
round trip: `assets/present.js`)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from dash import Dash, Input, Output, State, dcc, html, no_update

from components.charts import graph_config
from components.page import PageContext
from components.slides import render_slide, still
from datasets.decks import DeckError, DeckStore
from i18n import t

from .common import (
    PresentOptions,
    attach_hook,
    button,
    deck_or_none,
    deck_store,
    error_layout,
    js_messages,
    load_deck,
    page_config,
    page_path,
    slide_index,
    slide_look,
)

PRESENTER_OUTPUTS = 7  # figure, title, takeaway, counter, notes, next title, next figure


def current_slide(graph: dict) -> html.Section:
    return html.Section(
        [
            html.Div(
                [
                    html.Span(id="presenter-counter", className="present-counter"),
                    html.H1(id="presenter-title", className="presenter-title"),
                ],
                className="presenter-head",
            ),
            html.Div(
                dcc.Graph(
                    id="presenter-graph",
                    config={**graph, "displayModeBar": False},
                    style={"height": "100%"},
                ),
                className="presenter-chart",
            ),
            html.P(id="presenter-takeaway", className="present-takeaway"),
        ],
        className="presenter-current card",
    )


def side_panel(graph: dict, lang: str) -> html.Section:
    """The timer and controls, the notes, and the next slide as a still picture."""
    return html.Section(
        [
            html.Div(
                [
                    html.Span(t("present.elapsed", lang), className="muted"),
                    html.Span("00:00", id="presenter-elapsed", className="presenter-elapsed"),
                    html.Span(id="presenter-clock", className="presenter-clock"),
                    button("↺", "reset-timer", t("present.reset_timer", lang)),
                    button("◀", "prev", t("present.key.prev", lang)),
                    button("▶", "next", t("present.key.next", lang)),
                ],
                className="presenter-timer",
            ),
            html.H2(t("present.notes", lang), className="presenter-label"),
            html.Div(id="presenter-notes", className="presenter-notes"),
            html.H2(t("present.next", lang), className="presenter-label"),
            html.P(id="presenter-next-title", className="presenter-next-title"),
            html.Div(
                dcc.Graph(
                    id="presenter-next-graph",
                    config={**graph, "displayModeBar": False, "staticPlot": True},
                    style={"height": "100%"},
                ),
                className="presenter-next-chart",
            ),
        ],
        className="presenter-side card",
    )


def presenter_layout(ctx: PageContext) -> html.Div:
    lang = ctx.lang
    opts = PresentOptions.from_state(ctx.state)
    store = deck_store(ctx.workspace.data_dir)
    try:
        deck = load_deck(store, opts.deck)
    except DeckError as exc:
        return error_layout(str(exc), lang)
    graph = graph_config(lang, f"citylens-{deck.name}")
    return html.Div(
        [
            dcc.Store(id="presenter-config", data=page_config(deck, opts, lang, "presenter")),
            html.Div(id="presenter-hook", hidden=True),
            html.Div(
                [current_slide(graph), side_panel(graph, lang)],
                className="presenter-grid",
            ),
            html.Div(id="present-jump", className="present-jump", hidden=True),
        ],
        id="present-root",
        className="present-root presenter-root",
        **{
            "data-role": "presenter",
            "data-deck": deck.name,
            "data-count": str(len(deck.slides)),
            "data-kiosk": "0",
            "data-advance": "0",
            "data-theme": opts.theme,
            "data-lang": lang,
            **js_messages(lang),
        },
    )


def show_presenter(
    store: DeckStore,
    make_context: Callable,
    search: str | None,
    config: object,
    pathname: object,
) -> tuple | list:
    """The slide the URL asks for with its notes, and the next slide (or the end of the deck)."""
    if not isinstance(config, dict) or not page_path(pathname).endswith("/presenter"):
        return [no_update] * PRESENTER_OUTPUTS
    deck = deck_or_none(store, config.get("deck"))
    if deck is None:
        return [no_update] * PRESENTER_OUTPUTS
    lang, theme = slide_look(config)
    view = render_slide(deck, slide_index(search), lang, theme, make_context)
    if view.index < view.count:
        following = render_slide(deck, view.index + 1, lang, theme, make_context)
        next_title, next_figure = following.title, still(following.figure)
    else:
        next_title, next_figure = t("present.end_of_deck", lang), {"data": [], "layout": {}}
    notes = [html.P(p) for p in (view.notes or t("present.no_notes", lang)).split("\n") if p]
    counter = t("present.counter", lang, index=view.index, count=view.count)
    return (view.figure, view.title, view.takeaway, counter, notes, next_title, next_figure)


def register(app: Dash, store: DeckStore, make_context: Callable) -> None:
    app.callback(
        Output("presenter-graph", "figure"),
        Output("presenter-title", "children"),
        Output("presenter-takeaway", "children"),
        Output("presenter-counter", "children"),
        Output("presenter-notes", "children"),
        Output("presenter-next-title", "children"),
        Output("presenter-next-graph", "figure"),
        Input("url", "search"),
        Input("presenter-config", "data"),
        State("url", "pathname"),
    )(functools.partial(show_presenter, store, make_context))
    attach_hook(app, "presenter")
