"""What the present room's pages share: the deck store of a data folder, the options a deck URL
carries, the deck links and the slide stage every view of a deck draws."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import flask
from dash import Dash, Input, Output, dcc, html

from components.state import ViewState, parse_count, ui_settings
from datasets.decks import (
    DEFAULT_DECK,
    Deck,
    DeckError,
    DeckLimits,
    DeckStore,
    is_valid_name,
)
from i18n import t

MAX_ADVANCE = 3600
KIOSK_RELOAD = 3600  # s: a kiosk reloads itself at the end of the first loop after an hour
MIN_RELOAD = 2


def deck_store(data_dir: Path) -> DeckStore:
    """The decks of `data_dir`: one store per folder, whose summaries of the deck files last
    across requests (a page lists the decks without reading them again)."""
    return _store_of(Path(data_dir).resolve() / "decks")


@functools.lru_cache(maxsize=16)
def _store_of(root: Path) -> DeckStore:
    return DeckStore(root)


def deck_limits() -> DeckLimits:
    """The running app's limits on decks (its CITYLENS_* settings); the defaults outside one."""
    cfg = flask.current_app.config.get("CITYLENS") if flask.has_app_context() else None
    if cfg is None:
        return DeckLimits()
    return DeckLimits(decks=cfg.max_decks, kb=cfg.max_deck_kb, versions=cfg.deck_versions)


def refusal(exc: DeckError, lang: str) -> html.Span:
    """Why a deck was not saved, restored or deleted, in the viewer's language."""
    text = (
        t(f"present.refused.{exc.key}", lang, **exc.values)
        if exc.key
        else t("present.editor.save_failed", lang, error=str(exc))
    )
    return html.Span(text, className="present-error", role="alert")


@dataclass(frozen=True)
class PresentOptions:
    deck: str = DEFAULT_DECK
    slide: int = 1
    kiosk: bool = False
    advance: int = 0  # seconds; 0: no auto-advance
    reload: int = 0  # kiosk: seconds after which the end of a loop reloads the page
    theme: str = "dark"

    @classmethod
    def from_state(cls, state: ViewState) -> PresentOptions:
        opts = state.options
        deck = opts.get("deck") or DEFAULT_DECK
        slide = parse_count(opts.get("slide")) or 1
        advance = parse_count(opts.get("advance")) or 0
        kiosk = opts.get("kiosk") in ("1", "true", "yes")
        if kiosk and not advance:
            advance = 20
        reload = parse_count(opts.get("reload"))
        reload = KIOSK_RELOAD if reload is None else reload
        reload = max(reload, MIN_RELOAD) if (kiosk and reload) else 0
        return cls(
            deck=deck if (deck == DEFAULT_DECK or is_valid_name(deck)) else DEFAULT_DECK,
            slide=max(slide, 1),
            kiosk=kiosk,
            advance=min(advance, MAX_ADVANCE),
            reload=reload,
            theme=state.theme or "dark",
        )


def load_deck(store: DeckStore, name: str) -> Deck:
    return store.load(name)


def deck_or_none(store: DeckStore, name: object) -> Deck | None:
    """The deck a page's config store names, or None when it names none that reads."""
    if not isinstance(name, str):
        return None
    try:
        return load_deck(store, name)
    except DeckError:
        return None


def slide_index(search: str | None) -> int:
    """The slide number a deck URL's query asks for (from 1)."""
    return PresentOptions.from_state(ViewState.from_query(search)).slide


def deck_query(deck: str, lang: str, slide: int | None = None, **extra: object) -> str:
    """The canonical query of a deck URL (the order `ViewState.to_query` writes)."""
    options = {"deck": deck, **({"slide": str(slide)} if slide else {}), **extra}
    return ViewState(lang=lang, options={k: str(v) for k, v in options.items()}).to_query()


def page_path(pathname: object) -> str:
    return pathname.rstrip("/") if isinstance(pathname, str) else ""


