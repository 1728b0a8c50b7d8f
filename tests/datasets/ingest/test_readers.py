"""One reader per format, and the upload plumbing: bounded receiving, safe names, text streams."""

from __future__ import annotations

import base64
import io
import json
import sys

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets.ingest import IngestError, Limits, receive, receive_data_url, safe_filename
from datasets.ingest.readers import CsvReader, open_reader
from datasets.ingest.text_stream import TextStream

from .conftest import write

LIMITS = Limits(max_bytes=10 * 1024 * 1024)


def rows_of(reader, exact=False):
    out = []
    for chunk in reader.batches(exact=exact):
        for line, row in zip(chunk.lines.tolist(), chunk.batch.to_pylist(), strict=True):
            out.append((line, row))
    return out


# -- names and uploads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../x.csv", "x.csv"),
        ("..\\..\\windows\\x.csv", "x.csv"),
        ("/etc/passwd", "passwd"),
        ("..", "upload"),
        ("", "upload"),
        ("a\x00b\nc.csv", "abc.csv"),
        ("données 2017.csv", "données 2017.csv"),
        ("北京 空气.csv", "北京 空气.csv"),
        ("<script>.csv", "_script_.csv"),
    ],
)
def test_safe_filename(name, safe):
    assert safe_filename(name) == safe


def test_receive_streams_into_a_fresh_file(tmp_path):
    path = receive(io.BytesIO(b"a,b\n1,2\n"), "../../x.csv", tmp_path / "in", max_bytes=100)
    assert path.parent == tmp_path / "in" and path.read_bytes() == b"a,b\n1,2\n"
    assert path.suffix == ".csv"


def test_receive_refuses_too_large_while_streaming_and_leaves_nothing(tmp_path):
    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def read(self, n=-1):
            return b"x" * 65536

    with pytest.raises(IngestError, match="at most") as err:
        receive(Endless(), "big.csv", tmp_path, max_bytes=1_000_000, chunk=65536)
    assert err.value.reason == "too_large"
    assert list(tmp_path.iterdir()) == []


def test_receive_refuses_a_declared_size_over_the_limit_before_reading(tmp_path):
    stream = io.BytesIO(b"never read")
    with pytest.raises(IngestError, match="at most"):
        receive(stream, "big.csv", tmp_path, max_bytes=10, expected_bytes=11)
    assert stream.tell() == 0


def test_receive_refuses_an_upload_cut_off_half_way(tmp_path):
    with pytest.raises(IngestError, match="cut off") as err:
        receive(io.BytesIO(b"a,b\n1,"), "x.csv", tmp_path, max_bytes=100, expected_bytes=20)
    assert err.value.reason == "cut_off"
    assert list(tmp_path.iterdir()) == []


def test_receive_data_url(tmp_path):
    data = b"a;b\n1;2\n" * 1000
    url = "data:text/csv;base64," + base64.b64encode(data).decode()
    path = receive_data_url(url, "x.csv", tmp_path, max_bytes=len(data))
    assert path.read_bytes() == data
    with pytest.raises(IngestError, match="at most"):
        receive_data_url(url, "x.csv", tmp_path, max_bytes=100)
    with pytest.raises(IngestError, match="cut off"):
        receive_data_url(url[:-3], "x.csv", tmp_path, max_bytes=len(data))
    assert sorted(p.read_bytes() == data for p in tmp_path.iterdir()) == [True]


# -- text streams -----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "gb18030", "utf-8-sig", "utf-16", "latin-1"])
def test_text_stream_transcodes_to_utf8_and_skips_lines(tmp_path, encoding):
    text = (
        "preamble\nname,value\nZürich,1\n北京,2\n"
        if encoding != "cp1252"
        else ("preamble\nname,value\nZürich,1\nSão Paulo,2\n")
    )
    if encoding == "latin-1":
        text = text.replace("北京", "Málaga")
    path = write(tmp_path / "t.csv", text, encoding)
    stream = TextStream(path, "t.csv", encoding, skip_lines=1, block=7)
    out = b""
    while chunk := stream.read(5):
        out += chunk
    assert out.decode("utf-8") == text.split("\n", 1)[1]


