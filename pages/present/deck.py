"""`/present?deck=forum&slide=3&lang=fr`: one slide at a time on a 16:9 stage, dark by default.

`assets/present.js` reads the keys (→ Space PageDown, ← PageUp, Home/End, a number then Enter,
F, P, Esc), changes `slide` in the URL, and `show_slide` renders the slide server-side with the
dashboard's own `render(chart, ctx)` into one reused graph. `?kiosk=1&advance=20` hides every
control and advances one slide every 20 s, looping; after an hour (`&reload=<s>`, 0: never) the
end of a loop reloads the page so memory starts afresh.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from dash import Dash, Input, Output, State, dcc, html, no_update

from components.charts import graph_config
from components.page import PageContext
from components.slides import SlideView, render_slide
from datasets.decks import DEFAULT_DECK, Deck, DeckError, DeckStore
from i18n import t

from .common import (
    PresentOptions,
    attach_hook,
    button,
    deck_links,
    deck_or_none,
    deck_query,
    deck_store,
    error_layout,
    js_messages,
    load_deck,
    page_config,
    page_path,
    slide_index,
    slide_look,
    slide_stage,
)

SLIDE_OUTPUTS = 8  # figure, title, takeaway, section, counter, message, message hidden, sources


def toolbar(deck: Deck, store: DeckStore, lang: str) -> html.Div:
    """The audience window's controls (hidden in a kiosk), its links and export buttons."""
    query = deck_query(deck.name, lang)
    return html.Div(
        [
            button("⇤", "first", t("present.key.first", lang)),
            button("◀", "prev", t("present.key.prev", lang), "present-prev"),
            button("▶", "next", t("present.key.next", lang), "present-next"),
            button("▮▮", "pause", t("present.key.pause", lang), "present-pause"),
            button("⤢", "fullscreen", t("present.key.fullscreen", lang)),
            html.Span(id="present-status", className="present-status", role="status"),
            html.Span(className="present-spacer"),
            html.A(
                t("present.presenter_view", lang),
                href="/present/presenter" + query,
                target="citylens-presenter",
                className="btn present-btn",
                id="present-presenter-link",
                **{"data-present-action": "presenter"},
            ),
            html.A(
                t("present.edit_deck", lang),
                href="/present/edit" + query,
                className="btn present-btn",
                id="present-edit-link",
            ),
            button(
                "HTML",
                "export",
                t("present.export.html_hint", lang),
                "present-export-html",
                **{"data-format": "html"},
            ),
            button(
                "PDF",
                "export",
                t("present.export.pdf_hint", lang),
                "present-export-pdf",
                **{"data-format": "pdf"},
            ),
            deck_links(store, lang, deck.name),
            html.Span(t("present.keys_help", lang), className="present-help muted"),
        ],
        className="present-toolbar",
        id="present-toolbar",
    )


def present_layout(ctx: PageContext) -> html.Div:
    lang = ctx.lang
    opts = PresentOptions.from_state(ctx.state)
    store = deck_store(ctx.workspace.data_dir)
    try:
        deck = load_deck(store, opts.deck)
    except DeckError as exc:
        return error_layout(str(exc), lang)
    return html.Div(
        [
            dcc.Store(id="present-config", data=page_config(deck, opts, lang, "audience")),
            html.Div(id="present-hook", hidden=True),
            slide_stage("present", lang, graph_config(lang, f"citylens-{deck.name}")),
            toolbar(deck, store, lang),
            html.Div(id="present-jump", className="present-jump", hidden=True),
        ],
        id="present-root",
        className="present-root",
        **{
            "data-role": "audience",
            "data-deck": deck.name,
            "data-count": str(len(deck.slides)),
            "data-kiosk": "1" if opts.kiosk else "0",
            "data-advance": str(opts.advance),
            "data-reload": str(opts.reload),
            "data-theme": opts.theme,
            "data-lang": lang,
            **js_messages(lang),
        },
    )


def slide_outputs(view: SlideView, lang: str) -> tuple:
    """A rendered slide as the stage's outputs (see `SLIDE_OUTPUTS`)."""
    counter = t("present.counter", lang, index=view.index, count=view.count)
    sources = [html.Span(line, className="source-item") for line in view.sources]
    return (
        view.figure,
        view.title,
        view.takeaway,
        view.section,
        counter,
        view.message,
        not view.message,
        sources,
    )


def show_slide(
    store: DeckStore,
    make_context: Callable,
    search: str | None,
    config: object,
    pathname: object,
) -> tuple | list:
    """The slide the URL asks for, on the audience page; nothing changes elsewhere or when the
    page's deck does not read."""
    if not isinstance(config, dict) or page_path(pathname) != "/present":
        return [no_update] * SLIDE_OUTPUTS
    deck = deck_or_none(store, config.get("deck"))
    if deck is None:
        return [no_update] * SLIDE_OUTPUTS
    lang, theme = slide_look(config)
    view = render_slide(deck, slide_index(search), lang, theme, make_context)
    return slide_outputs(view, lang)


def decks_listing(store: DeckStore) -> dict:
    """`GET /present/decks`: the built-in deck, then every saved one (with why it does not read)."""
    return {
        "decks": [{"name": DEFAULT_DECK, "slides": len(load_deck(store, DEFAULT_DECK).slides)}]
        + [
            {
                "name": i.name,
                "title": i.title,
                "slides": i.slides,
                "version": i.version,
                "saved_at": i.saved_at,
                "error": i.error,
            }
            for i in store.list()
        ]
    }


def register(app: Dash, store: DeckStore, make_context: Callable) -> None:
    """The audience page's slide callback, its present.js hook and the deck listing route."""
    app.callback(
        Output("present-graph", "figure"),
        Output("present-title", "children"),
        Output("present-takeaway", "children"),
        Output("present-section", "children"),
        Output("present-counter", "children"),
        Output("present-empty", "children"),
        Output("present-empty", "hidden"),
        Output("present-sources", "children"),
        Input("url", "search"),
        Input("present-config", "data"),
        State("url", "pathname"),
    )(functools.partial(show_slide, store, make_context))
    attach_hook(app, "present")
    app.server.get("/present/decks", endpoint="decks_json")(functools.partial(decks_listing, store))
