"""Text files as a stream of UTF-8 bytes whatever their encoding, and the samples detection
looks at.
"""

from __future__ import annotations

import codecs
import io
import os
from pathlib import Path

from . import detect
from .errors import IngestError
from .settings import CSV_BLOCK, SAMPLE_BYTES, SPREAD_BYTES, SPREAD_SAMPLES
from .uploads import too_large


class TextStream(io.RawIOBase):
    """A file read as UTF-8 bytes whatever its encoding, after skipping its first lines.

    UTF-8 input is only validated (ASCII blocks cost one `isascii`); a byte that is not UTF-8
    switches the rest of the file to the `mixed` reading and is remembered as a note. Other
    encodings are decoded and re-encoded by block. Counts raw bytes (progress, size limit) and
    counts the lines it emits, so a reader can tell whether rows and lines matched.
    """

    def __init__(
        self,
        path: Path,
        file: str,
        encoding: str,
        skip_lines: int = 0,
        max_bytes: int | None = None,
        block: int = CSV_BLOCK,
    ) -> None:
        self.fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.file = file
        self.encoding = encoding
        self.size = os.fstat(self.fh.fileno()).st_size
        self.max_bytes = max_bytes
        self.block = block
        self.raw_read = 0
        self.lines_out = 0  # newlines emitted, for error positions
        self.to_skip = skip_lines
        self._last = b""
        self.notes: list[str] = []
        self.error: BaseException | None = None
        self._pending = b""
        self._eof = False
        self._passthrough = encoding in {"utf-8", "utf-8-sig"}
        self._bom = encoding == "utf-8-sig"
        self._decoder = None if self._passthrough else detect.decoder(encoding)
        self._utf8_tail = b""

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.fh.close()
        super().close()

    @property
    def fraction(self) -> float:
        return min(1.0, self.raw_read / self.size) if self.size else 1.0

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        try:
            return self._read(n)
        except BaseException as exc:
            self.error = exc
            raise

    def _read(self, n: int) -> bytes:
        want = float("inf") if n is None or n < 0 else n
        while len(self._pending) < want and not self._eof:
            self._fill()
        if n is None or n < 0:
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def _fill(self) -> None:
        raw = self.fh.read(self.block)
        self.raw_read += len(raw)
        if self.max_bytes is not None and self.raw_read > self.max_bytes:
            raise too_large(self.file, self.raw_read, self.max_bytes, at_least=True)
        final = not raw
        self._eof = final
        if self._bom and self.raw_read <= self.block and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        out = self._convert(raw, final)
        if self.to_skip:
            out = self._skip(out)
        self.lines_out += out.count(b"\n")
        if out:
            self._last = out[-1:]
        self._pending += out

    @property
    def physical_lines(self) -> int:
        """Lines emitted after the skipped ones (a last line without a newline counts)."""
        return self.lines_out + (1 if self._last not in (b"", b"\n") else 0)

    def _convert(self, raw: bytes, final: bool) -> bytes:
        if self._passthrough:
            data = self._utf8_tail + raw
            if data.isascii():
                self._utf8_tail = b""
                return data
            try:
                _, consumed = codecs.utf_8_decode(data, "strict", final)
            except UnicodeDecodeError as exc:
                line = self.lines_out + data[: exc.start].count(b"\n") + 1 + self._skipped
                self.notes.append(
                    f"from line {line} on, bytes that are not UTF-8 (first {data[exc.start]:#04x})"
                    " were read as Windows-1252"
                )
                self._passthrough = False
                self._decoder = detect.decoder("mixed")
                self._utf8_tail = b""
                return self._decoder.decode(data, final).encode("utf-8")
            self._utf8_tail = data[consumed:]
            return data[:consumed]
        try:
            text = self._decoder.decode(raw, final)
        except UnicodeDecodeError as exc:
            line = self.lines_out + 1 + self._skipped
            raise IngestError(
                self.file,
                line,
                None,
                f"text in {detect.ENCODINGS.get(self.encoding, self.encoding)}; found bytes "
                f"that are not ({exc.reason} at byte {exc.object[exc.start]:#04x}): "
                "choose another encoding",
                reason="encoding",
            ) from None
        if self._first and text:
            self._first = False
            text = text.removeprefix("\ufeff")
        return text.encode("utf-8")

    _skipped = 0
    _first = True

    def _skip(self, out: bytes) -> bytes:
        pos = 0
        while self.to_skip:
            nl = out.find(b"\n", pos)
            if nl < 0:
                return b""
            pos = nl + 1
            self.to_skip -= 1
            self._skipped += 1
        return out[pos:]


def read_samples(path: Path) -> tuple[bytes, list[bytes], bool]:
    """The head of a file, a few blocks spread through the rest, and whether the head is all."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        spread = []
        if size > SAMPLE_BYTES:
            step = (size - SAMPLE_BYTES) // SPREAD_SAMPLES
            for i in range(1, SPREAD_SAMPLES + 1):
                fh.seek(min(size - SPREAD_BYTES, SAMPLE_BYTES + i * step - SPREAD_BYTES))
                spread.append(fh.read(SPREAD_BYTES))
    return head, spread, size <= SAMPLE_BYTES


def decode_sample(head: bytes, encoding: str, complete: bool, file: str) -> str:
    """A file's head as text in `encoding` (a BOM dropped); a byte the encoding cannot read is
    refused at its line and column."""
    try:
        text = detect.decoder(encoding).decode(head, complete)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        column = exc.start - (head.rfind(b"\n", 0, exc.start) + 1) + 1
        raise IngestError(
            file,
            line,
            column,
            f"text in {detect.ENCODINGS.get(encoding, encoding)}; found byte "
            f"{exc.object[exc.start]:#04x}: choose another encoding",
            reason="encoding",
        ) from None
    return text.lstrip("\ufeff")
