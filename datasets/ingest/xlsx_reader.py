"""Excel workbooks: the zip directory checked before openpyxl opens them (what the parts expand
to), then the first sheet that holds a table, streamed row by row.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from . import detect
from .errors import IngestError, RowProblem, printable
from .settings import BATCH_ROWS, MB, SAMPLE_ROWS, Limits, Settings
from .table_reader import Chunk, TableReader, filled
from .uploads import human_size


def check_workbook(path: Path, file: str, limits: Limits) -> None:
    """Refuse a damaged workbook or a zip bomb from the zip directory alone, before opening it.

    Python's zipfile never inflates an entry past its declared size, so the declared sizes
    bound what openpyxl can be made to read.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(
            file,
            expected=f"an Excel workbook (.xlsx, a zip archive); it is damaged or cut off ({exc})",
            reason="damaged",
        ) from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise IngestError(
            file,
            expected="an Excel workbook (.xlsx); this zip archive holds no xl/workbook.xml",
            reason="format",
        )
    if len(infos) > 10_000:
        raise IngestError(
            file,
            expected=f"a workbook of at most 10,000 parts; it has {len(infos):,}",
            reason="bomb",
        )
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > 16 * MB and ratio > limits.max_ratio:
            raise IngestError(
                file,
                expected=f"a workbook whose parts compress at most {limits.max_ratio}:1; "
                f"{printable(info.filename)} expands {ratio:,.0f}:1 to "
                f"{info.file_size / MB:,.0f} MB (a zip bomb?)",
                reason="bomb",
            )
    if total > limits.max_unpacked_bytes:
        raise IngestError(
            file,
            expected=f"a workbook expanding to at most {limits.max_unpacked_bytes / MB:,.0f} MB; "
            f"this one expands to {total / MB:,.0f} MB (a zip bomb?)",
            reason="bomb",
        )
    with zipfile.ZipFile(path) as zf:
        whole = _parsed_whole(zf, infos, limits)
        for info in infos:
            if info.filename in whole and info.file_size > limits.max_shared_strings_bytes:
                raise IngestError(
                    file,
                    expected="a workbook whose strings and styles take at most "
                    f"{human_size(limits.max_shared_strings_bytes)} (they are read into memory "
                    f"at once; CITYLENS_INGEST_MEMORY_MB / 16); {printable(info.filename)} "
                    f"takes {human_size(info.file_size)}: save the sheet as CSV",
                    reason="too_large",
                )
            if info.file_size > limits.max_cell_bytes and info.filename.endswith(".xml"):
                longest = _longest_text(zf, info, limits.max_cell_bytes)
                if longest > limits.max_cell_bytes:
                    raise IngestError(
                        file,
                        expected=f"values of at most {human_size(limits.max_cell_bytes)}; "
                        f"{printable(info.filename)} holds {human_size(longest)} of text "
                        "between two tags",
                        reason="too_large",
                    )


SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _parsed_whole(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits) -> set[str]:
    """The parts openpyxl reads whole even in read-only mode (it streams only the sheets): the
    content types, the workbook, the styles, the relationships and the shared strings, found
    as openpyxl finds them (by content type), whatever they are named."""
    whole = {"[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml"}
    whole |= {i.filename for i in infos if i.filename.endswith(".rels")}
    types = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
    if types is None or types.file_size > limits.max_shared_strings_bytes:
        return whole  # refused by size, or openpyxl refuses a package without it
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(zf.read(types))
    except (ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return whole  # openpyxl cannot open it either, and says so
    for item in root:
        if item.get("ContentType") == SHARED_STRINGS:
            whole.add(item.get("PartName", "").lstrip("/"))
    return whole


def _longest_text(zf: zipfile.ZipFile, info: zipfile.ZipInfo, enough: int) -> int:
    """The longest stretch of a part without a `<` (a cell's text, or a tag's attributes),
    found as the part is inflated block by block; stops once it passes `enough`."""
    longest = run = 0
    try:
        with zf.open(info) as fh:
            while block := fh.read(4 * MB):
                marks = np.flatnonzero(np.frombuffer(block, np.uint8) == ord("<"))
                if len(marks) == 0:
                    run += len(block)
                else:
                    gaps = int(np.diff(marks).max(initial=0))
                    longest = max(longest, run + int(marks[0]), gaps)
                    run = len(block) - int(marks[-1])
                if max(longest, run) > enough:
                    break
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        pass  # a damaged part: openpyxl refuses the workbook, and says where
    return max(longest, run)


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        text = (
            value.isoformat(sep=" ")
            if hasattr(value, "hour") and hasattr(value, "day")
            else value.isoformat()
        )
        return text.removesuffix(" 00:00:00") if hasattr(value, "hour") else text
    text = str(value)
    return text if text.strip() else None


class XlsxReader(TableReader):
    """A workbook sheet through openpyxl's read-only mode; lines are the sheet's row numbers."""

    sheet_rows: int = 0

    @classmethod
    def open(cls, path: Path, file: str, overrides: dict, limits: Limits) -> XlsxReader:
        check_workbook(path, file, limits)
        wb = _load_workbook(path, file)
        try:
            sheets = tuple(wb.sheetnames)
            sheet = overrides.get("sheet") or _first_table(wb, sheets)
            if sheet not in sheets:
                raise IngestError(
                    file,
                    expected=f"a sheet named {sheet!r}; the workbook has "
                    + ", ".join(repr(s) for s in sheets),
                    reason="sheet",
                )
            ws = wb[sheet]
            rows = []
            for row in ws.iter_rows(min_row=1, values_only=True):
                rows.append([_cell_text(v) for v in row])
                if len(rows) >= SAMPLE_ROWS + 50:
                    break
            sheet_rows = ws.max_row or 0
        finally:
            wb.close()
        if not any(filled(r) for r in rows):
            raise IngestError(
                file, expected=f"data in sheet {sheet!r}; it is empty", reason="empty"
            )
        settings = Settings("xlsx", sheet=sheet, sheets=sheets)
        reader = cls(path, file, settings, limits)
        reader.sheet_rows = sheet_rows
        if len(sheets) > 1 and not overrides.get("sheet"):
            reader.notes.append(
                f"{len(sheets)} sheets ({', '.join(sheets)}): reading {sheet!r}; choose another"
            )
        texts = [[c or "" for c in r] for r in rows]
        if "skip_lines" in overrides or "has_header" in overrides:
            index = int(overrides.get("skip_lines", 0))
            has_header = bool(overrides.get("has_header", True))
        else:
            index, has_header = detect.detect_header(_trim_rows(texts))
        reader.settings = Settings(
            "xlsx", skip_lines=index, has_header=has_header, sheet=sheet, sheets=sheets
        )
        header = _trim(rows[index]) if index < len(rows) else []
        widths = [len(_trim(r)) for r in rows[index:] if filled(r)]
        width = len(header) if has_header else max(widths, key=widths.count, default=0)
        if has_header:
            reader._set_names([h or "" for h in header] + [""] * (width - len(header)), index + 1)
            first = index + 1
        else:
            reader._set_names([f"column_{i}" for i in range(1, width + 1)], index + 1)
            first = index
        reader.data_line = first + 1
        reader.sample = [
            (i + 1, (r + [None] * width)[:width])
            for i, r in enumerate(rows[first : first + SAMPLE_ROWS], start=first)
            if filled(r)
        ]
        if not reader.sample and len(rows) < SAMPLE_ROWS:
            raise IngestError(
                file,
                index + 1,
                None,
                f"rows of data after the header in sheet {sheet!r}; there are none",
                reason="no_rows",
            )
        reader._refuse_long_sample()
        return reader

    data_line: int = 2

    def batches(self, exact: bool = False) -> Iterator[Chunk]:
        wb = _load_workbook(self.path, self.file)
        width = len(self.names)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        lines: list[int] = []
        missing = set(self.settings.missing) - {""}
        try:
            ws = wb[self.settings.sheet]
            rows = ws.iter_rows(min_row=self.data_line, values_only=True)
            for number, row in enumerate(rows, start=self.data_line):
                cells = [_cell_text(v) for v in row]
                if not filled(cells):
                    self.empty_rows += 1 if number <= self.sheet_rows else 0
                    continue
                extra = [i for i, c in enumerate(cells[width:], start=width + 1) if c is not None]
                if extra:
                    self._add_problem(
                        RowProblem(
                            number,
                            extra[0],
                            "",
                            f"expected {width} columns, found a value in column {extra[0]}",
                            kind="shape",
                        )
                    )
                    continue
                cells = (cells + [None] * width)[:width]
                for col, value in zip(columns, cells, strict=True):
                    col.append(None if value in missing else value)
                lines.append(number)
                if len(lines) >= BATCH_ROWS // 4:
                    self.fraction = min(1.0, number / max(1, self.sheet_rows))
                    yield self._text_chunk(columns, lines)
                    columns = [[] for _ in range(width)]
                    lines = []
            if lines:
                yield self._text_chunk(columns, lines)
        except IngestError:
            raise
        except Exception as exc:  # openpyxl raises many kinds on damaged sheets
            raise IngestError(
                self.file, expected=f"a readable sheet ({printable(exc, 200)})", reason="damaged"
            ) from None
        finally:
            wb.close()
        self.fraction = 1.0


def _first_table(wb, sheets: tuple[str, ...]) -> str:
    """The first sheet with at least two filled rows (a header and data), else the first."""
    for name in sheets:
        filled = 0
        for row in wb[name].iter_rows(min_row=1, max_row=50, values_only=True):
            filled += any(v is not None and str(v).strip() for v in row)
            if filled >= 2:
                return name
    return sheets[0]


def _load_workbook(path: Path, file: str):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, zipfile errors…
        raise IngestError(
            file,
            expected=f"a readable Excel workbook ({type(exc).__name__}: {printable(exc, 200)})",
            reason="damaged",
        ) from None


def _trim(row: list) -> list:
    end = len(row)
    while end and (row[end - 1] is None or str(row[end - 1]).strip() == ""):
        end -= 1
    return list(row[:end])


def _trim_rows(rows: list[list[str]]) -> list[list[str]]:
    width = max((len(_trim(r)) for r in rows), default=0)
    return [(r + [""] * width)[:width] if filled(r) else [] for r in rows]
