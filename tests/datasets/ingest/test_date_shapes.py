"""Date shapes real files come in, each read from a file through inspect → validate → commit and
checked value by value in the published Parquet: European day-first dates, ISO week dates, Excel
serial dates (in a CSV and as real .xlsx date cells), 12-hour clocks, UTC offsets (stored in the
city's local time), a date column with a separate hour column, and fractions of a second."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from datasets.ingest import UploadMeta, commit, ingest, inspect, validate

from .conftest import CITY, write

META = UploadMeta(title="Shapes", source="A test", licence="CC-BY-4.0", city=CITY)


def publish(workspace, path) -> tuple[object, pa.Table]:
    """The report of a file read with what was detected, and the table it published."""
    report = validate(inspect(path), scratch_dir=path.parent)
    assert report.ok, report.messages()
    version = commit(report, workspace, META)
    return report, pq.read_table(workspace.catalog.get(version.dataset_id).folder)


def day(*args: int) -> dt.date:
    return dt.date(*args)


def test_european_day_first_dates(workspace, tmp_path):
    path = write(tmp_path / "eu.csv", "date;pm25\n07/12/2017;35\n13/12/2017;40\n25/12/2017;41\n")
    _, table = publish(workspace, path)
    assert table.column("date").to_pylist() == [
        day(2017, 12, 7),
        day(2017, 12, 13),
        day(2017, 12, 25),
    ]


def test_iso_week_dates_both_spellings(workspace, tmp_path):
    """Week 1 holds 4 January and starts on Monday: 2017-W01-7 is Sunday 8 January 2017, and
    2021-W01-1 is Monday 4 January 2021 (not in 2020's last days); 2020-W53 exists."""
    extended = "week,visits\n2017-W49-4,10\n2017-W01-7,3\n2021-W01-1,4\n2020-W53-5,5\n"
    basic = "week,visits\n2017W494,10\n2017W017,3\n2021W011,4\n2020W535,5\n"
    expected = [day(2017, 12, 7), day(2017, 1, 8), day(2021, 1, 4), day(2021, 1, 1)]
    for name, text in (("extended", extended), ("basic", basic)):
        inspection = inspect(write(tmp_path / name / "weeks.csv", text))
        assert {c.name: c.type for c in inspection.columns}["week"] == "date"
        _, table = publish(workspace, inspection.path)
        assert table.column("week").to_pylist() == expected, name
        workspace.catalog.delete(workspace.catalog.datasets()[0].id)


def test_a_week_that_does_not_exist_is_refused(workspace, tmp_path):
    """2017 has 52 ISO weeks: 2017-W53-1 is not a date, and says so with its line."""
    text = "week,visits\n" + "2017-W49-4,10\n" * 20 + "2017-W53-1,3\n"
    report = validate(inspect(write(tmp_path / "w.csv", text)), scratch_dir=tmp_path)
    assert report.rows_bad == 1
    assert report.problems[0].line == 22


def test_excel_serial_numbers_in_a_date_column(workspace, tmp_path):
    text = "Date,visits\n42000,10\n43076,12\n46000,3\n"
    report, table = publish(workspace, write(tmp_path / "serials.csv", text))
    assert table.schema.field("Date").type == pa.date32()
    assert table.column("Date").to_pylist() == [
        day(2014, 12, 27),
        day(2017, 12, 7),
        day(2025, 12, 9),
    ]
    assert any("Excel serial" in n for n in report.notes)


def test_excel_serials_with_a_time_of_day(workspace, tmp_path):
    text = "date,visits\n43076.5,10\n43076.75,12\n"
    _, table = publish(workspace, write(tmp_path / "serials.csv", text))
    assert table.column("date").to_pylist() == [
        dt.datetime(2017, 12, 7, 12),
        dt.datetime(2017, 12, 7, 18),
    ]


def test_numbers_not_named_like_dates_stay_numbers(workspace, tmp_path):
    _, table = publish(workspace, write(tmp_path / "n.csv", "visitors,x\n42000,1\n43076,2\n"))
    assert table.column("visitors").to_pylist() == [42000, 43076]


def test_real_xlsx_date_cells_keep_their_time_and_fraction(workspace, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["day", "reading", "visits"])
    sheet.append([dt.date(2017, 12, 7), dt.datetime(2017, 12, 7, 21, 0, 0, 500000), 10])
    sheet.append([dt.date(2017, 12, 8), dt.datetime(2017, 12, 8, 9, 30), 12])
    path = tmp_path / "cells.xlsx"
    book.save(path)
    report, table = publish(workspace, path)
    assert table.column("day").to_pylist() == [day(2017, 12, 7), day(2017, 12, 8)]
    assert table.column("reading").to_pylist() == [
        dt.datetime(2017, 12, 7, 21, 0, 0, 500000),
        dt.datetime(2017, 12, 8, 9, 30),
    ]
    assert "reading: fractions of a second kept, to the millisecond" in report.notes


def test_twelve_hour_clocks(workspace, tmp_path):
    text = (
        "time,visits\n2017-12-07 09:00:00 PM,10\n2017-12-07 09:30:00 AM,12\n"
        "2017-12-08 12:00:00 AM,3\n2017-12-08 12:15:00 PM,4\n"
    )
    _, table = publish(workspace, write(tmp_path / "clock.csv", text))
    assert table.column("time").to_pylist() == [
        dt.datetime(2017, 12, 7, 21),
        dt.datetime(2017, 12, 7, 9, 30),
        dt.datetime(2017, 12, 8, 0),
        dt.datetime(2017, 12, 8, 12, 15),
    ]


def test_date_with_a_twelve_hour_hour_column(workspace, tmp_path):
    """`9 pm` in its own column: detected with the date as one timestamp, no mapping given."""
    text = "date,hour,visits\n2017-12-07,9 pm,10\n2017-12-07,12 am,12\n2017-12-08,10 AM,3\n"
    inspection = inspect(write(tmp_path / "hours.csv", text))
    assert inspection.split is not None and inspection.split.parts == {
        "date": "date",
        "time": "hour",
    }
    _, table = publish(workspace, inspection.path)
    assert table.column_names == ["date", "visits"]
    assert table.column("date").to_pylist() == [
        dt.datetime(2017, 12, 7, 21),
        dt.datetime(2017, 12, 7, 0),
        dt.datetime(2017, 12, 8, 10),
    ]


def test_date_and_hour_columns_are_one_timestamp(workspace, tmp_path):
    rows = "".join(f"2017-12-03,{h},{h * 2}\n" for h in range(24)) + "2017-12-04,0,1\n"
    inspection = inspect(write(tmp_path / "hourly.csv", "Date,Hour,count\n" + rows))
    assert inspection.split is not None and inspection.split.parts == {
        "date": "Date",
        "hour": "Hour",
    }
    _, table = publish(workspace, inspection.path)
    assert table.column_names == ["Date", "count"]
    assert table.schema.field("Date").type == pa.timestamp("ms")
    stamps = table.column("Date").to_pylist()
    assert stamps[:2] == [dt.datetime(2017, 12, 3, 0), dt.datetime(2017, 12, 3, 1)]
    assert stamps[23:] == [dt.datetime(2017, 12, 3, 23), dt.datetime(2017, 12, 4, 0)]


def test_an_hour_out_of_range_is_a_line_numbered_error(tmp_path):
    text = "date,hour,count\n2017-12-03,23,1\n2017-12-03,24,2\n"
    report = validate(inspect(write(tmp_path / "h.csv", text)), scratch_dir=tmp_path)
    assert report.rows_bad == 1 and report.problems[0].line == 3


def test_offsets_are_converted_to_the_city_local_time(workspace, tmp_path):
    """Hangzhou is UTC+8: 00:00Z is 08:00 there, 09:00+01:00 is 16:00; the report says so."""
    text = (
        "ts,visits\n2017-12-07T08:00:00+08:00,10\n2017-12-07T00:00:00Z,12\n"
        "2017-12-07T09:00:00+01:00,3\n2017-12-06T20:30:00-05:00,4\n"
    )
    path = write(tmp_path / "zones.csv", text)
    version, report = ingest(path, workspace, meta=META, scratch_dir=tmp_path)
    table = pq.read_table(workspace.catalog.get(version.dataset_id).folder)
    assert table.column("ts").to_pylist() == [
        dt.datetime(2017, 12, 7, 8),
        dt.datetime(2017, 12, 7, 8),
        dt.datetime(2017, 12, 7, 16),
        dt.datetime(2017, 12, 7, 9, 30),
    ]
    assert (
        "ts: times with a UTC offset converted to Asia/Shanghai local time (the city's), "
        "as timestamps are stored" in report.notes
    )


def test_fractional_seconds_are_kept(workspace, tmp_path):
    text = (
        "ts,visits\n2017-12-07 08:00:00.250,10\n2017-12-07T08:00:01.5,12\n"
        "2017-12-07 08:00:02,3\n2017-12-07 08:00:02.125,4\n"
    )
    report, table = publish(workspace, write(tmp_path / "fractions.csv", text))
    assert table.column("ts").to_pylist() == [
        dt.datetime(2017, 12, 7, 8, 0, 0, 250000),
        dt.datetime(2017, 12, 7, 8, 0, 1, 500000),
        dt.datetime(2017, 12, 7, 8, 0, 2),
        dt.datetime(2017, 12, 7, 8, 0, 2, 125000),
    ]
    assert "ts: fractions of a second kept, to the millisecond" in report.notes


def test_fractions_below_the_millisecond_are_said_dropped(workspace, tmp_path):
    text = "ts,visits\n2017-12-07 08:00:00.123456,10\n2017-12-07 08:00:01.000900,12\n"
    report, table = publish(workspace, write(tmp_path / "micro.csv", text))
    assert table.column("ts").to_pylist() == [
        dt.datetime(2017, 12, 7, 8, 0, 0, 123000),
        dt.datetime(2017, 12, 7, 8, 0, 1),
    ]
    assert "ts: fractions of a second below the millisecond are dropped" in report.notes


def test_date_and_hour_columns_fill_a_known_kind(workspace, tmp_path):
    """Hourly air quality with its time over two columns: the kind's `ts` built from both."""
    rows = "".join(f"2017-12-07,{h},S1,{h + 5}\n" for h in range(24))
    path = write(tmp_path / "aq.csv", "date,hour,station_id,pm25\n" + rows)
    inspection = inspect(path)
    assert inspection.suggestion.kind == "air_quality_hourly"
    _, table = publish(workspace, path)
    assert table.column("ts").to_pylist() == [dt.datetime(2017, 12, 7, h) for h in range(24)]
    assert table.column("pm25").to_pylist() == [float(h + 5) for h in range(24)]
