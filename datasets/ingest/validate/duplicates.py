"""Rows that repeat an earlier row's key: one comparison a row while the file is in key order,
else the keys of the good rows hashed by DuckDB at the end.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Duplicates:
    """Whether a good row repeats an earlier row's key, and the lines of a few that do.

    Files mostly come sorted by their key (readings by time then detector, or by detector
    then time): while every row's key is greater than the one before, in the order of the key
    columns or in the reverse order, no key can repeat, and that is one comparison a row. A
    file in neither order has its keys hashed at the end, by DuckDB from the rows written to
    the scratch file (the good rows, in order), and the hashes sorted and compared."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.orders = [keys, keys[::-1]] if len(keys) > 1 else [keys]
        self.last: pa.RecordBatch | None = None  # the key of the last row seen
        self.lines: list[np.ndarray] = []

    def add(self, batch: pa.RecordBatch, lines: np.ndarray) -> None:
        if not self.keys or batch.num_rows == 0:
            return
        self.lines.append(lines)
        if self.orders:
            keys = batch.select(self.keys)
            self.orders = [o for o in self.orders if _increasing(self.last, keys, o)]
            self.last = keys.slice(keys.num_rows - 1)

    def result(self, written: Path) -> tuple[int, list[list[int]]]:
        """How many rows repeat an earlier row's key, and the lines of a few such groups;
        `written` holds the good rows."""
        if not self.keys or not self.lines or self.orders:
            return 0, []
        cols = ", ".join('"' + k.replace('"', '""') + '"' for k in self.keys)
        with duckdb.connect() as con:
            sql = f"SELECT hash({cols}) AS h FROM read_parquet(?)"
            hashes = con.execute(sql, [str(written)]).fetchnumpy()["h"]
        return _repeats(hashes.astype(np.uint64), np.concatenate(self.lines))


def _increasing(last: pa.RecordBatch | None, keys: pa.RecordBatch, order: list[str]) -> bool:
    """Whether each row's key, `last`'s first, is greater than the row's before it, comparing
    the columns in `order`. Nulls and NaN, which compare as neither, count as not."""
    rows = pa.Table.from_batches([keys] if last is None else [last, keys])
    n = rows.num_rows
    greater = equal = None
    try:
        for name in order:
            column = rows.column(name)
            if column.null_count:
                return False
            after, before = column.slice(1), column.slice(0, n - 1)
            more, same = pc.greater(after, before), pc.equal(after, before)
            if greater is None:
                greater, equal = more, same
            else:
                greater = pc.or_(greater, pc.and_(equal, more))
                equal = pc.and_(equal, same)
    except pa.ArrowNotImplementedError:  # a type with no order
        return False
    return greater is None or pc.all(greater).as_py() is not False


def _repeats(hashes: np.ndarray, lines: np.ndarray, examples: int = 5) -> tuple[int, list]:
    """How many rows repeat an earlier row's hash, and the lines of the first groups."""
    order = np.argsort(hashes, kind="stable")
    hs = hashes[order]
    repeat = np.zeros(len(hs), bool)
    repeat[1:] = hs[1:] == hs[:-1]
    count = int(np.count_nonzero(repeat))
    groups: list[list[int]] = []
    starts = np.flatnonzero(repeat & ~np.concatenate(([False], repeat[:-1])))
    for start in starts[: examples * 4]:
        end = start
        while end < len(hs) and repeat[end]:
            end += 1
        groups.append(sorted(int(x) for x in lines[order[start - 1 : end]][:10]))
    groups.sort()
    return count, groups[:examples]
