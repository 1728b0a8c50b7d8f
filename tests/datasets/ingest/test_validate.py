"""The validation report: types per column, located row errors, duplicates, out-of-range values,
units converted, time coverage, all before anything is written."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from datasets.ingest import IngestError, Mapping, discard, inspect, validate

from .conftest import write

TRAFFIC_HEADER = "timestamp;detector;district;volume;speed (km/h);occupancy\n"


def report_for(tmp_path, text, name="t.csv", overrides=None, mapping=None, encoding="utf-8"):
    path = write(tmp_path / name, text, encoding)
    inspection = inspect(path, overrides=overrides)
    report = validate(inspection, mapping=mapping, scratch_dir=tmp_path)
    return inspection, report


def test_traffic_readings_with_decimal_comma_and_located_errors(tmp_path):
    text = TRAFFIC_HEADER + (
        "2017-01-02 08:00:00;HZ-1;330106;120;45,5;12,5\n"
        "2017-01-02 08:05:00;HZ-1;330106;130;250,0;13\n"  # speed over 200 km/h
        "2017-01-02 08:10:00;HZ-1;330106;abc;40;12\n"  # a volume that is no number
        "2017-01-02 08:15:00;HZ-1;330106;110;41,5;-3\n"  # negative occupancy
        "2017-02-30 08:20:00;HZ-1;330106;100;42;10\n"  # 30 February
        "2017-01-02 08:00:00;HZ-1;330106;120;45,5;12,5\n"  # duplicate key
        "2017-01-02 08:25:00;;330106;100;42;10\n"  # no detector
    )
    inspection, report = report_for(tmp_path, text)
    assert inspection.settings.decimal == ","
    assert inspection.suggestion.kind == "traffic_readings"
    assert report.kind == "traffic_readings"
    assert (report.rows_read, report.rows_ok, report.rows_bad) == (7, 2, 5)
    assert report.messages() == [
        "t.csv:3:5: expected speed_kmh between 0 and 200 km/h, found 250 (from speed (km/h))",
        "t.csv:4:4: expected a number in volume, found 'abc'",
        "t.csv:5:6: expected occupancy between 0 and 100 %, found -3",
        "t.csv:6:1: expected a date and time like 2017-01-31 08:05:00 in timestamp, "
        "found '2017-02-30 08:20:00'",
        "t.csv:8:2: expected a value in detector (detector_id identifies each row), found none",
    ]
    assert report.out_of_range_count == 2 and report.missing_count == 1
    assert report.duplicates == 1 and report.duplicate_examples == [[2, 7]]
    speed = next(c for c in report.columns if c.name == "speed_kmh")
    assert (speed.min, speed.max, speed.out_of_range, speed.unit) == ("45.5", "45.5", 1, "km/h")
    assert not report.ok
    rows = pq.read_table(report.scratch / "part-0000.parquet").to_pylist()
    assert [r["volume"] for r in rows] == [120, 120]
    discard(report)
    assert report.scratch is None


def test_volume_uses_a_whole_number_message_only_for_fractions(tmp_path):
    text = "ts,detector_id,district,volume,speed_kmh,occupancy\n2017-01-01 00:00,a,1,1.5,3,4\n"
    _, report = report_for(tmp_path, text)
    assert report.messages() == ["t.csv:2:4: expected a whole number in volume, found '1.5'"]


def test_units_from_headers_are_converted_and_said(tmp_path):
    text = (
        "datetime,site,PM2.5 (ug/m3),CO (µg/m³),NO2 (ppb)\n"
        "2017-01-01 00:00,S1,35,900,10\n"
        "2017-01-01 01:00,S1,-4,1100,20\n"  # negative concentration
    )
    _, report = report_for(tmp_path, text)
    assert report.kind == "air_quality_hourly"
    rows = pq.read_table(report.scratch / "part-0000.parquet").to_pylist()
    assert len(rows) == 1
    assert rows[0]["co"] == pytest.approx(0.9)
    assert rows[0]["no2"] == pytest.approx(18.8)
    assert any("CO (µg/m³) is in µg/m³" in n for n in report.notes)
    assert report.messages() == [
        "t.csv:3:3: expected pm25 between 0 and 1500 µg/m³, found -4 (from PM2.5 (ug/m3))"
    ]


def test_split_date_and_time_columns_with_day_first_dates(tmp_path):
    text = (
        "Estación: Escuelas Aguirre\n"
        "\n"
        "fecha;hora;estacion;pm2_5;no2\n"
        "31/01/2017;23:00;28079008;12;40\n"
        "01/02/2017;00:00;28079008;NA;-9999\n"
        "01/02/2017;01:00;28079008;15;38\n"
    )
    inspection, report = report_for(tmp_path, text)
    assert inspection.settings.skip_lines == 2
    assert {"NA", "-9999"} <= set(inspection.settings.missing)
    assert dict(inspection.suggestion.columns["ts"].parts) == {"date": "fecha", "time": "hora"}
    assert report.ok and report.rows_ok == 3
    rows = pq.read_table(report.scratch / "part-0000.parquet").to_pylist()
    assert [r["ts"].isoformat() for r in rows] == [
        "2017-01-31T23:00:00",
        "2017-02-01T00:00:00",
        "2017-02-01T01:00:00",
    ]
    assert rows[1]["pm25"] is None and rows[1]["no2"] is None
    assert (report.time_min, report.time_max) == ("2017-01-31 23:00:00", "2017-02-01 01:00:00")
    assert (report.days_covered, report.span_days) == (2, 2)


def test_generic_table_types_and_overrides(tmp_path):
    text = "name,count,share,when,flag\nA,1,0.5,2017-01-01,yes\nB,2,,2017-01-02,no\n"
    inspection, report = report_for(tmp_path, text)
    assert report.kind == "generic"
    assert [str(f.type) for f in report.schema] == [
        "string",
        "int64",
        "double",
        "date32[day]",
        "bool",
    ]
    assert report.time_column == "when"
    discard(report)
    report = validate(inspection, overrides={"types": {"count": "string"}}, scratch_dir=tmp_path)
    assert str(report.schema.field("count").type) == "string"


def test_mixed_type_column_errors_are_counted_beyond_the_listed_ones(tmp_path):
    body = "".join(f"{i},{i * 2}\n" for i in range(3000))
    body += "".join(f"{i},oops\n" for i in range(150))
    _, report = report_for(tmp_path, "a,b\n" + body)
    assert report.rows_bad == 150 and report.error_count == 150
    assert len(report.problems) == 100
    assert (
        report.problems[0].message("t.csv") == "t.csv:3002:2: expected a number in b, found 'oops'"
    )


def test_mapping_given_as_json_with_a_constant_and_a_unit(tmp_path):
    text = "when,pm,carbon\n2017-01-01 00:00,10,0.5\n2017-01-01 01:00,11,0.6\n"
    mapping = {
        "kind": "air_quality_hourly",
        "columns": {
            "ts": "when",
            "station_id": {"constant": "Xixi"},
            "pm25": "pm",
            "co": {"column": "carbon", "unit": "mg/m3"},
        },
    }
    mapping["columns"]["co"]["unit"] = "mg/m³"
    _, report = report_for(tmp_path, text, mapping=mapping)
    rows = pq.read_table(report.scratch / "part-0000.parquet").to_pylist()
    assert [(r["station_id"], r["pm25"], r["co"]) for r in rows] == [
        ("Xixi", 10.0, pytest.approx(0.5)),
        ("Xixi", 11.0, pytest.approx(0.6)),
    ]
    assert report.mapping == Mapping.from_json(mapping)


def test_an_unmapped_required_column_is_refused_before_reading(tmp_path):
    text = "when,pm\n2017-01-01 00:00,10\n"
    path = write(tmp_path / "t.csv", text)
    inspection = inspect(path)
    mapping = {"kind": "air_quality_hourly", "columns": {"ts": "when", "pm25": "pm"}}
    before = sorted(tmp_path.iterdir())
    with pytest.raises(IngestError) as err:
        validate(inspection, mapping=mapping, scratch_dir=tmp_path)
    assert str(err.value) == (
        "t.csv: expected a source for station_id, which air_quality_hourly requires: "
        "map a column (or give a constant) or choose another kind"
    )
    assert err.value.reason == "unmapped"
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"kind": "nope", "columns": {}}, "a kind among"),
        ({"kind": "generic", "columns": {"x": "missing"}}, "a column named 'missing'"),
        ({"kind": "metro_flow", "columns": {"bogus": "a"}}, "it has no 'bogus'"),
        ({"kind": "generic", "columns": {"x": {"column": "a", "type": "money"}}}, "a type among"),
        (
            {
                "kind": "air_quality_hourly",
                "columns": {
                    "ts": "a",
                    "station_id": "a",
                    "pm25": {"column": "a", "unit": "furlong"},
                },
            },
            "a unit CityLens converts",
        ),
    ],
)
def test_bad_mappings_are_refused_with_a_reason(tmp_path, mapping, message):
    path = write(tmp_path / "t.csv", "a\n1\n")
    with pytest.raises(IngestError, match=message):
        validate(inspect(path), mapping=mapping, scratch_dir=tmp_path)


def test_text_from_the_file_is_kept_as_text_never_markup(tmp_path):
    text = '"<script>alert(1)</script>",b\n"<b>bold</b>",<img src=x onerror=alert(1)>\n'
    inspection, report = report_for(tmp_path, text)
    assert inspection.columns[0].raw_name == "<script>alert(1)</script>"
    assert inspection.preview[0]["cells"] == ["<b>bold</b>", "<img src=x onerror=alert(1)>"]
    assert report.preview[0]["<script>alert(1)</script>"] == "<b>bold</b>"
    assert "&lt;" not in str(report.to_json())


def test_report_to_json_is_plain_data(tmp_path):
    import json

    _, report = report_for(tmp_path, "a,b\n1,x\n2,y\n")
    data = json.loads(json.dumps(report.to_json()))
    assert data["rows_ok"] == 2 and data["kind"] == "generic" and data["ok"] is True


def test_progress_is_reported(tmp_path):
    path = write(tmp_path / "t.csv", "a,b\n" + "1,2\n" * 1000)
    seen = []
    report = validate(
        inspect(path), scratch_dir=tmp_path, on_progress=lambda f, s: seen.append((f, s))
    )
    assert seen[-1] == (1.0, "validate")
    assert all(s == "validate" for _, s in seen)
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    discard(report)


def _hashed(monkeypatch) -> list[int]:
    """Spy on the hashing of keys (the path of a file not in key order): one entry a call."""
    validate_mod = sys.modules["datasets.ingest.validate.duplicates"]
    calls = []
    original = validate_mod._repeats

    def spy(hashes, lines, examples=5):
        calls.append(len(hashes))
        return original(hashes, lines, examples)

    monkeypatch.setattr(validate_mod, "_repeats", spy)
    return calls


def _small_chunks(monkeypatch) -> None:
    monkeypatch.setattr(sys.modules["datasets.ingest.readers"], "CSV_BLOCK", 64)
    monkeypatch.setattr(sys.modules["datasets.ingest.readers"], "TYPED_SLICE", 128)


READINGS_HEADER = "ts,detector_id,district,volume,speed_kmh,occupancy\n"


def test_duplicates_are_found_across_chunks_in_a_file_out_of_key_order(tmp_path, monkeypatch):
    _small_chunks(monkeypatch)
    hashed = _hashed(monkeypatch)
    rows = [f"2017-01-01 00:{i:02d}:00,D{i % 3},1,10,40,5\n" for i in range(10)]
    _, report = report_for(tmp_path, READINGS_HEADER + "".join(rows + rows[:2]))
    assert hashed == [12]
    assert report.duplicates == 2 and report.duplicate_examples == [[2, 12], [3, 13]]


@pytest.mark.parametrize("by_detector", [False, True])
def test_a_file_in_key_order_needs_no_hashing(tmp_path, monkeypatch, by_detector):
    _small_chunks(monkeypatch)
    hashed = _hashed(monkeypatch)
    pairs = [(minute, d) for minute in range(20) for d in ("D1", "D2", "D3")]
    if by_detector:
        pairs.sort(key=lambda p: p[1])
    rows = [f"2017-01-01 00:{m:02d}:00,{d},1,10,40,5\n" for m, d in pairs]
    _, report = report_for(tmp_path, READINGS_HEADER + "".join(rows))
    assert report.rows_ok == 60 and report.duplicates == 0
    assert hashed == []


@pytest.mark.parametrize("at", [1, 30, 59])
def test_a_repeated_key_in_a_sorted_file_is_found(tmp_path, monkeypatch, at):
    """A repeat sits next to its first row in a sorted file: equal is not greater, so the file
    goes to the hashes, which find it wherever it falls among the chunks."""
    _small_chunks(monkeypatch)
    hashed = _hashed(monkeypatch)
    pairs = [(minute, d) for minute in range(20) for d in ("D1", "D2", "D3")]
    pairs.insert(at, pairs[at - 1])
    rows = [f"2017-01-01 00:{m:02d}:00,{d},1,10,40,5\n" for m, d in pairs]
    _, report = report_for(tmp_path, READINGS_HEADER + "".join(rows))
    assert hashed == [61]
    assert report.duplicates == 1 and report.duplicate_examples == [[at + 1, at + 2]]


@pytest.mark.parametrize(
    ("values", "increasing"),
    [
        ([1.0, 2.0, 3.0], True),
        ([1.0, 1.0, 3.0], False),
        ([1.0, None, 3.0], False),
        ([1.0, float("nan"), 3.0], False),
        ([3.0, 2.0, 1.0], False),
    ],
)
def test_increasing_keys_are_strictly_so(values, increasing):
    import pyarrow as pa

    validate_mod = sys.modules["datasets.ingest.validate.duplicates"]
    keys = pa.record_batch({"k": pa.array(values, pa.float64())})
    assert validate_mod._increasing(None, keys, ["k"]) is increasing
    before = pa.record_batch({"k": pa.array([values[0]], pa.float64())})
    assert validate_mod._increasing(before, keys.slice(1), ["k"]) is increasing


def test_a_generic_table_with_repeated_rows_is_hashed_whole(tmp_path, monkeypatch):
    hashed = _hashed(monkeypatch)
    text = "name,value\na,1\nb,2\na,1\n"
    _, report = report_for(tmp_path, text, overrides={"kind": "generic"})
    assert hashed == [3]
    assert report.duplicates == 1 and report.duplicate_examples == [[2, 4]]


@pytest.mark.parametrize(
    "days", [[], [5], [3, 3, -2, 7], [0, 2_000_000, 5, 5], list(range(-40, 40, 3)) * 2]
)
def test_the_distinct_days_of_a_batch(days):
    seen = {1}
    sys.modules["datasets.ingest.validate.outputs"]._add_days(np.array(days, np.int64), seen)
    assert seen == {1, *days}


def _columns_with_statistics(path) -> set[str]:
    group = pq.ParquetFile(path).metadata.row_group(0)
    return {
        group.column(i).path_in_schema
        for i in range(group.num_columns)
        if group.column(i).statistics is not None and group.column(i).statistics.has_min_max
    }


def test_the_part_keeps_statistics_for_the_columns_scans_filter_on(tmp_path):
    """Time and district for a known kind (the others' cost an eighth of the writing for
    nothing); every column of a generic table."""
    pairs = [(minute, d) for minute in range(20) for d in ("D1", "D2")]
    rows = [f"2017-01-01 00:{m:02d}:00,{d},330106,10,40,5\n" for m, d in pairs]
    _, report = report_for(tmp_path / "known", READINGS_HEADER + "".join(rows))
    assert _columns_with_statistics(report.scratch / "part-0000.parquet") == {"ts", "district"}
    _, report = report_for(
        tmp_path / "generic", "name,value\na,1\nb,2\n", overrides={"kind": "generic"}
    )
    assert _columns_with_statistics(report.scratch / "part-0000.parquet") == {"name", "value"}
