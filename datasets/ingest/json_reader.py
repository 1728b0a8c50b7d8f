"""JSON, NDJSON and GeoJSON: records (a top-level array, an object holding one, one object per
line, or a FeatureCollection's features with their point coordinates) read as text columns.
"""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from . import detect
from .errors import IngestError, RowProblem, printable, quoted
from .settings import BATCH_ROWS, MB, SAMPLE_ROWS, Limits, Settings
from .table_reader import Chunk, TableReader
from .text_stream import TextStream, decode_sample, read_samples
from .uploads import human_size


class JsonReader(TableReader):
    """JSON records: an array of objects (or an object holding one), NDJSON (one object per
    line, streamed), or a GeoJSON FeatureCollection (properties plus lon/lat of each point,
    of the centroid otherwise). Values are read as text and typed like CSV cells."""

    records: list | None = None
    keys: tuple[str, ...] = ()

    @classmethod
    def open(cls, path: Path, file: str, overrides: dict, limits: Limits, fmt: str) -> JsonReader:
        head, spread, complete = read_samples(path)
        encoding = overrides.get("encoding") or detect.detect_encoding(
            [head, *spread], complete=complete
        )
        settings = Settings(fmt, encoding=encoding)
        reader = cls(
            path, file, settings, limits, line_label="line" if fmt == "ndjson" else "record"
        )
        if fmt == "ndjson":
            sample = []
            for line, record in reader._ndjson(limit=SAMPLE_ROWS, max_bytes=limits.batch_bytes):
                if isinstance(record, dict):
                    sample.append((line, record))
            keys = _keys(r for _, r in sample)
            reader._set_names(keys, 1)
            reader.keys = keys
            reader.sample = [(line, [_json_text(r.get(k)) for k in keys]) for line, r in sample]
            reader._refuse_long_sample()
            if not reader.sample:
                raise IngestError(
                    file, expected="JSON objects, one per line; found none", reason="no_rows"
                )
            return reader
        size = path.stat().st_size
        if size > limits.max_document_bytes:
            raise IngestError(
                file,
                expected=f"a JSON document of at most {human_size(limits.max_document_bytes)}"
                f" (it is parsed whole; CITYLENS_INGEST_MEMORY_MB / 16); this one is "
                f"{human_size(size)}: give larger data as NDJSON, one object per line",
                reason="too_large",
            )
        raw = path.read_bytes()
        text = decode_sample(raw, encoding, True, file)
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise IngestError(
                file, exc.lineno, exc.colno, f"valid JSON ({exc.msg})", reason="parse"
            ) from None
        records = (
            _geojson_records(doc, file)
            if fmt == "geojson" or _is_geojson(doc)
            else _records(doc, file)
        )
        if fmt != "geojson" and _is_geojson(doc):
            settings = Settings("geojson", encoding=encoding)
            reader.settings = settings
        keys = _keys(records)
        reader._set_names(keys, None)
        reader.keys = keys
        reader.records = records
        if not records:
            raise IngestError(
                file, expected="records; the JSON holds an empty list", reason="no_rows"
            )
        reader.sample = [
            (i, [_json_text(r.get(k)) for k in keys])
            for i, r in enumerate(records[:SAMPLE_ROWS], 1)
        ]
        reader._refuse_long_sample()
        return reader

    def _ndjson(
        self, limit: int | None = None, max_bytes: int | None = None
    ) -> Iterator[tuple[int, object]]:
        """(line, record) of each line that is not blank: the first `limit` of them, or those
        in the first `max_bytes` (at least one). A line longer than the limit on a JSON
        document is refused before it is parsed."""
        stream = TextStream(
            self.path, self.file, self.settings.encoding or "utf-8", max_bytes=self.limits.max_bytes
        )
        text = io.TextIOWrapper(io.BufferedReader(stream, MB), encoding="utf-8", newline=None)
        longest = self.limits.max_document_bytes
        count = 0
        read = 0
        try:
            for number in itertools.count(1):
                line = text.readline(longest + 1)
                if not line:
                    break
                if len(line) > longest:
                    raise IngestError(
                        self.file,
                        number,
                        None,
                        f"lines of at most {human_size(longest)} (an object is parsed whole; "
                        "CITYLENS_INGEST_MEMORY_MB / 16); this one is longer",
                        reason="too_large",
                    )
                read += len(line)
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    record = _BadLine(exc.colno, exc.msg, line)
                self.fraction = stream.fraction
                yield number, record
                count += 1
                if (limit and count >= limit) or (max_bytes and read >= max_bytes):
                    break
        finally:
            stream.close()

    def batches(self, exact: bool = False) -> Iterator[Chunk]:
        keys = self.keys
        index = dict(zip(keys, range(len(keys)), strict=True))
        columns: list[list[str | None]] = [[] for _ in keys]
        lines: list[int] = []
        missing = set(self.settings.missing) - {""}
        unknown: dict[str, int] = {}
        source = (
            self._ndjson()
            if self.records is None
            else ((i, r) for i, r in enumerate(self.records, start=1))
        )
        total = None if self.records is None else len(self.records)
        held = 0  # characters of the values gathered for the next batch
        for number, record in source:
            if not isinstance(record, dict):
                what = (
                    f"valid JSON ({record.msg}), found {quoted(record.line.strip())}"
                    if isinstance(record, _BadLine)
                    else f"a JSON object, found {quoted(orjson.dumps(record).decode())}"
                )
                self._add_problem(
                    RowProblem(
                        number, getattr(record, "column", None), "", f"expected {what}", "shape"
                    )
                )
                continue
            values = [None] * len(keys)
            for key, value in record.items():
                i = index.get(key)
                if i is None:
                    unknown.setdefault(key, number)
                    continue
                text = _json_text(value)
                values[i] = None if text in missing else text
                held += len(text) if text else 0
            if all(v is None for v in values):
                self.empty_rows += 1
                continue
            for col, value in zip(columns, values, strict=True):
                col.append(value)
            lines.append(number)
            if len(lines) >= BATCH_ROWS // 2 or held >= self.limits.batch_bytes:
                if total:
                    self.fraction = number / total
                yield self._text_chunk(columns, lines)
                columns = [[] for _ in keys]
                lines = []
                held = 0
        if lines:
            yield self._text_chunk(columns, lines)
        for key, number in list(unknown.items())[:10]:
            self.notes.append(
                f"key {printable(key, 40)!r}, first on {self.line_label} {number}, is not in the "
                f"first {SAMPLE_ROWS:,} records: not imported"
            )
        self.fraction = 1.0


