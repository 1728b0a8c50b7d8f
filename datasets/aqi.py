"""Air quality index under China's HJ 633-2012 and the US EPA AQI (2024 revision).

Chinese residents read the HJ 633 index; many visitors know the EPA one. Both are computed from the
same stored concentrations, so the dashboard can show either without a second data set.

Storage units are µg/m³ for every pollutant except CO, which is mg/m³ (as Chinese monitoring
networks publish it). HJ 633 tables use those units directly; EPA tables use ppm/ppb for gases, so
gases are converted at 25 °C (molar volume 24.45 L/mol) before the EPA table is applied.

Decisions (each is a choice the standards leave open or a convention we had to pick):

* HJ 633 rounds every IAQI up to an integer ("全部进位取整数"); concentrations are not truncated.
* EPA truncates the concentration (PM2.5 to 0.1 µg/m³, PM10 to 1 µg/m³, O3 to 0.001 ppm, CO to
  0.1 ppm, SO2/NO2 to 1 ppb) and rounds the index half up to the nearest integer.
* Above the last breakpoint of a table that reaches IAQI 500 the index is capped at 500, so an
  extreme day stays visible (and "severe"/"hazardous") instead of turning into a gap.
* Tables that stop below 500 (HJ 633 SO2 1h and O3 8h, EPA O3 8h and SO2 1h) hand over to another
  averaging period, as the standards say. `iaqi` takes that other concentration as `fallback`;
  without it the index is undefined (None), because guessing would misstate the standard.
* EPA SO2: when the 1h value exceeds 304 ppb, the 24h value sets the index, but never below 200,
  because the 1h value alone already proves the index is at least 200.
* Missing, NaN and negative concentrations give no index (None / <NA>).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, NamedTuple, TypeVar

import numpy as np
import pandas as pd

__all__ = [
    "BREAKPOINTS",
    "CATEGORIES",
    "MOLAR_VOLUME_L",
    "MOLECULAR_WEIGHTS",
    "POLLUTANTS",
    "STANDARDS",
    "UNITS",
    "Breakpoint",
    "Category",
    "aqi_frame",
    "category_for",
    "daily_inputs_from_hourly",
    "iaqi",
    "ppb_to_ugm3",
    "to_epa_units",
    "ugm3_to_ppb",
]

Standard = Literal["hj633", "epa"]
Pollutant = Literal["pm25", "pm10", "o3", "no2", "so2", "co"]
Averaging = Literal["1h", "8h", "24h"]

STANDARDS: tuple[Standard, ...] = ("hj633", "epa")

# Also the tie-break order for the primary pollutant: HJ 633 would name tied pollutants jointly,
# but a single key per day is what charts and filters can group by.
POLLUTANTS: tuple[Pollutant, ...] = ("pm25", "pm10", "o3", "no2", "so2", "co")


class Breakpoint(NamedTuple):
    """One band of a table: concentrations c_lo..c_hi map linearly onto i_lo..i_hi."""

    c_lo: float
    c_hi: float
    i_lo: int
    i_hi: int


def _chain(*points: tuple[float, int]) -> tuple[Breakpoint, ...]:
    """HJ 633 lists shared band edges; bands are consecutive pairs of them."""
    return tuple(Breakpoint(c0, c1, i0, i1) for (c0, i0), (c1, i1) in itertools.pairwise(points))


# --- HJ 633-2012, Table 1 (µg/m³; CO mg/m³) -----------------------------------------------------
# Written as (concentration, IAQI) edges exactly as the standard prints them.
HJ633_SO2_24H = _chain(
    (0, 0), (50, 50), (150, 100), (475, 150), (800, 200), (1600, 300), (2100, 400), (2620, 500)
)
# Ends at 800 (IAQI 200): above it the standard reports the 24h SO2 index instead.
HJ633_SO2_1H = _chain((0, 0), (150, 50), (500, 100), (650, 150), (800, 200))
HJ633_NO2_24H = _chain(
    (0, 0), (40, 50), (80, 100), (180, 150), (280, 200), (565, 300), (750, 400), (940, 500)
)
HJ633_NO2_1H = _chain(
    (0, 0), (100, 50), (200, 100), (700, 150), (1200, 200), (2340, 300), (3090, 400), (3840, 500)
)
HJ633_PM10_24H = _chain(
    (0, 0), (50, 50), (150, 100), (250, 150), (350, 200), (420, 300), (500, 400), (600, 500)
)
HJ633_CO_24H = _chain(
    (0, 0), (2, 50), (4, 100), (14, 150), (24, 200), (36, 300), (48, 400), (60, 500)
)
HJ633_CO_1H = _chain(
    (0, 0), (5, 50), (10, 100), (35, 150), (60, 200), (90, 300), (120, 400), (150, 500)
)
HJ633_O3_1H = _chain(
    (0, 0), (160, 50), (200, 100), (300, 150), (400, 200), (800, 300), (1000, 400), (1200, 500)
)
# Ends at 800 (IAQI 300): above it the standard reports the 1h O3 index instead.
HJ633_O3_8H = _chain((0, 0), (100, 50), (160, 100), (215, 150), (265, 200), (800, 300))
HJ633_PM25_24H = _chain(
    (0, 0), (35, 50), (75, 100), (115, 150), (150, 200), (250, 300), (350, 400), (500, 500)
)

# --- US EPA AQI, EPA-454/B-24-002 Table 6 (May 2024) ---------------------------------------------
# Bands as EPA prints them: edges are disjoint at the truncation step, and since 2024 the two
# hazardous bands (301-400, 401-500) are one band 301-500.
EPA_PM25_24H = (  # µg/m³, truncated to 0.1
    Breakpoint(0.0, 9.0, 0, 50),
    Breakpoint(9.1, 35.4, 51, 100),
    Breakpoint(35.5, 55.4, 101, 150),
    Breakpoint(55.5, 125.4, 151, 200),
    Breakpoint(125.5, 225.4, 201, 300),
    Breakpoint(225.5, 325.4, 301, 500),
)
EPA_PM10_24H = (  # µg/m³, truncated to 1
    Breakpoint(0, 54, 0, 50),
    Breakpoint(55, 154, 51, 100),
    Breakpoint(155, 254, 101, 150),
    Breakpoint(255, 354, 151, 200),
    Breakpoint(355, 424, 201, 300),
    Breakpoint(425, 604, 301, 500),
)
EPA_O3_8H = (  # ppm, truncated to 0.001; above 0.200 the 1h value sets the index
    Breakpoint(0.000, 0.054, 0, 50),
    Breakpoint(0.055, 0.070, 51, 100),
    Breakpoint(0.071, 0.085, 101, 150),
    Breakpoint(0.086, 0.105, 151, 200),
    Breakpoint(0.106, 0.200, 201, 300),
)
EPA_O3_1H = (  # ppm; EPA defines no 1h index below 0.125 ppm (the 8h value governs there)
    Breakpoint(0.125, 0.164, 101, 150),
    Breakpoint(0.165, 0.204, 151, 200),
    Breakpoint(0.205, 0.404, 201, 300),
    Breakpoint(0.405, 0.604, 301, 500),
)
EPA_CO_8H = (  # ppm, truncated to 0.1
    Breakpoint(0.0, 4.4, 0, 50),
    Breakpoint(4.5, 9.4, 51, 100),
    Breakpoint(9.5, 12.4, 101, 150),
    Breakpoint(12.5, 15.4, 151, 200),
    Breakpoint(15.5, 30.4, 201, 300),
    Breakpoint(30.5, 50.4, 301, 500),
)
EPA_SO2_1H = (  # ppb, truncated to 1; above 304 the 24h value sets the index
    Breakpoint(0, 35, 0, 50),
    Breakpoint(36, 75, 51, 100),
    Breakpoint(76, 185, 101, 150),
    Breakpoint(186, 304, 151, 200),
)
EPA_SO2_24H = (  # ppb; EPA uses 24h SO2 only for indices above 200
    Breakpoint(305, 604, 201, 300),
    Breakpoint(605, 1004, 301, 500),
)
EPA_NO2_1H = (  # ppb, truncated to 1
    Breakpoint(0, 53, 0, 50),
    Breakpoint(54, 100, 51, 100),
    Breakpoint(101, 360, 101, 150),
    Breakpoint(361, 649, 151, 200),
    Breakpoint(650, 1249, 201, 300),
    Breakpoint(1250, 2049, 301, 500),
)

BREAKPOINTS: Mapping[tuple[str, str, str], tuple[Breakpoint, ...]] = MappingProxyType(
    {
        ("hj633", "so2", "24h"): HJ633_SO2_24H,
        ("hj633", "so2", "1h"): HJ633_SO2_1H,
        ("hj633", "no2", "24h"): HJ633_NO2_24H,
        ("hj633", "no2", "1h"): HJ633_NO2_1H,
        ("hj633", "pm10", "24h"): HJ633_PM10_24H,
        ("hj633", "co", "24h"): HJ633_CO_24H,
        ("hj633", "co", "1h"): HJ633_CO_1H,
        ("hj633", "o3", "1h"): HJ633_O3_1H,
        ("hj633", "o3", "8h"): HJ633_O3_8H,
        ("hj633", "pm25", "24h"): HJ633_PM25_24H,
        ("epa", "pm25", "24h"): EPA_PM25_24H,
        ("epa", "pm10", "24h"): EPA_PM10_24H,
        ("epa", "o3", "8h"): EPA_O3_8H,
        ("epa", "o3", "1h"): EPA_O3_1H,
        ("epa", "co", "8h"): EPA_CO_8H,
        ("epa", "so2", "1h"): EPA_SO2_1H,
        ("epa", "so2", "24h"): EPA_SO2_24H,
        ("epa", "no2", "1h"): EPA_NO2_1H,
    }
)

UNITS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "hj633": MappingProxyType(
            {
                "pm25": "µg/m³",
                "pm10": "µg/m³",
                "o3": "µg/m³",
                "no2": "µg/m³",
                "so2": "µg/m³",
                "co": "mg/m³",
            }
        ),
        "epa": MappingProxyType(
            {
                "pm25": "µg/m³",
                "pm10": "µg/m³",
                "o3": "ppm",
                "no2": "ppb",
                "so2": "ppb",
                "co": "ppm",
            }
        ),
    }
)

# EPA truncates to these decimals before looking up the band.
_EPA_DECIMALS: Mapping[str, int] = MappingProxyType(
    {"pm25": 1, "pm10": 0, "o3": 3, "co": 1, "so2": 0, "no2": 0}
)

# Tables that stop below IAQI 500 and the averaging period the standard switches to above them,
# with the lowest index the switch may report (see the EPA SO2 note in the module docstring).
_HANDOVER: Mapping[tuple[str, str, str], tuple[str, float | None]] = MappingProxyType(
    {
        ("hj633", "so2", "1h"): ("24h", None),
        ("hj633", "o3", "8h"): ("1h", None),
        ("epa", "o3", "8h"): ("1h", None),
        ("epa", "so2", "1h"): ("24h", 200.0),
    }
)

# --- Units ------------------------------------------------------------------------------------

MOLAR_VOLUME_L = 24.45  # L/mol at 25 °C and 1 atm, the EPA reference conditions
MOLECULAR_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"o3": 48.00, "no2": 46.01, "so2": 64.07, "co": 28.01}
)

_Num = TypeVar("_Num", float, np.ndarray, pd.Series)


def _molecular_weight(pollutant: str) -> float:
    try:
        return MOLECULAR_WEIGHTS[pollutant]
    except KeyError:
        raise ValueError(f"{pollutant!r} is not a gas with a known molecular weight") from None


def ugm3_to_ppb(pollutant: str, value: _Num) -> _Num:
    """µg/m³ → ppb at 25 °C; the same factor turns mg/m³ into ppm."""
    return value * (MOLAR_VOLUME_L / _molecular_weight(pollutant))


def ppb_to_ugm3(pollutant: str, value: _Num) -> _Num:
    """ppb → µg/m³ at 25 °C (and ppm → mg/m³)."""
    return value * (_molecular_weight(pollutant) / MOLAR_VOLUME_L)


def to_epa_units(pollutant: str, value: _Num) -> _Num:
    """Storage units (µg/m³; CO mg/m³) → the units of the EPA table (see `UNITS["epa"]`)."""
    if pollutant in ("pm25", "pm10"):
        return value
    if pollutant == "o3":
        return ugm3_to_ppb("o3", value) / 1000.0
    if pollutant in ("no2", "so2", "co"):
        return ugm3_to_ppb(pollutant, value)
    raise ValueError(f"unknown pollutant {pollutant!r}")


# --- Index computation (vectorised core, shared by the scalar and frame APIs) -------------------


def _table(standard: str, pollutant: str, averaging: str) -> tuple[Breakpoint, ...]:
    if standard not in STANDARDS:
        raise ValueError(f"unknown standard {standard!r}; expected one of {STANDARDS}")
    try:
        return BREAKPOINTS[(standard, pollutant, averaging)]
    except KeyError:
        known = sorted(f"{p} {a}" for s, p, a in BREAKPOINTS if s == standard)
        raise ValueError(
            f"{standard} has no {averaging} table for {pollutant!r}; it has: {', '.join(known)}"
        ) from None


def _truncate(values: np.ndarray, decimals: int) -> np.ndarray:
    # Rounding at 1e-6 of the last kept digit first stops float noise from a unit conversion
    # (0.06999999999 ppm) from truncating a value that is on an edge down into the band below.
    scale = 10.0**decimals
    return np.floor(np.round(values * scale, 6)) / scale


def _round_index(standard: str, raw: np.ndarray) -> np.ndarray:
    cleaned = np.round(raw, 6)  # same float-noise guard as `_truncate`
    if standard == "hj633":
        return np.ceil(cleaned)
    return np.floor(cleaned + 0.5)  # half up, as EPA's calculator rounds


def _interpolate(table: tuple[Breakpoint, ...], c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw (unrounded) index, and a mask of values above the table's last edge."""
    lo = np.array([b.c_lo for b in table], dtype=float)
    hi = np.array([b.c_hi for b in table], dtype=float)
    ilo = np.array([b.i_lo for b in table], dtype=float)
    ihi = np.array([b.i_hi for b in table], dtype=float)
    known = ~np.isnan(c)
    band = np.clip(np.searchsorted(lo, c, side="right") - 1, 0, len(table) - 1)
    inside = known & (c >= lo[0]) & (c <= hi[band])
    over = known & (c > hi[-1])
    with np.errstate(invalid="ignore"):
        raw = (ihi[band] - ilo[band]) / (hi[band] - lo[band]) * (c - lo[band]) + ilo[band]
    raw = np.where(inside, raw, np.nan)
    if table[-1].i_hi == 500:
        raw = np.where(over, 500.0, raw)
    return raw, over


