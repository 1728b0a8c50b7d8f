"""The one slug function: ids of datasets, cities and decks, and file names of downloads.

Every id a URL or a file name carries is made here, so each is ASCII letters, digits and `-`,
whatever script the title was written in."""

from __future__ import annotations

import hashlib
import re
import unicodedata


def slug(text: str, max_length: int = 64, fallback: str | None = None) -> str:
    """`"Qualité de l'air — Paris 2017"` -> `"qualite-de-l-air-paris-2017"`, cut to `max_length`.

    A text with no Latin letter or digit (`北京空气质量`) gives `""`, or, with a `fallback`,
    `"<fallback>-<hash>"`: a short hash of the text, stable across runs."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:max_length].strip("-")
    if out or fallback is None:
        return out
    digest = hashlib.sha1(str(text).encode()).hexdigest()[:8] if text else ""
    return f"{fallback}-{digest}" if digest else fallback
