"""The encodings CityLens reads, the one a file is in (guessed from its head and samples spread
through it), and decoders that read them, including UTF-8 mixed with Windows-1252.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


def utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when every other byte is NUL (ASCII text in UTF-16)."""
    window = sample[:4096]
    if len(window) < 8:
        return None
    even, odd = window[0::2], window[1::2]
    if odd.count(0) > len(odd) * 0.7 and even.count(0) < len(even) * 0.1:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.7 and odd.count(0) < len(odd) * 0.1:
        return "utf-16-be"
    return None


ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 (with BOM)",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "ISO-8859-1 (Latin-1)",
    "gb18030": "GB18030 (Chinese)",
    "mixed": "UTF-8, with Windows-1252 for the bytes that are not UTF-8",
}


MIXED_ERRORS = "citylens-cp1252-fallback"


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: bytes that are not UTF-8 are read as Windows-1252 (else Latin-1)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(_cp1252_char(b) for b in bad), exc.end


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return bytes([byte]).decode("latin-1")


codecs.register_error(MIXED_ERRORS, _cp1252_fallback)


def decoder(encoding: str) -> codecs.IncrementalDecoder:
    """An incremental decoder for one of `ENCODINGS`."""
    if encoding == "mixed":
        return codecs.getincrementaldecoder("utf-8")(errors=MIXED_ERRORS)
    if encoding == "latin-1":
        return codecs.getincrementaldecoder("latin-1")()
    return codecs.getincrementaldecoder(encoding)(errors="strict")


def decode(data: bytes, encoding: str, final: bool = True) -> str:
    return decoder(encoding).decode(data, final)


@dataclass(frozen=True)
class EncodingGuess:
    encoding: str
    note: str = ""


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def detect_encoding(samples: list[bytes], at_start: bool = True, complete: bool = False) -> str:
    """The encoding of a file from samples of it (the first one is its start).

    UTF-8 if every sample decodes; else GB18030 when the non-ASCII bytes come in pairs that
    decode to Chinese; else `mixed` when real UTF-8 sequences sit beside bytes that are not
    (files pasted together from two systems); else Windows-1252, else Latin-1 (decodes anything).
    """
    return detect_encoding_guess(samples, at_start, complete).encoding


def detect_encoding_guess(
    samples: list[bytes], at_start: bool = True, complete: bool = False
) -> EncodingGuess:
    head = samples[0] if samples else b""
    if at_start:
        if head.startswith(codecs.BOM_UTF8):
            return EncodingGuess("utf-8-sig")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return EncodingGuess("utf-16")
        utf16 = utf16_without_bom(head)
        if utf16:
            return EncodingGuess(utf16)
    if all(_utf8_ok(s, first=(i == 0 and at_start), final=complete) for i, s in enumerate(samples)):
        return EncodingGuess("utf-8")
    data = b"\n".join(samples)
    runs = _HIGH_RUN.findall(data)
    high = sum(len(r) for r in runs)
    paired = sum(len(r) for r in runs if len(r) >= 2 and len(r) % 2 == 0)
    if high and paired / high >= 0.8 and _mostly_chinese(data):
        return EncodingGuess("gb18030")
    utf8_sequences = len(_UTF8_MULTIBYTE.findall(data))
    if utf8_sequences >= 2:  # by chance in Latin-1 text only as rare pairs like "Ã©"
        return EncodingGuess(
            "mixed", f"{utf8_sequences} UTF-8 sequences beside bytes that are not UTF-8"
        )
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return EncodingGuess("latin-1")
    return EncodingGuess("cp1252")


def _utf8_ok(sample: bytes, first: bool, final: bool) -> bool:
    if sample.isascii():
        return True
    if not first:  # a sample from the middle may start inside a character
        sample = sample.lstrip(bytes(range(0x80, 0xC0)))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_chinese(data: bytes) -> bool:
    text = data.decode("gb18030", errors="replace")
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return False
    cjk = sum(1 for ch in wide if _is_cjk(ch))
    return cjk / len(wide) >= 0.9


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF
