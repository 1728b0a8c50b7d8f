"""Slide decks: the built-in "forum" deck and the presenters' own decks, stored as JSON files.

A slide is a saved view: a registered chart id, the query string of its filters and page options
(the dashboard's own URL state, e.g. `?from=2017-03-01&to=2017-03-31&aqi=epa`), the chart's
option, a title, one takeaway sentence and speaker notes. The built-in deck holds message keys
(translated on display); a user deck holds its own text.

User decks live in `<data_dir>/decks/<name>.json`; a name is sanitised to `[a-z0-9-]` before it
touches the file system, and every write goes to a temporary file in the same folder first, then
`os.replace`, so a reader never sees half a deck.

A saved deck records its owner (the analyst who created it), its version number, and who saved
that version and when. A save first keeps the version it replaces as
`<data_dir>/decks/.versions/<name>/v0003.json` (the newest `DeckLimits.versions` of them stay), and
restoring one saves it again as the newest version. Saves are refused, with nothing written,
beyond the limits on the number of decks and the size of one, and when the disk is full. A lock
file (`.lock`) shared by the server's processes puts saves in a row, so two analysts saving the
same deck at once get a version each.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import math
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .locks import exclusive
from .names import slug

FORMAT_VERSION = 1
DEFAULT_DECK = "forum"
RESERVED_NAMES = frozenset({DEFAULT_DECK, "draft", "new"})
NAME_MAX = 64
LIMITS = {"title": 200, "takeaway": 500, "notes": 8000, "query": 2000, "chart": 100}
MAX_SLIDES = 200
SECTIONS = ("opening", "rt1", "rt2", "sdg", "")
VERSIONS_DIR = ".versions"
LOCK_FILE = ".lock"
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
FileKey = tuple[int, int, int]  # modification time (ns), size, inode: changes with each write


class DeckError(ValueError):
    """A deck that cannot be read or written; the message says why, for a person. A refusal the
    editor shows in the viewer's language also names its message: `key` (under
    `present.refused.`) and the values the message takes."""

    def __init__(self, message: str, key: str = "", **values: Any) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class DeckLimits:
    """What saves may fill: decks in all, the size of one deck's JSON, versions kept per deck."""

    decks: int = 200
    kb: int = 512
    versions: int = 20


DEFAULT_LIMITS = DeckLimits()


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
    owner: str | None = None  # the analyst who created it; None: saved before owners were kept
    author: str | None = None  # the analyst who saved this version
    version: int = 1
    saved_at: str = ""  # ISO 8601, UTC
    restored_from: int | None = None  # the earlier version this one brought back

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "name": self.name,
            "title": self.title,
            "owner": self.owner,
            "author": self.author,
            "version": self.version,
            "saved_at": self.saved_at,
        }
        if self.restored_from is not None:
            out["restored_from"] = self.restored_from
        out["slides"] = [slide.to_json() for slide in self.slides]
        return out


# -- names ----------------------------------------------------------------------------------------


def sanitize_name(raw: str | None) -> str:
    """`"Mon exposé: Forum 2017!"` -> `"mon-expose-forum-2017"`; refuses what leaves nothing."""
    name = slug(str(raw or ""), max_length=NAME_MAX)
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


def _analyst(raw: dict, key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not 0 < len(value) <= NAME_MAX):
        raise DeckError(f"{where}: {key!r} must be an analyst's name or null")
    return value