def test_utf8_stream_switches_to_windows_1252_at_the_first_bad_byte(tmp_path):
    data = b"a\n" + "é\n".encode() * 3 + "à\n".encode("cp1252")
    path = write(tmp_path / "t.csv", data)
    stream = TextStream(path, "t.csv", "utf-8", block=4)
    assert stream.read(-1).decode() + stream.read(-1).decode() == "a\né\né\né\nà\n"
    assert "from line 5" in stream.notes[0]


def test_strict_decoding_error_names_the_line(tmp_path):
    path = write(tmp_path / "t.csv", b"a\nb\n\x81\x20\n")
    stream = TextStream(path, "t.csv", "gb18030")
    with pytest.raises(IngestError, match=r"t\.csv:\d: expected text in GB18030"):
        stream.read(-1)


# -- CSV -------------------------------------------------------------------------------------------


def test_a_skip_override_past_the_split_sample_still_finds_the_header(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules["datasets.ingest.readers"], "SAMPLE_LINES", 5)
    preamble = "".join(f"note {i}\n" for i in range(12))
    path = write(tmp_path / "t.csv", preamble + "ts,v\n2017-01-01,1\n2017-01-02,2\n")
    reader = open_reader(path, "t.csv", "csv", {"skip_lines": 12}, LIMITS)
    assert reader.names == ["ts", "v"]
    assert rows_of(reader) == [
        (14, {"ts": "2017-01-01", "v": "1"}),
        (15, {"ts": "2017-01-02", "v": "2"}),
    ]


def test_csv_fast_path_lines(tmp_path):
    path = write(
        tmp_path / "t.csv", "Title line\n\nts,v\n2017-01-01,1\n\n2017-01-02,2\n2017-01-03,3"
    )
    reader = open_reader(path, "t.csv", "csv", {}, LIMITS)
    assert reader.settings.skip_lines == 2 and reader.names == ["ts", "v"]
    assert rows_of(reader) == [
        (4, {"ts": "2017-01-01", "v": "1"}),
        (6, {"ts": "2017-01-02", "v": "2"}),
        (7, {"ts": "2017-01-03", "v": "3"}),
    ]
    assert reader.empty_rows == 1


def test_quoted_newlines_keep_exact_lines(tmp_path):
    path = write(tmp_path / "t.csv", 'id,note\n1,"two\nlines"\n2,plain\n3,"a\nb\nc"\n4,x\n')
    reader = CsvReader.open(path, "t.csv", {}, LIMITS)
    with pytest.raises(Exception) as restart:
        rows_of(reader)
    assert type(restart.value).__name__ == "RestartExact"
    rows = rows_of(reader, exact=True)
    assert [(line, r["id"]) for line, r in rows] == [(2, "1"), (4, "2"), (5, "3"), (8, "4")]
    assert rows[0][1]["note"] == "two\nlines"


def test_ragged_rows_are_located_exactly(tmp_path):
    path = write(tmp_path / "t.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n\n10,11,12\n")
    reader = CsvReader.open(path, "t.csv", {}, LIMITS)
    rows = rows_of(reader, exact=True)
    assert [line for line, _ in rows] == [2, 6]
    assert [(p.line, p.column, p.expected) for p in reader.problems] == [
        (3, 3, "expected 3 fields, found 2: '4,5'"),
        (4, 4, "expected 3 fields, found 4"),
    ]


def test_an_unclosed_quote_is_refused_with_its_line(tmp_path):
    path = write(tmp_path / "t.csv", 'a,b\n1,2\n3,"never closed\n4,5\n')
    reader = CsvReader.open(path, "t.csv", {}, LIMITS)
    with pytest.raises(IngestError, match=r"t\.csv:3: expected a closing quote"):
        rows_of(reader, exact=True)


def test_overrides_replace_detection(tmp_path):
    path = write(tmp_path / "t.csv", "x;y\n1;2\n3;4\n")
    reader = CsvReader.open(path, "t.csv", {"delimiter": ",", "has_header": False}, LIMITS)
    assert reader.names == ["column_1"]
    assert rows_of(reader)[0] == (1, {"column_1": "x;y"})


# -- Excel -----------------------------------------------------------------------------------------


