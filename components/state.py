"""The view state that lives in the URL: `?from=2017-03-01&to=2017-03-31&district=330106,330105`.

Parsing is forgiving (a hand-edited link with a bad date falls back to the default) because a
shared link must always open something; serialising drops defaults so links stay short.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlencode

from i18n import LANGUAGES

THEMES = ("light", "dark")
CITY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
UI_KEYS = ("lang", "theme")


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
    def from_query(cls, search: str | None) -> ViewState:
        params = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
        lang = params.pop("lang", None)
        theme = params.pop("theme", None)
        city = params.pop("city", None)
        start = _date(params.pop("from", None))
        end = _date(params.pop("to", None))
        if start and end and start > end:
            start, end = end, start
        return cls(
            start=start,
            end=end,
            districts=_codes(params.pop("district", "")),
            lang=lang if lang in LANGUAGES else None,
            theme=theme if theme in THEMES else None,
            city=city if city and CITY_ID.fullmatch(city) else None,
            options=params,
        )

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


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _codes(raw: str) -> tuple[int, ...]:
    codes = []
    for part in raw.split(","):
        part = part.strip()
        if part.isdigit():
            codes.append(int(part))
    return tuple(dict.fromkeys(codes))
