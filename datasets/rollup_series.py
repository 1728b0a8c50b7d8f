"""The district series rollups (5-minute, hourly, daily) summed with numpy while an upload's
rows stream through the validation pass, and written as they close.

DuckDB builds the 5-minute grain (`rollups._DISTRICT_5MIN`) with a hash aggregate of every
reading into about a quarter of a million groups, then a sort, and only once the part is
written: that was half the CPU of a traffic upload's rollups, and all of it after the pass.
Here the group of a row is one dense integer, its (5-minute bucket, district) numbered from the
batch's smallest, so each aggregate is one `np.bincount` or `ufunc.at` and the groups come out
in order without a sort. Rows come in time order (readings are logged so): a bucket is closed
once a later batch starts after it, summed into its hour, and written in row groups as they
fill, on the thread that takes the pass's facts. The days are sums of the hours, as in the SQL.

The SQL definitions stay the reference: the tables here have their columns, types, order and
values (sums to the rounding of their order of addition), and carry their tags. A batch out of
time order, or one the dense numbering cannot take (a null time or district, a NaN speed, a
time span too wide), stops the collection; the SQL then selects the grains from the part.

    series = SeriesRollups.for_schema("traffic_readings", schema, scratch, "part-0000.parquet")
    for batch in batches:
        series.add(batch)
    series.finish()  # the files; `rollups.build_rollups(..., ready=scratch)` links them
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pyarrow as pa

from .rollups import GRAINS, ROW_GROUP_ROWS, RollupWriter, write_rollup

MS_5MIN = 5 * 60 * 1000
MS_HOUR = 60 * 60 * 1000
MS_DAY = 24 * MS_HOUR
MAX_CODES = 1 << 24  # a batch whose dense group numbering is larger is left to the SQL
MAX_ROWS = 2_000_000  # hourly rows held (~70 bytes each) before the SQL takes over
_NEEDS = {"ts", "district", "volume", "speed_kmh"}
# the coarser grains summed from the 5 minutes: (name, bucket, time column, written as a date)
_COARSER = (
    ("district_hour", MS_HOUR, "hour_start", False),
    ("district_day", MS_DAY, "day", True),
)
_UNIT_MS = {"s": (1000, 1), "ms": (1, 1), "us": (1, 1000), "ns": (1, 1_000_000)}


@dataclass
class Values:
    """A column as numpy values and where they are valid (None: everywhere)."""

    data: np.ndarray
    valid: np.ndarray | None = None

    @classmethod
    def of(cls, array: pa.Array) -> Values:
        """Nulls become zeros, which sums may add as they are."""
        valid = None
        if array.null_count:
            valid = array.is_valid().to_numpy(zero_copy_only=False)
            array = array.fill_null(0)
        return cls(array.to_numpy(zero_copy_only=False), valid)

    def pick(self, keep: np.ndarray) -> Values:
        return Values(self.data[keep], None if self.valid is None else self.valid[keep])

    @staticmethod
    def concat(parts: list[Values]) -> Values:
        data = np.concatenate([p.data for p in parts])
        if all(p.valid is None for p in parts):
            return Values(data)
        valid = [np.ones(len(p.data), bool) if p.valid is None else p.valid for p in parts]
        return Values(data, np.concatenate(valid))


@dataclass
class Groups:
    """Which group each row falls in: a dense number, (time - t0) * span + (district - d0),
    so that the groups are ordered by time then district."""

    index: np.ndarray
    size: int
    t0: int
    d0: int
    span: int  # districts numbered

    @classmethod
    def of(cls, time: np.ndarray, district: np.ndarray) -> Groups | None:
        """Rows grouped by time then district; None when the dense table would be too large."""
        t0, d0 = int(time.min()), int(district.min())
        t_span, span = int(time.max()) - t0 + 1, int(district.max()) - d0 + 1
        if t_span * span > MAX_CODES:
            return None
        index = (time - t0) * span + (district.astype(np.int64) - d0)
        return cls(index, t_span * span, t0, d0, span)

    def keys(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The time and the district of each group numbered in `groups`."""
        return groups // self.span + self.t0, groups % self.span + self.d0

    def int_sums(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Rows per group, or each group's sum of whole-number `weights` (counts, flags)."""
        if weights is None:
            return np.bincount(self.index, minlength=self.size)
        # float64 weights are exact: every such sum is of counts or int16 values, below 2**53
        return np.bincount(self.index, weights=weights, minlength=self.size).astype(np.int64)

    def sums(self, values: Values) -> np.ndarray:
        data = values.data if values.valid is None else np.where(values.valid, values.data, 0)
        return np.bincount(self.index, weights=data, minlength=self.size)

    def extreme(self, values: Values, ufunc: np.ufunc) -> np.ndarray:
        """Each group's minimum or maximum (`np.minimum`, `np.maximum`) of its valid values."""
        dtype = values.data.dtype
        if np.issubdtype(dtype, np.floating):
            start = np.inf if ufunc is np.minimum else -np.inf
        else:
            start = np.iinfo(dtype).max if ufunc is np.minimum else np.iinfo(dtype).min
        out = np.full(self.size, start, dtype)
        index, data = self.index, values.data
        if values.valid is not None:
            index, data = index[values.valid], data[values.valid]
        ufunc.at(out, index, data)
        return out


_SUMS_SCHEMA = [
    pa.field("n", pa.int64()),
    pa.field("n_speed", pa.int64()),
    pa.field("speed_sum", pa.float64()),
    pa.field("speed_min", pa.float32()),
    pa.field("speed_max", pa.float32()),
    pa.field("n_volume", pa.int64()),
    pa.field("volume_sum", pa.int64()),
    pa.field("volume_max", pa.int16()),
]


@dataclass
class Series:
    """District sums over time buckets, sorted by time then district: the columns of
    `rollups._DISTRICT_5MIN` and `_COARSER`. A reading is a series of one row per reading."""

    time: np.ndarray  # ms since the epoch at the start of each bucket
    district: np.ndarray
    n: np.ndarray | None  # None: one row each (readings)
    n_speed: np.ndarray | None  # None: as n; for readings, else whether the speed is there
    speed_sum: Values
    speed_min: Values
    speed_max: Values
    n_volume: np.ndarray | None
    volume_sum: Values
    volume_max: Values

    @classmethod
    def of_readings(
        cls, ms: np.ndarray, district: np.ndarray, speed: Values, volume: Values
    ) -> Series:
        return cls(
            ms, district, None, speed.valid, speed, speed, speed, volume.valid, volume, volume
        )

    @staticmethod
    def concat(parts: list[Series]) -> Series:
        """Partial series (not readings) one after the other."""
        columns = {}
        for f in fields(Series):
            values = [getattr(p, f.name) for p in parts]
            columns[f.name] = (
                Values.concat(values) if isinstance(values[0], Values) else np.concatenate(values)
            )
        return Series(**columns)

    def rolled(self, step_ms: int) -> Series | None:
        """These sums over buckets of `step_ms` (None when the groups cannot be numbered)."""
        groups = Groups.of(self.time // step_ms, self.district)
        if groups is None:
            return None
        n = groups.int_sums(self.n)
        keep = np.flatnonzero(n)
        n_speed = n if self.n_speed is None else groups.int_sums(self.n_speed)
        n_volume = n if self.n_volume is None else groups.int_sums(self.n_volume)
        n_speed, n_volume = n_speed[keep], n_volume[keep]
        has_speed, has_volume = n_speed > 0, n_volume > 0
        time, district = groups.keys(keep)
        return Series(
            time * step_ms,
            district,
            n[keep],
            n_speed,
            Values(groups.sums(self.speed_sum)[keep], has_speed),
            Values(groups.extreme(self.speed_min, np.minimum)[keep], has_speed),
            Values(groups.extreme(self.speed_max, np.maximum)[keep], has_speed),
            n_volume,
            Values(groups.int_sums(self.volume_sum.data)[keep], has_volume),
            Values(groups.extreme(self.volume_max, np.maximum)[keep], has_volume),
        )

    def pick(self, keep: np.ndarray) -> Series:
        columns = (getattr(self, f.name) for f in fields(self))
        return Series(*(c.pick(keep) if isinstance(c, Values) else c[keep] for c in columns))

    def __len__(self) -> int:
        return len(self.time)

    @staticmethod
    def schema(column: str, as_date: bool) -> pa.Schema:
        """The SQL's columns: the bucket as `column`, a timestamp[us] or a date."""
        time = pa.date32() if as_date else pa.timestamp("us")
        return pa.schema(
            [
                pa.field(column, time, nullable=False),
                pa.field("district", pa.int32(), nullable=False),
                *_SUMS_SCHEMA,
            ]
        )

    def table(self, column: str, as_date: bool) -> pa.Table:
        if as_date:
            time = pa.array((self.time // MS_DAY).astype(np.int32), pa.date32())
        else:
            time = pa.array(self.time * 1000, pa.timestamp("us"))
        arrays = [time, pa.array(self.district, pa.int32())]
        for f in _SUMS_SCHEMA:
            values = getattr(self, f.name)
            if isinstance(values, Values):
                mask = None if values.valid is None else ~values.valid
                arrays.append(pa.array(values.data, f.type, mask=mask))
            else:
                arrays.append(pa.array(values, f.type))
        return pa.Table.from_arrays(arrays, schema=Series.schema(column, as_date))


class SeriesRollups:
    """The district series of one upload's rows, summed batch by batch on one thread while the
    rows are validated. While each batch starts no earlier than the last 5-minute bucket of the
    batch before, the buckets it closes are written as they come; a batch out of time order
    stops the collection (the SQL then reads the part)."""

    grains = ("district_5min", *(name for name, *_ in _COARSER))

    def __init__(self, to_ms: tuple[int, int], folder: Path, part: str) -> None:
        self.to_ms = to_ms  # (multiply, divide) from the time column's unit to milliseconds
        self.folder, self.part = folder, part
        self.unwritten: list[Series] = []  # closed 5-minute rows (no later row adds to them)
        self.hours: list[Series] | None = []  # their hourly sums (None: too wide to number)
        self.hour_rows = 0
        self.open: Series | None = None  # the last bucket's rows, which the next batch may add to
        self.writer: RollupWriter | None = None
        self.stopped = False

    @classmethod
    def for_schema(
        cls, kind: str, schema: pa.Schema, folder: Path, part: str
    ) -> SeriesRollups | None:
        """A collector writing the rollups of `part` in `folder`, or None when the grains here
        do not apply to rows of `schema`."""
        if GRAINS["district_5min"].kind != kind or not set(schema.names) >= _NEEDS:
            return None
        ts = schema.field("ts").type
        if not pa.types.is_timestamp(ts) or ts.tz is not None:
            return None
        if not pa.types.is_integer(schema.field("district").type):
            return None
        return cls(_UNIT_MS[ts.unit], Path(folder), part)

    def add(self, batch: pa.RecordBatch) -> None:
        if self.stopped or batch.num_rows == 0:
            return
        partial = self._partial(batch)
        if partial is None:
            return self.stop()
        if self.open is not None:
            start = self.open.time[0]
            if partial.time[0] < start:
                return self.stop()
            if partial.time[0] == start:
                same = int(np.searchsorted(partial.time, start, side="right"))
                merged = Series.concat([self.open, partial.pick(slice(0, same))]).rolled(MS_5MIN)
                partial = Series.concat([merged, partial.pick(slice(same, None))])
            else:
                self._close(self.open)
        last = int(np.searchsorted(partial.time, partial.time[-1]))
        self.open = partial.pick(slice(last, None))
        self._close(partial.pick(slice(0, last)))

    def _partial(self, batch: pa.RecordBatch) -> Series | None:
        ts, district = batch.column("ts"), batch.column("district")
        if ts.null_count or district.null_count:
            return None
        speed = Values.of(batch.column("speed_kmh"))
        if np.isnan(speed.data).any():
            return None  # DuckDB orders NaN above every number, np.maximum spreads it
        multiply, divide = self.to_ms
        ms = ts.cast(pa.int64()).to_numpy(zero_copy_only=False)
        ms = ms * multiply if multiply > 1 else ms // divide
        volume = Values.of(batch.column("volume"))
        readings = Series.of_readings(ms, district.to_numpy(zero_copy_only=False), speed, volume)
        return readings.rolled(MS_5MIN)

    def _close(self, rows: Series) -> None:
        """Sum closed buckets into hours; write them in whole row groups as they fill."""
        if self.stopped or not len(rows):
            return
        hours = rows.rolled(MS_HOUR) if self.hours is not None else None
        if hours is None:
            self.hours = None
        else:
            self.hours.append(hours)
            self.hour_rows += len(hours)
            if self.hour_rows > MAX_ROWS:
                return self.stop()
        self.unwritten.append(rows)
        if sum(len(r) for r in self.unwritten) >= ROW_GROUP_ROWS:
            rows = Series.concat(self.unwritten)
            whole = len(rows) - len(rows) % ROW_GROUP_ROWS
            self._write(rows.pick(slice(0, whole)))
            self.unwritten = [rows.pick(slice(whole, None))]

    def _write(self, rows: Series) -> None:
        if self.writer is None:
            schema = Series.schema("ts", False)
            self.writer = RollupWriter(
                self.folder, GRAINS["district_5min"], self.part, schema, **_write_options("ts")
            )
        self.writer.write(rows.table("ts", False))

    def finish(self) -> list[Path]:
        """Write the last 5-minute rows, then the hours and the days; returns the files written
        (none when the collection stopped or saw no rows)."""
        if self.open is not None:
            self._close(self.open)
            self.open = None
        if self.stopped or (self.writer is None and not self.unwritten):
            return []
        if self.unwritten:
            self._write(Series.concat(self.unwritten))
        written = [self.writer.close()]
        self.writer = None
        # the hours of two batches may meet: summed again, as are the days from the hours
        series = Series.concat(self.hours) if self.hours else None
        for name, step, column, as_date in _COARSER:
            series = series.rolled(step) if series is not None else None
            if series is None:  # too wide to number: the SQL sums the 5-minute file
                break
            written.append(
                write_rollup(
                    series.table(column, as_date),
                    self.folder,
                    GRAINS[name],
                    self.part,
                    **_write_options(column),
                )
            )
        self.unwritten, self.hours = [], []
        return written

    def stop(self) -> None:
        self.stopped = True
        self.unwritten, self.hours, self.open = [], [], None
        if self.writer is not None:
            self.writer.abort()
            self.writer = None


def _write_options(column: str) -> dict:
    """Sums are nearly all distinct (a dictionary would only cost time); queries skip row groups
    by their time and district."""
    return {"plain": ("speed_sum", "volume_sum"), "statistics": [column, "district"]}