def _index(
    standard: str,
    pollutant: str,
    averaging: str,
    concentration: np.ndarray,
    fallback: np.ndarray | None = None,
) -> np.ndarray:
    """Rounded sub-index per element (NaN where undefined), with the standard's hand-overs."""
    table = _table(standard, pollutant, averaging)
    c = np.asarray(concentration, dtype=float)
    if standard == "epa":
        c = _truncate(c, _EPA_DECIMALS[pollutant])
    raw, over = _interpolate(table, c)
    result = _round_index(standard, raw)
    handover = _HANDOVER.get((standard, pollutant, averaging))
    if handover is None or not over.any():
        return result
    other_averaging, floor = handover
    if fallback is None:
        return np.where(over, np.nan, result)
    fb = np.broadcast_to(np.asarray(fallback, dtype=float), c.shape)
    other = _index(standard, pollutant, other_averaging, fb)
    if floor is not None:
        other = np.where(np.isnan(fb) | (fb < 0), np.nan, np.fmax(other, floor))
    return np.where(over, other, result)


def iaqi(
    standard: str,
    pollutant: str,
    concentration: float | None,
    averaging: str,
    *,
    fallback: float | None = None,
) -> float | None:
    """Sub-index of one concentration, in the units of `UNITS[standard]` (EPA: ppm/ppb for gases).

    The result is a whole number (HJ 633 rounded up, EPA rounded half up), capped at 500. None
    means the standard defines no index here: missing/NaN/negative input, a concentration below
    a table that starts above zero (EPA O3 1h, SO2 24h), or above a table that hands over to
    another averaging period when `fallback` (that period's concentration) is not given.
    """
    _table(standard, pollutant, averaging)  # validate even when the value is missing
    if concentration is None or pd.isna(concentration):
        return None
    fb = None if fallback is None or pd.isna(fallback) else np.array([float(fallback)])
    value = _index(standard, pollutant, averaging, np.array([float(concentration)]), fb)[0]
    return None if math.isnan(value) else float(value)


