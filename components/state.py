"""The view state that lives in the URL: `?from=2017-03-01&to=2017-03-31&district=330106,330105`.

Parsing is forgiving (a hand-edited link with a bad date falls back to the default) because a
shared link must always open something; serialising drops defaults so links stay short. The
stores the shell fills from it (`filters`, `ui`) reach every callback from the browser, where a
visitor can write anything into them: they are read back through the same checks
(`ViewState.from_filters`, `ui_settings`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlencode

from i18n import DEFAULT_LANGUAGE, LANGUAGES, normalize_language

THEMES = ("light", "dark")
CITY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
UI_KEYS = ("lang", "theme")
# Dates outside these are brought inside: a period's arithmetic (the day after it, the period
# before it for a KPI trend) must stay within Python's dates whatever a link says, and no city's
# records reach beyond them.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
DISTRICT_CODE = re.compile(r"[0-9]{1,18}")  # an int64, as the datasets store it
MAX_COUNT = 10**9  # a count in a link (a slide, seconds) beyond this is no count the app uses


@dataclass(frozen=True)
class ViewState:
    start: dt.date | None = None
    end: dt.date | None = None
    districts: tuple[int, ...] = ()
    lang: str | None = None
    theme: str | None = None
    city: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, search: object) -> ViewState:
        query = search.lstrip("?") if isinstance(search, str) else ""
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        lang = params.pop("lang", None)
        theme = params.pop("theme", None)
        city = params.pop("city", None)
        start, end = date_range(params.pop("from", None), params.pop("to", None))
        return cls(
            start=start,
            end=end,
            districts=parse_codes(params.pop("district", "")),
            lang=lang if lang in LANGUAGES else None,
            theme=theme if theme in THEMES else None,
            city=city if city and CITY_ID.fullmatch(city) else None,
            options=params,
        )

    @classmethod
    def from_filters(cls, data: object) -> ViewState:
        """The filters of the `filters` store (`components.routing.filters_data`) as a callback
        receives it: dates, districts and page options checked like a link's, anything else
        dropped."""
        data = data if isinstance(data, dict) else {}
        start, end = date_range(data.get("from"), data.get("to"))
        options = data.get("options")
        return cls(
            start=start,
            end=end,
            districts=parse_codes(data.get("district")),
            options={
                name: value
                for name, value in (options.items() if isinstance(options, dict) else ())
                if isinstance(name, str) and isinstance(value, str)
            },
        )

    def within(
        self, first: dt.date | None, last: dt.date | None, codes: Iterable[int] | None = None
    ) -> ViewState:
        """The view with its dates brought inside the data's coverage [first, last] where the
        two overlap (a bound that is None holds nothing back; a period wholly outside the data
        stays, for the charts to say that nothing matches) and, given the city's district
        codes, only those."""
        start, end = self.start, self.end
        before = first is not None and end is not None and end < first
        after = last is not None and start is not None and start > last
        if not (before or after):
            if first is not None:
                start, end = (max(d, first) if d else d for d in (start, end))
            if last is not None:
                start, end = (min(d, last) if d else d for d in (start, end))
        known = None if codes is None else set(codes)
        districts = tuple(c for c in self.districts if known is None or c in known)
        return replace(self, start=start, end=end, districts=districts)

    def to_query(self) -> str:
        params: dict[str, str] = {}
        if self.city:
            params["city"] = self.city
        if self.start:
            params["from"] = self.start.isoformat()
        if self.end:
            params["to"] = self.end.isoformat()
        if self.districts:
            params["district"] = ",".join(str(c) for c in self.districts)
        params.update({k: v for k, v in sorted(self.options.items()) if v not in (None, "")})
        if self.lang:
            params["lang"] = self.lang
        if self.theme:
            params["theme"] = self.theme
        return "?" + urlencode(params, safe=",") if params else ""

    def with_changes(self, **changes) -> ViewState:
        return replace(self, **changes)


def parse_date(raw: object) -> dt.date | None:
    """A day from a link, a store or a date picker ("2017-03-01", "2017-03-01T00:00:00"),
    brought within EARLIEST..LATEST; None for anything that is not a real day."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw[:10])
    except ValueError:
        return None
    return min(max(day, EARLIEST), LATEST)


def date_range(start: object, end: object) -> tuple[dt.date | None, dt.date | None]:
    """Both ends parsed (`parse_date`), in order."""
    first, last = parse_date(start), parse_date(end)
    if first and last and first > last:
        first, last = last, first
    return first, last


def parse_codes(raw: object) -> tuple[int, ...]:
    """District codes from a link ("330106,330105") or a store ([330106, "330105"]): whole
    numbers only, each once, in order; anything else is dropped."""
    parts = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    codes = []
    for part in parts:
        text = part.strip() if isinstance(part, str) else str(part) if type(part) is int else ""
        if DISTRICT_CODE.fullmatch(text):
            codes.append(int(text))
    return tuple(dict.fromkeys(codes))


def parse_count(raw: object) -> int | None:
    """A whole number from a link ("3"): ASCII digits only (not "²", not 5,000 digits Python
    refuses to read), at most MAX_COUNT; None for anything else."""
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]+", raw):
        return None
    return min(int(raw), MAX_COUNT) if len(raw) <= len(str(MAX_COUNT)) else MAX_COUNT


def ui_settings(data: object) -> dict[str, str | None]:
    """The `ui` store ({"lang", "theme", "city"}, written by the shell) as a callback receives
    it: a known language (else the default), a known theme (else light), a well-formed city id
    or None (the callback's default city)."""
    data = data if isinstance(data, dict) else {}
    lang, theme, city = data.get("lang"), data.get("theme"), data.get("city")
    return {
        "lang": normalize_language(lang) if isinstance(lang, str) else DEFAULT_LANGUAGE,
        "theme": theme if isinstance(theme, str) and theme in THEMES else THEMES[0],
        "city": city if isinstance(city, str) and CITY_ID.fullmatch(city) else None,
    }
