"""Slide decks: the built-in "forum" deck and the presenters' own decks, stored as JSON files.

A slide is a saved view: a registered chart id, the query string of its filters and page options
(the dashboard's own URL state, e.g. `?from=2017-03-01&to=2017-03-31&aqi=epa`), the chart's
option, a title, one takeaway sentence and speaker notes. The built-in deck holds message keys
(translated on display); a user deck holds its own text.

User decks live in `<data_dir>/decks/<name>.json`; a name is sanitised to `[a-z0-9-]` before it
touches the file system, and every write goes to a temporary file in the same folder first, then
`os.replace`, so a reader never sees half a deck.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
DEFAULT_DECK = "forum"
RESERVED_NAMES = frozenset({DEFAULT_DECK, "draft", "new"})
NAME_MAX = 64
LIMITS = {"title": 200, "takeaway": 500, "notes": 8000, "query": 2000, "chart": 100}
MAX_SLIDES = 200
SECTIONS = ("opening", "rt1", "rt2", "sdg", "")


class DeckError(ValueError):
    """A deck that cannot be read or written; the message says why, for a person."""


@dataclass(frozen=True)
class Slide:
    chart: str  # a chart id of components.charts.REGISTRY
    query: str = ""  # the view's query string: filters, city and page options
    option: str | None = None  # the chart's own option (e.g. "tti" on the district map)
    title: str = ""  # empty: the chart's title
    takeaway: str = ""
    notes: str = ""
    section: str = ""  # opening | rt1 | rt2 | sdg: the part of the forum's agenda
    keys: bool = False  # title, takeaway and notes are message keys (the built-in deck)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("keys")
        return out


@dataclass(frozen=True)
class Deck:
    name: str
    title: str
    slides: tuple[Slide, ...] = field(default=())
    builtin: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "name": self.name,
            "title": self.title,
            "slides": [slide.to_json() for slide in self.slides],
        }


# -- names ----------------------------------------------------------------------------------------


def sanitize_name(raw: str | None) -> str:
    """`"Mon exposé: Forum 2017!"` -> `"mon-expose-forum-2017"`; refuses what leaves nothing."""
    text = unicodedata.normalize("NFKD", str(raw or "")).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:NAME_MAX].strip("-")
    if not name:
        raise DeckError("a deck name needs at least one Latin letter or digit")
    return name


def is_valid_name(name: str | None) -> bool:
    return bool(name) and re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", name) is not None


# -- validation -----------------------------------------------------------------------------------


def _text(raw: dict, key: str, where: str) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DeckError(f"{where}: {key!r} must be text, not {type(value).__name__}")
    if len(value) > LIMITS[key]:
        raise DeckError(f"{where}: {key!r} is longer than {LIMITS[key]} characters")
    return value


def slide_from_json(raw: Any, where: str = "slide") -> Slide:
    if not isinstance(raw, dict):
        raise DeckError(f"{where}: a slide must be an object")
    chart = raw.get("chart")
    if not isinstance(chart, str) or not chart.strip() or len(chart) > LIMITS["chart"]:
        raise DeckError(f"{where}: 'chart' must name a chart (e.g. \"traffic-pilot\")")
    query = _text(raw, "query", where).strip()
    if query and not query.startswith("?"):
        query = "?" + query
    option = raw.get("option")
    if option is not None and not isinstance(option, str):
        raise DeckError(f"{where}: 'option' must be text or null")
    section = raw.get("section") or ""
    if section not in SECTIONS:
        section = ""
    return Slide(
        chart=chart.strip(),
        query=query,
        option=option or None,
        title=_text(raw, "title", where),
        takeaway=_text(raw, "takeaway", where),
        notes=_text(raw, "notes", where),
        section=section,
    )


def deck_from_json(raw: Any, name: str) -> Deck:
    """A user deck from its parsed JSON; `DeckError` says what is wrong with it."""
    where = f"deck {name!r}"
    if not isinstance(raw, dict):
        raise DeckError(f"{where}: the file must hold a JSON object")
    version = raw.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise DeckError(f"{where}: format {version!r} is not supported (expected {FORMAT_VERSION})")
    slides = raw.get("slides")
    if not isinstance(slides, list):
        raise DeckError(f"{where}: 'slides' must be a list")
    if len(slides) > MAX_SLIDES:
        raise DeckError(f"{where}: more than {MAX_SLIDES} slides")
    title = raw.get("title") or name
    if not isinstance(title, str) or len(title) > LIMITS["title"]:
        raise DeckError(f"{where}: 'title' must be text of at most {LIMITS['title']} characters")
    return Deck(
        name=name,
        title=title,
        slides=tuple(
            slide_from_json(s, f"{where}, slide {i}") for i, s in enumerate(slides, start=1)
        ),
    )


def parse_deck(text: str, name: str) -> Deck:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeckError(
            f"deck {name!r} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return deck_from_json(raw, name)


# -- storage --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeckInfo:
    name: str
    title: str
    slides: int
    error: str = ""  # a file that does not read as a deck is listed with the reason


class DeckStore:
    """The presenters' decks: one JSON file per deck under `root` (`<data_dir>/decks`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        if not is_valid_name(name):
            raise DeckError(f"{name!r} is not a deck name (letters a-z, digits and '-')")
        return self.root / f"{name}.json"

    def exists(self, name: str) -> bool:
        return is_valid_name(name) and self.path(name).is_file()

    def load(self, name: str) -> Deck:
        if name == DEFAULT_DECK:
            return forum_deck()
        path = self.path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DeckError(f"there is no deck {name!r}") from None
        except UnicodeDecodeError:
            raise DeckError(f"deck {name!r} is not UTF-8 text") from None
        return parse_deck(text, name)

    def save(self, deck: Deck) -> Deck:
        """Write `deck` under its (sanitised) name; the file is replaced in one step."""
        name = sanitize_name(deck.name)
        if name in RESERVED_NAMES:
            raise DeckError(f"{name!r} is reserved: choose another name")
        checked = deck_from_json(deck.to_json(), name)  # the same rules as reading it back
        checked = replace(checked, title=(deck.title or name).strip()[: LIMITS["title"]] or name)
        payload = json.dumps(checked.to_json(), ensure_ascii=False, indent=1)
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(payload)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path(name))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return checked

    def delete(self, name: str) -> bool:
        if name in RESERVED_NAMES:
            raise DeckError(f"{name!r} cannot be deleted")
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def list(self) -> list[DeckInfo]:
        """The saved decks by name (the built-in deck is not among them)."""
        if not self.root.is_dir():
            return []
        out = []
        for path in sorted(self.root.glob("*.json")):
            name = path.stem
            if not is_valid_name(name) or name in RESERVED_NAMES:
                continue
            try:
                deck = self.load(name)
            except DeckError as exc:
                out.append(DeckInfo(name, name, 0, str(exc)))
                continue
            out.append(DeckInfo(name, deck.title, len(deck.slides)))
        return out