# --- Categories ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """An AQI band (inclusive integer bounds) with its official colour."""

    key: str
    low: int
    high: int
    color: str


CATEGORIES: dict[str, list[Category]] = {
    "hj633": [
        Category("excellent", 0, 50, "#00E400"),
        Category("good", 51, 100, "#FFFF00"),
        Category("light", 101, 150, "#FF7E00"),
        Category("moderate", 151, 200, "#FF0000"),
        Category("heavy", 201, 300, "#99004C"),
        Category("severe", 301, 500, "#7E0023"),
    ],
    "epa": [
        Category("good", 0, 50, "#00E400"),
        Category("moderate", 51, 100, "#FFFF00"),
        Category("usg", 101, 150, "#FF7E00"),
        Category("unhealthy", 151, 200, "#FF0000"),
        Category("very_unhealthy", 201, 300, "#8F3F97"),
        Category("hazardous", 301, 500, "#7E0023"),
    ],
}


def _categories(standard: str) -> list[Category]:
    try:
        return CATEGORIES[standard]
    except KeyError:
        raise ValueError(f"unknown standard {standard!r}; expected one of {STANDARDS}") from None


def category_for(standard: str, aqi: float) -> Category:
    """Band holding `aqi`. Bands have integer edges, so a fractional index goes to the first band
    whose upper edge it does not exceed (50.5 is past the 0-50 band), and anything above 500 to
    the top band: an off-scale day is still the worst category, not an error."""
    cats = _categories(standard)
    if aqi is None or pd.isna(aqi) or aqi < 0:
        raise ValueError(f"no AQI category for {aqi!r}")
    for cat in cats:
        if aqi <= cat.high:
            return cat
    return cats[-1]


