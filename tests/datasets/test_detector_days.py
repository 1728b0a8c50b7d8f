"""Running totals of the per-detector-day rollup against a pandas group-by of the same rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from datasets.queries import detector_days as dd
from datasets.query import Filters

FIRST = dt.date(2017, 3, 1)
FLOAT_SUMS = ("speed_sum", "inverse_speed_sum")


def rollup_rows(seed: int = 3) -> pd.DataFrame:
    """A detector_day-like table: gaps in the days, a detector seen in two districts, one
    without a district, and null sums where a day had no speed or volume."""
    rng = np.random.default_rng(seed)
    rows = []
    for detector, districts in (("D01", [330102]), ("D02", [330105, 330106]), ("D03", [None])):
        for day in range(40):
            if rng.random() < 0.2:
                continue
            district = districts[day % len(districts)]
            n = int(rng.integers(0, 288))
            n_speed = int(rng.integers(0, n + 1))
            n_moving = int(rng.integers(0, n_speed + 1))
            n_volume = int(rng.integers(0, n + 1))
            rows.append(
                {
                    "day": FIRST + dt.timedelta(days=day),
                    "detector_id": detector,
                    "district": district,
                    "n": n,
                    "n_speed": n_speed,
                    "speed_sum": float(rng.uniform(10, 80) * n_speed) if n_speed else None,
                    "n_moving": n_moving,
                    "inverse_speed_sum": float(rng.uniform(0.01, 0.1) * n_moving)
                    if n_moving
                    else None,
                    "n_volume": n_volume,
                    "volume_sum": int(rng.integers(0, 50) * n_volume) if n_volume else None,
                }
            )
    return pd.DataFrame(rows)


def as_table(frame: pd.DataFrame) -> pa.Table:
    schema = pa.schema(
        [
            ("day", pa.date32()),
            ("detector_id", pa.string()),
            ("district", pa.int32()),
            *[(name, pa.float64() if name in FLOAT_SUMS else pa.int64()) for name in dd.SUMS],
        ]
    )
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def expected_stats(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """What the group-by over the rollup returns (datasets.queries.traffic.detector_stats)."""
    keep = pd.Series(True, index=frame.index)
    if filters.start:
        keep &= frame["day"] >= filters.start
    if filters.end:
        keep &= frame["day"] <= filters.end
    if filters.districts:
        keep &= frame["district"].isin(filters.districts)
    rows = frame[keep]
    grouped = rows.groupby("detector_id", sort=True)
    return pd.DataFrame(
        {
            "district": grouped["district"].min(),
            "readings": grouped["n_speed"].sum(),
            "speed_sum": grouped["speed_sum"].sum(min_count=1),
            "moving_readings": grouped["n_moving"].sum(),
            "inverse_speed_sum": grouped["inverse_speed_sum"].sum(min_count=1),
            "vehicles": grouped["volume_sum"].sum(min_count=1),
        }
    )


PERIODS = [
    Filters(),
    Filters(FIRST + dt.timedelta(days=5), FIRST + dt.timedelta(days=12)),
    Filters(FIRST - dt.timedelta(days=30), FIRST + dt.timedelta(days=2)),
    Filters(FIRST + dt.timedelta(days=30), FIRST + dt.timedelta(days=90)),
    Filters(FIRST + dt.timedelta(days=3), FIRST + dt.timedelta(days=20), (330105,)),
    Filters(districts=(330102, 330106)),
    Filters(FIRST + dt.timedelta(days=7), FIRST + dt.timedelta(days=7)),
]


@pytest.mark.parametrize("filters", PERIODS)
def test_stats_match_a_group_by_of_the_rows(filters):
    frame = rollup_rows()
    got = dd.DetectorDays.from_table(as_table(frame)).stats(filters).to_pandas()
    expected = expected_stats(frame, filters)
    assert list(got["detector_id"]) == list(expected.index)
    got = got.set_index("detector_id")
    for column in ("readings", "moving_readings"):
        assert got[column].tolist() == expected[column].tolist()
    for column in ("speed_sum", "inverse_speed_sum", "vehicles"):
        assert got[column].isna().tolist() == expected[column].isna().tolist(), column
        np.testing.assert_allclose(got[column].dropna(), expected[column].dropna(), rtol=1e-12)
    pd.testing.assert_series_equal(
        got["district"], expected["district"], check_dtype=False, check_names=False
    )


def test_a_period_without_rows_gives_no_detector():
    table = as_table(rollup_rows())
    totals = dd.DetectorDays.from_table(table)
    late = Filters(FIRST + dt.timedelta(days=100), FIRST + dt.timedelta(days=120))
    assert totals.stats(late).num_rows == 0
    assert all(not values.any() for values in totals.sums(late).values())
    assert totals.stats(late).schema.field("district").type == pa.int32()


def test_too_large_totals_are_not_kept(monkeypatch):
    table = as_table(rollup_rows())
    monkeypatch.setattr(dd, "MAX_BYTES", 1024)
    assert dd.DetectorDays.from_table(table) is None
    assert dd.DetectorDays.from_table(table.slice(0, 0)) is None
