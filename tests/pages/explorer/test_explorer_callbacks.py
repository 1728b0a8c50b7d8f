"""The explorer page's callbacks, called as plain functions: the chart and its note, the hidden
options the date picker and the value pickers write, and the filter columns."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from datasets.catalog import DatasetMeta
from datasets.workspace import Workspace
from i18n import t
from pages import explorer

CITY = "hangzhou-2017"
UI = {"lang": "en", "theme": "light"}
NONE = [None, None, None]


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    workspace = Workspace.open(tmp_path / "data")
    table = pa.table(
        {
            "ts": pa.array([dt.datetime(2017, 1, 1, h) for h in range(6)], pa.timestamp("s")),
            "station_id": ["a", "a", "a", "a", "b", "b"],
            "pm25": pa.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], pa.float32()),
        }
    )
    meta = DatasetMeta(
        id="air",
        city=CITY,
        kind="air_quality_hourly",
        round_table="ecology",
        title={"en": "air"},
        description={"en": ""},
    )
    workspace.catalog.publish(
        meta, lambda folder: pq.write_table(table, Path(folder) / "part-0000.parquet")
    )
    return workspace


def test_the_chart_of_the_pages_dataset(workspace):
    figure, note = explorer.render(workspace, {}, UI, "/data/air")
    assert figure["data"] and t("explorer.note.points", "en", n="6") in note
    with pytest.raises(PreventUpdate):
        explorer.render(workspace, {}, UI, "/data/nothing-here")


def test_a_failing_query_is_said_under_a_blank_chart(workspace):
    for part in workspace.catalog.get("air").folder.glob("*.parquet"):
        part.unlink()
    figure, note = explorer.render(workspace, {}, UI, "/data/air")
    assert not figure.get("data")
    assert note.startswith(t("explorer.error", "en", error=""))
    assert "parquet" in note.lower() or "no files" in note.lower()


def test_the_date_picker_writes_days_or_nothing():
    assert explorer.hidden_dates("2017-03-01T00:00:00", None) == {
        "since": "2017-03-01",
        "until": "",
    }
    assert explorer.hidden_dates("not a day", "2017-02-30") == {"since": "", "until": ""}


def test_picked_values_go_to_their_filters_option_as_json():
    ids = [{"id": {"type": "explorer-values", "i": i}} for i in (1, 2, 3)]
    got = explorer.hidden_values(ids, [["a", "b"], [], None])
    assert got == {1: json.dumps(["a", "b"]), 2: "", 3: ""}


def test_a_new_filter_column_offers_its_values_and_forgets_old_picks(workspace):
    empty = [[], [], []]
    options, values, disabled, columns = explorer.filter_columns(
        workspace, "station_id", None, None, NONE, empty, empty, "/data/air"
    )
    assert [o["value"] for o in options[0]] == ["a", "b"]
    assert options[0][0]["label"] == "a (4)"
    assert options[1:] == [no_update, no_update] and values == [[], no_update, no_update]
    assert disabled == [False, True, True] and columns == ["station_id", None, None]


@pytest.mark.parametrize(
    "before, path",
    [(["station_id", None, None], "/data/air"), (NONE, "/data/nothing-here")],
)
def test_an_unchanged_column_or_an_unknown_dataset_changes_nothing(workspace, before, path):
    empty = [[], [], []]
    with pytest.raises(PreventUpdate):
        explorer.filter_columns(workspace, "station_id", None, None, before, empty, empty, path)