# --- Frames -------------------------------------------------------------------------------------

_DAILY_MEANS = ("pm25", "pm10", "no2", "so2", "co")


def _column(df: pd.DataFrame, *names: str) -> np.ndarray | None:
    """First of `names` present, later ones filling its gaps row by row; None if none present."""
    present = [n for n in names if n in df.columns]
    if not present:
        return None
    values = pd.to_numeric(df[present[0]], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    for name in present[1:]:
        more = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        values = np.where(np.isnan(values), more, values)
    return values


def _convert(standard: str, pollutant: str, values: np.ndarray | None) -> np.ndarray | None:
    if values is None or standard == "hj633":
        return values
    return to_epa_units(pollutant, values)


def _sub_indices(df: pd.DataFrame, standard: str) -> dict[str, np.ndarray]:
    """One rounded sub-index array per pollutant present, following each standard's daily rules.

    HJ 633 daily report: 24h means of SO2, NO2, PM10, CO, PM2.5, plus O3 daily max 8h and daily
    max 1h (two separate items; O3's index is the larger). EPA: PM 24h, O3 8h (and, if `o3_1h`
    is given, the larger of the 8h and 1h indices - EPA's precautionary option), CO 8h, SO2 and
    NO2 daily max 1h. Where EPA's averaging period is absent (`co_8h`, `so2_1h`, `no2_1h`) the 24h
    mean stands in; it can only understate the index.
    """

    def col(pollutant: str, *names: str) -> np.ndarray | None:
        return _convert(standard, pollutant, _column(df, *names))

    out: dict[str, np.ndarray] = {}
    pm25, pm10 = col("pm25", "pm25"), col("pm10", "pm10")
    o3_8h, o3_1h = col("o3", "o3_8h"), col("o3", "o3_1h")
    if pm25 is not None:
        out["pm25"] = _index(standard, "pm25", "24h", pm25)
    if pm10 is not None:
        out["pm10"] = _index(standard, "pm10", "24h", pm10)
    o3_parts = []
    if o3_8h is not None:
        o3_parts.append(_index(standard, "o3", "8h", o3_8h, o3_1h))
    if o3_1h is not None:
        o3_parts.append(_index(standard, "o3", "1h", o3_1h))
    if o3_parts:
        out["o3"] = np.fmax.reduce(o3_parts) if len(o3_parts) > 1 else o3_parts[0]
    if standard == "hj633":
        for pollutant in ("no2", "so2", "co"):
            values = col(pollutant, pollutant)
            if values is not None:
                out[pollutant] = _index(standard, pollutant, "24h", values)
    else:
        no2 = col("no2", "no2_1h", "no2")
        if no2 is not None:
            out["no2"] = _index(standard, "no2", "1h", no2)
        so2 = col("so2", "so2_1h", "so2")
        if so2 is not None:
            out["so2"] = _index(standard, "so2", "1h", so2, col("so2", "so2"))
        co = col("co", "co_8h", "co")
        if co is not None:
            out["co"] = _index(standard, "co", "8h", co)
    return {p: out[p] for p in POLLUTANTS if p in out}


def aqi_frame(df: pd.DataFrame, standard: str) -> pd.DataFrame:
    """Daily AQI, primary pollutant and category key per row of `df`, on the same index.

    `df` holds daily values in storage units (µg/m³, CO mg/m³): any of `pm25, pm10, no2, so2, co,
    o3_8h` and optionally `o3_1h, no2_1h, so2_1h, co_8h` (see `daily_inputs_from_hourly`).
    `aqi` is Int64 (<NA> when no pollutant has an index); `primary` and `category` are strings.
    HJ 633 names a primary pollutant only when AQI > 50; EPA always names the one setting the
    AQI. Ties go to the first pollutant in `POLLUTANTS`.
    """
    cats = _categories(standard)
    subs = _sub_indices(df, standard)
    if not subs:
        raise ValueError(
            "no pollutant columns; expected some of pm25, pm10, no2, so2, co, o3_8h, o3_1h"
        )
    names = np.array(list(subs), dtype=object)
    stacked = np.column_stack(list(subs.values()))
    known = ~np.isnan(stacked).all(axis=1)
    filled = np.where(np.isnan(stacked), -1.0, stacked)
    aqi = np.where(known, filled.max(axis=1), np.nan)
    first_max = filled.argmax(axis=1)  # first maximum, hence the POLLUTANTS tie-break
    threshold = 50 if standard == "hj633" else -1
    primary = np.where(known & (aqi > threshold), names[first_max], None)
    highs = np.array([c.high for c in cats], dtype=float)
    keys = np.array([c.key for c in cats], dtype=object)
    band = np.clip(np.searchsorted(highs, np.where(known, aqi, 0.0), side="left"), 0, len(cats) - 1)
    category = np.where(known, keys[band], None)
    return pd.DataFrame(
        {
            "aqi": pd.array(np.where(known, aqi, np.nan), dtype="Int64"),
            "primary": pd.array(primary, dtype="str"),
            "category": pd.array(category, dtype="str"),
        },
        index=df.index,
    )


def daily_inputs_from_hourly(
    hourly: pd.DataFrame,
    *,
    min_hours: int = 20,
    min_hours_8h: int = 6,
    min_windows_8h: int = 14,
) -> pd.DataFrame:
    """Daily frame for `aqi_frame` from hourly values of ONE station or area.

    `hourly` has a `ts` column (start of each hour, local time) and any of `pm25, pm10, no2, so2,
    co, o3`. Returns one row per calendar day present, indexed by `date`, with 24h means, `o3_8h`
    and `co_8h` (daily max of 8h moving means), and `o3_1h`, `no2_1h`, `so2_1h` (daily max hour).

    Validity follows GB 3095-2012 / HJ 663-2013, so a day with a half-dead monitor does not
    pass for a clean one: a 24h mean needs `min_hours` valid hours, an 8h mean `min_hours_8h`
    hours of its 8, and a daily max 8h mean `min_windows_8h` valid windows among the 17 that lie
    inside the day (starting 00:00-16:00, HJ 663's 8时-24时). Pass 1 to accept any data.
    Written for clarity as a reference for faster (e.g. SQL) versions, not for speed.
    """
    if "ts" not in hourly.columns:
        raise ValueError("hourly frame needs a 'ts' column")
    ts = pd.DatetimeIndex(pd.to_datetime(hourly["ts"]))
    if ts.has_duplicates:
        raise ValueError("duplicate 'ts' values: pass one station or area at a time")
    if (ts != ts.floor("h")).any():
        raise ValueError("'ts' must be on the hour")
    present = [c for c in ("pm25", "pm10", "no2", "so2", "co", "o3") if c in hourly.columns]
    values = hourly[present].apply(pd.to_numeric, errors="coerce").set_axis(ts).sort_index()
    days = values.index.normalize().unique()
    # A gap-free hourly grid makes "8 rows" mean "8 hours" for the moving average.
    grid = pd.date_range(days.min(), days.max() + pd.Timedelta(hours=23), freq="h", name="ts")
    full = values.reindex(grid)
    day = full.index.normalize()
    out: dict[str, pd.Series] = {}
    for name in _DAILY_MEANS:
        if name in full.columns:
            by_day = full[name].groupby(day)
            out[name] = by_day.mean().where(by_day.count() >= min_hours)

    def daily_max_8h(name: str) -> pd.Series:
        moving = full[name].rolling(8, min_periods=min_hours_8h).mean()  # labelled by last hour
        inside_day = moving[full.index.hour >= 7]
        by_day = inside_day.groupby(inside_day.index.normalize())
        return by_day.max().where(by_day.count() >= min_windows_8h)

    if "o3" in full.columns:
        out["o3_8h"] = daily_max_8h("o3")
    for name in ("o3", "no2", "so2"):
        if name in full.columns:
            out[f"{name}_1h"] = full[name].groupby(day).max()
    if "co" in full.columns:
        out["co_8h"] = daily_max_8h("co")
    result = pd.DataFrame(out, index=grid.normalize().unique()).reindex(days)
    result.index.name = "date"
    return result