def slide_look(config: dict) -> tuple[str, str]:
    """The language and theme a present page's config store asks for (dark unless light)."""
    return ui_settings(config)["lang"], "light" if config.get("theme") == "light" else "dark"


# -- parts of the pages ---------------------------------------------------------------------------


def button(
    label: str, action: str, hint: str, element_id: str | None = None, **attrs: object
) -> html.Button:
    """A deck control present.js acts on (`data-present-action`)."""
    return html.Button(
        label,
        className="btn present-btn",
        title=hint,
        **({"id": element_id} if element_id else {}),
        **{"data-present-action": action, "aria-label": hint},
        **attrs,
    )


def js_messages(lang: str) -> dict[str, str]:
    """Texts present.js shows (it has no catalogue of its own), as data attributes."""
    keys = (
        "paused",
        "playing",
        "exporting",
        "export_done",
        "export_failed",
        "export_cancelled",
        "export_queued",
        "jump",
    )
    return {f"data-msg-{k.replace('_', '-')}": t(f"present.js.{k}", lang) for k in keys}


def deck_links(store: DeckStore, lang: str, current: str) -> html.Details:
    items = [(DEFAULT_DECK, t("present.deck.forum", lang))] + [
        (info.name, info.title) for info in store.list() if not info.error
    ]
    return html.Details(
        [
            html.Summary(t("present.decks", lang)),
            html.Ul(
                [
                    html.Li(
                        [
                            html.A(
                                title,
                                href="/present" + deck_query(name, lang),
                                className="active" if name == current else None,
                            ),
                            " · ",
                            html.A(
                                t("present.edit", lang),
                                href="/present/edit" + deck_query(name, lang),
                                className="muted",
                            ),
                        ]
                    )
                    for name, title in items
                ]
            ),
        ],
        className="present-decks",
    )


def error_layout(message: str, lang: str) -> html.Div:
    return html.Div(
        [
            html.H1(t("present.error.title", lang)),
            html.P(message, className="present-error", role="alert"),
            html.A(t("present.back_to_forum", lang), href="/present" + deck_query("forum", lang)),
        ],
        className="present-message",
    )


def slide_stage(prefix: str, lang: str, config: dict) -> html.Div:
    return html.Div(
        html.Div(
            [
                html.Div(
                    [
                        html.Span(id=f"{prefix}-section", className="present-section"),
                        html.Span(id=f"{prefix}-counter", className="present-counter"),
                    ],
                    className="present-top",
                ),
                html.H1(id=f"{prefix}-title", className="present-title"),
                html.Div(
                    [
                        dcc.Graph(
                            id=f"{prefix}-graph",
                            config={**config, "displayModeBar": "hover"},
                            className="present-graph",
                            style={"height": "100%", "width": "100%"},
                        ),
                        html.Div(
                            id=f"{prefix}-empty",
                            className="empty-state",
                            hidden=True,
                            role="status",
                        ),
                    ],
                    className="present-chart",
                ),
                html.P(id=f"{prefix}-takeaway", className="present-takeaway"),
                html.Div(id=f"{prefix}-sources", className="present-sources"),
            ],
            className="present-slide",
            id=f"{prefix}-slide",
        ),
        className="present-stage",
    )


def page_config(deck: Deck, opts: PresentOptions, lang: str, role: str) -> dict:
    """What a deck page's config store tells its callbacks and present.js."""
    return {
        "deck": deck.name,
        "count": len(deck.slides),
        "lang": lang,
        "theme": opts.theme,
        "role": role,
    }


def attach_hook(app: Dash, prefix: str) -> None:
    """present.js attaches to the page: body classes (kiosk, light/dark), timers, channel."""
    app.clientside_callback(
        """function(config, search) {
            if (window.CityLensPresent) { window.CityLensPresent.attach(config, search); }
            return '';
        }""",
        Output(f"{prefix}-hook", "title"),
        Input(f"{prefix}-config", "data"),
        Input("url", "search"),
    )
