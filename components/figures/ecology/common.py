"""What the ecology figures share: the AQI standard, labels in the reader's language, axes
of shares and periods, small numeric helpers."""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

import numpy as np
import pandas as pd
from babel import dates as babel_dates

from components.charts import FigureContext
from datasets.aqi import STANDARDS
from i18n import BABEL_LOCALES, fmt_date, fmt_number, t

DEFAULT_STANDARD = "hj633"
MAX_POINTS = 5000  # per trace
CALENDAR_MIN_WEEKS = 44  # narrower periods keep square cells
DAY_MS = 24 * 3600 * 1000
# WHO 2021 air-quality guidelines for the averaging time each daily value uses (µg/m³; CO mg/m³)
WHO_2021 = {"pm25": 15.0, "pm10": 45.0, "no2": 25.0, "so2": 40.0, "co": 4.0, "o3": 100.0}
SECTOR_COLOURS = {"industry": "#0072B2", "residential": "#E69F00", "other": "#CC79A7"}
STREAM_COLOURS = {
    "incinerated": "#D55E00",
    "landfilled": "#8C8C8C",
    "recycled": "#009E73",
    "kitchen": "#E69F00",
}
MOBILITY_SERIES = (
    ("metro_riders", "#0072B2"),
    ("bus_riders", "#E69F00"),
    ("public_bike_trips", "#009E73"),
    ("ev_charging_sessions", "#CC79A7"),
)
SHARE_LINE = {"light": "#1F2933", "dark": "#F0E442"}
MAP_COLOURS = {
    "light": {"fill": "#EEF2F6", "line": "#9AA5B1", "outline": "#1F2933", "land": "#FFFFFF"},
    "dark": {"fill": "#1F2937", "line": "#64748B", "outline": "#E5E7EB", "land": "#111827"},
}
HIGHLIGHTED_LINES = 6  # coloured lines a chart can carry and stay legible from afar
OTHER_LINE = {"light": "#B8C0CA", "dark": "#4B5563"}  # the stations not highlighted


# -- shared helpers ------------------------------------------------------------------------------


def standard_of(ctx: FigureContext) -> str:
    value = (ctx.page_options or {}).get("aqi")
    return value if value in STANDARDS else DEFAULT_STANDARD


def category_label(standard: str, key: str, lang: str) -> str:
    return t(f"eco.cat.{standard}.{key}", lang)


def pollutant_label(pollutant: str | None, lang: str) -> str:
    if not pollutant or pollutant not in WHO_2021:
        return t("eco.hover.none", lang)
    return t(f"eco.pollutant.{pollutant}", lang)


def station_name(name: str, name_zh: str | None, lang: str) -> str:
    if lang == "zh" and isinstance(name_zh, str) and name_zh:
        return name_zh
    return name


def district_name(names: dict[int, str], code) -> str:
    try:
        return names.get(int(code), str(code))
    except (TypeError, ValueError):
        return "–"


def sector_label(sector: str, lang: str) -> str:
    return t(f"eco.sector.{sector}", lang) if sector in SECTOR_COLOURS else str(sector)


def stream_label(stream: str, lang: str) -> str:
    return t(f"eco.stream.{stream}", lang) if stream in STREAM_COLOURS else str(stream)


# Babel takes ~60 µs a date or number, most of a builder's time once the figure is a dict; the
# same few thousand days and AQI values come back in every chart and request, so keep them.
@lru_cache(maxsize=16384)
def _date_label(day: dt.date, lang: str) -> str:
    return fmt_date(day, lang, "medium")


@lru_cache(maxsize=4096)
def _month_label(stamp: pd.Timestamp, lang: str, skeleton: str) -> str:
    return babel_dates.format_skeleton(skeleton, stamp, locale=BABEL_LOCALES[lang])


@lru_cache(maxsize=4096)
def integer_label(value: int, lang: str) -> str:
    return fmt_number(value, lang)


def day_label(value, lang: str) -> str:
    return _date_label(pd.Timestamp(value).date(), lang)


def month_label(value, lang: str, short: bool = False) -> str:
    """ "Mar 2017" (or "Mar" when `short`), the locale's way."""
    return _month_label(pd.Timestamp(value), lang, "MMM" if short else "yMMM")


def sep(lang: str) -> str:
    """The label-value separator of the language (": ", " : ", "：")."""
    return t("eco.colon", lang)


def axis_title(text: str) -> dict:
    return {"text": text}


def share_axis(top: float, ticks: int = 5) -> dict:
    """A 0-based share axis reaching at least `top` (a fraction) in about `ticks` round steps
    (1, 2 or 5 times a power of ten), so it never reads 0/5/9/14/19 %."""
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9))  # 0.2 % needs one place
    return {
        "tickmode": "linear",
        "tick0": 0,
        "dtick": step,
        "range": [0, math.ceil(top / step - 1e-9) * step],
        "tickformat": f".{decimals}%",
    }


def pearson(x, y) -> float | None:
    """Pearson correlation (None with fewer than 3 pairs or without variance)."""
    pairs = pd.DataFrame({"x": np.asarray(x, float), "y": np.asarray(y, float)}).dropna()
    if len(pairs) < 3 or pairs["x"].std() == 0 or pairs["y"].std() == 0:
        return None
    return float(np.corrcoef(pairs["x"], pairs["y"])[0, 1])


def period_label(value, bucket_days: float, lang: str) -> str:
    if bucket_days >= 28:
        return month_label(value, lang)
    if bucket_days >= 7:
        return t("eco.hover.week_of", lang, date=day_label(value, lang))
    return day_label(value, lang)


def period_step_days(periods: pd.Series) -> float:
    """The usual step between distinct periods, in whole days (1 for a single period)."""
    stamps = period_stamps(periods)
    stamps = np.unique(stamps[~np.isnat(stamps)])
    if len(stamps) < 2:
        return 1.0
    return float(np.median(np.diff(stamps) // np.timedelta64(1, "D")))


def period_stamps(periods) -> np.ndarray:
    """Times as datetime64[ns] (NaT where missing), without pandas' parsing when they are
    times already."""
    stamps = np.asarray(periods)
    if stamps.dtype.kind != "M":
        stamps = pd.to_datetime(pd.Series(periods)).to_numpy()
    return stamps.astype("datetime64[ns]")


def rows_by(keys: pd.Series) -> dict:
    """Row positions of each distinct non-missing key (a trace's rows, without a pandas mask
    and copy of the frame per trace)."""
    codes, uniques = pd.factorize(keys)
    return {key: np.flatnonzero(codes == i) for i, key in enumerate(uniques)}


def sums_by(times: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """(distinct times in order, then each column's sum per time), missing values as 0, as a
    pandas group sum gives them."""
    known = ~np.isnat(times)
    distinct, at = np.unique(times[known], return_inverse=True)
    sums = (
        np.bincount(at, weights=np.nan_to_num(c[known], nan=0.0), minlength=len(distinct))
        for c in columns
    )
    return distinct, *sums


def iso_text(value) -> str:
    """A time as ISO text (a `pd.Timestamp` is no type orjson writes)."""
    return pd.Timestamp(value).isoformat()
