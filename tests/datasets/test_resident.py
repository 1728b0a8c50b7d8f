"""Small Parquet sources read from memory: the same rows, only small sources, within budget,
and a new version folder never answered with an old version's table."""

from __future__ import annotations

import shutil
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from datasets.resident import VALUE_BYTES, ResidentTables


def write(folder, values) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"v": values}), folder / "part-0.parquet")
    return f"read_parquet('{folder}/*.parquet')"


def run(sql: str, resident: ResidentTables, cursor) -> list:
    return cursor.sql(resident.rewrite(sql, cursor)).fetchall()


def test_a_small_source_is_read_from_memory_with_the_same_rows(tmp_path):
    cursor = duckdb.connect(":memory:").cursor()
    source = write(tmp_path / "v1", [3, 1, 2])
    resident = ResidentTables()
    sql = f"SELECT sum(v), count(*) FROM {source}"
    assert "resident_" in resident.rewrite(sql, cursor) and "read_parquet" not in (
        resident.rewrite(sql, cursor)
    )
    assert run(sql, resident, cursor) == cursor.sql(sql).fetchall() == [(6, 3)]
    assert resident.used_bytes == 3 * VALUE_BYTES  # 3 rows of 1 column, as DuckDB holds them


def test_large_sources_and_sources_past_the_budget_stay_on_their_files(tmp_path):
    cursor = duckdb.connect(":memory:").cursor()
    first, second = write(tmp_path / "a", list(range(100))), write(tmp_path / "b", [1])
    size = (tmp_path / "a" / "part-0.parquet").stat().st_size
    too_small_a_limit = ResidentTables(max_source_bytes=size - 1)
    assert too_small_a_limit.rewrite(f"SELECT * FROM {first}", cursor) == f"SELECT * FROM {first}"
    budget = ResidentTables(budget_bytes=100 * VALUE_BYTES)
    assert "resident_" in budget.rewrite(f"SELECT * FROM {first}", cursor)
    assert budget.rewrite(f"SELECT * FROM {second}", cursor) == f"SELECT * FROM {second}"


def test_a_folder_written_again_is_never_answered_from_its_old_table(tmp_path):
    cursor = duckdb.connect(":memory:").cursor()
    resident = ResidentTables()
    source = write(tmp_path / "v1", [1])
    assert run(f"SELECT sum(v) FROM {source}", resident, cursor) == [(1,)]
    shutil.rmtree(tmp_path / "v1")
    time.sleep(0.01)  # a new folder: another inode or modification time
    write(tmp_path / "v1", [10, 20])
    assert run(f"SELECT sum(v) FROM {source}", resident, cursor) == [(30,)]


def test_a_missing_folder_is_left_to_duckdb(tmp_path):
    cursor = duckdb.connect(":memory:").cursor()
    sql = f"SELECT * FROM read_parquet('{tmp_path}/gone/*.parquet')"
    assert ResidentTables().rewrite(sql, cursor) == sql
