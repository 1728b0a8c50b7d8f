"""The real files analysts bring (copied into tests/fixtures/real, see ATTRIBUTION.md), ingested
end to end, with values checked by hand against the source lines."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq
import pytest

from datasets.ingest import IngestError, UploadMeta, commit, ingest, inspect, validate

from .conftest import BEIJING, CITY, MADRID, METRO, snapshot


@pytest.fixture(scope="module")
def beijing(tmp_path_factory):
    from datasets.workspace import Workspace

    workspace = Workspace.open(tmp_path_factory.mktemp("beijing") / "data")
    inspection = inspect(BEIJING)
    report = validate(inspection, scratch_dir=tmp_path_factory.mktemp("scratch"))
    version = commit(
        report,
        workspace,
        UploadMeta(
            title="Beijing Aotizhongxin air quality 2013–2017",
            source="UCI Beijing Multi-Site Air-Quality (DOI 10.24432/C5RK5G)",
            licence="CC-BY-4.0",
            city=CITY,
        ),
    )
    rows = pq.read_table(workspace.catalog.get(version.dataset_id).folder).to_pandas()
    return inspection, report, version, rows.set_index("ts")


def test_beijing_maps_onto_hourly_air_quality(beijing):
    inspection, report, version, _ = beijing
    assert inspection.settings.encoding == "utf-8" and inspection.settings.delimiter == ","
    assert "NA" in inspection.settings.missing
    assert report.kind == "air_quality_hourly"
    columns = report.mapping.columns
    assert dict(columns["ts"].parts) == {
        "year": "year",
        "month": "month",
        "day": "day",
        "hour": "hour",
    }
    assert {
        t: columns[t].column for t in ("station_id", "pm25", "pm10", "so2", "no2", "co", "o3")
    } == {
        "station_id": "station",
        "pm25": "PM2.5",
        "pm10": "PM10",
        "so2": "SO2",
        "no2": "NO2",
        "co": "CO",
        "o3": "O3",
    }
    assert columns["co"].unit == "µg/m³"
    assert any("CO looks like µg/m³" in n and "converted to mg/m³" in n for n in report.notes)
    assert set(report.unmapped) == {"No", "TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM"}
    assert (report.rows_read, report.rows_ok, report.rows_bad, report.duplicates) == (
        35064,
        35064,
        0,
        0,
    )
    assert (report.time_min, report.time_max) == ("2013-03-01 00:00:00", "2017-02-28 23:00:00")
    assert report.days_covered == report.span_days == 1461
    assert (version.version, version.rows) == (1, 35064)
    co = next(c for c in version.columns if c["name"] == "co")
    assert co["unit"] == "mg/m³"


def test_beijing_values_by_hand(beijing):
    *_, rows = beijing
    # line 2: 1,2013,3,1,0,4,4,4,7,300,77,…
    first = rows.loc[pd.Timestamp("2013-03-01 00:00")]
    assert (first.station_id, first.pm25, first.pm10, first.so2, first.no2, first.o3) == (
        "Aotizhongxin",
        4,
        4,
        4,
        7,
        77,
    )
    assert first.co == pytest.approx(0.3)  # 300 µg/m³
    # line 76: 75,2013,3,4,2,34,62,NA,14,300,68,…  (SO2 missing)
    row = rows.loc[pd.Timestamp("2013-03-04 02:00")]
    assert (row.pm25, row.pm10, row.no2, row.o3) == (34, 62, 14, 68) and pd.isna(row.so2)
    # line 77: 76,2013,3,4,3,12,34,6,12,NA,77,…  (CO missing)
    assert pd.isna(rows.loc[pd.Timestamp("2013-03-04 03:00")].co)
    # line 24097: 24096,2015,11,29,23,378,392,2,176,9300,11,…  (a winter smog night)
    smog = rows.loc[pd.Timestamp("2015-11-29 23:00")]
    assert (smog.pm25, smog.pm10, smog.so2, smog.no2, smog.o3) == (378, 392, 2, 176, 11)
    assert smog.co == pytest.approx(9.3)


def test_beijing_missing_values_match_the_source(beijing):
    *_, rows = beijing
    source = pd.read_csv(BEIJING, na_values=["NA"])
    assert rows.pm25.isna().sum() == source["PM2.5"].isna().sum() == 925
    assert rows.co.max() == pytest.approx(source["CO"].max() / 1000)
    assert rows.index.is_monotonic_increasing and rows.index.is_unique


def test_madrid_is_read_and_its_mangled_coordinates_refused_with_lines(workspace, tmp_path):
    inspection = inspect(MADRID, filename="madrid.csv")
    s = inspection.settings
    assert (s.encoding, s.delimiter, s.decimal, s.header_line) == ("mixed", ";", ".", 1)
    assert [c.name for c in inspection.columns] == [
        "idelem",
        "tipo_elem",
        "identif",
        "nombre",
        "st_x",
        "st_y",
    ]
    types = {c.name: c.type for c in inspection.columns}
    assert types == {
        "idelem": "integer",
        "tipo_elem": "string",
        "identif": "string",
        "nombre": "string",
        "st_x": "number",
        "st_y": "number",
    }
    assert any("st_x" in n and "decimal point is lost" in n for n in inspection.notes)
    assert inspection.kind == "generic"
    report = validate(inspection, scratch_dir=tmp_path)
    assert (report.rows_read, report.rows_ok, report.rows_bad) == (3868, 0, 3868)
    assert report.messages(3) == [
        "madrid.csv:2:5: expected a number in st_x, found '438.963.314.634.858'",
        "madrid.csv:2:6: expected a number in st_y, found '44.747.344.416.665'",
        "madrid.csv:3:5: expected a number in st_x, found '443.729.047.369.186'",
    ]
    before = snapshot(workspace.data_dir)
    with pytest.raises(IngestError, match=r"^madrid\.csv:2:5: expected a number in st_x"):
        commit(report, workspace, UploadMeta(city=CITY))
    with pytest.raises(IngestError, match="at least one good row"):
        commit(report, workspace, UploadMeta(city=CITY), drop_bad_rows=True)
    assert snapshot(workspace.data_dir) == before


def test_madrid_as_text_keeps_every_row_and_decodes_both_encodings(workspace, tmp_path):
    version, report = ingest(
        MADRID,
        workspace,
        overrides={"types": {"st_x": "string", "st_y": "string"}},
        meta=UploadMeta(title="Madrid traffic points", city=CITY),
        scratch_dir=tmp_path,
    )
    assert report.ok and version.rows == 3868
    rows = pq.read_table(workspace.catalog.get(version.dataset_id).folder).to_pandas()
    by_id = rows.set_index("idelem")
    assert by_id.loc[7033, "nombre"] == "Pº Castellana S-N - Pl. Colon-Hermosilla"  # Latin-1 line 6
    assert by_id.loc[3813, "nombre"].startswith("TÁCTICO - AV. ARROYOFRESNO")  # UTF-8 line 246
    assert by_id.loc[5399, "st_x"] == "43.954.273.861.757"  # the last line, CRLF stripped
    assert rows.idelem.dtype == "int64"


def test_hangzhou_metro_maps_date_and_time_onto_metro_flow(workspace, tmp_path):
    version, report = ingest(
        METRO,
        workspace,
        meta=UploadMeta(title="Hangzhou metro flow", city=CITY),
        scratch_dir=tmp_path,
    )
    assert report.kind == "metro_flow"
    assert dict(report.mapping.columns["ts"].parts) == {"date": "date", "time": "time_start"}
    assert (report.rows_ok, report.rows_bad, report.duplicates) == (34560, 0, 0)
    assert (report.time_min, report.time_max) == ("2019-01-01 00:00:00", "2019-01-03 23:50:00")
    rows = pq.read_table(workspace.catalog.get(version.dataset_id).folder).to_pylist()
    found = {(r["ts"], r["station_index"]): (r["inflow"], r["outflow"]) for r in rows}
    # lines 15362 and 15364: 0,2019-01-02,08:00,510,45 and 2,2019-01-02,08:00,596,544
    assert found[(dt.datetime(2019, 1, 2, 8, 0), 0)] == (510, 45)
    assert found[(dt.datetime(2019, 1, 2, 8, 0), 2)] == (596, 544)
