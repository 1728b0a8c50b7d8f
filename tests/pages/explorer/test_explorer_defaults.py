"""Where the explorer starts, on files shaped like the real Beijing station file: a measure with
its unit on y (never an identifier or a code), at most seven series in distinct colours with
the rest named in the note, and an explorer view drawn the same on a deck's slide."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from components.charts import ChartContext
from components.explorer_query import spec_from_options
from components.explorer_view import EXPLORER, explorer_chart
from components.routing import filters_from_data
from components.slides import as_sent, projector, render_slide
from datasets.__main__ import main
from datasets.decks import Deck, Slide
from datasets.queries.explorer import MAX_SERIES, columns_of, is_code
from datasets.workspace import Workspace

ROOT = Path(__file__).resolve().parents[3]
BEIJING = ROOT / "tests" / "fixtures" / "real" / "PRSA_Data_Aotizhongxin_20130301-20170228.csv"
CITY = "hangzhou-2017"
DISTRICT = "330108"  # a district code of the city: its mean is the flat line of the finding
# the twelve stations of the Beijing Multi-Site data set
STATIONS = (
    "Aotizhongxin", "Changping", "Dingling", "Dongsi", "Guanyuan", "Gucheng", "Huairou",
    "Nongzhanguan", "Shunyi", "Tiantan", "Wanliu", "Wanshouxigong",
)  # fmt: skip


def beijing_lines() -> tuple[str, list[str]]:
    header, *rows = BEIJING.read_text(encoding="utf-8").splitlines()
    return header, rows


def ingest(data_dir: Path, path: Path, title: str, *extra: str) -> str:
    code = main(["ingest", str(path), "--data-dir", str(data_dir), "--title", title, "-q", *extra])
    assert code == 0
    return title.lower().replace(" ", "-")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    """Three uploads of the real file's shape: one station with a district code column, twelve
    stations (each a different number of days, so "the largest" is well defined), and the file
    as it is, as a generic table."""
    folder = tmp_path_factory.mktemp("explorer-defaults")
    data_dir = folder / "data"
    header, rows = beijing_lines()
    one = folder / "one_station.csv"
    one.write_text(
        "\n".join([header + ',"district"'] + [r + f",{DISTRICT}" for r in rows[: 24 * 20]]) + "\n",
        encoding="utf-8",
    )
    many = folder / "twelve_stations.csv"
    lines = [header]
    for k, station in enumerate(STATIONS):
        days = 14 - k  # Aotizhongxin 14 days … Wanshouxigong 3 days
        lines += [r.replace('"Aotizhongxin"', f'"{station}"') for r in rows[: 24 * days]]
    many.write_text("\n".join(lines) + "\n", encoding="utf-8")
    generic = folder / "generic.csv"
    generic.write_text("\n".join([header, *rows[: 24 * 30]]) + "\n", encoding="utf-8")
    ingest(data_dir, one, "one", "--kind", "air_quality_hourly")
    ingest(data_dir, many, "many", "--kind", "air_quality_hourly")
    ingest(data_dir, generic, "generic", "--kind", "generic", "--drop-bad-rows")
    return Workspace.open(data_dir)


def values(array) -> list:
    """A trace's values as plotly writes them for the wire (typed arrays as base64)."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def context_factory(workspace: Workspace):
    """What the app gives `render_slide`: a chart context for a slide's filters and look."""

    def make(filters: dict, ui: dict, option) -> ChartContext:
        return ChartContext(
            lang=ui.get("lang", "en"),
            theme=ui.get("theme", "light"),
            city=workspace.city(CITY),
            option=option,
            page_options=filters.get("options") or {},
            engine=workspace.engine,
            filters=filters_from_data(filters),
        )

    return make


def fig_ctx(workspace: Workspace, lang: str = "en") -> ChartContext:
    return context_factory(workspace)({}, {"lang": lang}, None)


def test_hourly_air_quality_starts_on_a_pollutant_never_the_district_code(workspace):
    dataset = workspace.catalog.get("one")
    cols = columns_of(dataset)
    assert {c.name for c in cols} >= {"district", "station_id", "pm25"}
    spec = spec_from_options({}, cols, "ts")
    assert (spec.x, spec.y, spec.agg) == ("ts", "pm25", "mean")
    figure, _note = explorer_chart(workspace.engine, dataset, {}, fig_ctx(workspace))
    assert figure["layout"]["yaxis"]["title"]["text"] == "mean of pm25 (µg/m³)"
    assert figure["layout"]["xaxis"]["title"]["text"] == "ts"
    ys = [v for v in values(figure["data"][0]["y"]) if v == v]
    assert len(set(ys)) > 10  # pollution that varies, not a code's flat line
    assert int(DISTRICT) not in ys


