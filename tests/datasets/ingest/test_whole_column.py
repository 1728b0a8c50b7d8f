"""Readings decided from the whole column, not its sample: the order of day and month (asked
when the file cannot settle it), and types that widen when later values need it. Each file is
built here in the shape of a real open-data file; the published Parquet is checked value by
value."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets.__main__ import main
from datasets.ingest import IngestError, commit, ingest, inspect, ready, validate

from .conftest import write

START = dt.datetime(2012, 10, 2, 13, 0)
END = dt.datetime(2025, 2, 28, 21, 0)


def _bicycle_counts(path: Path) -> Path:
    """Hourly counts of a bridge, `Date` month first in two formats (24-hour clock until 2019,
    then 12-hour with seconds), the rows sorted as text by their date as a portal exported them:
    the first thousands of rows are all early-January days, fit for both readings."""
    rows = []
    moment = START
    hour = dt.timedelta(hours=1)
    while moment <= END:
        if moment.year < 2019:
            text = moment.strftime("%m/%d/%Y %H:%M")
        else:
            text = moment.strftime("%m/%d/%Y %I:%M:%S %p")
        total = (moment.hour * 7 + moment.day) % 300
        rows.append(f"{text},{total},{total // 2},{total - total // 2}")
        moment += hour
    rows.sort()
    return write(path, "Date,Fremont Bridge Total,East Sidewalk,West Sidewalk\n" + "\n".join(rows))


def _published(workspace, version) -> pa.Table:
    return pq.read_table(workspace.catalog.get(version.dataset_id).folder)


def _generic(path: Path, workspace, **overrides):
    return ingest(path, workspace, kind="generic", overrides=overrides or None)


def test_a_month_first_column_whose_sample_fits_both_readings_is_read_month_first(
    tmp_path, workspace
):
    path = _bicycle_counts(tmp_path / "Fremont_Bridge_Bicycle_Counter.csv")
    assert inspect(path).columns[0].formats[0].startswith("%d/%m/%Y")  # the sample's guess
    version, report = _generic(path, workspace)
    table = _published(workspace, version)
    hours = int((END - START).total_seconds() // 3600) + 1
    assert table.num_rows == hours == report.rows_ok and report.rows_bad == 0
    assert pa.types.is_timestamp(table.schema.field("Date").type)
    stamps = table.column("Date").to_pylist()
    assert (min(stamps), max(stamps)) == (START, END)
    assert len(set(stamps)) == hours and report.duplicates == 0
    assert (report.time_min, report.time_max) == ("2012-10-02 13:00:00", "2025-02-28 21:00:00")
    by_time = dict(zip(stamps, table.column("Fremont Bridge Total").to_pylist(), strict=True))
    assert by_time[dt.datetime(2012, 10, 2, 13)] == (13 * 7 + 2) % 300
    assert by_time[dt.datetime(2020, 3, 11, 21)] == (21 * 7 + 11) % 300  # 03/11/2020 09:00 PM
    assert by_time[dt.datetime(2018, 12, 31, 23)] == (23 * 7 + 31) % 300
    assert any("Date: read month first" in n and "up to 31 is a day" in n for n in report.notes)
    assert not report.questions and report.ok


def test_month_beginning_dates_are_read_month_first_from_their_regular_series(tmp_path, workspace):
    months = [(2001 + i // 12, 1 + i % 12) for i in range(247)]  # 2001-01 … 2021-07
    body = "\n".join(f"{m:02d}/01/{y},{1000 + i}" for i, (y, m) in enumerate(months))
    path = write(tmp_path / "ridership.csv", "Month,Boardings\n" + body + "\n")
    version, report = _generic(path, workspace)
    table = _published(workspace, version)
    assert table.schema.field("Month").type == pa.date32()
    dates = table.column("Month").to_pylist()
    assert dates == [dt.date(y, m, 1) for y, m in months]
    assert table.column("Boardings").to_pylist() == list(range(1000, 1247))
    assert (report.time_min, report.time_max) == ("2001-01-01", "2021-07-01")
    assert any("read month first, the more regular series" in n for n in report.notes)


def test_a_european_day_first_file_stays_day_first(tmp_path, workspace):
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(366)]
    body = "\n".join(f"{d:%d/%m/%Y};{i},5" for i, d in enumerate(days))
    path = write(tmp_path / "releves.csv", "Datum;Wert\n" + body + "\n")
    version, report = _generic(path, workspace)
    table = _published(workspace, version)
    assert table.column("Datum").to_pylist() == days
    assert table.column("Wert").to_pylist()[:2] == [0.5, 1.5]
    assert not any("read month first" in n or "read day first" in n for n in report.notes)
    assert report.ok


def _ambiguous(path: Path) -> Path:
    """Hourly readings of one day, 10 February or 2 October 2012: nothing in the file says."""
    body = "\n".join(f"10/02/2012 {h:02d}:00,{h * 3}" for h in range(24))
    return write(path, "Date,Count\n" + body + "\n")


def test_an_undecidable_order_is_asked_and_nothing_is_published_until_answered(tmp_path, workspace):
    path = _ambiguous(tmp_path / "counts.csv")
    report = validate(inspect(path, overrides={"kind": "generic"}))
    assert [q.source for q in report.questions] == ["Date"]
    question = report.questions[0]
    assert (question.example, question.readings) == (
        "10/02/2012 00:00",
        {"mdy": "2012-10-02", "dmy": "2012-02-10"},
    )
    assert question.formats["mdy"][0].startswith("%m/%d/%Y")
    assert not report.ok and not report.to_json()["ok"]
    assert report.to_json()["questions"][0]["source"] == "Date"
    with pytest.raises(IngestError, match=r"10/02/2012 00:00 — 2012-10-02 .* or 2012-02-10"):
        ready(report)
    with pytest.raises(IngestError):
        commit(report, workspace)
    assert workspace.catalog.datasets() == []
    answered = validate(
        inspect(path, overrides={"kind": "generic"}),
        overrides={"formats": {"Date": question.formats["mdy"]}},
    )
    assert answered.ok and not answered.questions
    version = commit(answered, workspace)
    stamps = _published(workspace, version).column("Date").to_pylist()
    assert stamps[0] == dt.datetime(2012, 10, 2, 0) and stamps[-1] == dt.datetime(2012, 10, 2, 23)


def test_the_command_line_exits_2_naming_the_column_and_the_flag(tmp_path, capsys):
    path = _ambiguous(tmp_path / "counts.csv")
    data = tmp_path / "data"
    command = ["ingest", str(path), "--kind", "generic", "--data-dir", str(data), "-q"]
    code = main(command)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "question: Date: 10/02/2012 00:00 — 2012-10-02 (month first)" in err
    assert "--date-order mdy|dmy|ymd" in err
    code = main([*command, "--date-order", "mdy", "--title", "Counts"])
    out, err = capsys.readouterr()
    assert (code, out) == (0, "counts v1\n"), err
    table = pq.read_table(next((data / "datasets").rglob("*.parquet")))
    assert table.column("Date").to_pylist()[5] == dt.datetime(2012, 10, 2, 5)
    code = main([*command, "--date-order", "dmy", "--title", "Counts"])
    assert code == 0, capsys.readouterr().err


def test_a_decimal_far_below_the_sample_widens_whole_numbers(tmp_path, workspace):
    rng = random.Random(7)
    lines = ["No,year,month,day,hour,PRES,station"]
    pressures = []
    for i in range(40_000):
        value = str(1000 + rng.randrange(40))
        if i == 7_577:  # line 7,579
            value = "1019.5"
        pressures.append(float(value))
        day = dt.date(2013, 3, 1) + dt.timedelta(days=i // 24)
        lines.append(f"{i + 1},{day.year},{day.month},{day.day},{i % 24},{value},Dongsi")
    path = write(tmp_path / "weather.csv", "\n".join(lines) + "\n")
    version, report = _generic(path, workspace)
    table = _published(workspace, version)
    assert report.rows_bad == 0 and table.num_rows == 40_000
    assert table.schema.field("PRES").type == pa.float64()
    assert table.column("PRES").to_pylist() == pressures
    assert table.column("PRES")[7_577].as_py() == 1019.5
    assert table.schema.field("No").type == pa.int64()
    assert any(
        n == "PRES: read as decimal numbers, not whole numbers as its sample suggested: the file "
        "holds '1019.5' further down"
        for n in report.notes
    )


def test_a_column_empty_in_the_sample_becomes_numbers(tmp_path, workspace):
    lines = ["id,reading,rain_mm"]
    for i in range(5_000):
        rain = "" if i < 3_000 else f"{(i % 7) / 2:g}"
        lines.append(f"{i},{i * 2},{rain}")
    path = write(tmp_path / "rain.csv", "\n".join(lines) + "\n")
    assert {c.name: c.type for c in inspect(path).columns}["rain_mm"] == "string"
    version, report = _generic(path, workspace)
    table = _published(workspace, version)
    assert table.schema.field("rain_mm").type == pa.float64()
    rain = table.column("rain_mm").to_pylist()
    assert rain[:3_000] == [None] * 3_000
    assert rain[3_000:3_003] == [(3_000 % 7) / 2, (3_001 % 7) / 2, (3_002 % 7) / 2]
    assert any(
        "rain_mm: read as decimal numbers, not text (empty in its sample)" in n
        for n in report.notes
    )


def test_a_type_the_analyst_chose_is_not_widened(tmp_path, workspace):
    lines = ["id,code"] + [f"{i},{i}" for i in range(3_000)] + ["3000,12.5"]
    path = write(tmp_path / "codes.csv", "\n".join(lines) + "\n")
    report = validate(inspect(path, overrides={"kind": "generic", "types": {"code": "integer"}}))
    assert (
        report.rows_bad == 1
        and "expected a whole number in code, found '12.5'" in (report.messages()[0])
    )


@pytest.mark.parametrize("written", ["%Y-%m-%d", "%d.%m.%Y"])
def test_dates_with_times_further_down_widen_the_column_to_date_times(tmp_path, workspace, written):
    days = [dt.datetime(2015, 1, 1) + dt.timedelta(days=i) for i in range(3_000)]
    later = [dt.datetime(2023, 3, 5, 10, 30) + dt.timedelta(hours=i) for i in range(30)]
    lines = ["observed,level"] + [f"{d.strftime(written)},{i}" for i, d in enumerate(days)]
    lines += [f"{d.strftime(written)} {d:%H:%M},{i}" for i, d in enumerate(later)]
    path = write(tmp_path / "levels.csv", "\n".join(lines) + "\n")
    assert {c.name: c.type for c in inspect(path).columns}["observed"] == "date"
    version, report = _generic(path, workspace)
    table = _published(workspace, version)
    assert report.rows_bad == 0 and table.num_rows == 3_030
    assert pa.types.is_timestamp(table.schema.field("observed").type)
    assert table.column("observed").to_pylist() == days + later
    assert any(
        "observed: read as dates with times, not dates as its sample suggested: the file holds "
        f"'{later[0].strftime(written)} 10:30" in n
        for n in report.notes
    )


def test_two_formats_guessed_in_opposite_orders_are_read_in_the_one_the_column_settles(
    tmp_path, workspace
):
    """The sample's 24-hour values all fit both readings (days 1-12 of a month) while its
    12-hour values have days above 12: the guess reads the first day first, the second month
    first, and every row would be "good". The whole column is month first."""
    old = [dt.datetime(2012, 10, 1) + dt.timedelta(hours=i) for i in range(24 * 92)]
    old = [d for d in old if d.day <= 12]
    new = [dt.datetime(2020, 1, 13) + dt.timedelta(hours=i) for i in range(1_500)]
    rows = [f"{d:%m/%d/%Y %H:%M},{i}" for i, d in enumerate(old)]
    rows += [f"{d:%m/%d/%Y %I:%M:%S %p},{i}" for i, d in enumerate(new)]
    rows.sort()
    path = write(tmp_path / "counter.csv", "Date,Total\n" + "\n".join(rows) + "\n")
    guessed = inspect(path).columns[0].formats
    assert set(guessed) == {"%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %H:%M"}
    version, report = _generic(path, workspace)
    stamps = _published(workspace, version).column("Date").to_pylist()
    assert sorted(stamps) == sorted(old + new) and report.rows_bad == 0
    assert (report.time_min, report.time_max) == (str(old[0]), str(new[-1]))
    assert any("Date: read month first" in n and "not partly day first" in n for n in report.notes)
