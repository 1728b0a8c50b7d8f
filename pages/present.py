"""`/present`: the forum as a keyboard-driven deck, its presenter view, and the deck editor.

- `/present?deck=forum&slide=3&lang=fr`: one slide at a time on a 16:9 stage, dark by default.
  `assets/present.js` reads the keys (→ Space PageDown, ← PageUp, Home/End, a number then
  Enter, F, P, Esc), changes `slide` in the URL, and this module's callback renders the slide
  server-side with the dashboard's own `render(chart, ctx)` into one reused graph.
- `?kiosk=1&advance=20`: every control hidden (a body class set by present.js, CSS in
  assets/present.css), one slide every 20 s, looping; one graph is reused, and after an hour
  (`&reload=<s>`, 0: never) the end of a loop reloads the page so memory starts afresh.
- `/present/presenter?deck=…`: notes, elapsed time and the next slide, kept in step with the
  audience window through a BroadcastChannel (same origin, no server round trip).
- `/present/edit?deck=…`: the slides that "add to deck" collected on chart cards (kept in the
  browser until saved), reordering, titles, takeaways, notes; decks are saved on the server by
  an analyst (each callback that writes checks the session itself), with the deck's owner and
  versions, each restorable. A visitor may build a deck but sees the log-in notice in place of
  the save button, and the collected charts stay in the browser.
- `/present/export?deck=forum&format=html|pdf&lang=fr`: a self-contained HTML file or a PDF
  (see components/export.py). Every export is a job of the shared store (`server.jobs`): a
  bounded number run at once, identical requests share one file, and the deck's buttons follow
  its progress (`POST /present/export/jobs`, then `GET`/`DELETE /present/export/jobs/<id>`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import flask
from dash import ALL, MATCH, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from components import export as deck_export
from components import job_routes
from components.auth import current_analyst, visitor_notice
from components.charts import REGISTRY, graph_config
from components.explorer_view import EXPLORER
from components.slides import SlideView, deck_title, render_slide, slide_text, still
from components.state import ViewState, parse_count, ui_settings
from datasets.decks import (
    DEFAULT_DECK,
    Deck,
    DeckError,
    DeckInfo,
    DeckLimits,
    DeckStore,
    deck_from_json,
    is_valid_name,
    sanitize_name,
)
from i18n import LANGUAGES, fmt_number, t
from server.jobs import Busy

from . import Page, PageContext

DRAFT_KEY = "citylens.deck.draft"  # localStorage key of the slides "add to deck" collected
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
    """The running app's limits on decks (its CITYLENS_* settings), inside a request."""
    cfg = flask.current_app.config.get("CITYLENS")
    if cfg is None:
        return DeckLimits()
    return DeckLimits(decks=cfg.max_decks, kb=cfg.max_deck_kb, versions=cfg.deck_versions)


def refusal(exc: DeckError, lang: str):
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


def deck_query(deck: str, lang: str, slide: int | None = None, **extra) -> str:
    """The canonical query of a deck URL (the order `ViewState.to_query` writes)."""
    options = {"deck": deck, **({"slide": str(slide)} if slide else {}), **extra}
    return ViewState(lang=lang, options={k: str(v) for k, v in options.items()}).to_query()


# -- layouts --------------------------------------------------------------------------------------


def _button(label: str, action: str, hint: str, element_id: str | None = None, **attrs):
    return html.Button(
        label,
        className="btn present-btn",
        title=hint,
        **({"id": element_id} if element_id else {}),
        **{"data-present-action": action, "aria-label": hint},
        **attrs,
    )


def _messages(lang: str) -> dict:
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


def deck_links(store: DeckStore, lang: str, current: str):
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


def error_layout(message: str, lang: str):
    return html.Div(
        [
            html.H1(t("present.error.title", lang)),
            html.P(message, className="present-error", role="alert"),
            html.A(t("present.back_to_forum", lang), href="/present" + deck_query("forum", lang)),
        ],
        className="present-message",
    )


def slide_stage(prefix: str, lang: str, config: dict):
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


