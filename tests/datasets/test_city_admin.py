"""Adding a city: the command line's happy path and each refusal (exit 2 and a message that
says what is wrong), the atomic folder, the workspace seeing the city without a restart, the
page's submission, and ingesting a real file into the new city."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from datasets.__main__ import main
from datasets.cities import load_city
from datasets.city_admin import CityError, NewCity, add_city, check_districts
from datasets.pending_districts import PendingDistricts
from datasets.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
BEIJING_DISTRICTS = (
    ROOT / "tests" / "fixtures" / "cities" / "beijing-simplified" / "districts.geojson"
)
BEIJING_CSV = ROOT / "tests" / "fixtures" / "real" / "PRSA_Data_Aotizhongxin_20130301-20170228.csv"
SQUARE = [[[116.3, 39.9], [116.4, 39.9], [116.4, 40.0], [116.3, 40.0], [116.3, 39.9]]]


def beijing_head(folder: Path, days: int = 45) -> Path:
    """The first `days` days of the real Beijing station file (header + 24 lines a day)."""
    lines = BEIJING_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    path = folder / "PRSA_Data_Aotizhongxin_head.csv"
    path.write_text("".join(lines[: 1 + 24 * days]), encoding="utf-8")
    return path


def add_beijing(data_dir: Path, districts: Path = BEIJING_DISTRICTS) -> str:
    city_id, _notes = add_city(
        data_dir,
        NewCity(
            name={"en": "Beijing", "zh": "北京"},
            districts_geojson=districts.read_bytes(),
            filename=districts.name,
            timezone="Asia/Shanghai",
        ),
    )
    return city_id


def feature(geometry: dict, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the command line ------------------------------------------------------------------------------


def test_add_city_prints_the_id_and_writes_the_folder(tmp_path, capsys):
    data = tmp_path / "data"
    code, out, err = run(
        capsys,
        "add-city",
        "--name",
        "Beijing",
        "--name-zh",
        "北京",
        "--districts",
        str(BEIJING_DISTRICTS),
        "--tz",
        "Asia/Shanghai",
        "--data-dir",
        str(data),
    )
    assert code == 0, err
    assert out == "beijing\n"
    folder = data / "cities" / "beijing"
    city = load_city(folder)
    assert city.id == "beijing" and city.timezone == "Asia/Shanghai"
    assert city.label("zh") == "北京" and city.label("fr") == "Beijing"
    assert [d.code for d in city.districts] == [110105, 110101]
    assert city.district(110105).label("zh") == "朝阳区"
    # the boundaries load as the maps want them (feature ids from the code property)
    assert {f["id"] for f in city.geojson["features"]} == {110105, 110101}
    assert 440 < city.district(110105).area_km2 < 500  # the hand-drawn Chaoyang sketch
    assert 116.3 < city.center["lon"] < 116.7 and 39.8 < city.center["lat"] < 40.1
    assert not [p for p in (data / "cities").iterdir() if p.name.startswith(".")]

    # a second city of the same name gets its own id
    code, out, _ = run(
        capsys,
        "add-city",
        "--name",
        "Beijing",
        "--districts",
        str(BEIJING_DISTRICTS),
        "--data-dir",
        str(data),
    )
    assert (code, out) == (0, "beijing-2\n")
    assert load_city(data / "cities" / "beijing-2").timezone == "UTC"


def test_the_workspace_sees_a_new_city_without_reopening(tmp_path):
    workspace = Workspace.open(tmp_path / "data")
    assert "beijing" not in workspace.cities
    city_id = add_beijing(workspace.data_dir)
    assert city_id in workspace.cities  # the folder's mtime changed: reloaded on access
    assert workspace.city(city_id).label("en") == "Beijing"
    assert workspace.city("hangzhou-2017")  # built-in cities stay


BAD_FILES = {
    "empty": (b"", "the file is empty"),
    "blank": (b"  \n", "the file is empty"),
    "not JSON": (b'{"type": "FeatureCollection", "features": [', "not JSON: line 1"),
    "not UTF-8": (b'{"name": "\xff"}', "not JSON: byte"),
    "a list": (b"[1, 2]", "not a GeoJSON FeatureCollection"),
    "a geometry": (
        json.dumps({"type": "Polygon", "coordinates": SQUARE}).encode(),
        "a GeoJSON Polygon",
    ),
    "no features": (collection(), "the FeatureCollection is empty"),
    "points": (
        collection(feature({"type": "Point", "coordinates": [116.4, 39.9]}, name="A")),
        "feature 1 is a Point, not a polygon",
    ),
    "lines": (
        collection(
            feature({"type": "Polygon", "coordinates": SQUARE}, name="A"),
            feature({"type": "LineString", "coordinates": SQUARE[0]}, name="B"),
        ),
        "feature 2 is a LineString",
    ),
    "no geometry": (collection(feature(None, name="A")), "feature 1 has no geometry"),
    "no names": (
        collection(feature({"type": "Polygon", "coordinates": SQUARE}, code=1, area=3)),
        "no district names",
    ),
    "a name missing": (
        collection(
            feature({"type": "Polygon", "coordinates": SQUARE}, name="A"),
            feature({"type": "Polygon", "coordinates": SQUARE}, name=""),
        ),
        "no district names",
    ),
    "projected": (
        collection(
            feature(
                {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [438963.3, 4474000.0],
                            [439963.3, 4474000.0],
                            [439963.3, 4475000.0],
                            [438963.3, 4474000.0],
                        ]
                    ],
                },
                name="A",
            )
        ),
        "coordinates are not longitude/latitude: found (438963, 4.474e+06)",
    ),
    "swapped": (
        collection(
            feature(
                {
                    "type": "Polygon",
                    "coordinates": [[[39.9, 116.3], [39.9, 116.4], [40.0, 116.4], [39.9, 116.3]]],
                },
                name="A",
            )
        ),
        "latitude and longitude swapped?",
    ),
    "declared CRS": (
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}},
                "features": [feature({"type": "Polygon", "coordinates": SQUARE}, name="A")],
            }
        ).encode(),
        "coordinate system urn:ogc:def:crs:EPSG::32650",
    ),
    "open ring": (
        collection(feature({"type": "Polygon", "coordinates": [SQUARE[0][:3]]}, name="A")),
        "at least 4 positions",
    ),
    "repeated code": (
        collection(
            feature({"type": "Polygon", "coordinates": SQUARE}, name="A", adcode=7),
            feature({"type": "Polygon", "coordinates": SQUARE}, name="B", adcode=7),
        ),
        "district code 7 repeats",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_add_city_refuses_a_bad_file_with_exit_2(tmp_path, capsys, case):
    raw, message = BAD_FILES[case]
    path = tmp_path / "districts.geojson"
    path.write_bytes(raw)
    data = tmp_path / "data"
    code, out, err = run(
        capsys, "add-city", "--name", "X", "--districts", str(path), "--data-dir", str(data)
    )
    assert code == 2
    assert out == ""
    assert message in err, err
    assert err.startswith("districts.geojson")
    cities = data / "cities"
    assert not cities.exists() or not any(cities.iterdir())  # nothing written, no temp folder


def test_add_city_refuses_a_bad_time_zone_a_missing_file_and_an_unknown_name_field(
    tmp_path, capsys
):
    code, _, err = run(
        capsys,
        "add-city",
        "--name",
        "X",
        "--districts",
        str(BEIJING_DISTRICTS),
        "--tz",
        "Mars/Olympus",
        "--data-dir",
        str(tmp_path),
    )
    assert code == 2 and "unknown time zone 'Mars/Olympus'" in err
    code, _, err = run(
        capsys,
        "add-city",
        "--name",
        "X",
        "--districts",
        str(tmp_path / "nope"),
        "--data-dir",
        str(tmp_path),
    )
    assert code == 2 and "no such file" in err
    code, _, err = run(
        capsys,
        "add-city",
        "--name",
        "X",
        "--districts",
        str(BEIJING_DISTRICTS),
        "--name-field",
        "NAME_3",
        "--data-dir",
        str(tmp_path),
    )
    assert code == 2 and "has a property 'NAME_3'" in err and "name_zh" in err


def test_names_codes_and_populations_from_the_properties():
    raw = collection(
        feature(
            {"type": "Polygon", "coordinates": SQUARE},
            NAME_2="Centro",
            name_es="Centro ES",
            name_zh="中心",
            code="28079",
            population="1000",
        ),
        feature({"type": "MultiPolygon", "coordinates": [SQUARE]}, NAME_2="Norte", code=28080),
    )
    checked = check_districts(raw, "d.geojson")
    assert checked.name_field == "NAME_2" and checked.code_field == "code"
    first, second = checked.districts
    assert first["code"] == 28079 and first["population"] == 1000
    assert first["name"] == {"en": "Centro", "fr": "Centro", "es": "Centro ES", "zh": "中心"}
    assert second["code"] == 28080 and "population" not in second
    numbered = check_districts(
        collection(feature({"type": "Polygon", "coordinates": SQUARE}, name="Solo"))
    )
    assert numbered.districts[0]["code"] == 1 and any("numbered" in n for n in numbered.notes)


def test_a_folder_left_half_written_is_ignored(tmp_path):
    data = tmp_path / "data"
    stale = data / "cities" / ".tmp-deadbeef"
    stale.mkdir(parents=True)
    (stale / "profile.json").write_text("{")  # a crash between the writes and the rename
    workspace = Workspace.open(data)
    assert set(workspace.cities) == {"hangzhou-2017"}
    assert add_beijing(data) == "beijing"


def test_add_city_refuses_a_taken_id(tmp_path):
    with pytest.raises(CityError, match="exists already"):
        add_city(
            tmp_path,
            NewCity(
                name={"en": "H"},
                districts_geojson=BEIJING_DISTRICTS.read_bytes(),
                city_id="hangzhou-2017",
            ),
        )


# -- ingesting into the new city -------------------------------------------------------------------


def test_ingest_into_the_new_city(tmp_path, capsys):
    data = tmp_path / "data"
    city_id = add_beijing(data)
    air = beijing_head(tmp_path, days=10)
    code, out, err = run(
        capsys,
        "ingest",
        str(air),
        "--city",
        city_id,
        "--data-dir",
        str(data),
        "-q",
        "--title",
        "Beijing Aotizhongxin air",
    )
    assert code == 0, err
    dataset_id = out.split()[0]
    workspace = Workspace.open(data)
    found = workspace.catalog.find(city_id, "air_quality_hourly")
    assert found is not None and found.id == dataset_id and found.current.rows == 240
    assert workspace.catalog.find("hangzhou-2017", "air_quality_hourly") is None


def test_ingest_refuses_an_unknown_city(tmp_path, capsys):
    air = beijing_head(tmp_path, days=2)
    code, _, err = run(
        capsys, "ingest", str(air), "--city", "atlantis", "--data-dir", str(tmp_path / "data"), "-q"
    )
    assert code == 2 and "no city 'atlantis'" in err


# -- the page's submission -----------------------------------------------------------------------


def pending(store: PendingDistricts, raw: bytes, filename: str = "districts.geojson") -> dict:
    """The page's store value once the file has been streamed and checked."""
    kept = store.receive("ana", filename, io.BytesIO(raw), len(raw))
    return {"token": kept.token, "file": kept.file}


