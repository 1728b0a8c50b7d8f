import csv
import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from datasets.catalog import Catalog, DatasetMeta
from datasets.export import (
    BATCH_ROWS,
    csv_chunks,
    parquet_chunks,
    safe_csv,
    stored_parquet_file,
)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_formula_cells_are_neutralised_numbers_are_not():
    frame = pd.DataFrame(
        {"name": ['=HYPERLINK("x")', "+1", "@SUM(A1)", "ok"], "value": [-5, 1, 2, 3]}
    )
    body = rows(safe_csv(frame))[1:]
    assert [r[0] for r in body] == ['\'=HYPERLINK("x")', "'+1", "'@SUM(A1)", "ok"]
    assert [r[1] for r in body] == ["-5", "1", "2", "3"]


def test_header_cells_are_neutralised_too():
    assert rows(safe_csv(pd.DataFrame({"=cmd": [1]})))[0] == ["'=cmd"]


def test_a_multi_file_version_streams_as_one_parquet_file_piece_by_piece(tmp_path):
    catalog = Catalog(tmp_path)
    meta = DatasetMeta(
        id="counts",
        city="hangzhou-2017",
        kind="generic",
        round_table="other",
        title={"en": "Counts"},
        description={"en": ""},
    )
    for mode, start in (("new", 0), ("append", 100_000)):

        def write(folder, start=start):
            pq.write_table(pa.table({"n": range(start, start + 100_000)}), folder / "p.parquet")

        catalog.publish(meta, write, mode=mode)
    dataset = catalog.get("counts")
    assert stored_parquet_file(dataset) is None
    pieces = list(parquet_chunks(dataset))
    # handed over as each batch is written, not once the whole file is built
    assert len(pieces) >= 200_000 // BATCH_ROWS
    table = pq.read_table(io.BytesIO(b"".join(pieces)))
    assert table["n"].to_pylist() == list(range(200_000))


def test_a_single_file_version_is_its_stored_file(tmp_path):
    catalog = Catalog(tmp_path)
    meta = DatasetMeta(
        id="one",
        city="hangzhou-2017",
        kind="generic",
        round_table="other",
        title={"en": "One"},
        description={"en": ""},
    )
    catalog.publish(meta, lambda folder: pq.write_table(pa.table({"n": [1]}), folder / "p.parquet"))
    dataset = catalog.get("one")
    assert stored_parquet_file(dataset) == next(dataset.folder.glob("*.parquet"))


def test_float32_values_are_written_as_stored_and_read_back_the_same(tmp_path):
    stored = pa.array([43.9, 0.1, -3.3, 1234.5678, None], pa.float32())
    catalog = Catalog(tmp_path)
    meta = DatasetMeta(
        id="speeds",
        city="hangzhou-2017",
        kind="generic",
        round_table="other",
        title={"en": "Speeds"},
        description={"en": ""},
    )
    catalog.publish(
        meta, lambda folder: pq.write_table(pa.table({"speed": stored}), folder / "p.parquet")
    )
    cells = [row[0] for row in rows("".join(csv_chunks(catalog.get("speeds"))))[1:]]
    assert cells == ["43.9", "0.1", "-3.3", "1234.5677", ""]
    read_back = pa.array([float(c) if c else None for c in cells], pa.float32())
    assert read_back.equals(stored)
