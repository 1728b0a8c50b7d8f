"""CSV downloads that a spreadsheet cannot turn into formulas (CSV injection)."""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would evaluate with a quote; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> str:
    text_columns = [
        c
        for c in frame.columns
        if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])
    ]
    if text_columns:
        frame = frame.assign(**{c: frame[c].map(neutralise) for c in text_columns})
    frame = frame.rename(columns={c: neutralise(str(c)) for c in frame.columns})
    return frame.to_csv(index=False)