def test_codes_are_never_offered_as_an_aggregated_y(workspace):
    cols = columns_of(workspace.catalog.get("one"))
    measures = [c.name for c in cols if c.measure]
    assert measures == ["pm25", "pm10", "no2", "so2", "co", "o3"]
    # a hand-written link asking for the mean of the district code gets the pollutant
    assert spec_from_options({"y": "district"}, cols, "ts").y == "pm25"
    assert spec_from_options({"y": "pm10"}, cols, "ts").y == "pm10"


def test_a_generic_table_never_starts_on_its_row_number_or_date_parts(workspace):
    cols = columns_of(workspace.catalog.get("generic"))
    codes = {c.name for c in cols if c.code}
    assert codes == {"No", "year", "month", "day", "hour"}
    spec = spec_from_options({}, cols)
    assert spec.y not in codes and spec.y in {c.name for c in cols if c.role == "number"}


@pytest.mark.parametrize(
    ("name", "arrow_type", "code"),
    [
        ("station_id", "int64", True),
        ("StationID", "int32", True),
        ("district", "int32", True),
        ("No", "int64", True),
        ("hour", "int64", True),
        ("cars_per_day", "int64", False),
        ("PM2.5", "int64", False),
        ("CO", "int64", False),
        ("station_id", "double", False),  # a decimal is a quantity
        ("volume", "int64", False),
    ],
)
def test_a_generic_integer_is_a_code_when_its_name_says_so(name, arrow_type, code):
    assert is_code(name, arrow_type, "", "generic") is code


def test_more_than_seven_stations_show_the_seven_largest_and_name_the_rest(workspace):
    dataset = workspace.catalog.get("many")
    options = {"color": "station_id"}
    figure, note = explorer_chart(workspace.engine, dataset, options, fig_ctx(workspace))
    names = [trace["name"] for trace in figure["data"]]
    assert MAX_SERIES == 7
    assert sorted(names) == sorted(STATIONS[:7])
    colours = [trace["line"]["color"] for trace in figure["data"]]
    assert len(set(colours)) == 7
    assert "Showing the 7 largest of 12 series of station_id; 5 more not shown:" in note
    assert "Nongzhanguan, Shunyi, Tiantan, Wanliu, Wanshouxigong." in note
    _figure, note_fr = explorer_chart(workspace.engine, dataset, options, fig_ctx(workspace, "fr"))
    assert "5 autres ne le sont pas" in note_fr


def test_seven_stations_or_fewer_are_all_shown_without_a_note(workspace):
    dataset = workspace.catalog.get("many")
    kept = '["' + '","'.join(STATIONS[:5]) + '"]'
    options = {"color": "station_id", "f1": "station_id", "v1": kept}
    figure, note = explorer_chart(workspace.engine, dataset, options, fig_ctx(workspace))
    assert sorted(t["name"] for t in figure["data"]) == sorted(STATIONS[:5])
    assert "not shown" not in note


def test_a_slide_of_an_explorer_view_draws_the_explorers_figure(workspace):
    dataset = workspace.catalog.get("many")
    options = {"chart": "line", "y": "pm10", "color": "station_id", "bucket": "day"}
    query = "?" + "&".join(f"{k}={v}" for k, v in {"dataset": "many", **options}.items())
    deck = Deck(name="explored", title="Explored", slides=(Slide(chart=EXPLORER, query=query),))
    make_context = context_factory(workspace)
    view = render_slide(deck, 1, "en", "light", make_context)
    ctx = make_context({}, {"lang": "en", "theme": "light"}, None)
    expected = as_sent(projector(explorer_chart(workspace.engine, dataset, options, ctx)[0]))
    assert view.figure["data"] == expected["data"]
    assert len(view.figure["data"]) == 7
    assert view.figure["layout"]["yaxis"]["title"]["text"] == "mean of pm10 (µg/m³)"
    assert view.title == dataset.title("en") and view.message == ""
    assert len(view.sources) == 1 and view.sources[0].startswith(dataset.title("en"))


def test_a_slide_of_a_deleted_dataset_says_so(workspace):
    deck = Deck(name="gone", title="Gone", slides=(Slide(chart=EXPLORER, query="?dataset=nope"),))
    view = render_slide(deck, 1, "en", "light", context_factory(workspace))
    assert view.figure["data"] == [] and "nope" in view.message
