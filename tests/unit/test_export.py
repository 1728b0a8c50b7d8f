import csv
import io

import pandas as pd

from datasets.export import safe_csv


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
