"""The translation layer: complete, formatted the locale's way."""

import datetime as dt
import json
import re

import pytest

import i18n
from i18n import LANGUAGES, fmt_date, fmt_number, fmt_percent, messages, normalize_language, t


def test_every_message_has_all_four_languages():
    missing = {
        key: [lang for lang in LANGUAGES if not entry.get(lang)]
        for key, entry in messages().items()
    }
    assert {key: langs for key, langs in missing.items() if langs} == {}


def test_placeholders_agree_across_languages():
    for key, entry in messages().items():
        names = {lang: set(re.findall(r"{(\w+)}", text)) for lang, text in entry.items()}
        assert len({frozenset(v) for v in names.values()}) == 1, f"{key}: {names}"


def test_translations_are_not_copies_of_english():
    copied = [
        key
        for key, entry in messages().items()
        if len(entry["en"]) > 25 and any(entry[lang] == entry["en"] for lang in ("fr", "es", "zh"))
    ]
    assert copied == []


def test_message_files_do_not_repeat_keys(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_text(json.dumps({"x": {"en": "1"}}))
    (tmp_path / "b.json").write_text(json.dumps({"x": {"en": "2"}}))
    monkeypatch.setattr(i18n, "MESSAGES_DIR", tmp_path)
    i18n.messages.cache_clear()
    try:
        with pytest.raises(ValueError, match="defined twice"):
            i18n.messages()
    finally:
        monkeypatch.undo()
        i18n.messages.cache_clear()


def test_lookup_falls_back_to_english_and_refuses_unknown_keys():
    assert t("nav.traffic", "fr") == "Régulation du trafic"
    with pytest.raises(KeyError):
        t("no.such.key", "en")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("fr-CA", "fr"), ("zh_Hans", "zh"), ("ES", "es"), ("de", "en"), (None, "en")],
)
def test_normalize_language(raw, expected):
    assert normalize_language(raw) == expected


def test_numbers_and_dates_follow_the_locale():
    assert fmt_number(12345.6, "en", 1) == "12,345.6"
    assert fmt_number(12345.6, "fr", 1).replace("\u202f", " ") == "12 345,6"
    assert fmt_number(12345.6, "es", 1) == "12.345,6"
    assert fmt_percent(0.256, "en") == "26%"
    assert fmt_date(dt.date(2017, 12, 7), "zh") == "2017年12月7日"
    assert fmt_number(None, "en") == "–"


def test_plotly_locale_has_translated_months():
    fmt = i18n.plotly_locale("fr")["format"]
    assert fmt["months"][0] == "janvier" and fmt["days"][0] == "dimanche"
    assert i18n.plotly_separators("es") == ",."