@dataclass
class _BadLine:
    column: int
    msg: str
    line: str


def _keys(records) -> list[str]:
    keys: dict[str, None] = {}
    for r in records:
        if isinstance(r, dict):
            for k in r:
                keys.setdefault(str(k), None)
    return list(keys)


def _json_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return orjson.dumps(value).decode()


def _records(doc, file: str) -> list:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) == 1:
            return lists[0]
        if all(not isinstance(v, list | dict) for v in doc.values()):
            return [doc]
    raise IngestError(
        file,
        expected="an array of objects, or an object holding one array of objects",
        reason="shape",
    )


def _is_geojson(doc) -> bool:
    return isinstance(doc, dict) and doc.get("type") in {"FeatureCollection", "Feature"}


def _geojson_records(doc, file: str) -> list[dict]:
    if not _is_geojson(doc):
        raise IngestError(file, expected="a GeoJSON FeatureCollection", reason="shape")
    features = [doc] if doc.get("type") == "Feature" else doc.get("features")
    if not isinstance(features, list):
        raise IngestError(
            file, expected="a FeatureCollection with a features array", reason="shape"
        )
    from shapely.geometry import shape

    records = []
    for i, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            raise IngestError(file, i, None, "a Feature object", reason="shape")
        props = feature.get("properties") or {}
        record = dict(props) if isinstance(props, dict) else {"properties": props}
        geometry = feature.get("geometry")
        lon = lat = None
        if isinstance(geometry, dict) and geometry.get("type") == "Point":
            coords = geometry.get("coordinates") or []
            if len(coords) >= 2:
                lon, lat = coords[0], coords[1]
        elif isinstance(geometry, dict):
            with contextlib.suppress(Exception):
                centre = shape(geometry).centroid
                lon, lat = round(centre.x, 7), round(centre.y, 7)
            record["geometry"] = orjson.dumps(geometry).decode()
        record.setdefault("lon", lon)
        record.setdefault("lat", lat)
        records.append(record)
    return records
