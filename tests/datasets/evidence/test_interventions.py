"""The intervention store: round trip, ids, concurrency, and the demo's signal pilot."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pandas as pd
import pytest

from datasets.evidence.interventions import (
    PILOT_NAME_KEY,
    InterventionError,
    InterventionStore,
    from_json,
    pilot_id,
    pilot_intervention,
    to_json,
)
from datasets.evidence.model import Intervention
from datasets.names import slug
from datasets.queries.traffic import pilot_start
from datasets.rollups import PEAK_HOURS
from i18n import t


def _iv(**changes) -> Intervention:
    base = Intervention(
        id="",
        city="somewhere",
        name="Bus lanes on Main St",
        start=dt.date(2017, 5, 1),
        treated=("A", "B"),
        control=("C",),
        outcome="traffic_readings.speed_kmh",
        end=dt.date(2017, 9, 30),
        hours=(17, 7, 8),
        weekdays=True,
        created_by="ana",
    )
    return replace(base, **changes)


def test_round_trip(tmp_path):
    store = InterventionStore(tmp_path)
    stored = store.add(_iv())
    assert stored.id == slug("Bus lanes on Main St")
    assert stored.created_at
    assert stored.hours == (7, 8, 17)
    again = InterventionStore(tmp_path).get(stored.id)
    assert again == stored
    assert isinstance(again.treated, tuple) and again.treated == ("A", "B")
    assert again.end == dt.date(2017, 9, 30) and again.weekdays is True
    store.remove(stored.id)
    with pytest.raises(KeyError):
        store.get(stored.id)
    with pytest.raises(KeyError):
        store.remove(stored.id)


def test_open_ended_and_every_hour(tmp_path):
    stored = InterventionStore(tmp_path).add(_iv(end=None, hours=(), weekdays=False))
    got = InterventionStore(tmp_path).get(stored.id)
    assert (got.end, got.hours, got.weekdays) == (None, (), False)


def test_taken_names_get_a_suffix_and_list_is_newest_first(tmp_path):
    store = InterventionStore(tmp_path)
    first = store.add(_iv())
    second = store.add(_iv())
    third = store.add(_iv(city="elsewhere"))
    assert [first.id, second.id, third.id] == [
        first.id,
        f"{first.id}-2",
        f"{first.id}-3",
    ]
    assert [iv.id for iv in store.list()] == [third.id, second.id, first.id]
    assert [iv.id for iv in store.list("somewhere")] == [second.id, first.id]
    assert store.list("nowhere") == []


def test_an_explicit_id_is_kept_and_never_overwritten(tmp_path):
    store = InterventionStore(tmp_path)
    assert store.add(_iv(id="mine")).id == "mine"
    with pytest.raises(InterventionError):
        store.add(_iv(id="mine", name="Another"))
    assert store.get("mine").name == "Bus lanes on Main St"


def test_a_name_without_latin_letters_still_gets_an_id(tmp_path):
    stored = InterventionStore(tmp_path).add(_iv(name="信号灯试点"))
    assert stored.id.startswith("intervention-")


@pytest.mark.parametrize(
    "bad",
    [
        {"name": " "},
        {"outcome": "speed_kmh"},
        {"unit": "planet"},
        {"hours": (25,)},
        {"end": dt.date(2017, 1, 1)},
    ],
)
def test_malformed_interventions_are_refused(tmp_path, bad):
    store = InterventionStore(tmp_path)
    with pytest.raises(InterventionError):
        store.add(_iv(**bad))
    assert store.list() == []


def test_concurrent_adds_of_one_name_get_distinct_ids(tmp_path):
    store = InterventionStore(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: InterventionStore(tmp_path).add(_iv()).id, range(16)))
    assert len(set(ids)) == 16
    assert sorted(iv.id for iv in store.list()) == sorted(ids)


def _add_in_process(args) -> list[str]:
    folder, count = args
    return [InterventionStore(folder).add(_iv()).id for _ in range(count)]


def test_concurrent_processes_get_distinct_ids(tmp_path):
    InterventionStore(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        ids = [i for chunk in pool.map(_add_in_process, [(tmp_path, 5)] * 3) for i in chunk]
    assert len(ids) == 15 and len(set(ids)) == 15


def test_json_round_trip():
    iv = _iv(id="x", created_at="2017-01-01T00:00:00+00:00")
    doc = to_json(iv)
    assert doc["start"] == "2017-05-01" and doc["treated"] == ["A", "B"]
    assert from_json(doc) == iv


def test_the_demo_ships_its_signal_pilot(demo_workspace, demo_city):
    stored = InterventionStore(demo_workspace.data_dir).get(pilot_id(demo_city.id))
    detectors = pd.read_parquet(
        demo_workspace.catalog.find(demo_city.id, "traffic_detectors").folder,
        columns=["detector_id", "pilot"],
    )
    pilot = set(detectors.loc[detectors["pilot"], "detector_id"])
    assert set(stored.treated) == pilot and pilot
    assert set(stored.control) == set(detectors["detector_id"]) - pilot
    assert stored.start == pilot_start(demo_city)
    assert stored.hours == tuple(PEAK_HOURS) and stored.weekdays
    assert stored.outcome == "traffic_readings.speed_kmh" and stored.unit == "detector"
    assert stored.name == t(PILOT_NAME_KEY, "en") != t(PILOT_NAME_KEY, "zh")
    assert pilot_intervention(demo_workspace, demo_city) == stored  # found, not made again


def test_the_pilot_is_stored_again_when_it_no_longer_matches(demo_workspace, demo_city):
    store = InterventionStore(demo_workspace.data_dir)
    right = store.get(pilot_id(demo_city.id))
    store.put(replace(right, treated=right.treated[:1]))
    try:
        assert pilot_intervention(demo_workspace, demo_city).treated == right.treated
        assert store.get(right.id).treated == right.treated
    finally:
        store.put(right)


def test_a_city_without_a_pilot_start_has_no_pilot(demo_workspace, demo_city, tmp_path):
    no_pilot = replace(demo_city, folder=tmp_path, extra={})
    assert pilot_intervention(demo_workspace, no_pilot) is None
