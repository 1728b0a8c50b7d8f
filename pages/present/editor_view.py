"""What the deck editor (`/present/edit?deck=…`) draws: the page, one form per slide, and for an
analyst the deck's owner and versions with Restore and Delete. The callbacks that change any of
it are in `editor.py`."""

from __future__ import annotations

from pathlib import Path

from dash import dcc, html

from components.charts import REGISTRY
from components.explorer_view import EXPLORER
from components.page import PageContext
from components.slides import EVALUATION, INTERVENTION_OPTION, deck_title, slide_text
from components.state import ViewState
from datasets.decks import Deck, DeckError, DeckInfo, DeckStore
from datasets.evidence.interventions import InterventionStore
from i18n import fmt_number, t
from server.auth import current_analyst, visitor_notice

from .common import PresentOptions, deck_links, deck_query, deck_store, error_layout, load_deck


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


def editor_visitor_notice(name: str, lang: str) -> html.Div:
    """What a visitor finds in place of a control that writes decks: the log-in link back here."""
    return visitor_notice(lang, edit_href(name, lang), "present.editor.visitor")


# -- the versions ---------------------------------------------------------------------------------


def _saved_when(saved_at: str) -> str:
    return saved_at[:16].replace("T", " ")


def _version_row(name: str, v: DeckInfo, current: DeckInfo, lang: str) -> html.Tr:
    unknown = t("present.history.unknown", lang)
    return html.Tr(
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


def _versions_table(name: str, versions: list[DeckInfo], lang: str) -> html.Table:
    head = (
        "versions.version",
        "versions.date",
        "present.history.author",
        "present.history.slides",
        "versions.note",
        "",
    )
    rows = [_version_row(name, v, versions[0], lang) for v in versions]
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(t(k, lang) if k else "") for k in head])),
            html.Tbody(rows),
        ],
        className="data-table versions-table",
    )


def deck_history(
    store: DeckStore, name: str, lang: str, message: str = ""
) -> html.Div | html.P | None:
    """For an analyst: the deck's owner, its versions (each with its author, and Restore) and
    Delete; the outcome of the last of these actions under them."""
    versions: list[DeckInfo] = store.history(name) if name else []
    status = html.P(message, className="versions-message", role="status") if message else None
    if not versions:
        return status
    unknown = t("present.history.unknown", lang)
    current = versions[0]
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
                    html.Div(_versions_table(name, versions, lang), className="table-wrap"),
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


# -- the page -------------------------------------------------------------------------------------


def _text_input(label_key: str, element_id: str, value: str, lang: str, **attrs: object):
    return html.Label(
        [
            html.Span(t(label_key, lang), className="filter-label"),
            dcc.Input(id=element_id, value=value, type="text", className="deck-input", **attrs),
        ]
    )


def deck_meta(data: dict, analyst: str | None, lang: str) -> html.Section:
    """The deck's title and name, and Save (for an analyst) or the log-in notice."""
    save_control = (
        html.Button(t("present.editor.save", lang), id="deck-save", className="btn btn-primary")
        if analyst
        else editor_visitor_notice(data["name"], lang)
    )
    return html.Section(
        [
            _text_input(
                "present.editor.deck_title",
                "deck-title",
                data["title"],
                lang,
                maxLength=200,
                debounce=False,
            ),
            _text_input(
                "present.editor.deck_name",
                "deck-name",
                data["name"],
                lang,
                maxLength=64,
                placeholder="my-talk",
            ),
            save_control,
            html.Div(id="deck-save-status", role="status", className="deck-save-status"),
        ],
        className="card deck-meta",
    )


def draft_section(lang: str) -> html.Section:
    """How many slides "add to deck" collected, and the button that appends them."""
    return html.Section(
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
    )


EVALUATION_PICK = "deck-evaluation-pick"
EVALUATION_ADD = "deck-evaluation-add"


def evaluation_slide(picked: object) -> dict:
    """The evaluation slide of the view the picker chose (a slide query such as
    `?city=…&intervention=…`; "" for the signal pilot of the city the deck shows)."""
    query = picked if isinstance(picked, str) and picked.startswith("?") else ""
    return {"chart": EVALUATION.id, "query": query}


def evaluation_choices(data_dir: Path, lang: str) -> list[dict]:
    """The picker's options: the city's signal pilot, then every recorded intervention."""
    choices = [{"label": t("present.editor.evaluation_pilot", lang), "value": ""}]
    for iv in InterventionStore(data_dir).list():
        view = ViewState(city=iv.city, options={INTERVENTION_OPTION: iv.id}).to_query()
        choices.append({"label": f"{iv.name} · {iv.city}", "value": view})
    return choices


def evaluation_section(data_dir: Path, lang: str) -> html.Section:
    """An intervention's evaluation as a slide: picked here, appended to the deck."""
    return html.Section(
        [
            html.H2(t("present.editor.evaluation", lang)),
            html.Label(
                [
                    html.Span(t("present.editor.evaluation_pick", lang), className="filter-label"),
                    dcc.Dropdown(
                        id=EVALUATION_PICK,
                        options=evaluation_choices(data_dir, lang),
                        value="",
                        clearable=False,
                        className="deck-evaluation-pick",
                    ),
                ]
            ),
            html.Button(
                t("present.editor.evaluation_add", lang), id=EVALUATION_ADD, className="btn"
            ),
        ],
        className="card deck-evaluation",
    )


def edit_layout(ctx: PageContext) -> html.Div:
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
            draft_section(lang),
            evaluation_section(ctx.workspace.data_dir, lang),
            deck_meta(data, analyst, lang),
            history,
            html.Div(id="deck-slides", className="deck-slides"),
            deck_links(store, lang, deck.name),
        ],
        className="deck-editor",
        id="deck-editor",
    )


# -- one slide ------------------------------------------------------------------------------------


def _labelled(label: str, control):
    """A form control with a label only screen readers see (the placeholder shows it)."""
    return html.Label([html.Span(label, className="sr-only"), control])


def _slide_tools(i: int, lang: str) -> html.Span:
    return html.Span(
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
    )


def slide_row(i: int, slide: dict, lang: str) -> html.Article:
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
                    _slide_tools(i, lang),
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