def make_workbook(path, sheets: dict[str, list[list]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_sheet_choice_preamble_and_typed_cells(tmp_path):
    import datetime as dt

    path = make_workbook(
        tmp_path / "w.xlsx",
        {
            "Notes": [["nothing here"]],
            "Data": [
                ["Air quality export"],
                [],
                ["time", "PM2.5", "ok"],
                [dt.datetime(2017, 1, 1, 3), 12.5, True],
                [dt.datetime(2017, 1, 1, 4), 13, False],
            ],
        },
    )
    reader = open_reader(path, "w.xlsx", "xlsx", {}, LIMITS)
    assert reader.settings.sheets == ("Notes", "Data") and reader.settings.sheet == "Data"
    assert any("2 sheets (Notes, Data): reading 'Data'" in n for n in reader.notes)
    with pytest.raises(IngestError, match="rows of data after the header in sheet 'Notes'"):
        open_reader(path, "w.xlsx", "xlsx", {"sheet": "Notes"}, LIMITS)
    assert reader.names == ["time", "PM2.5", "ok"]
    assert rows_of(reader) == [
        (4, {"time": "2017-01-01 03:00:00", "PM2.5": "12.5", "ok": "true"}),
        (5, {"time": "2017-01-01 04:00:00", "PM2.5": "13", "ok": "false"}),
    ]
    with pytest.raises(IngestError, match="a sheet named 'Nope'"):
        open_reader(path, "w.xlsx", "xlsx", {"sheet": "Nope"}, LIMITS)


# -- Parquet ---------------------------------------------------------------------------------------


def test_parquet_keeps_types_and_numbers_rows(tmp_path):
    table = pa.table(
        {
            "ts": pa.array([0, 3600], pa.timestamp("s")),
            "v": pa.array([1.5, None]),
            "tag": pa.array(["a", "b"]).dictionary_encode(),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    reader = open_reader(tmp_path / "t.parquet", "t.parquet", "parquet", {}, LIMITS)
    assert reader.types == {"ts": pa.timestamp("ms"), "v": pa.float64(), "tag": pa.string()}
    rows = rows_of(reader)
    assert [line for line, _ in rows] == [1, 2] and rows[1][1]["tag"] == "b"
    assert reader.line_label == "row"


# -- JSON ----------------------------------------------------------------------------------------


def test_json_array_records_and_nested_values(tmp_path):
    data = [{"id": 1, "ok": True, "tags": ["a"]}, {"id": 2.5, "extra": None}]
    path = write(tmp_path / "t.json", json.dumps({"data": data}))
    reader = open_reader(path, "t.json", "json", {}, LIMITS)
    assert reader.names == ["id", "ok", "tags", "extra"]
    assert rows_of(reader) == [
        (1, {"id": "1", "ok": "true", "tags": '["a"]', "extra": None}),
        (2, {"id": "2.5", "ok": None, "tags": None, "extra": None}),
    ]


def test_ndjson_streams_and_locates_a_broken_line(tmp_path):
    path = write(tmp_path / "t.ndjson", '{"a": 1}\n\n{"a": 2}\n{"a": \n[1]\n{"a": 5, "b": 1}\n')
    reader = open_reader(path, "t.ndjson", "ndjson", {}, LIMITS)
    rows = rows_of(reader)
    assert [(line, r["a"]) for line, r in rows] == [(1, "1"), (3, "2"), (6, "5")]
    assert [p.line for p in reader.problems] == [4, 5]
    assert "a JSON object, found '[1]'" in reader.problems[1].expected


def test_json_syntax_error_is_located(tmp_path):
    path = write(tmp_path / "t.json", '[{"a": 1},\n {"a": 2,,}]')
    with pytest.raises(IngestError, match=r"t\.json:2:\d+: expected valid JSON"):
        open_reader(path, "t.json", "json", {}, LIMITS)


def test_geojson_points_and_polygons(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "A"},
                "geometry": {"type": "Point", "coordinates": [120.15, 30.28]},
            },
            {
                "type": "Feature",
                "properties": {"name": "B"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],
                },
            },
        ],
    }
    path = write(tmp_path / "t.geojson", json.dumps(doc))
    reader = open_reader(path, "t.geojson", "geojson", {}, LIMITS)
    rows = dict(rows_of(reader))
    assert (rows[1]["lon"], rows[1]["lat"]) == ("120.15", "30.28")
    assert (rows[2]["lon"], rows[2]["lat"]) == ("1.0", "1.0")
    assert json.loads(rows[2]["geometry"])["type"] == "Polygon"


def test_lines_are_int64(tmp_path):
    path = write(tmp_path / "t.csv", "a\n1\n")
    chunk = next(open_reader(path, "t.csv", "csv", {}, LIMITS).batches())
    assert chunk.lines.dtype == np.int64