def test_only_an_analyst_may_submit(tmp_path):
    from pages.cities import submit

    workspace = Workspace.open(tmp_path / "data")
    store = PendingDistricts(workspace.data_dir)
    values = {"name": "Beijing", "districts": pending(store, BEIJING_DISTRICTS.read_bytes())}
    ok, message, city_id = submit(workspace, store, "en", None, values)
    assert not ok and city_id is None and message.startswith("Only analysts can add a city")
    assert set(workspace.cities) == {"hangzhou-2017"}


def test_outside_a_request_nobody_is_an_analyst():
    from pages.cities import may_add_city

    assert may_add_city() is False


def test_the_page_adds_a_city_and_refuses_a_bad_file(tmp_path):
    from pages.cities import submit

    workspace = Workspace.open(tmp_path / "data")
    store = PendingDistricts(workspace.data_dir)
    ok, message, city_id = submit(
        workspace,
        store,
        "fr",
        "ana",
        {
            "name": "Beijing",
            "names": {"fr": "Pékin", "es": "Pekín", "zh": "北京"},
            "timezone": "Asia/Shanghai",
            "population": "",
            "districts": pending(store, BEIJING_DISTRICTS.read_bytes()),
        },
    )
    assert ok and city_id == "beijing", message
    assert message == "Pékin ajoutée, avec l'identifiant beijing."
    assert workspace.city("beijing").label("es") == "Pekín"

    points = collection(feature({"type": "Point", "coordinates": [116.4, 39.9]}, name="A"))
    with pytest.raises(CityError, match=r"^p\.geojson: feature 1 is a Point, not a polygon"):
        pending(store, points, "p.geojson")
    ok, message, _ = submit(workspace, store, "en", "ana", {"name": "X", "districts": None})
    assert not ok and message == "Choose a GeoJSON file of the districts first."
    districts = pending(store, BEIJING_DISTRICTS.read_bytes())
    ok, message, _ = submit(
        workspace, store, "en", "ana", {"name": "X", "districts": districts, "population": "-3"}
    )
    assert not ok and "population" in message
    ok, message, _ = submit(
        workspace, store, "en", "ana", {"name": "X", "districts": districts, "name_field": "NOM"}
    )
    assert not ok and "no feature has a property 'NOM'" in message  # checked again on adding


def test_the_compared_cities_come_from_the_url_else_the_current_city_first():
    from pages.compare import selected

    known = {"hangzhou-2017": None, "beijing": None, "madrid": None}
    assert selected({}, known, "beijing") == ["beijing", "hangzhou-2017", "madrid"]
    assert selected({"cities": "madrid,beijing,atlantis,madrid"}, known, "x") == [
        "madrid",
        "beijing",
    ]
    assert selected({"cities": "-"}, known, "beijing") == []  # every box unticked