def present_layout(ctx: PageContext):
    lang = ctx.lang
    opts = PresentOptions.from_state(ctx.state)
    store = deck_store(ctx.workspace.data_dir)
    try:
        deck = load_deck(store, opts.deck)
    except DeckError as exc:
        return error_layout(str(exc), lang)
    config = {
        "deck": deck.name,
        "count": len(deck.slides),
        "lang": lang,
        "theme": opts.theme,
        "role": "audience",
    }
    query = deck_query(deck.name, lang)
    toolbar = html.Div(
        [
            _button("⇤", "first", t("present.key.first", lang)),
            _button("◀", "prev", t("present.key.prev", lang), "present-prev"),
            _button("▶", "next", t("present.key.next", lang), "present-next"),
            _button("▮▮", "pause", t("present.key.pause", lang), "present-pause"),
            _button("⤢", "fullscreen", t("present.key.fullscreen", lang)),
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
            _button(
                "HTML",
                "export",
                t("present.export.html_hint", lang),
                "present-export-html",
                **{"data-format": "html"},
            ),
            _button(
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
    return html.Div(
        [
            dcc.Store(id="present-config", data=config),
            html.Div(id="present-hook", hidden=True),
            slide_stage("present", lang, graph_config(lang, f"citylens-{deck.name}")),
            toolbar,
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
            **_messages(lang),
        },
    )


def presenter_layout(ctx: PageContext):
    lang = ctx.lang
    opts = PresentOptions.from_state(ctx.state)
    store = deck_store(ctx.workspace.data_dir)
    try:
        deck = load_deck(store, opts.deck)
    except DeckError as exc:
        return error_layout(str(exc), lang)
    config = {
        "deck": deck.name,
        "count": len(deck.slides),
        "lang": lang,
        "theme": opts.theme,
        "role": "presenter",
    }
    graph = graph_config(lang, f"citylens-{deck.name}")
    return html.Div(
        [
            dcc.Store(id="presenter-config", data=config),
            html.Div(id="presenter-hook", hidden=True),
            html.Div(
                [
                    html.Section(
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
                    ),
                    html.Section(
                        [
                            html.Div(
                                [
                                    html.Span(t("present.elapsed", lang), className="muted"),
                                    html.Span(
                                        "00:00",
                                        id="presenter-elapsed",
                                        className="presenter-elapsed",
                                    ),
                                    html.Span(id="presenter-clock", className="presenter-clock"),
                                    _button("↺", "reset-timer", t("present.reset_timer", lang)),
                                    _button("◀", "prev", t("present.key.prev", lang)),
                                    _button("▶", "next", t("present.key.next", lang)),
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
                    ),
                ],
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
            **_messages(lang),
        },
    )


def editable_deck(deck: Deck, lang: str) -> dict:
    """The deck as the editor holds it: plain texts (the built-in deck's, translated)."""
    return {
        "name": "" if deck.builtin else deck.name,
        "title": deck_title(deck, lang),
        "slides": [
            {
                "chart": s.chart,
                "query": s.query,
                "option": s.option,
                "section": s.section,
                "title": slide_text(s, "title", lang),
                "takeaway": slide_text(s, "takeaway", lang),
                "notes": slide_text(s, "notes", lang),
            }
            for s in deck.slides
        ],
    }


def edit_href(name: str, lang: str) -> str:
    return "/present/edit" + deck_query(name or "new", lang)


def _saved_when(saved_at: str) -> str:
    return saved_at[:16].replace("T", " ")


def deck_history(store: DeckStore, name: str, lang: str, message: str = ""):
    """For an analyst: the deck's owner, its versions (each with its author, and Restore) and
    Delete; the outcome of the last of these actions under them."""
    versions: list[DeckInfo] = store.history(name) if name else []
    status = html.P(message, className="versions-message", role="status") if message else None
    if not versions:
        return status
    unknown = t("present.history.unknown", lang)
    current = versions[0]
    rows = [
        html.Tr(
            [
                html.Td(f"v{v.version}"),
                html.Td(_saved_when(v.saved_at)),
                html.Td(v.author or unknown),
                html.Td(fmt_number(v.slides, lang)),
                html.Td(
                    t("present.history.restored_from", lang, version=v.restored_from)
                    if v.restored_from
                    else v.error,
                    className="muted",
                ),
                html.Td(
                    html.Span(t("versions.current", lang), className="pill current-pill")
                    if v is current
                    else html.Button(
                        t("versions.restore", lang),
                        id={"type": "deck-restore", "deck": name, "v": v.version},
                        className="btn btn-small",
                        n_clicks=0,
                    )
                ),
            ],
            className="current" if v is current else None,
        )
        for v in versions
    ]
    head = (
        "versions.version",
        "versions.date",
        "present.history.author",
        "present.history.slides",
        "versions.note",
        "",
    )
    table = html.Table(
        [
            html.Thead(html.Tr([html.Th(t(k, lang) if k else "") for k in head])),
            html.Tbody(rows),
        ],
        className="data-table versions-table",
    )
    owner = t(
        "present.history.owner",
        lang,
        owner=current.owner or unknown,
        version=current.version,
        author=current.author or unknown,
        saved=_saved_when(current.saved_at) or unknown,
    )
    return html.Div(
        [
            html.P(owner, id="deck-owner"),
            html.Details(
                [
                    html.Summary(t("versions.title", lang, n=len(versions))),
                    html.Div(table, className="table-wrap"),
                    dcc.ConfirmDialogProvider(
                        html.Button(
                            t("present.history.delete", lang),
                            className="btn btn-small btn-danger",
                            id="deck-delete-button",
                        ),
                        id={"type": "deck-delete", "deck": name},
                        message=t("present.history.delete_confirm", lang, name=name),
                    ),
                ],
                open=bool(message),
            ),
            status,
        ],
        className="analyst-actions",
    )


def edit_layout(ctx: PageContext):
    lang = ctx.lang
    opts = PresentOptions.from_state(ctx.state)
    store = deck_store(ctx.workspace.data_dir)
    new = ctx.state.options.get("deck") in (None, "", "new")
    try:
        deck = Deck("", "", ()) if new else load_deck(store, opts.deck)  # named when saved
    except DeckError as exc:
        return error_layout(str(exc), lang)
    data = editable_deck(deck, lang)
    analyst = current_analyst()
    save_control = (
        html.Button(t("present.editor.save", lang), id="deck-save", className="btn btn-primary")
        if analyst
        else visitor_notice(lang, edit_href(data["name"], lang), "present.editor.visitor")
    )
    history = (
        html.Section(
            deck_history(store, data["name"], lang), id="deck-history", className="deck-history"
        )
        if analyst
        else None
    )
    return html.Div(
        [
            dcc.Store(id="deck-edit", data=data),
            dcc.Store(id="deck-edit-config", data={"lang": lang}),
            dcc.Store(id="deck-draft"),
            dcc.Store(id="deck-draft-cleared"),
            html.Header(
                [
                    html.H1(t("present.editor.title", lang)),
                    html.P(t("present.editor.intro", lang), className="page-intro"),
                ],
                className="page-header",
            ),
            html.Section(
                [
                    html.P(id="deck-draft-info"),
                    html.Button(
                        t("present.editor.append", lang),
                        id="deck-draft-append",
                        className="btn btn-primary",
                        disabled=True,
                    ),
                ],
                className="card deck-draft",
            ),
            html.Section(
                [
                    html.Label(
                        [
                            html.Span(
                                t("present.editor.deck_title", lang), className="filter-label"
                            ),
                            dcc.Input(
                                id="deck-title",
                                value=data["title"],
                                type="text",
                                maxLength=200,
                                debounce=False,
                                className="deck-input",
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            html.Span(
                                t("present.editor.deck_name", lang), className="filter-label"
                            ),
                            dcc.Input(
                                id="deck-name",
                                value=data["name"],
                                type="text",
                                maxLength=64,
                                placeholder="my-talk",
                                className="deck-input",
                            ),
                        ]
                    ),
                    save_control,
                    html.Div(id="deck-save-status", role="status", className="deck-save-status"),
                ],
                className="card deck-meta",
            ),
            history,
            html.Div(id="deck-slides", className="deck-slides"),
            deck_links(store, lang, deck.name),
        ],
        className="deck-editor",
        id="deck-editor",
    )


def _labelled(label: str, control):
    """A form control with a label only screen readers see (the placeholder shows it)."""
    return html.Label([html.Span(label, className="sr-only"), control])


def slide_row(i: int, slide: dict, lang: str):
    chart = REGISTRY.get(slide.get("chart", ""))
    chart_title = t(chart.title, lang) if chart else slide.get("chart", "?")
    if slide.get("chart") == EXPLORER:
        chart_title = t("explorer.title", lang)
    view = slide.get("query") or ""
    if slide.get("option"):
        view += ("&" if view else "?") + f"option={slide['option']}"
    return html.Article(
        [
            html.Header(
                [
                    html.Span(f"{i + 1}", className="deck-slide-number"),
                    html.Strong(chart_title),
                    html.Code(view or t("present.editor.no_filter", lang), className="muted"),
                    html.Span(
                        [
                            html.Button(
                                "↑",
                                id={"type": "deck-move", "index": i, "dir": "up"},
                                className="btn btn-small",
                                disabled=i == 0,
                                title=t("present.editor.up", lang),
                            ),
                            html.Button(
                                "↓",
                                id={"type": "deck-move", "index": i, "dir": "down"},
                                className="btn btn-small",
                                title=t("present.editor.down", lang),
                            ),
                            html.Button(
                                "✕",
                                id={"type": "deck-remove", "index": i},
                                className="btn btn-small",
                                title=t("present.editor.remove", lang),
                            ),
                        ],
                        className="deck-slide-tools",
                    ),
                ],
                className="deck-slide-header",
            ),
            _labelled(
                t("present.editor.slide_title", lang),
                dcc.Input(
                    id={"type": "deck-slide-title", "index": i},
                    value=slide.get("title") or "",
                    placeholder=chart_title,
                    maxLength=200,
                    className="deck-input",
                ),
            ),
            _labelled(
                t("present.editor.takeaway", lang),
                dcc.Input(
                    id={"type": "deck-slide-takeaway", "index": i},
                    value=slide.get("takeaway") or "",
                    placeholder=t("present.editor.takeaway", lang),
                    maxLength=500,
                    className="deck-input",
                ),
            ),
            _labelled(
                t("present.editor.notes", lang),
                dcc.Textarea(
                    id={"type": "deck-slide-notes", "index": i},
                    value=slide.get("notes") or "",
                    placeholder=t("present.editor.notes", lang),
                    maxLength=8000,
                    className="deck-notes",
                ),
            ),
        ],
        className="card deck-slide",
        **{"data-chart": slide.get("chart", "")},
    )


def editor_slides(data: object) -> list[dict]:
    """The slides of an editor store (`deck-edit`, `deck-draft`) as a request sends them: each
    slide's texts, and nothing that is not a slide or not text."""
    slides = data.get("slides") if isinstance(data, dict) else None
    return [
        {key: value for key, value in slide.items() if isinstance(value, str)}
        for slide in (slides if isinstance(slides, list) else [])
        if isinstance(slide, dict)
    ]


def merged_slides(data: dict, titles, takeaways, notes) -> list[dict]:
    """The stored slides with the texts currently typed in the editor."""
    slides = editor_slides(data)
    if len(titles) == len(takeaways) == len(notes) == len(slides):
        for s, title, takeaway, note in zip(slides, titles, takeaways, notes, strict=True):
            s.update(title=_typed(title), takeaway=_typed(takeaway), notes=_typed(note))
    return slides


def _typed(value: object) -> str:
    return value if isinstance(value, str) else ""


def edited(slides: list[dict], trigger, draft: list[dict]) -> tuple[list[dict], bool]:
    """The slides after one editor action; True when the draft was taken in."""
    if trigger == "deck-draft-append":
        return slides + [dict(s) for s in draft], True
    i = trigger.get("index") if isinstance(trigger, dict) else None
    if not isinstance(i, int) or not 0 <= i < len(slides):  # no slide of the editor's
        return slides, False
    if trigger.get("type") == "deck-remove":
        return [s for j, s in enumerate(slides) if j != i], False
    if trigger.get("type") == "deck-move":
        j = i - 1 if trigger.get("dir") == "up" else i + 1
        if 0 <= j < len(slides):
            slides = list(slides)
            slides[i], slides[j] = slides[j], slides[i]
    return slides, False


# -- exports -------------------------------------------------------------------------------------

DECK_EXPORT = "deck-export"  # the job kind of a deck's HTML or PDF file


def export_key(deck: Deck, fmt: str, lang: str, theme: str, data_token: str) -> str:
    """What an export's file depends on: the deck as saved (its JSON changes with any edit),
    language, theme and format, and the data its charts draw (`QueryEngine.data_token`)."""
    deck_digest = hashlib.sha256(json.dumps(deck.to_json(), sort_keys=True).encode()).hexdigest()
    data_digest = hashlib.sha256(data_token.encode()).hexdigest()
    return json.dumps([deck.name, deck_digest, fmt, lang, theme, data_digest])


# -- callbacks and routes -------------------------------------------------------------------------


def _path(pathname: object) -> str:
    return pathname.rstrip("/") if isinstance(pathname, str) else ""


def slide_look(config: dict) -> tuple[str, str]:
    """The language and theme a present page's config store asks for (dark unless light)."""
    return ui_settings(config)["lang"], "light" if config.get("theme") == "light" else "dark"


def _slide_outputs(view: SlideView, lang: str):
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


def register_present(app, workspace, make_context) -> None:
    """The present pages' callbacks, the "add to deck" button of every card, the export routes."""
    store = deck_store(workspace.data_dir)
    jobs = job_routes.job_store(app.server)

    def slide_index(search: str | None) -> int:
        return PresentOptions.from_state(ViewState.from_query(search)).slide

    def deck_or_none(name: object) -> Deck | None:
        if not isinstance(name, str):
            return None
        try:
            return load_deck(store, name)
        except DeckError:
            return None

    @app.callback(
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
    )
    def show_slide(search, config, pathname):
        if not isinstance(config, dict) or _path(pathname) != "/present":
            return [no_update] * 8
        deck = deck_or_none(config.get("deck"))
        if deck is None:
            return [no_update] * 8
        lang, theme = slide_look(config)
        view = render_slide(deck, slide_index(search), lang, theme, make_context)
        return _slide_outputs(view, lang)

    @app.callback(
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
    )
    def show_presenter(search, config, pathname):
        if not isinstance(config, dict) or not _path(pathname).endswith("/presenter"):
            return [no_update] * 7
        deck = deck_or_none(config.get("deck"))
        if deck is None:
            return [no_update] * 7
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

    # present.js attaches to the page: body classes (kiosk, light/dark), timers, channel
    for prefix in ("present", "presenter"):
        app.clientside_callback(
            """function(config, search) {
                if (window.CityLensPresent) { window.CityLensPresent.attach(config, search); }
                return '';
            }""",
            Output(f"{prefix}-hook", "title"),
            Input(f"{prefix}-config", "data"),
            Input("url", "search"),
        )

    # "add to deck" on every chart card: the view (filters, city, page options) and the chart's
    # option go to a draft kept in the browser until the editor saves it as a deck
    app.clientside_callback(
        """function(n, option, search, label, cid) {
            if (!n || !window.CityLensPresent) { return window.dash_clientside.no_update; }
            return window.CityLensPresent.addToDraft(cid.id, option, search, label);
        }""",
        Output({"type": "chart-add-to-deck", "id": MATCH}, "children"),
        Input({"type": "chart-add-to-deck", "id": MATCH}, "n_clicks"),
        State({"type": "chart-option", "id": MATCH}, "value"),
        State("url", "search"),
        State({"type": "chart-add-to-deck", "id": MATCH}, "children"),
        State({"type": "chart-add-to-deck", "id": MATCH}, "id"),
        prevent_initial_call=True,
    )

    # -- the editor
    app.clientside_callback(
        """function(_init, cleared) {
            const present = window.CityLensPresent;
            return present ? present.readDraft(cleared) : {slides: []};
        }""",
        Output("deck-draft", "data"),
        Input("deck-edit-config", "data"),
        Input("deck-draft-cleared", "data"),
    )

    @app.callback(
        Output("deck-draft-info", "children"),
        Output("deck-draft-append", "disabled"),
        Input("deck-draft", "data"),
        State("deck-edit-config", "data"),
    )
    def draft_info(draft, config):
        lang = ui_settings(config)["lang"]
        count = len(editor_slides(draft))
        return t("present.editor.draft", lang, count=count), count == 0

    @app.callback(
        Output("deck-edit", "data"),
        Output("deck-draft-cleared", "data"),
        Input("deck-draft-append", "n_clicks"),
        Input({"type": "deck-move", "index": ALL, "dir": ALL}, "n_clicks"),
        Input({"type": "deck-remove", "index": ALL}, "n_clicks"),
        State("deck-edit", "data"),
        State("deck-draft", "data"),
        State({"type": "deck-slide-title", "index": ALL}, "value"),
        State({"type": "deck-slide-takeaway", "index": ALL}, "value"),
        State({"type": "deck-slide-notes", "index": ALL}, "value"),
        prevent_initial_call=True,
    )
    def edit(_append, _moves, _removes, data, draft, titles, takeaways, notes):
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update, no_update
        slides = merged_slides(data, titles, takeaways, notes)
        drafted = editor_slides(draft)
        slides, took_draft = edited(slides, ctx.triggered_id, drafted)
        # a visitor cannot save: the collected charts stay in the browser for after the login
        cleared = uuid.uuid4().hex if took_draft and current_analyst() else no_update
        kept = {k: data.get(k) for k in ("name", "title")} if isinstance(data, dict) else {}
        return {**{k: v for k, v in kept.items() if isinstance(v, str)}, "slides": slides}, cleared

    @app.callback(
        Output("deck-slides", "children"),
        Input("deck-edit", "data"),
        State("deck-edit-config", "data"),
    )
    def list_slides(data, config):
        lang = ui_settings(config)["lang"]
        slides = editor_slides(data)
        if not slides:
            return html.P(t("present.editor.no_slides", lang), className="muted")
        return [slide_row(i, s, lang) for i, s in enumerate(slides)]

    @app.callback(
        Output("deck-save-status", "children"),
        Output("deck-name", "value"),
        Output("deck-history", "children", allow_duplicate=True),
        Input("deck-save", "n_clicks"),
        State("deck-edit", "data"),
        State("deck-title", "value"),
        State("deck-name", "value"),
        State("deck-edit-config", "data"),
        State({"type": "deck-slide-title", "index": ALL}, "value"),
        State({"type": "deck-slide-takeaway", "index": ALL}, "value"),
        State({"type": "deck-slide-notes", "index": ALL}, "value"),
        prevent_initial_call=True,
    )
    def save(n, data, title, name, config, titles, takeaways, notes):
        if not n:
            return no_update, no_update, no_update
        lang = ui_settings(config)["lang"]
        analyst = current_analyst()
        if analyst is None:
            notice = visitor_notice(lang, edit_href(name or "", lang), "present.editor.visitor")
            return notice, no_update, no_update
        slides = merged_slides(data, titles, takeaways, notes)
        try:
            wanted = name or title or ""
            try:
                clean = sanitize_name(wanted)
            except DeckError:
                if name:
                    raise
                clean = "deck-" + uuid.uuid4().hex[:8]
            deck = deck_from_json({"title": title or clean, "slides": slides}, clean)
            saved = store.save(replace(deck, title=title or clean), analyst, deck_limits())
        except DeckError as exc:
            return refusal(exc, lang), no_update, no_update
        link = html.A(
            t("present.editor.present_it", lang),
            href="/present" + deck_query(saved.name, lang),
            id="deck-present-link",
            className="btn btn-primary",
        )
        message = t(
            "present.editor.saved",
            lang,
            name=saved.name,
            version=saved.version,
            count=len(saved.slides),
        )
        return [html.Span(message), " ", link], saved.name, deck_history(store, saved.name, lang)

    @app.callback(
        Output("deck-history", "children", allow_duplicate=True),
        Output("deck-edit", "data", allow_duplicate=True),
        Output("deck-title", "value"),
        Input({"type": "deck-restore", "deck": ALL, "v": ALL}, "n_clicks"),
        Input({"type": "deck-delete", "deck": ALL}, "submit_n_clicks"),
        State("deck-edit-config", "data"),
        prevent_initial_call=True,
    )
    def restore_or_delete(_restores, _deletes, config):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not (ctx.triggered and ctx.triggered[0]["value"]):
            raise PreventUpdate
        lang = ui_settings(config)["lang"]
        name = str(trigger.get("deck", ""))
        analyst = current_analyst()
        if analyst is None:
            notice = visitor_notice(lang, edit_href(name, lang), "present.editor.visitor")
            return notice, no_update, no_update
        try:
            if trigger.get("type") == "deck-delete":
                if not store.delete(name):
                    raise DeckError(f"there is no deck {name!r}")
                message = t("present.history.deleted", lang, name=name)
                return html.P(message, role="status"), no_update, no_update
            version = int(trigger.get("v"))
            restored = store.restore(name, version, analyst, deck_limits())
        except (DeckError, TypeError, ValueError) as exc:
            error = exc if isinstance(exc, DeckError) else DeckError(str(exc))
            return refusal(error, lang), no_update, no_update
        message = t("present.history.restored", lang, version=version, new=restored.version)
        history = deck_history(store, name, lang, message)
        return history, editable_deck(restored, lang), restored.title

    # -- exports
    def export_args():
        args = flask.request.args
        name = args.get("deck") or DEFAULT_DECK
        fmt = args.get("format") or "html"
        lang = args.get("lang") if args.get("lang") in LANGUAGES else "en"
        theme = "light" if args.get("theme") == "light" else "dark"
        if fmt not in deck_export.FORMATS:
            flask.abort(400, f"format must be one of {', '.join(deck_export.FORMATS)}")
        try:
            deck = load_deck(store, name)
        except DeckError as exc:
            flask.abort(404, str(exc))
        return deck, fmt, lang, theme

    def run_export(params: dict, progress) -> tuple[bytes, str, str]:
        deck = load_deck(store, params["deck"])
        fmt, lang = params["format"], params["lang"]
        data = deck_export.export_deck(deck, fmt, lang, params["theme"], make_context, progress)
        return data, deck_export.filename(deck.name, lang, fmt), deck_export.MIMETYPES[fmt]

    jobs.register(DECK_EXPORT, run_export)
    job_routes.register_job_routes(app.server, jobs, "/present/export/jobs", "present_export")

    def export_job():
        """The export job this request asks for (an identical one if any); raises `Busy`."""
        deck, fmt, lang, theme = export_args()
        params = {"deck": deck.name, "format": fmt, "lang": lang, "theme": theme}
        key = export_key(deck, fmt, lang, theme, workspace.engine.data_token(None))
        return job_routes.submit(jobs, DECK_EXPORT, params, key)

    # even the HTML file is a job: a deck of 200 slides renders 200 charts
    @app.server.get("/present/export")
    def export_now():
        try:
            job = export_job()
        except Busy as exc:
            return job_routes.busy_reply(exc)
        return job_routes.waited_reply(jobs, job)

    @app.server.post("/present/export/jobs")
    def export_start():
        try:
            job = export_job()
        except Busy as exc:
            return job_routes.busy_reply(exc)
        return job_routes.status(job), 202

    @app.server.get("/present/decks")
    def decks_json():
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

    app.present_store = store


PAGE = Page(
    path="/present",
    nav="nav.present",
    title="present.title",
    layout=present_layout,
    filters=False,
)
PRESENTER_PAGE = Page(
    path="/present/presenter",
    nav="nav.present",
    title="present.presenter_view",
    layout=presenter_layout,
    filters=False,
    in_nav=False,
)
EDIT_PAGE = Page(
    path="/present/edit",
    nav="nav.present",
    title="present.editor.title",
    layout=edit_layout,
    filters=False,
    in_nav=False,
)
PAGES = (PAGE, PRESENTER_PAGE, EDIT_PAGE)
