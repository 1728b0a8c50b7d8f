"""`check_intervention`: each problem it can find, on the demo city and on a tiny city whose
readings fall on weekends only."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets.demo.publish import Provenance, meta_for
from datasets.evidence.interventions import InterventionStore, pilot_id
from datasets.evidence.model import Intervention
from datasets.evidence.panel import (
    MAX_NAMED,
    MIN_SIDE_DAYS,
    Problem,
    check_intervention,
    outcome_panel,
)
from datasets.rollups import build_rollups
from datasets.schemas import KINDS
from datasets.workspace import Workspace
from i18n import LANGUAGES, messages, t


@pytest.fixture(scope="module")
def pilot(demo_workspace, demo_city) -> Intervention:
    return InterventionStore(demo_workspace.data_dir).get(pilot_id(demo_city.id))


def _codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def test_the_demo_pilot_has_no_problem(demo_workspace, demo_city, pilot):
    assert check_intervention(demo_workspace.engine, demo_city, pilot) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"hours": (7, 24)}, "bad_hours"),
        ({"outcome": "potholes.depth"}, "outcome_kind"),
        ({"outcome": "generic.value"}, "outcome_kind"),
        ({"outcome": "traffic_readings.colour"}, "outcome_column"),
        ({"outcome": "traffic_readings.detector_id"}, "outcome_not_numeric"),
        ({"outcome": "traffic_readings.district"}, "outcome_not_numeric"),
        ({"outcome": "energy_daily.electricity_gwh"}, "outcome_no_time"),
        ({"unit": "station"}, "unit_kind"),
        ({"outcome": "air_quality_hourly.no2"}, "unit_kind"),
        ({"treated": ("D0001", "NOPE")}, "unknown_units"),
        ({"treated": ()}, "no_treated"),
        ({"control": ()}, "no_control"),
        ({"start": dt.date(2016, 12, 1)}, "start_outside"),
        ({"start": dt.date(2018, 2, 1)}, "start_outside"),
        ({"end": dt.date(2018, 3, 1)}, "end_outside"),
        ({"end": dt.date(2017, 6, 1)}, "end_before_start"),
        ({"start": dt.date(2017, 1, 10)}, "short_before"),
        ({"start": dt.date(2017, 12, 25)}, "short_after"),
        ({"end": dt.date(2017, 7, 5)}, "short_after"),
    ],
)
def test_each_problem_is_found(demo_workspace, demo_city, pilot, changes, code):
    problems = check_intervention(demo_workspace.engine, demo_city, replace(pilot, **changes))
    assert code in _codes(problems)
    for problem in problems:
        assert problem.message and "{" not in problem.message
        for lang in LANGUAGES:
            assert problem.text(lang) != f"evidence.problem.{problem.code}"


def test_a_unit_in_both_groups(demo_workspace, demo_city, pilot):
    iv = replace(pilot, control=(*pilot.control, pilot.treated[0]))
    problems = check_intervention(demo_workspace.engine, demo_city, iv)
    assert _codes(problems) == ["both_groups"]
    assert problems[0].params["units"] == pilot.treated[0]


def test_unknown_units_are_named_at_most_five(demo_workspace, demo_city, pilot):
    ghosts = tuple(f"GHOST{i}" for i in range(MAX_NAMED + 3))
    problems = check_intervention(demo_workspace.engine, demo_city, replace(pilot, treated=ghosts))
    (unknown,) = [p for p in problems if p.code == "unknown_units"]
    assert unknown.params["count"] == len(ghosts)
    assert re.findall(r"GHOST\d", unknown.message) == list(ghosts[:MAX_NAMED])


def test_a_city_without_the_dataset(demo_workspace, demo_city, pilot):
    elsewhere = replace(demo_city, id="nowhere")
    assert _codes(check_intervention(demo_workspace.engine, elsewhere, pilot)) == ["no_dataset"]


def test_the_side_problems_say_how_many_days(demo_workspace, demo_city, pilot):
    iv = replace(pilot, start=dt.date(2017, 1, 9))
    (short,) = check_intervention(demo_workspace.engine, demo_city, iv)
    first_monday = dt.date(2017, 1, 2)  # the weekday window's first day with data
    assert short.params == {"days": (iv.start - first_monday).days, "min": MIN_SIDE_DAYS}


@pytest.fixture(scope="module")
def weekend_city(tmp_path_factory, demo_city):
    """A workspace whose only dataset is readings of three detectors on weekends."""
    workspace = Workspace.open(tmp_path_factory.mktemp("weekend-city"))
    stamps = pd.date_range("2017-03-01", "2017-06-30 23:00", freq="h")
    stamps = stamps[stamps.day_of_week >= 5]
    n = len(stamps)
    frame = pd.DataFrame(
        {
            "ts": list(stamps) * 3,
            "detector_id": ["A"] * n + ["B"] * n + ["C"] * n,
            "district": [330102] * (3 * n),
            "pilot": [False] * (3 * n),
            "volume": [10] * (3 * n),
            "speed_kmh": [40.0] * (3 * n),
            "occupancy": [5.0] * (3 * n),
        }
    )
    schema = KINDS["traffic_readings"].schema
    table = pa.Table.from_pandas(frame, preserve_index=False).select(schema.names).cast(schema)

    def write(folder):
        pq.write_table(table, folder / "part-0000.parquet")
        build_rollups("traffic_readings", folder / "part-0000.parquet", folder)

    meta = meta_for(demo_city, "traffic_readings", Provenance())
    workspace.catalog.publish(meta, write, time_column="ts")
    return workspace


def test_a_window_that_keeps_no_reading(weekend_city, demo_city):
    iv = Intervention(
        "", demo_city.id, "Weekday trial", dt.date(2017, 5, 1), ("A",), ("B", "C"),
        "traffic_readings.speed_kmh", hours=(7, 8, 17, 18), weekdays=True,
    )  # fmt: skip
    engine = weekend_city.engine
    assert outcome_panel(engine, demo_city, iv).empty
    assert _codes(check_intervention(engine, demo_city, iv)) == ["empty_window"]
    every_day = replace(iv, weekdays=False)
    assert not outcome_panel(engine, demo_city, every_day).empty
    assert check_intervention(engine, demo_city, every_day) == []


def test_every_problem_code_has_its_message_in_four_languages():
    keys = [k for k in messages() if k.startswith("evidence.problem.")]
    assert len(keys) >= 15
    for key in keys:
        fields = {lang: set(re.findall(r"{(\w+)}", messages()[key][lang])) for lang in LANGUAGES}
        assert len({frozenset(f) for f in fields.values()}) == 1, key
        assert t(key, "zh", **dict.fromkeys(fields["en"], "x"))
