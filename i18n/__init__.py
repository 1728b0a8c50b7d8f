"""The translation layer: every user-visible string, number and date goes through here.

Messages live in `i18n/messages/*.json`, one file per part of the app, each key holding its four
translations side by side so a missing one shows in review (and fails `tests/unit/test_i18n.py`).
Numbers and dates are formatted by Babel with the locale's own conventions.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "zh")
DEFAULT_LANGUAGE = "en"
BABEL_LOCALES = {"en": "en_GB", "fr": "fr_FR", "es": "es_ES", "zh": "zh_Hans_CN"}
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "zh": "中文"}
MESSAGES_DIR = Path(__file__).parent / "messages"


@cache
def messages() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(MESSAGES_DIR.glob("*.json")):
        for key, translations in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"{path.name}: message {key!r} is defined twice")
            merged[key] = translations
    return merged


def normalize_language(lang: str | None) -> str:
    """Map `fr-CA`, `zh_Hans`, `ZH` … onto one of our languages, else the default."""
    if not lang:
        return DEFAULT_LANGUAGE
    base = lang.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str, **values: object) -> str:
    """The message `key` in `lang` (English where a translation is missing), with values."""
    entry = messages().get(key)
    if entry is None:
        raise KeyError(f"no message {key!r}")
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def fmt_number(value: float | int | None, lang: str, digits: int = 0) -> str:
    if value is None or value != value:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return _pattern(pattern).apply(value, _locale(lang))


def fmt_percent(value: float | None, lang: str, digits: int = 0) -> str:
    """`value` is a fraction (0.25 → 25 %), written the locale's way."""
    if value is None or value != value:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return _pattern(pattern).apply(value, _locale(lang))


def fmt_figure(value: float | None, lang: str, digits: int, percent: bool = False) -> str:
    """A headline figure (KPI card, SDG indicator, slide) with `digits` decimals, a fraction
    written as a percentage: every page rounds a figure through here, so a share reads the same
    on each of them."""
    return fmt_percent(value, lang, digits) if percent else fmt_number(value, lang, digits)


# Babel's format_decimal/format_percent parse their pattern and the locale on every call (~20 µs,
# a few ms for the hover texts of one chart); kept parsed, a number costs a fifth of that.
@cache
def _pattern(pattern: str) -> babel_numbers.NumberPattern:
    return babel_numbers.parse_pattern(pattern)


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(BABEL_LOCALES[lang])


def fmt_date(value: dt.date, lang: str, length: str = "medium") -> str:
    return babel_dates.format_date(value, format=length, locale=BABEL_LOCALES[lang])


@cache
def plotly_locale(lang: str) -> dict:
    """A plotly.js locale built from Babel's data, passed in the graph config (no extra script)."""
    loc = BABEL_LOCALES[lang]
    months = babel_dates.get_month_names("wide", locale=loc)
    short_months = babel_dates.get_month_names("abbreviated", locale=loc)
    days = babel_dates.get_day_names("wide", locale=loc)
    short_days = babel_dates.get_day_names("abbreviated", locale=loc)
    sunday_first = [6, 0, 1, 2, 3, 4, 5]
    symbols = babel_numbers.get_decimal_symbol(loc), babel_numbers.get_group_symbol(loc)
    return {
        "dictionary": {},
        "format": {
            "days": [days[i] for i in sunday_first],
            "shortDays": [short_days[i] for i in sunday_first],
            "months": [months[i] for i in range(1, 13)],
            "shortMonths": [short_months[i] for i in range(1, 13)],
            "decimal": symbols[0],
            "thousands": symbols[1],
            "date": "%Y-%m-%d",
        },
    }


def plotly_separators(lang: str) -> str:
    """Plotly's `layout.separators`: decimal mark then thousands mark."""
    fmt = plotly_locale(lang)["format"]
    return fmt["decimal"] + fmt["thousands"]


def fmt_compact(value: float, lang: str) -> str:
    """A number shortened the locale's way: 3,000,000 is "3M" in English, "300万" in Chinese
    (10⁴ and 10⁸ are the Chinese steps); up to two decimals, none when it is round."""
    locale = BABEL_LOCALES[lang]
    return babel_numbers.format_compact_decimal(value, locale=locale, fraction_digits=2)


@cache
def _stored_texts() -> dict[str, str]:
    """English texts the app itself writes into stored data (a demo dataset's source or
    licence), each with its message key: the catalog keeps one text, the reader sees theirs."""
    return {v["en"]: k for k, v in messages().items() if k.startswith("stored.")}


def stored_text(text: str, lang: str) -> str:
    """A catalog text in `lang` when the app wrote it; a publisher's own words as written."""
    key = _stored_texts().get(text)
    return t(key, lang) if key else text


def unit_text(unit: str, lang: str) -> str:
    """A unit as the reader writes it: words translated ("lanes", "trips/day"), symbols
    (µg/m³, km/h, °C) as they are, read the same in every language."""
    return t("unit." + unit, lang) if "unit." + unit in messages() else unit
