"""The outcome panel: its shape, the rollup path equal to the raw path, and both equal to an
independent pandas computation on the demo city; the units a form offers; suggested controls."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from datasets.evidence import panel as panel_module
from datasets.evidence.interventions import InterventionStore, pilot_id
from datasets.evidence.model import Intervention
from datasets.evidence.panel import (
    PANEL_COLUMNS,
    SIMILAR_DAYS,
    outcome_panel,
    suggest_controls,
    units,
)
from datasets.query import QueryEngine
from datasets.rollups import PEAK_HOURS


@pytest.fixture(scope="module")
def pilot(demo_workspace, demo_city) -> Intervention:
    return InterventionStore(demo_workspace.data_dir).get(pilot_id(demo_city.id))


@pytest.fixture(scope="module")
def raw_engine(demo_workspace) -> QueryEngine:
    """The same data read raw: no rollups, no resident tables, no shared cache."""
    return QueryEngine(demo_workspace.catalog, shared=None, use_rollups=False)


def _raw(workspace, city, kind: str, columns: list[str]) -> pd.DataFrame:
    return pd.read_parquet(workspace.catalog.find(city.id, kind).folder, columns=columns)


def _expected(readings: pd.DataFrame, unit: pd.Series, column: str, hours, weekdays):
    """The panel computed in pandas from the raw rows."""
    keep = readings[column].notna()
    if hours:
        keep &= readings["ts"].dt.hour.isin(hours)
    if weekdays:
        keep &= readings["ts"].dt.day_of_week < 5
    frame = pd.DataFrame(
        {
            "unit": unit[keep].astype(str),
            "day": readings.loc[keep, "ts"].dt.normalize(),
            "x": readings.loc[keep, column].astype("float64"),
        }
    )
    out = frame.groupby(["unit", "day"])["x"].agg(["mean", "count"]).reset_index()
    return out.sort_values(["unit", "day"], ignore_index=True)


def _same(panel: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert panel["unit"].tolist() == expected["unit"].tolist()
    assert (panel["day"].to_numpy() == expected["day"].to_numpy("datetime64[ns]")).all()
    np.testing.assert_allclose(panel["value"], expected["mean"], rtol=1e-6)
    assert panel["n"].tolist() == expected["count"].tolist()


def test_the_pilot_panel_has_one_row_per_unit_and_day(demo_workspace, demo_city, pilot):
    panel = outcome_panel(demo_workspace.engine, demo_city, pilot)
    assert list(panel.columns) == PANEL_COLUMNS
    assert pd.api.types.is_datetime64_any_dtype(panel["day"])
    assert panel["value"].dtype == "float64" and panel["n"].dtype == "int64"
    assert not panel.duplicated(["unit", "day"]).any()
    assert set(panel["unit"]) == set(pilot.treated) | set(pilot.control)
    assert panel["treated"].tolist() == panel["unit"].isin(pilot.treated).tolist()
    assert (panel["day"].dt.day_of_week < 5).all() and (panel["n"] > 0).all()
    readings = _raw(
        demo_workspace, demo_city, "traffic_readings", ["ts", "detector_id", "speed_kmh"]
    )
    expected = _expected(readings, readings["detector_id"], "speed_kmh", PEAK_HOURS, True)
    _same(panel, expected)


def test_the_pilot_panel_reads_the_detector_day_rollup(demo_workspace, demo_city, pilot):
    read = panel_module._read(demo_workspace.engine, demo_city, pilot)
    sql, _ = panel_module._panel_sql(demo_workspace.engine, demo_city, pilot, read, ["D0001"])
    assert "detector_day" in sql and "peak_speed_sum" in sql


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({}, "speed_kmh"),
        ({"hours": ()}, "speed_kmh"),
        ({"hours": (), "weekdays": False, "outcome": "traffic_readings.volume"}, "volume"),
        ({"outcome": "traffic_readings.occupancy", "hours": ()}, "occupancy"),
    ],
)
@pytest.mark.parametrize("unit", ["detector", "corridor", "district"])
def test_rollup_path_equals_raw_path(
    demo_workspace, demo_city, pilot, raw_engine, changes, column, unit
):
    iv = replace(pilot, **changes)
    if unit != "detector":
        ids = [u for u, _ in units(demo_workspace.engine, demo_city, unit, "traffic_readings")]
        iv = replace(iv, unit=unit, treated=tuple(ids[:2]), control=tuple(ids[2:]))
    fast = outcome_panel(demo_workspace.engine, demo_city, iv)
    raw = outcome_panel(raw_engine, demo_city, iv)
    assert len(fast) > 0
    pd.testing.assert_frame_equal(fast, raw, check_exact=False, rtol=1e-9)


def test_corridor_and_district_panels_match_pandas(demo_workspace, demo_city, pilot):
    readings = _raw(
        demo_workspace,
        demo_city,
        "traffic_readings",
        ["ts", "detector_id", "district", "speed_kmh"],
    )
    detectors = _raw(demo_workspace, demo_city, "traffic_detectors", ["detector_id", "road"])
    roads = readings["detector_id"].map(detectors.set_index("detector_id")["road"])
    every = {"corridor": sorted(set(roads)), "district": sorted(set(readings["district"]))}
    for unit, unit_values in (("corridor", roads), ("district", readings["district"])):
        ids = [str(u) for u in every[unit]]
        iv = replace(pilot, unit=unit, treated=tuple(ids[:1]), control=tuple(ids[1:]))
        panel = outcome_panel(demo_workspace.engine, demo_city, iv)
        _same(panel, _expected(readings, unit_values, "speed_kmh", PEAK_HOURS, True))


def test_a_station_panel_reads_the_raw_rows_with_the_window(demo_workspace, demo_city):
    aq = _raw(demo_workspace, demo_city, "air_quality_hourly", ["ts", "station_id", "no2"])
    ids = sorted(set(aq["station_id"]))
    iv = Intervention(
        "", demo_city.id, "Low emission zone", dt.date(2017, 6, 1), tuple(ids[:2]),
        tuple(ids[2:5]), "air_quality_hourly.no2", unit="station", hours=(7, 8, 9), weekdays=True,
    )  # fmt: skip
    panel = outcome_panel(demo_workspace.engine, demo_city, iv)
    kept = aq[aq["station_id"].isin(ids[:5])]
    _same(panel, _expected(kept, kept["station_id"], "no2", (7, 8, 9), True))
    assert set(panel.loc[panel["treated"], "unit"]) == set(ids[:2])


def test_units_offered_for_each_kind(demo_workspace, demo_city):
    engine = demo_workspace.engine
    detectors = _raw(demo_workspace, demo_city, "traffic_detectors", ["detector_id", "name"])
    found = units(engine, demo_city, "detector", "traffic_readings")
    assert [u for u, _ in found] == sorted(detectors["detector_id"])
    assert all(name in label for (_, label), name in zip(found, detectors["name"], strict=True))
    districts = dict(units(engine, demo_city, "district", "traffic_readings", lang="fr"))
    names = demo_city.district_names("fr")
    assert districts and all(districts[code] == names[int(code)] for code in districts)
    assert units(engine, demo_city, "station", "traffic_readings") == []
    assert units(engine, demo_city, "detector", "air_quality_hourly") == []
    assert units(engine, demo_city, "detector", "no_such_kind") == []


def test_suggested_controls_follow_the_documented_score(demo_workspace, demo_city, pilot):
    engine = demo_workspace.engine
    iv = replace(pilot, control=())
    suggested = suggest_controls(engine, demo_city, iv, k=3)
    assert len(suggested) == min(3, len(pilot.control))
    assert not set(suggested) & set(pilot.treated)
    everyone = replace(pilot, control=pilot.control)
    panel = outcome_panel(engine, demo_city, everyone)
    start = pd.Timestamp(pilot.start)
    pre = panel[(panel["day"] < start) & (panel["day"] >= start - pd.Timedelta(days=SIMILAR_DAYS))]
    wide = pre.pivot_table(index="day", columns="unit", values="value")
    target = wide[list(pilot.treated)].mean(axis=1)
    scores = {
        u: abs(wide[u].mean() - target.mean()) / target.mean() + (1 - wide[u].corr(target)) / 2
        for u in pilot.control
    }
    assert suggested == sorted(scores, key=scores.get)[:3]
    assert suggest_controls(engine, demo_city, replace(iv, treated=())) == []
