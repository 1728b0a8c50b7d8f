"""Incident detection (datasets.evidence.incidents) and the demo incidents it is scored on.

A small demo city (30 detectors, three weeks) is generated once; the readings of a copy are
edited to inject a lone incident and a citywide slowdown, and the detections compared.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasets.cities import builtin_city
from datasets.demo import calendar as cal
from datasets.demo import generate_demo, traffic, traffic_events, traffic_incidents
from datasets.demo.params import load_params
from datasets.evidence import incidents
from datasets.workspace import Workspace

CITY = "hangzhou-2017"
SEED = 5
DETECTORS, DAYS = 30, 21


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("incidents-city")
    workspace = Workspace.open(root)
    generate_demo(workspace, CITY, detectors=DETECTORS, days=DAYS, seed=SEED)
    workspace.engine.close()
    return root


@pytest.fixture(scope="module")
def found(city_dir) -> pd.DataFrame:
    workspace = Workspace.open(city_dir)
    try:
        return incidents.detect_incidents(workspace.engine, CITY)
    finally:
        workspace.engine.close()


# ------------------------------------------------------------------------------------------
# the demo's incidents show in its readings


@pytest.fixture(scope="module")
def generated():
    """Readings, detectors and incidents of two weeks made by the generator directly."""
    params = load_params(builtin_city())
    det = traffic.traffic_detectors(params, 40, SEED)
    days = cal.day_table(params, date(2017, 5, 1), rng_seed=SEED, end=date(2017, 5, 14))
    readings = pa.concat_tables(traffic.traffic_readings(det, days, SEED, params=params))
    df = readings.to_pandas()
    df["detector_id"] = df["detector_id"].astype(str)
    info = cal.day_arrays(days)
    day = df["ts"].dt.normalize().to_numpy().astype("datetime64[D]")
    df["workday"] = info.workday[np.searchsorted(info.date, day)]
    df["slot"] = df["ts"].dt.hour * 12 + df["ts"].dt.minute // 5
    usual = df.groupby(["detector_id", "workday", "slot"])[["speed_kmh", "volume", "occupancy"]]
    df = df.join(usual.median().add_suffix("_usual"), on=["detector_id", "workday", "slot"])
    inc = traffic_events.incidents(det, days, SEED, params=params).to_pandas()
    return df.set_index(["detector_id", "ts"]).sort_index(), det, inc


def _relative(df: pd.DataFrame, detector: str, lo, hi, column: str) -> float:
    """Median of a reading over its usual value, at one detector in [lo, hi)."""
    rows = df.loc[detector]
    rows = rows[(rows.index >= lo) & (rows.index < hi)]
    return float((rows[column] / rows[f"{column}_usual"]).median())


def test_incident_slows_its_detector_then_the_one_upstream(generated):
    df, det, inc = generated
    ids = det.column("detector_id").to_pylist()
    up = traffic_incidents.upstream_of(det)
    long = inc[(inc.cleared_at - inc.started_at) >= pd.Timedelta("45min")]
    long = long[long.started_at.dt.hour.between(9, 20)]
    five = pd.Timedelta("5min")
    rows = []
    for r in long.itertuples():
        i = ids.index(r.detector_id)
        lag = pd.Timedelta(minutes=3 * traffic_incidents.UPSTREAM_DELAY_MIN)
        rows.append(
            {
                "before": _relative(
                    df, r.detector_id, r.started_at - 6 * five, r.started_at - five, "speed_kmh"
                ),
                "during": _relative(
                    df, r.detector_id, r.started_at + five, r.cleared_at, "speed_kmh"
                ),
                "volume": _relative(df, r.detector_id, r.started_at + five, r.cleared_at, "volume"),
                "occupancy": _relative(
                    df, r.detector_id, r.started_at + five, r.cleared_at, "occupancy"
                ),
                "up_before": _relative(
                    df, ids[up[i]], r.started_at - 6 * five, r.started_at, "speed_kmh"
                )
                if up[i] >= 0
                else np.nan,
                "up_during": _relative(
                    df, ids[up[i]], r.started_at + lag, r.cleared_at, "speed_kmh"
                )
                if up[i] >= 0
                else np.nan,
            }
        )
    seen = pd.DataFrame(rows).median()
    assert len(rows) >= 10 and pd.DataFrame(rows).up_during.notna().sum() >= 5
    worst_kept = max(traffic_incidents.SEVERITY_SPEED) * 1.1 + 0.1  # the mildest modelled drop
    assert seen.during < worst_kept < seen.before
    assert seen.volume < 0.95 and seen.occupancy > 1.1  # fewer vehicles pass, those there wait
    assert seen.during < seen.up_during < 0.95 * seen.up_before  # the queue, thinner upstream


def test_true_onset_precedes_the_log(generated):
    _, _, inc = generated
    lag = (inc.detected_at - inc.started_at).dt.total_seconds()
    assert (lag > 0).all()
    by_source = lag.groupby(inc.source).median()
    assert by_source["video_ai"] < by_source["citizen_call"]


# ------------------------------------------------------------------------------------------
# detection


def _readings_file(root: Path) -> Path:
    workspace = Workspace.open(root)
    folder = workspace.catalog.find(CITY, "traffic_readings").folder
    workspace.engine.close()
    return sorted(folder.glob("*.parquet"))[0]


def _edit_readings(root: Path, edit) -> None:
    path = _readings_file(root)
    table = pq.read_table(path)
    df = edit(table.to_pandas())
    pq.write_table(pa.Table.from_pandas(df, schema=table.schema, preserve_index=False), path)


def _detect(root: Path, since=None, until=None) -> pd.DataFrame:
    workspace = Workspace.open(root)
    try:
        return incidents.detect_incidents(workspace.engine, CITY, since, until)
    finally:
        workspace.engine.close()


def test_detection_finds_an_injected_incident_not_a_citywide_slowdown(city_dir, tmp_path):
    day = date(2017, 1, 1) + timedelta(days=DAYS - 4)
    crash_at = pd.Timestamp(day) + pd.Timedelta("10:00:00")
    rain = (
        pd.Timestamp(day) + pd.Timedelta("14:00:00"),
        pd.Timestamp(day) + pd.Timedelta("17:00:00"),
    )
    before = _detect(city_dir, day, day + timedelta(days=1))
    busy = set(before.detector_id)
    victim = next(f"D{i:04d}" for i in range(DETECTORS, 0, -1) if f"D{i:04d}" not in busy)

    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        hit = (df.detector_id.astype(str) == victim) & df.ts.between(
            crash_at, crash_at + pd.Timedelta("45min")
        )
        wet = df.ts.between(*rain, inclusive="left")
        df.loc[hit, "speed_kmh"] *= 0.4
        df.loc[hit, "volume"] = (df.loc[hit, "volume"] * 0.7).round().astype("int16")
        # heavy rain everywhere: slower, and fewer vehicles where the road is full
        df.loc[wet, "speed_kmh"] *= 0.55
        df.loc[wet, "volume"] = (df.loc[wet, "volume"] * 0.85).round().astype("int16")
        return df

    copy = tmp_path / "edited"
    shutil.copytree(city_dir, copy)
    _edit_readings(copy, edit)
    after = _detect(copy, day, day + timedelta(days=1))
    new = after[after.detector_id == victim]
    assert len(new) == 1
    delay = new.detected_at.iloc[0] - crash_at
    assert pd.Timedelta(0) < delay <= pd.Timedelta("10min")
    assert new.min_speed_ratio.iloc[0] < 0.5
    in_rain = lambda f: f[(f.detected_at >= rain[0]) & (f.detected_at < rain[1])]  # noqa: E731
    assert len(in_rain(after)) <= len(in_rain(before))


def test_detections_shape_and_score_on_the_demo(city_dir, found):
    assert list(found.columns) == incidents.DETECTION_COLUMNS
    assert (found.ended_at >= found.detected_at).all()
    assert found.confidence.between(0, 1).all() and (found.min_speed_ratio < 1).all()
    workspace = Workspace.open(city_dir)
    recorded = incidents.recorded_incidents(workspace.engine, CITY)
    weeks = incidents.detector_weeks(workspace.engine, CITY)
    workspace.engine.close()
    assert weeks == pytest.approx(DETECTORS * DAYS / 7)
    score = incidents.score_detections(found, recorded, weeks)
    assert score["recorded"] == len(recorded) > 0
    assert score["recall"] > 0.5 and score["false_alarms_per_detector_week"] < 2


def test_a_window_scans_only_its_readings(city_dir, found):
    since, until = pd.Timestamp("2017-01-15"), pd.Timestamp("2017-01-18")
    part = _detect(city_dir, since, until)
    assert len(part) > 0
    assert part.detected_at.between(since, until + pd.Timedelta("5min")).all()
    assert len(part) < len(found)


# ------------------------------------------------------------------------------------------
# neighbours and scoring on small frames


def _runs(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["detector_id", "detected_at", "ended_at", "min_rel"]).astype(
        {"detected_at": "datetime64[s]", "ended_at": "datetime64[s]"}
    )


def test_a_queue_on_the_next_detector_is_the_same_incident():
    near = incidents.neighbours(
        pd.DataFrame({"detector_id": ["D1", "D2", "D3", "D4"], "road": ["A", "A", "A", "B"]})
    )
    assert near == {"D1": {"D2"}, "D2": {"D1", "D3"}, "D3": {"D2"}}
    runs = _runs(
        [
            ("D2", "2017-01-02 08:05", "2017-01-02 09:00", 0.4),
            ("D1", "2017-01-02 08:15", "2017-01-02 09:10", 0.6),  # its queue: merged
            ("D3", "2017-01-02 08:20", "2017-01-02 08:40", 0.3),  # deeper: an incident of its own
            ("D4", "2017-01-02 08:10", "2017-01-02 08:30", 0.5),  # another road
            ("D1", "2017-01-02 11:00", "2017-01-02 11:30", 0.6),  # long after: separate
        ]
    )
    merged = incidents.merge_neighbours(runs, near, window_min=20)
    assert list(merged.detector_id) == ["D2", "D4", "D3", "D1"]
    assert list(merged.spread) == [True, False, False, False]
    assert merged.ended_at.iloc[0] == pd.Timestamp("2017-01-02 09:10")


def test_score_by_hand():
    recorded = pd.DataFrame(
        {
            "detector_id": ["D1", "D1", "D2"],
            "started_at": pd.to_datetime(
                ["2017-01-02 08:00", "2017-01-02 08:30", "2017-01-02 12:00"]
            ),
            "cleared_at": pd.to_datetime(
                ["2017-01-02 08:40", "2017-01-02 09:00", "2017-01-02 12:30"]
            ),
        }
    )
    detected = pd.DataFrame(
        {
            "detector_id": ["D1", "D2", "D3"],
            # D1 from 08:04 covers both D1 incidents (the second one already under way: 0 min)
            "detected_at": pd.to_datetime(
                ["2017-01-02 08:04", "2017-01-02 15:00", "2017-01-02 12:10"]
            ),
            "ended_at": pd.to_datetime(
                ["2017-01-02 08:50", "2017-01-02 15:20", "2017-01-02 12:30"]
            ),
        }
    )
    score = incidents.score_detections(detected, recorded, detector_weeks=4)
    assert score["recall"] == pytest.approx(2 / 3)
    assert score["false_alarms"] == 2  # D2 at 15:00 (hours after) and D3 (another detector)
    assert score["false_alarms_per_detector_week"] == pytest.approx(0.5)
    assert score["median_delay_min"] == pytest.approx(2.0)  # median of 4 and 0
    empty = incidents.score_detections(detected.iloc[:0], recorded, detector_weeks=4)
    assert empty["recall"] == 0 and empty["median_delay_min"] is None


def test_score_falls_back_to_the_logged_time():
    recorded = pd.DataFrame(
        {
            "detector_id": ["D1"],
            "detected_at": pd.to_datetime(["2017-01-02 08:00"]),
            "cleared_at": pd.to_datetime(["2017-01-02 08:40"]),
        }
    )
    detected = pd.DataFrame(
        {
            "detector_id": ["D1"],
            "detected_at": pd.to_datetime(["2017-01-02 08:10"]),
            "ended_at": pd.to_datetime(["2017-01-02 08:30"]),
        }
    )
    assert incidents.score_detections(detected, recorded, 1)["median_delay_min"] == 10
