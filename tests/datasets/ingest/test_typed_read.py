"""The typed read of a CSV (straight into each column's type, no text pass) gives the same
report and the same rows as the text path for every input: it is taken for well-formed files
and gives way to the text path on anything the text path would read or word otherwise."""

from __future__ import annotations

import sys

import pyarrow.parquet as pq
import pytest

from datasets.ingest import discard, inspect, validate
from datasets.ingest.readers import CsvReader

from .conftest import write

RUN = sys.modules["datasets.ingest.validate.run"]
SCRATCH = sys.modules["datasets.ingest.validate.scratch"]
READERS = sys.modules["datasets.ingest.readers"]
HEAD = "ts,detector_id,district,pilot,volume,speed_kmh,occupancy\n"
ROW = "2017-03-01 08:{m:02d}:00.000,D{d:04d},330106,true,{v},45.5,12.5\n"


def rows(n: int = 40) -> str:
    return "".join(ROW.format(m=i % 60, d=i // 60 + 1, v=100 + i) for i in range(n))


CLEAN = HEAD + rows()
CASES = {
    "clean": CLEAN,
    "crlf": CLEAN.replace("\n", "\r\n"),
    "bom": "\ufeff" + CLEAN,
    "no final newline": CLEAN.rstrip("\n"),
    "preamble": "Detector export\n\n" + CLEAN,
    "whole seconds": CLEAN.replace(":00.000,", ":00,"),
    "T and fractions": CLEAN.replace(" 08:", "T08:").replace(".000,", ".25,"),
    "padded numbers": CLEAN.replace(",45.5,", ", 45.5,").replace(",101,", ", 101 ,"),
    "hex volume": CLEAN.replace(",101,", ",0x10,"),
    "hex and padded volume": CLEAN.replace(",101,", ",0x10,").replace(",102,", ", 102,"),
    "hex speed": CLEAN.replace(",45.5,", ",0x10,", 1),
    "exponents and signs": CLEAN.replace(",101,", ",1e2,").replace(",45.5,", ",+45.5,", 1),
    "whole number as 12.0": CLEAN.replace(",101,", ",101.0,"),
    "fractional volume": CLEAN.replace(",101,", ",101.5,"),
    "fractional volume, long": CLEAN.replace(",101,", ",101.50,"),
    "nan": CLEAN.replace(",45.5,", ",nan,", 1),
    "inf": CLEAN.replace(",45.5,", ",inf,", 1),
    "out of range": CLEAN.replace(",45.5,", ",250,", 1).replace(",12.5\n", ",-3\n", 1),
    "booleans": CLEAN.replace(",true,", ",TRUE,", 1).replace(",true,", ",Oui,", 1),
    "padded boolean": CLEAN.replace(",true,", ", true,", 1),
    "bad boolean": CLEAN.replace(",true,", ",maybe,", 1),
    "missing key": CLEAN.replace(",D0001,", ",,", 1),
    "missing markers": CLEAN.replace(",45.5,", ",NA,", 3).replace(",12.5\n", ",-\n", 2),
    "duplicates": CLEAN + CLEAN.splitlines(keepends=True)[1],
    "zoned timestamp": CLEAN.replace(".000,", ".000Z,", 1),
    "impossible date": CLEAN.replace("2017-03-01", "2017-02-30", 1),
    "year out of the ns range": CLEAN.replace("2017-03-01", "1500-03-01", 1),
    "blank lines": CLEAN.replace("\n", "\n\n", 3),
    "trailing blank lines": CLEAN + "\n\n",
    "ragged row": CLEAN.replace(",12.5\n", ",12.5,9\n", 1),
    "quoted": CLEAN.replace(",D0001,", ',"D0001",'),
    "quoted newline": CLEAN.replace(",D0001,", ',"D00\n01",', 1),
    "quoted carriage return": CLEAN.replace(",D0001,", ',"D00\r01",', 1),
    "lone carriage return": HEAD + rows(20) + rows(20).replace("\n", "\r", 3),
    "not UTF-8": CLEAN.encode().replace(b",D0001,", b",D\xe9001,", 1),
    "decimal comma": CLEAN.replace(",", ";").replace("45.5", "45,5").replace("12.5", "12,5"),
    "one column": "note\nalpha\n\nbeta\n",
    "generic": "name,count,share,when,flag\nA,1,0.5,2017-01-01,yes\nB,2,,2017-01-02,no\n",
}
OVERRIDES = {"nan": {"missing": [""]}}  # else "nan" is taken for a missing marker


def outcome(tmp_path, name: str, content, typed: bool, monkeypatch) -> dict:
    """The report and the rows of one validation, with the typed read allowed or not."""
    with monkeypatch.context() as m:
        if not typed:
            m.setattr(RUN, "typed_read_types", lambda reader, plans: None)
        path = write(tmp_path / name / "t.csv", content)
        report = validate(inspect(path, overrides=OVERRIDES.get(name)), scratch_dir=tmp_path)
        written = report.scratch / "part-0000.parquet"
        table = pq.read_table(written)
        result = {
            "report": {k: v for k, v in report.to_json().items() if k != "seconds"},
            "schema": table.schema,
            "rows": table.to_pylist(),
            "file": written.read_bytes(),  # row groups and their statistics too
        }
        discard(report)
        return result


def read_as_text(monkeypatch) -> list[str]:
    """Record every text read of a CSV: the typed read was not taken, or gave up."""
    calls: list[str] = []
    batches = CsvReader.batches

    def spy(self, exact=False):
        calls.append("exact" if exact else "text")
        return batches(self, exact)

    monkeypatch.setattr(CsvReader, "batches", spy)
    return calls


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("slice_bytes", [None, 200])
def test_typed_and_text_reads_agree(tmp_path, monkeypatch, case, slice_bytes):
    if slice_bytes:  # many slices, Arrow blocks and row groups, their edges anywhere
        monkeypatch.setattr(READERS, "TYPED_SLICE", slice_bytes)
        monkeypatch.setattr(READERS, "CSV_BLOCK", 64)
        monkeypatch.setattr(SCRATCH, "ROW_GROUP_ROWS", 7)
    typed = outcome(tmp_path / "typed", case, CASES[case], True, monkeypatch)
    text = outcome(tmp_path / "text", case, CASES[case], False, monkeypatch)
    assert typed == text


@pytest.mark.parametrize(
    "case", ["clean", "crlf", "bom", "preamble", "padded numbers", "out of range", "duplicates"]
)
def test_well_formed_files_are_read_typed_only(tmp_path, monkeypatch, case):
    calls = read_as_text(monkeypatch)
    path = write(tmp_path / "t.csv", CASES[case])
    report = validate(inspect(path), scratch_dir=tmp_path)
    assert calls == []
    assert report.rows_ok + report.rows_bad == 40 + (case == "duplicates")


@pytest.mark.parametrize(
    "case",
    [
        "hex volume",
        "nan",
        "fractional volume",
        "fractional volume, long",
        "bad boolean",
        "quoted newline",
        "lone carriage return",
        "not UTF-8",
        "ragged row",
        "year out of the ns range",
    ],
)
def test_what_the_typed_read_cannot_word_goes_to_the_text_path(tmp_path, monkeypatch, case):
    calls = read_as_text(monkeypatch)
    path = write(tmp_path / "t.csv", CASES[case])
    validate(inspect(path, overrides=OVERRIDES.get(case)), scratch_dir=tmp_path)
    assert calls[:1] == ["text"]


def test_a_bad_value_is_located_as_before(tmp_path):
    path = write(tmp_path / "t.csv", CASES["fractional volume"])
    report = validate(inspect(path), scratch_dir=tmp_path)
    assert report.messages() == ["t.csv:3:5: expected a whole number in volume, found '101.5'"]
    assert (report.rows_ok, report.rows_bad) == (39, 1)


def test_a_quoted_newline_across_slices_is_read_by_the_exact_reader(tmp_path, monkeypatch):
    monkeypatch.setattr(READERS, "TYPED_SLICE", 100)
    monkeypatch.setattr(READERS, "CSV_BLOCK", 64)
    calls = read_as_text(monkeypatch)
    text = "id,note\n" + "".join(f'{i},"line {i}\nand more"\n' for i in range(30))
    path = write(tmp_path / "t.csv", text)
    report = validate(inspect(path), scratch_dir=tmp_path)
    assert calls == ["text", "exact"]
    assert report.rows_ok == 30 and report.preview[1]["line"] == 4


def test_row_groups_are_whole_whatever_the_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(READERS, "TYPED_SLICE", 300)
    monkeypatch.setattr(READERS, "CSV_BLOCK", 100)
    monkeypatch.setattr(SCRATCH, "ROW_GROUP_ROWS", 16)
    path = write(tmp_path / "t.csv", CLEAN)
    report = validate(inspect(path), scratch_dir=tmp_path)
    meta = pq.ParquetFile(report.scratch / "part-0000.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [16, 16, 8]
    assert all(meta.row_group(i).column(0).statistics.has_min_max for i in range(3))
