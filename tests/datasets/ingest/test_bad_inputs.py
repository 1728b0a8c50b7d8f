"""Every bad input of the issue: refused (or handled) with a precise message, and the catalog and
the data directory left exactly as they were. Bad files are made here, in tmp_path."""

from __future__ import annotations

import io
import os
import zipfile

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets.ingest import IngestError, Limits, UploadMeta, ingest, inspect, receive, validate

from .conftest import CITY, snapshot, write

GOOD = "ts,detector_id,district,volume,speed_kmh,occupancy\n2017-03-01 08:00:00,HZ-1,330106,1,2,3\n"


@pytest.fixture
def seeded(workspace, tmp_path):
    """A workspace that already holds a dataset, so a refusal has something to disturb."""
    ingest(
        write(tmp_path / "seed" / "seed.csv", GOOD),
        workspace,
        meta=UploadMeta(title="seed", city=CITY),
        scratch_dir=tmp_path,
    )
    return workspace


def refused(workspace, tmp_path, path, match, reason=None, **kwargs) -> IngestError:
    """Ingest `path` end to end, expect a refusal, and check that nothing changed."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    before = snapshot(workspace.data_dir)
    with pytest.raises(IngestError) as err:
        ingest(path, workspace, meta=UploadMeta(city=CITY), scratch_dir=scratch, **kwargs)
    assert snapshot(workspace.data_dir) == before
    assert list(scratch.iterdir()) == []
    assert match in str(err.value), str(err.value)
    if reason:
        assert err.value.reason == reason
    return err.value


def test_empty_file(seeded, tmp_path):
    refused(
        seeded,
        tmp_path,
        write(tmp_path / "e.csv", b""),
        "e.csv: expected a file with data; this one is empty",
        "empty",
    )
    refused(
        seeded,
        tmp_path,
        write(tmp_path / "b.csv", b"\n \r\n\n"),
        "b.csv: expected a file with data; this one is blank",
        "empty",
    )


def test_a_header_with_no_rows(seeded, tmp_path):
    err = refused(
        seeded,
        tmp_path,
        write(tmp_path / "h.csv", "a,b,c\n"),
        "h.csv:1: expected rows of data after the header",
        "no_rows",
    )
    assert err.line == 1


def test_binary_data_named_csv(seeded, tmp_path):
    data = bytes(range(256)) * 64
    refused(
        seeded,
        tmp_path,
        write(tmp_path / "b.csv", data),
        "b.csv: expected text (CSV, TSV, JSON) or an Excel or Parquet file; found binary data",
        "binary",
    )
    refused(
        seeded,
        tmp_path,
        write(tmp_path / "old.xls", b"\xd0\xcf\x11\xe0" + bytes(600)),
        "an old Excel .xls",
        "binary",
    )


def test_a_parquet_file_named_csv_is_read_as_parquet(seeded, tmp_path):
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "really.csv")
    inspection = inspect(tmp_path / "really.csv")
    assert inspection.settings.format == "parquet"
    assert any("named .csv but holds parquet" in n for n in inspection.notes)


def test_a_truncated_parquet(seeded, tmp_path):
    pq.write_table(pa.table({"a": list(range(1000))}), tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    write(tmp_path / "cut.parquet", data[: len(data) // 2])
    refused(
        seeded,
        tmp_path,
        tmp_path / "cut.parquet",
        "cut.parquet: expected a whole Parquet file",
        "damaged",
    )
    write(tmp_path / "footer.parquet", data[:-12] + b"\x00" * 8 + b"PAR1")
    refused(
        seeded,
        tmp_path,
        tmp_path / "footer.parquet",
        "footer.parquet: expected a readable Parquet footer",
        "damaged",
    )


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(seeded, tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:  # 2 GB, sparse: reading it whole would take minutes
        fh.truncate(2 * 1024**3)
    monkeypatch.delenv("CITYLENS_MAX_UPLOAD_MB", raising=False)
    refused(
        seeded,
        tmp_path,
        path,
        "huge.csv: expected a file of at most 1,024 MB; this one is 2,048 MB",
        "too_large",
    )
    monkeypatch.setenv("CITYLENS_MAX_UPLOAD_MB", "1")
    small = write(tmp_path / "small.csv", GOOD + "2017-03-01 08:05:00,HZ-1,330106,1,2,3\n" * 40_000)
    refused(seeded, tmp_path, small, "small.csv: expected a file of at most 1.0 MB", "too_large")


def test_a_zip_bomb_in_an_xlsx(seeded, tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (64 * 1024 * 1024))
    assert path.stat().st_size < 200_000
    refused(
        seeded,
        tmp_path,
        path,
        "bomb.xlsx: expected a workbook whose parts compress at most 200:1",
        "bomb",
    )
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(4):
            zf.writestr(f"xl/worksheets/sheet{i}.xml", os.urandom(1024 * 1024))
    with pytest.raises(IngestError, match="expands to 4 MB") as err:
        inspect(many, limits=Limits(max_unpacked_bytes=3 * 1024 * 1024))
    assert err.value.reason == "bomb"


def test_a_damaged_or_cut_off_xlsx(seeded, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["a", "b"])
    wb.active.append([1, 2])
    buffer = io.BytesIO()
    wb.save(buffer)
    write(tmp_path / "cut.xlsx", buffer.getvalue()[:-300])
    refused(
        seeded,
        tmp_path,
        tmp_path / "cut.xlsx",
        "cut.xlsx: expected an Excel workbook (.xlsx, a zip archive); it is damaged or cut off",
        "damaged",
    )
    with zipfile.ZipFile(tmp_path / "notexcel.xlsx", "w") as zf:
        zf.writestr("hello.txt", "hi")
    refused(seeded, tmp_path, tmp_path / "notexcel.xlsx", "holds no xl/workbook.xml", "format")


def test_a_path_in_the_file_name_never_escapes(seeded, tmp_path):
    inbox = tmp_path / "inbox"
    path = receive(io.BytesIO(GOOD.encode()), "../../x.csv", inbox, max_bytes=10_000)
    assert path.parent == inbox and not (tmp_path / "x.csv").exists()
    inspection = inspect(path, filename="../../x.csv")
    assert inspection.file == "x.csv"
    version, _ = ingest(
        path,
        seeded,
        filename="../../../etc/x.csv",
        meta=UploadMeta(title="../../etc/passwd", city=CITY),
        scratch_dir=tmp_path,
    )
    assert version.dataset_id == "etc-passwd"
    assert (seeded.data_dir / "datasets" / "etc-passwd").is_dir()
    assert not (tmp_path / "etc").exists()


def test_duplicate_and_empty_column_names_are_renamed_and_said(seeded, tmp_path):
    path = write(tmp_path / "d.csv", "a,,a,A\n1,2,3,4\n")
    inspection = inspect(path)
    assert [c.name for c in inspection.columns] == ["a", "column_2", "a_2", "A_3"]
    assert any(
        "column 3 repeats the name 'a' of column 1: read as 'a_2'" in n for n in inspection.notes
    )
    assert any("column 2 has no name: read as 'column_2'" in n for n in inspection.notes)
    report = validate(inspection, scratch_dir=tmp_path)
    assert report.ok and [f.name for f in report.schema] == ["a", "column_2", "a_2", "A_3"]


def test_ten_thousand_columns(seeded, tmp_path):
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join("1" for _ in range(10_000))
    err = refused(
        seeded,
        tmp_path,
        write(tmp_path / "wide.csv", f"{header}\n{row}\n"),
        "wide.csv:1: expected at most 1,000 columns",
        "too_many_columns",
    )
    assert "this table has 10,000" in str(err)


def test_a_column_of_mixed_types(seeded, tmp_path):
    rows = "".join(f"2017-03-01 08:{i:02d}:00,HZ-1,330106,{i},40,10\n" for i in range(50))
    rows += "2017-03-01 09:00:00,HZ-1,330106,lots,40,10\n"
    path = write(tmp_path / "m.csv", GOOD.splitlines()[0] + "\n" + rows)
    refused(
        seeded,
        tmp_path,
        path,
        "m.csv:52:4: expected a number in volume, found 'lots'; 1 of 51 rows are bad",
        "bad_rows",
    )
    version, report = ingest(
        path,
        seeded,
        drop_bad_rows=True,
        meta=UploadMeta(title="m", city=CITY),
        scratch_dir=tmp_path,
    )
    assert version.rows == 50 and report.rows_bad == 1


def test_a_mapping_that_leaves_a_required_column_unmapped(seeded, tmp_path):
    path = write(tmp_path / "u.csv", "ts,speed\n2017-03-01 08:00:00,40\n")
    refused(
        seeded,
        tmp_path,
        path,
        "u.csv: expected a source for detector_id, district, volume, occupancy, "
        "which traffic_readings requires",
        "unmapped",
        kind="traffic_readings",
    )


def test_an_upload_cut_off_half_way(seeded, tmp_path):
    inbox = tmp_path / "inbox"
    with pytest.raises(IngestError, match="only 30 arrived"):
        receive(
            io.BytesIO(GOOD.encode()[:30]),
            "c.csv",
            inbox,
            max_bytes=10_000,
            expected_bytes=len(GOOD),
        )
    assert list(inbox.iterdir()) == []
    cut_in_row = write(tmp_path / "row.csv", GOOD + "2017-03-01 08:05:00,HZ-1,33")
    refused(seeded, tmp_path, cut_in_row, "row.csv:3:4: expected 6 fields, found 3", "bad_rows")
    cut_in_quote = write(tmp_path / "quote.csv", GOOD + '2017-03-01 08:05:00,"HZ-1')
    refused(seeded, tmp_path, cut_in_quote, "quote.csv:3: expected a closing quote", "parse")
    cut_json = write(tmp_path / "j.json", '[{"a": 1}, {"a": 2')
    refused(seeded, tmp_path, cut_json, "j.json:1:", "parse")


def test_a_wrong_encoding_override_is_refused_with_its_line(seeded, tmp_path):
    path = write(tmp_path / "enc.csv", "name,v\nA,1\nMálaga,2\n", "cp1252")
    assert inspect(path).settings.encoding == "cp1252"
    with pytest.raises(IngestError) as err:
        inspect(path, overrides={"encoding": "utf-8"})
    assert str(err.value) == (
        "enc.csv:3:2: expected text in UTF-8; found byte 0xe1: choose another encoding"
    )


def test_a_json_that_is_not_records(seeded, tmp_path):
    refused(
        seeded,
        tmp_path,
        write(tmp_path / "n.json", '{"a": {"b": 1}, "c": [1, 2]}'),
        "an array of objects",
        "shape",
    )
    refused(
        seeded,
        tmp_path,
        write(tmp_path / "e.json", "[]"),
        "records; the JSON holds an empty list",
        "no_rows",
    )