def _version(raw: dict, key: str, where: str, default: int | None) -> int | None:
    value = raw.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DeckError(f"{where}: {key!r} must be a whole number from 1")
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
    saved_at = raw.get("saved_at") or ""
    if not isinstance(saved_at, str) or len(saved_at) > 40:
        raise DeckError(f"{where}: 'saved_at' must be a date and time")
    return Deck(
        name=name,
        title=title,
        slides=tuple(
            slide_from_json(s, f"{where}, slide {i}") for i, s in enumerate(slides, start=1)
        ),
        owner=_analyst(raw, "owner", where),
        author=_analyst(raw, "author", where),
        version=_version(raw, "version", where, 1),
        saved_at=saved_at,
        restored_from=_version(raw, "restored_from", where, None),
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
    """A deck, or one version of it, as lists show it."""

    name: str
    title: str
    slides: int
    error: str = ""  # a file that does not read as a deck is listed with the reason
    owner: str | None = None
    author: str | None = None
    version: int = 1
    saved_at: str = ""
    restored_from: int | None = None

    @classmethod
    def of(cls, deck: Deck) -> DeckInfo:
        return cls(
            name=deck.name,
            title=deck.title,
            slides=len(deck.slides),
            owner=deck.owner,
            author=deck.author,
            version=deck.version,
            saved_at=deck.saved_at,
            restored_from=deck.restored_from,
        )


def _write_atomic(path: Path, payload: bytes) -> None:
    """`path` holds `payload`, or what it held before, never a part of either: a temporary file
    in the same folder, synced, then renamed over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DeckStore:
    """The presenters' decks: one JSON file per deck under `root` (`<data_dir>/decks`), and the
    versions each replaced under `root/.versions/<name>/`.

    A store remembers what each file it listed holds (title, slides, owner, version) until the
    file changes, so keep one store per folder: listing 200 decks is then 200 stat() calls, not
    200 JSON files parsed on every page."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()  # guards _summaries (writes are put in a row by LOCK_FILE)
        self._summaries: dict[Path, tuple[FileKey, DeckInfo]] = {}

    def path(self, name: str) -> Path:
        if not is_valid_name(name):
            raise DeckError(f"{name!r} is not a deck name (letters a-z, digits and '-')")
        return self.root / f"{name}.json"

    def versions_dir(self, name: str) -> Path:
        return self.root / VERSIONS_DIR / self.path(name).stem

    def version_path(self, name: str, version: int) -> Path:
        return self.versions_dir(name) / f"v{version:04d}.json"

    def exists(self, name: str) -> bool:
        return is_valid_name(name) and self.path(name).is_file()

    def load(self, name: str) -> Deck:
        if name == DEFAULT_DECK:
            return forum_deck()
        return self._read(self.path(name), name, f"there is no deck {name!r}")

    def load_version(self, name: str, version: int) -> Deck:
        """Version `version` of deck `name`, as kept when a later save replaced it."""
        missing = f"deck {name!r} has no version {version} kept"
        if not 1 <= version < 10**9:  # a forged number makes no file name
            raise DeckError(missing)
        return self._read(self.version_path(name, version), name, missing)

    @staticmethod
    def _read(path: Path, name: str, missing: str) -> Deck:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DeckError(missing) from None
        except UnicodeDecodeError:
            raise DeckError(f"deck {name!r} is not UTF-8 text") from None
        return parse_deck(text, name)

    # -- writing

    def save(
        self,
        deck: Deck,
        author: str,
        limits: DeckLimits = DEFAULT_LIMITS,
        restored_from: int | None = None,
    ) -> Deck:
        """Write `deck` under its (sanitised) name as a new version by `author`, after keeping
        the version it replaces; the deck file is replaced in one step. `DeckError` when a limit
        or a full disk refuses it, with nothing changed. Its owner, version and time are the
        store's to set, whatever `deck` says."""
        name = sanitize_name(deck.name)
        if name in RESERVED_NAMES:
            raise DeckError(f"{name!r} is reserved: choose another name")
        checked = deck_from_json(deck.to_json(), name)  # the same rules as reading it back
        title = (deck.title or name).strip()[: LIMITS["title"]] or name
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with exclusive(self.root / LOCK_FILE):
                saving = replace(checked, title=title, restored_from=restored_from)
                return self._save_locked(saving, author, limits)
        except OSError as exc:
            if exc.errno in DISK_FULL:
                raise DeckError("the disk is full: the deck was not saved", "disk_full") from exc
            raise

    def _save_locked(self, deck: Deck, author: str, limits: DeckLimits) -> Deck:
        name, path = deck.name, self.path(deck.name)
        try:
            previous: bytes | None = path.read_bytes()
        except FileNotFoundError:
            previous = None
        if previous is None and self.count() >= limits.decks:
            raise DeckError(
                f"there are already {limits.decks} decks: save this one over an existing deck, "
                "or delete one",
                "too_many",
                limit=limits.decks,
            )
        current = self._summary(path, name) if previous is not None else None
        if current is not None and current.error:  # unreadable: kept after the last version
            current = replace(current, version=max(self._kept_versions(name), default=0) + 1)
        saved = replace(
            deck,
            owner=author if current is None else current.owner,
            author=author,
            version=1 if current is None else current.version + 1,
            saved_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        payload = json.dumps(saved.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
        if len(payload) > limits.kb * 1024:
            size = math.ceil(len(payload) / 1024)
            raise DeckError(
                f"the deck is larger than {limits.kb} KB ({size} KB)",
                "too_big",
                limit=limits.kb,
                size=size,
            )
        new_copy = None
        if current is not None and limits.versions > 0:
            kept = self.version_path(name, current.version)
            if not kept.exists():  # else kept already, by a save that failed after keeping it
                new_copy = kept
            kept.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(kept, previous)
        try:
            _write_atomic(path, payload)
        except BaseException:
            if new_copy is not None:
                new_copy.unlink(missing_ok=True)  # the deck is as it was: so are its versions
            raise
        if current is not None:
            self._prune(name, limits.versions)
        return saved

    def restore(
        self, name: str, version: int, author: str, limits: DeckLimits = DEFAULT_LIMITS
    ) -> Deck:
        """Save version `version` of deck `name` again, as its newest version."""
        return self.save(self.load_version(name, version), author, limits, restored_from=version)

    def delete(self, name: str) -> bool:
        """Remove the deck and the versions it kept; False when there was no such deck."""
        if name in RESERVED_NAMES:
            raise DeckError(f"{name!r} cannot be deleted")
        path, versions = self.path(name), self.versions_dir(name)
        if not self.root.is_dir():
            return False
        with exclusive(self.root / LOCK_FILE):
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            shutil.rmtree(versions, ignore_errors=True)
        self._forget(lambda p: p == path or p.parent == versions)
        return True

    def _prune(self, name: str, keep: int) -> None:
        """Only the newest `keep` versions of deck `name` stay."""
        kept = self._kept_versions(name)
        old = {self.version_path(name, v) for v in kept[: max(len(kept) - keep, 0)]}
        for version_file in old:
            version_file.unlink(missing_ok=True)
        self._forget(old.__contains__)

    # -- reading lists

    def _kept_versions(self, name: str) -> list[int]:
        try:
            files = os.listdir(self.versions_dir(name))
        except FileNotFoundError:
            return []
        return sorted(int(m[1]) for f in files if (m := re.fullmatch(r"v(\d{4,9})\.json", f)))

    def _deck_names(self) -> list[str]:
        """The names of the deck files (not the built-in deck, temporary files or versions)."""
        try:
            with os.scandir(self.root) as entries:
                files = [e.name for e in entries if e.name.endswith(".json") and e.is_file()]
        except FileNotFoundError:
            return []
        names = (f.removesuffix(".json") for f in files)
        return sorted(n for n in names if is_valid_name(n) and n not in RESERVED_NAMES)

    def count(self) -> int:
        return len(self._deck_names())

    def _summary(self, path: Path, name: str) -> DeckInfo | None:
        """What the file at `path` holds (None: no such file), read again only if it changed."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            known = self._summaries.get(path)
        if known is not None and known[0] == key:
            return known[1]
        try:
            info = DeckInfo.of(self._read(path, name, f"there is no deck {name!r}"))
        except DeckError as exc:
            info = DeckInfo(name, name, 0, str(exc))
        with self._lock:
            self._summaries[path] = (key, info)
        return info

    def _forget(self, gone: Callable[[Path], bool]) -> None:
        with self._lock:
            for path in [p for p in self._summaries if gone(p)]:
                del self._summaries[path]

    def list(self) -> list[DeckInfo]:
        """The saved decks by name (the built-in deck is not among them)."""
        names = self._deck_names()
        listed = [info for n in names if (info := self._summary(self.path(n), n)) is not None]
        present = {self.path(n) for n in names}
        self._forget(lambda p: p.parent == self.root and p not in present)
        return listed

    def history(self, name: str) -> list[DeckInfo]:
        """The deck's current version, then the earlier versions kept, newest first."""
        current = self._summary(self.path(name), name)
        if current is None:
            return []
        newest = math.inf if current.error else current.version
        earlier = (
            self._summary(self.version_path(name, v), name)
            for v in reversed(self._kept_versions(name))
            if v < newest
        )
        return [current, *(info for info in earlier if info is not None)]


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