# -- the forum's deck -----------------------------------------------------------------------------

# (slide id, chart, query, option, section); texts are present.slide.<id>.title|takeaway|notes
FORUM_SLIDES: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("council", "present-council", "", None, "opening"),
    ("city", "present-city", "", None, "opening"),
    ("kpis", "present-kpis", "", None, "opening"),
    ("speed-map", "traffic-district-map", "?from=2017-11-01&to=2017-11-30", "speed", "rt1"),
    ("speed-day", "present-speed-day", "?from=2017-11-01&to=2017-11-30", None, "rt1"),
    ("rhythm", "traffic-hour-weekday", "", "speed", "rt1"),
    ("pilot", "traffic-pilot", "", None, "rt1"),
    ("emergency", "traffic-emergency", "", None, "rt1"),
    ("incidents", "traffic-incident-clearance", "", None, "rt1"),
    ("aqi-year", "present-aqi-year", "", None, "rt2"),
    ("calendar", "eco-aqi-calendar", "", None, "rt2"),
    ("no2", "eco-no2-traffic", "", None, "rt2"),
    ("mobility", "eco-mobility", "", None, "rt2"),
    ("energy", "eco-energy", "", None, "rt2"),
    ("sdg", "present-sdg", "", None, "sdg"),
)


def forum_deck() -> Deck:
    """The default deck: the forum's agenda, opening to SDG localisation."""
    return Deck(
        name=DEFAULT_DECK,
        title="present.deck.forum",
        builtin=True,
        slides=tuple(
            Slide(
                chart=chart,
                query=query,
                option=option,
                title=f"present.slide.{sid}.title",
                takeaway=f"present.slide.{sid}.takeaway",
                notes=f"present.slide.{sid}.notes",
                section=section,
                keys=True,
            )
            for sid, chart, query, option, section in FORUM_SLIDES
        ),
    )
