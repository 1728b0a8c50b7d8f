"""Running totals of the per-detector-day rollup, kept in memory once per dataset version.

The speed KPIs and the district map add up, per detector, the day sums of a period in the
selected districts: a group-by over the `detector_day` rollup (365 k rows a year for 1,000
detectors) that takes DuckDB 5-9 ms on every change of dates or districts. With running totals
over the days (a row per detector and district, a column per day), the sums of any period are
one subtraction per row and a `bincount` per detector: well under a millisecond.

The totals take `rows x (days + 1) x 8` bytes a column (1,000 detectors over a year: 20 MB for
the seven columns); beyond `MAX_BYTES` the queries keep reading the rollup with DuckDB.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from datasets.query import Filters

# the day sums added up per detector (see datasets.rollups._DETECTOR_DAY)
SUMS = ("n", "n_speed", "speed_sum", "n_moving", "inverse_speed_sum", "n_volume", "volume_sum")
MAX_BYTES = 64 << 20


@dataclass(frozen=True)
class DetectorDays:
    first_day: dt.date
    days: int
    detector_ids: pa.Array  # the distinct detector ids, sorted
    district_type: pa.DataType
    detector: np.ndarray  # per row: position of its detector in `detector_ids`
    district: np.ndarray  # per row: its district code (float, NaN where unknown)
    running: dict[str, np.ndarray]  # per column of SUMS: (rows, days + 1), column 0 zeros

    @classmethod
    def from_table(cls, table: pa.Table) -> DetectorDays | None:
        """From the rollup's `day`, `detector_id`, `district` and SUMS columns; None when the
        totals would take more than MAX_BYTES (or there is nothing to total)."""
        if table.num_rows == 0:
            return None
        day = table["day"].to_numpy().astype("datetime64[D]").astype("int64")
        first, days = int(day.min()), int(day.max() - day.min()) + 1
        detector, ids = pd.factorize(table["detector_id"].to_pandas(), sort=True)
        district = table["district"].to_numpy(zero_copy_only=False).astype("float64")
        district_code, districts = pd.factorize(district, sort=True, use_na_sentinel=False)
        keys, row = np.unique(detector * len(districts) + district_code, return_inverse=True)
        if len(keys) * (days + 1) * 8 * len(SUMS) > MAX_BYTES:
            return None
        cell = row * days + (day - first)
        running = {}
        for name in SUMS:
            values = table[name].to_numpy(zero_copy_only=False).astype("float64")
            grid = np.bincount(cell, weights=np.nan_to_num(values), minlength=len(keys) * days)
            totals = np.zeros((len(keys), days + 1))
            np.cumsum(grid.reshape(len(keys), days), axis=1, out=totals[:, 1:])
            running[name] = totals
        return cls(
            first_day=dt.date(1970, 1, 1) + dt.timedelta(days=first),
            days=days,
            detector_ids=pa.array(ids, type=table.schema.field("detector_id").type),
            district_type=table.schema.field("district").type,
            detector=keys // len(districts),
            district=np.asarray(districts, dtype="float64")[keys % len(districts)],
            running=running,
        )

    def sums(self, filters: Filters) -> dict[str, np.ndarray]:
        """Each column's sum over the filters' days and districts, per detector (in the order
        of `detector_ids`; 0 for a detector without rows there)."""
        return self._by_detector(*self._per_row(filters))

    def stats(self, filters: Filters) -> pa.Table:
        """Per detector with rows in the period and districts: its district (the lowest code
        among its rows there, for the rare detector moved between districts), readings, sum of
        speeds, moving readings, sum of 1/speed and vehicles, with nulls where a sum has no
        value: the table the group-by over the rollup returns."""
        rows, per_row = self._per_row(filters)
        sums = self._by_detector(rows, per_row)
        present = sums["n"] > 0
        with_rows = rows[per_row["n"] > 0]
        _, first = np.unique(self.detector[with_rows], return_index=True)
        district = self.district[with_rows[first]]

        def column(name: str, counted_by: str, type_: pa.DataType) -> pa.Array:
            return pa.array(sums[name][present], mask=sums[counted_by][present] == 0).cast(type_)

        return pa.table(
            {
                "detector_id": self.detector_ids.filter(pa.array(present)),
                "district": pa.array(district, mask=np.isnan(district)).cast(self.district_type),
                "readings": pa.array(sums["n_speed"][present]).cast(pa.int64()),
                "speed_sum": column("speed_sum", "n_speed", pa.float64()),
                "moving_readings": pa.array(sums["n_moving"][present]).cast(pa.int64()),
                "inverse_speed_sum": column("inverse_speed_sum", "n_moving", pa.float64()),
                "vehicles": column("volume_sum", "n_volume", pa.int64()),
            }
        )

    def _per_row(self, filters: Filters) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The rows of the filters' districts, and each column's sum over their days per row."""
        rows = self._rows(filters)
        lo, hi = self._span(filters)
        return rows, {
            name: totals[rows, hi] - totals[rows, lo] for name, totals in self.running.items()
        }

    def _by_detector(self, rows: np.ndarray, per_row: dict[str, np.ndarray]) -> dict:
        count = len(self.detector_ids)
        detector = self.detector[rows]
        return {
            name: np.bincount(detector, weights=values, minlength=count)
            for name, values in per_row.items()
        }

    def _rows(self, filters: Filters) -> np.ndarray:
        if not filters.districts:
            return np.arange(len(self.detector))
        return np.flatnonzero(np.isin(self.district, np.asarray(filters.districts, float)))

    def _span(self, filters: Filters) -> tuple[int, int]:
        """Columns of the running totals before the first day and at the last day."""
        lo = (filters.start - self.first_day).days if filters.start else 0
        hi = (filters.end - self.first_day).days + 1 if filters.end else self.days
        lo, hi = min(max(lo, 0), self.days), min(max(hi, 0), self.days)
        return lo, max(lo, hi)
