"""Tests for datasets.aqi.

Expected values are written out here from DOMAIN.md (round table 2) and EPA-454/B-24-002, not read
from the module's constants, so a typo in a module table fails a test instead of being mirrored.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from datasets import aqi

# --- Expected tables ----------------------------------------------------------------------------

# HJ 633-2012 Table 1, as printed in DOMAIN.md: concentration at each IAQI level.
HJ633_LEVELS = (0, 50, 100, 150, 200, 300, 400, 500)
HJ633_TABLE = {
    ("so2", "24h"): (0, 50, 150, 475, 800, 1600, 2100, 2620),
    ("so2", "1h"): (0, 150, 500, 650, 800),  # above 800: 24h value
    ("no2", "24h"): (0, 40, 80, 180, 280, 565, 750, 940),
    ("no2", "1h"): (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    ("pm10", "24h"): (0, 50, 150, 250, 350, 420, 500, 600),
    ("co", "24h"): (0, 2, 4, 14, 24, 36, 48, 60),
    ("co", "1h"): (0, 5, 10, 35, 60, 90, 120, 150),
    ("o3", "1h"): (0, 160, 200, 300, 400, 800, 1000, 1200),
    ("o3", "8h"): (0, 100, 160, 215, 265, 800),  # above 800: 1h value
    ("pm25", "24h"): (0, 35, 75, 115, 150, 250, 350, 500),
}
HJ633_HANDOVER = {("so2", "1h"), ("o3", "8h")}

# US EPA AQI 2024 (DOMAIN.md, checked against EPA-454/B-24-002 Table 6): band per index range.
EPA_LEVELS = ((0, 50), (51, 100), (101, 150), (151, 200), (201, 300), (301, 500))
EPA_TABLE = {
    ("pm25", "24h"): (
        (0.0, 9.0),
        (9.1, 35.4),
        (35.5, 55.4),
        (55.5, 125.4),
        (125.5, 225.4),
        (225.5, 325.4),
    ),
    ("pm10", "24h"): ((0, 54), (55, 154), (155, 254), (255, 354), (355, 424), (425, 604)),
    ("o3", "8h"): (
        (0.000, 0.054),
        (0.055, 0.070),
        (0.071, 0.085),
        (0.086, 0.105),
        (0.106, 0.200),
        None,
    ),
    ("o3", "1h"): (None, None, (0.125, 0.164), (0.165, 0.204), (0.205, 0.404), (0.405, 0.604)),
    ("co", "8h"): ((0.0, 4.4), (4.5, 9.4), (9.5, 12.4), (12.5, 15.4), (15.5, 30.4), (30.5, 50.4)),
    ("so2", "1h"): ((0, 35), (36, 75), (76, 185), (186, 304), None, None),
    ("so2", "24h"): (None, None, None, None, (305, 604), (605, 1004)),
    ("no2", "1h"): ((0, 53), (54, 100), (101, 360), (361, 649), (650, 1249), (1250, 2049)),
}
EPA_STEP = {"pm25": 0.1, "pm10": 1, "o3": 0.001, "co": 0.1, "so2": 1, "no2": 1}
EPA_HANDOVER = {("o3", "8h"), ("so2", "1h")}


def _hj633_edges():
    for (pollutant, averaging), concs in HJ633_TABLE.items():
        for level, conc in zip(HJ633_LEVELS, concs, strict=False):
            top = conc == concs[-1]
            yield pytest.param(
                pollutant, averaging, conc, level, top, id=f"{pollutant}-{averaging}-{conc}"
            )


def _epa_bands():
    for (pollutant, averaging), bands in EPA_TABLE.items():
        for i, band in enumerate(bands):
            if band is None:
                continue
            nxt = bands[i + 1] if i + 1 < len(bands) else None
            yield pytest.param(
                pollutant,
                averaging,
                band,
                EPA_LEVELS[i],
                None if nxt is None else EPA_LEVELS[i + 1][0],
                id=f"{pollutant}-{averaging}-{band[0]}-{band[1]}",
            )


HJ633_EDGES = list(_hj633_edges())
EPA_BANDS = list(_epa_bands())


# --- HJ 633 edges -------------------------------------------------------------------------------


@pytest.mark.parametrize(("pollutant", "averaging", "conc", "level", "top"), HJ633_EDGES)
def test_hj633_iaqi_at_every_breakpoint(pollutant, averaging, conc, level, top):
    assert aqi.iaqi("hj633", pollutant, conc, averaging) == level


@pytest.mark.parametrize(("pollutant", "averaging", "conc", "level", "top"), HJ633_EDGES)
def test_hj633_iaqi_just_above_every_breakpoint(pollutant, averaging, conc, level, top):
    result = aqi.iaqi("hj633", pollutant, conc + 0.001, averaging)
    if not top:
        # Any step into the next band rounds up to the next integer (HJ 633 rounds up).
        assert result == level + 1
    elif (pollutant, averaging) in HJ633_HANDOVER:
        assert result is None  # the standard switches to another averaging period
    else:
        assert result == 500  # capped


@pytest.mark.parametrize(
    ("pollutant", "averaging", "conc", "expected"),
    [
        ("pm25", "24h", 80, 107),  # 100 + 50/40*5 = 106.25, rounded up
        ("pm25", "24h", 0.01, 1),  # any positive index rounds up to at least 1
        ("so2", "24h", 1000, 225),  # 200 + 100/800*200
        ("co", "24h", 3, 75),
        ("o3", "8h", 130, 75),
        ("pm10", "24h", 51, 51),  # 50.5 -> 51
        ("so2", "24h", 2120.8, 404),  # exactly 404, but floats give 404.00000000000006
    ],
)
def test_hj633_mid_band_values_round_up(pollutant, averaging, conc, expected):
    assert aqi.iaqi("hj633", pollutant, conc, averaging) == expected


# --- EPA edges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("pollutant", "averaging", "band", "levels", "next_low"), EPA_BANDS)
def test_epa_iaqi_at_both_edges_of_every_band(pollutant, averaging, band, levels, next_low):
    assert aqi.iaqi("epa", pollutant, band[0], averaging) == levels[0]
    assert aqi.iaqi("epa", pollutant, band[1], averaging) == levels[1]


@pytest.mark.parametrize(("pollutant", "averaging", "band", "levels", "next_low"), EPA_BANDS)
def test_epa_iaqi_just_above_every_band(pollutant, averaging, band, levels, next_low):
    above = band[1] + EPA_STEP[pollutant]
    result = aqi.iaqi("epa", pollutant, above, averaging)
    if next_low is not None:
        assert result == next_low
    elif (pollutant, averaging) in EPA_HANDOVER:
        assert result is None
    else:
        assert result == 500


@pytest.mark.parametrize(("pollutant", "averaging", "band", "levels", "next_low"), EPA_BANDS)
def test_epa_truncates_before_lookup(pollutant, averaging, band, levels, next_low):
    # 0.9 of a step above the upper edge truncates back onto it.
    almost = band[1] + 0.9 * EPA_STEP[pollutant]
    assert aqi.iaqi("epa", pollutant, almost, averaging) == levels[1]


@pytest.mark.parametrize(
    ("pollutant", "averaging", "conc", "expected"),
    [
        ("pm25", "24h", 35.9, 102),  # 101 + 49/19.9*0.4 = 101.98
        ("pm25", "24h", 35, 99),  # 51 + 49/26.3*25.9 = 99.25
        ("co", "8h", 1.1, 13),  # exactly 12.5: EPA rounds half up, not to even
        ("o3", "8h", 0.072, 105),  # exactly 104.5
        ("o3", "8h", 0.0874125, 154),  # truncated to 0.087: 151 + 49/0.019*0.001 = 153.58
        ("no2", "1h", 200.7, 120),  # truncated to 200: 101 + 49/259*99 = 119.73
    ],
)
def test_epa_mid_band_values(pollutant, averaging, conc, expected):
    assert aqi.iaqi("epa", pollutant, conc, averaging) == expected


def test_epa_o3_1h_has_no_index_below_its_table():
    assert aqi.iaqi("epa", "o3", 0.124, "1h") is None
    assert aqi.iaqi("epa", "o3", 0.125, "1h") == 101


# --- Special rules ------------------------------------------------------------------------------


def test_hj633_so2_1h_above_800_uses_24h_value():
    assert aqi.iaqi("hj633", "so2", 800, "1h") == 200
    assert aqi.iaqi("hj633", "so2", 801, "1h") is None
    assert aqi.iaqi("hj633", "so2", 801, "1h", fallback=2000) == 380  # 300 + 100/500*400
    assert aqi.iaqi("hj633", "so2", 801, "1h", fallback=100) == 75  # literal: the 24h index
    assert aqi.iaqi("hj633", "so2", 700, "1h", fallback=2000) == 167  # fallback unused


def test_hj633_o3_8h_above_800_uses_1h_value():
    assert aqi.iaqi("hj633", "o3", 800, "8h") == 300
    assert aqi.iaqi("hj633", "o3", 900, "8h") is None
    assert aqi.iaqi("hj633", "o3", 900, "8h", fallback=1100) == 450
    assert aqi.iaqi("hj633", "o3", 900, "8h", fallback=float("nan")) is None


def test_hj633_frame_o3_8h_above_800_takes_1h_index():
    df = pd.DataFrame({"o3_8h": [900.0, 900.0], "o3_1h": [1100.0, np.nan], "pm25": [10.0, 10.0]})
    out = aqi.aqi_frame(df, "hj633")
    assert out["aqi"].tolist() == [450, 15]  # second row: O3 undefined, PM2.5 15 (14.29 up)
    assert out["primary"].iloc[0] == "o3"
    assert out["category"].tolist() == ["severe", "excellent"]


def test_epa_o3_8h_above_0200_uses_1h_value():
    assert aqi.iaqi("epa", "o3", 0.2009, "8h") == 300  # truncates to 0.200
    assert aqi.iaqi("epa", "o3", 0.201, "8h") is None
    assert aqi.iaqi("epa", "o3", 0.201, "8h", fallback=0.405) == 301
    assert aqi.iaqi("epa", "o3", 0.201, "8h", fallback=0.604) == 500


def test_epa_so2_above_304_ppb_uses_24h_value_but_not_below_200():
    assert aqi.iaqi("epa", "so2", 304, "1h") == 200
    assert aqi.iaqi("epa", "so2", 305, "1h") is None
    assert aqi.iaqi("epa", "so2", 305, "1h", fallback=305) == 201
    assert aqi.iaqi("epa", "so2", 400, "1h", fallback=100) == 200
    assert aqi.iaqi("epa", "so2", 400, "1h", fallback=1004) == 500
    assert aqi.iaqi("epa", "so2", 400, "1h", fallback=5000) == 500
    assert aqi.iaqi("epa", "so2", 100, "24h") is None  # 24h only defines indices above 200


def test_epa_frame_so2_uses_max_hour_then_24h_mean():
    so2_1h = aqi.ppb_to_ugm3("so2", np.array([304.0, 400.0, 400.0]))
    so2_24h = aqi.ppb_to_ugm3("so2", np.array([10.0, 100.0, 700.0]))
    out = aqi.aqi_frame(pd.DataFrame({"so2": so2_24h, "so2_1h": so2_1h}), "epa")
    # 700 ppb 24h: 301 + 199/399*95 = 348.4
    assert out["aqi"].tolist() == [200, 200, 348]
    assert out["primary"].tolist() == ["so2"] * 3


def test_epa_frame_takes_larger_of_o3_8h_and_1h():
    o3_8h = aqi.ppb_to_ugm3("o3", np.array([60.0, 60.0]))  # 0.060 ppm -> 67.33
    o3_1h = aqi.ppb_to_ugm3("o3", np.array([100.0, 170.0]))  # below 0.125: none; 0.170 -> 157
    out = aqi.aqi_frame(pd.DataFrame({"o3_8h": o3_8h, "o3_1h": o3_1h}), "epa")
    assert out["aqi"].tolist() == [67, 157]


# --- Primary pollutant --------------------------------------------------------------------------


def test_primary_is_the_pollutant_with_the_largest_index():
    df = pd.DataFrame(
        {
            "pm25": [80.0, 10.0, 10.0],
            "pm10": [100.0, 300.0, 10.0],
            "no2": [30.0, 30.0, 200.0],
            "o3_8h": [50.0, 50.0, 50.0],
        }
    )
    out = aqi.aqi_frame(df, "hj633")
    assert out["primary"].tolist() == ["pm25", "pm10", "no2"]
    assert out["aqi"].tolist() == [107, 175, 160]


def test_primary_tie_goes_to_first_in_pollutant_order():
    df = pd.DataFrame({"pm10": [150.0], "pm25": [75.0]})  # both exactly 100
    out = aqi.aqi_frame(df, "hj633")
    assert out["aqi"].tolist() == [100]
    assert out["primary"].tolist() == ["pm25"]


def test_hj633_names_primary_only_above_50():
    df = pd.DataFrame({"pm25": [35.0, 35.01, 0.0], "pm10": [10.0, 10.0, 0.0]})
    out = aqi.aqi_frame(df, "hj633")
    assert out["aqi"].tolist() == [50, 51, 0]
    assert out["primary"].isna().tolist() == [True, False, True]
    assert out["primary"].iloc[1] == "pm25"


def test_epa_names_primary_at_any_level():
    out = aqi.aqi_frame(pd.DataFrame({"pm25": [5.0], "pm10": [10.0]}), "epa")
    assert out["aqi"].tolist() == [28]  # 50/9*5 = 27.8
    assert out["primary"].tolist() == ["pm25"]
    assert out["category"].tolist() == ["good"]


# --- Missing values -----------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, -1.0])
@pytest.mark.parametrize("standard", ["hj633", "epa"])
def test_iaqi_missing_or_negative_gives_none(standard, missing):
    assert aqi.iaqi(standard, "pm25", missing, "24h") is None


def test_frame_missing_values_and_columns():
    df = pd.DataFrame(
        {"pm25": pd.array([np.nan, 80.0, pd.NA], dtype="Float64"), "pm10": [np.nan, np.nan, 200]},
        index=pd.Index(["x", "y", "z"], name="day"),
    )
    out = aqi.aqi_frame(df, "hj633")
    assert out.index.equals(df.index)
    assert out["aqi"].isna().tolist() == [True, False, False]
    assert out["aqi"].iloc[1] == 107
    assert out["aqi"].iloc[2] == 125  # pm10 200 alone
    assert out["primary"].iloc[2] == "pm10"
    assert pd.isna(out["category"].iloc[0])
    assert pd.isna(out["primary"].iloc[0])


def test_frame_dtypes():
    out = aqi.aqi_frame(pd.DataFrame({"pm25": [10.0, np.nan]}), "epa")
    assert list(out.columns) == ["aqi", "primary", "category"]
    assert out["aqi"].dtype == "Int64"
    assert pd.api.types.is_string_dtype(out["primary"])
    assert pd.api.types.is_string_dtype(out["category"])


def test_frame_does_not_modify_input():
    df = pd.DataFrame({"o3_8h": [100.0], "co": [1.0]})
    before = df.copy()
    aqi.aqi_frame(df, "epa")
    pd.testing.assert_frame_equal(df, before)


# --- Errors -------------------------------------------------------------------------------------


def test_unknown_standard_or_table_raises():
    with pytest.raises(ValueError, match="standard"):
        aqi.iaqi("who", "pm25", 10, "24h")
    with pytest.raises(ValueError, match="no 1h table"):
        aqi.iaqi("epa", "pm25", 10, "1h")
    with pytest.raises(ValueError, match="no 24h table"):
        aqi.iaqi("hj633", "o3", None, "24h")  # checked even for a missing value
    with pytest.raises(ValueError, match="standard"):
        aqi.aqi_frame(pd.DataFrame({"pm25": [1.0]}), "who")
    with pytest.raises(ValueError, match="no pollutant columns"):
        aqi.aqi_frame(pd.DataFrame({"temperature": [1.0]}), "hj633")


# --- Units --------------------------------------------------------------------------------------


def test_unit_conversion_at_25c():
    assert aqi.ugm3_to_ppb("no2", 46.01) == pytest.approx(24.45)
    assert aqi.ppb_to_ugm3("so2", 1.0) == pytest.approx(64.07 / 24.45)
    assert aqi.ugm3_to_ppb("so2", 100.0) == pytest.approx(38.161, abs=1e-3)
    assert aqi.to_epa_units("o3", 100.0) == pytest.approx(0.0509375)
    assert aqi.to_epa_units("co", 1.0) == pytest.approx(0.87290, abs=1e-5)  # mg/m³ -> ppm
    assert aqi.to_epa_units("no2", 100.0) == pytest.approx(53.140, abs=1e-3)
    assert aqi.to_epa_units("pm25", 12.3) == 12.3


def test_unit_conversion_round_trips_arrays():
    values = np.array([0.0, 1.5, 250.0])
    for gas in ("o3", "no2", "so2", "co"):
        back = aqi.ppb_to_ugm3(gas, aqi.ugm3_to_ppb(gas, values))
        np.testing.assert_allclose(back, values)


def test_unit_conversion_rejects_particles():
    with pytest.raises(ValueError, match="not a gas"):
        aqi.ugm3_to_ppb("pm25", 1.0)
    with pytest.raises(ValueError, match="unknown pollutant"):
        aqi.to_epa_units("pm1", 1.0)


def test_epa_frame_converts_then_truncates():
    # 137.43 µg/m³ O3 = 0.0700009 ppm -> 0.070 (100); 137.42 = 0.0699958 -> 0.069 (96.73)
    out = aqi.aqi_frame(pd.DataFrame({"o3_8h": [137.43, 137.42]}), "epa")
    assert out["aqi"].tolist() == [100, 97]
    # CO 5.15 mg/m³ = 4.4955 ppm -> 4.4 (50)
    assert aqi.aqi_frame(pd.DataFrame({"co": [5.15]}), "epa")["aqi"].tolist() == [50]
    # Exact ppb edges stored as µg/m³ come back as 52.99999999999999 etc.; float noise from the
    # round trip must not truncate them into the band below.
    no2_1h = aqi.ppb_to_ugm3("no2", np.array([53.0, 54.0, 100.0, 101.0, 360.0, 1250.0]))
    out = aqi.aqi_frame(pd.DataFrame({"no2_1h": no2_1h}), "epa")
    assert out["aqi"].tolist() == [50, 51, 100, 101, 150, 301]


# --- Categories ---------------------------------------------------------------------------------

HJ633_CATEGORIES = [
    ("excellent", 0, 50, "#00E400"),
    ("good", 51, 100, "#FFFF00"),
    ("light", 101, 150, "#FF7E00"),
    ("moderate", 151, 200, "#FF0000"),
    ("heavy", 201, 300, "#99004C"),
    ("severe", 301, 500, "#7E0023"),
]
EPA_CATEGORIES = [
    ("good", 0, 50, "#00E400"),
    ("moderate", 51, 100, "#FFFF00"),
    ("usg", 101, 150, "#FF7E00"),
    ("unhealthy", 151, 200, "#FF0000"),
    ("very_unhealthy", 201, 300, "#8F3F97"),
    ("hazardous", 301, 500, "#7E0023"),
]


@pytest.mark.parametrize(
    ("standard", "expected"), [("hj633", HJ633_CATEGORIES), ("epa", EPA_CATEGORIES)]
)
def test_categories_table(standard, expected):
    got = [(c.key, c.low, c.high, c.color) for c in aqi.CATEGORIES[standard]]
    assert got == expected


@pytest.mark.parametrize(
    ("standard", "key", "low", "high", "color"),
    [("hj633", *row) for row in HJ633_CATEGORIES] + [("epa", *row) for row in EPA_CATEGORIES],
)
def test_category_for_at_both_edges(standard, key, low, high, color):
    for value in (low, high):
        cat = aqi.category_for(standard, value)
        assert (cat.key, cat.color) == (key, color)


def test_category_for_fractions_and_out_of_range():
    assert aqi.category_for("hj633", 50.5).key == "good"
    assert aqi.category_for("epa", 600).key == "hazardous"
    for bad in (-1, float("nan"), None):
        with pytest.raises(ValueError, match="no AQI category"):
            aqi.category_for("epa", bad)
    with pytest.raises(ValueError, match="unknown standard"):
        aqi.category_for("who", 10)


def test_frame_category_matches_category_for_at_edges():
    # HJ 633 PM2.5 35 -> 50, 35.01 -> 51, 75 -> 100, 75.01 -> 101, ... 500 -> 500
    pm25 = [35, 35.01, 75, 75.01, 115, 115.01, 150, 150.01, 250, 250.01, 500]
    out = aqi.aqi_frame(pd.DataFrame({"pm25": pm25}), "hj633")
    assert out["aqi"].tolist() == [50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500]
    assert out["category"].tolist() == [
        "excellent",
        "good",
        "good",
        "light",
        "light",
        "moderate",
        "moderate",
        "heavy",
        "heavy",
        "severe",
        "severe",
    ]


# --- Frame agrees with the scalar function ------------------------------------------------------

# Ranges reach past the top of every table, in storage units (µg/m³, CO mg/m³).
RANDOM_RANGES = {
    "pm25": 600.0,
    "pm10": 700.0,
    "no2": 1000.0,
    "so2": 3000.0,
    "co": 70.0,
    "o3_8h": 1000.0,
    "o3_1h": 1500.0,
    "no2_1h": 4500.0,
    "so2_1h": 3000.0,
    "co_8h": 70.0,
}


def _random_daily(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {}
    for name, top in RANDOM_RANGES.items():
        # log-uniform so clean days (index < 50) are as common as extreme ones
        values = top * 10.0 ** rng.uniform(-3.5, 0, n)
        values[rng.random(n) < 0.1] = np.nan
        cols[name] = values
    return pd.DataFrame(cols)


def _reference(row: dict, standard: str) -> tuple[int | None, str | None, str | None]:
    def get(name):
        value = row.get(name, np.nan)
        return None if pd.isna(value) else value

    def epa(pollutant, value):
        return None if value is None else aqi.to_epa_units(pollutant, value)

    def first(*names):
        return next((v for v in map(get, names) if v is not None), None)

    subs: dict[str, list[float | None]] = {}
    if standard == "hj633":
        for p in ("pm25", "pm10", "no2", "so2", "co"):
            subs[p] = [aqi.iaqi("hj633", p, get(p), "24h")]
        subs["o3"] = [
            aqi.iaqi("hj633", "o3", get("o3_8h"), "8h", fallback=get("o3_1h")),
            aqi.iaqi("hj633", "o3", get("o3_1h"), "1h"),
        ]
    else:
        for p in ("pm25", "pm10"):
            subs[p] = [aqi.iaqi("epa", p, get(p), "24h")]
        subs["o3"] = [
            aqi.iaqi("epa", "o3", epa("o3", get("o3_8h")), "8h", fallback=epa("o3", get("o3_1h"))),
            aqi.iaqi("epa", "o3", epa("o3", get("o3_1h")), "1h"),
        ]
        subs["no2"] = [aqi.iaqi("epa", "no2", epa("no2", first("no2_1h", "no2")), "1h")]
        subs["so2"] = [
            aqi.iaqi(
                "epa",
                "so2",
                epa("so2", first("so2_1h", "so2")),
                "1h",
                fallback=epa("so2", get("so2")),
            )
        ]
        subs["co"] = [aqi.iaqi("epa", "co", epa("co", first("co_8h", "co")), "8h")]
    best = {p: max((v for v in vs if v is not None), default=None) for p, vs in subs.items()}
    values = [v for v in best.values() if v is not None]
    if not values:
        return None, None, None
    top = max(values)
    primary = next(p for p in aqi.POLLUTANTS if best.get(p) == top)
    if standard == "hj633" and top <= 50:
        primary = None
    return int(top), primary, aqi.category_for(standard, top).key


@pytest.mark.parametrize("standard", ["hj633", "epa"])
@pytest.mark.parametrize("columns", ["all", "hj633_daily_only"])
def test_frame_agrees_with_scalar_iaqi(standard, columns):
    df = _random_daily(1500, seed=7 if columns == "all" else 11)
    if columns != "all":
        df = df[["pm25", "pm10", "no2", "so2", "co", "o3_8h"]]
    df.index = pd.date_range("2017-01-01", periods=len(df), freq="D", name="date")
    out = aqi.aqi_frame(df, standard)
    assert out.index.equals(df.index)
    expected = [_reference(row, standard) for row in df.to_dict("records")]
    got = list(
        zip(
            [None if pd.isna(v) else int(v) for v in out["aqi"]],
            [None if pd.isna(v) else v for v in out["primary"]],
            [None if pd.isna(v) else v for v in out["category"]],
            strict=True,
        )
    )
    mismatches = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    assert not mismatches, mismatches[:5]
    # the sample must reach every band, or agreement would prove little
    assert {e[2] for e in expected} >= {c.key for c in aqi.CATEGORIES[standard]}


def test_frame_is_vectorised():
    df = _random_daily(200_000, seed=3)
    start = time.perf_counter()
    for standard in aqi.STANDARDS:
        out = aqi.aqi_frame(df, standard)
        assert len(out) == len(df)
    # numpy takes well under a second; a per-row Python path takes minutes
    assert time.perf_counter() - start < 5.0


# --- Daily inputs from hourly -------------------------------------------------------------------


def _hours(days: int, start: str = "2017-01-01", tz: str | None = None) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=24 * days, freq="h", tz=tz)


def test_daily_means_and_maxima():
    ts = _hours(2)
    hour = ts.hour.to_numpy(dtype=float)
    day2 = ts.day == 2
    hourly = pd.DataFrame(
        {
            "ts": ts,
            "pm25": np.where(day2, 40.0, hour),  # day 1: 0..23 -> mean 11.5
            "pm10": 60.0,
            "no2": np.where(hour == 8, 150.0, 30.0),
            "so2": np.where(hour == 20, 90.0, 10.0),
            "co": 0.8,
            "o3": np.where((hour >= 10) & (hour <= 17) & ~day2, 100.0, 0.0),
        }
    )
    daily = aqi.daily_inputs_from_hourly(hourly)
    assert daily.index.name == "date"
    assert list(daily.index) == [pd.Timestamp("2017-01-01"), pd.Timestamp("2017-01-02")]
    assert daily["pm25"].tolist() == pytest.approx([11.5, 40.0])
    assert daily["pm10"].tolist() == pytest.approx([60.0, 60.0])
    assert daily["no2"].tolist() == pytest.approx([(150 + 23 * 30) / 24] * 2)
    assert daily["no2_1h"].tolist() == [150.0, 150.0]
    assert daily["so2_1h"].tolist() == [90.0, 90.0]
    assert daily["co"].tolist() == pytest.approx([0.8, 0.8])
    assert daily["co_8h"].tolist() == pytest.approx([0.8, 0.8])
    assert daily["o3_8h"].tolist() == pytest.approx([100.0, 0.0])
    assert daily["o3_1h"].tolist() == [100.0, 0.0]


def test_o3_8h_windows_stay_inside_the_day():
    ts = _hours(2)
    # 8 consecutive hours of 200 straddling midnight (20:00-03:00)
    high = (ts >= pd.Timestamp("2017-01-01 20:00")) & (ts <= pd.Timestamp("2017-01-02 03:00"))
    hourly = pd.DataFrame({"ts": ts, "o3": np.where(high, 200.0, 0.0)})
    daily = aqi.daily_inputs_from_hourly(hourly)
    # best in-day window holds 4 of the 8 hours on each side
    assert daily["o3_8h"].tolist() == pytest.approx([100.0, 100.0])
    assert daily["o3_1h"].tolist() == [200.0, 200.0]


def test_missing_rows_are_gaps_in_time_not_skipped():
    ts = _hours(1)
    keep = (ts.hour < 4) | (ts.hour >= 12)  # rows 04:00-11:00 absent
    o3 = np.where(ts.hour < 4, 100.0, 0.0)
    hourly = pd.DataFrame({"ts": ts[keep], "o3": o3[keep], "pm25": 10.0})
    daily = aqi.daily_inputs_from_hourly(hourly, min_windows_8h=1)
    # A row-count window would average 00-03 with 12-15 (=50); in time those hours are 8+ apart.
    assert daily["o3_8h"].tolist() == [0.0]
    assert daily["pm25"].isna().all()  # 16 hours < 20


def test_validity_minimum_hours():
    ts = _hours(2)
    hourly = pd.DataFrame({"ts": ts, "pm25": 30.0, "o3": 50.0})
    hourly.loc[hourly.index[:5], ["pm25", "o3"]] = np.nan  # day 1: 19 valid hours
    hourly.loc[hourly.index[24:28], ["pm25", "o3"]] = np.nan  # day 2: 20 valid hours
    daily = aqi.daily_inputs_from_hourly(hourly)
    assert daily["pm25"].isna().tolist() == [True, False]
    # day 1: windows starting 00-16 need 6 of 8 hours; those starting 00-02 fail -> 14 valid
    assert daily["o3_8h"].tolist() == pytest.approx([50.0, 50.0])
    loose = aqi.daily_inputs_from_hourly(hourly, min_hours=1)
    assert loose["pm25"].tolist() == pytest.approx([30.0, 30.0])
    strict = aqi.daily_inputs_from_hourly(hourly, min_windows_8h=15)
    assert strict["o3_8h"].isna().tolist() == [True, False]


def test_daily_inputs_with_timezone_and_unsorted_rows():
    ts = _hours(1, tz="Asia/Shanghai")
    hourly = pd.DataFrame({"ts": ts, "pm25": np.arange(24.0)}).iloc[::-1]
    daily = aqi.daily_inputs_from_hourly(hourly)
    assert list(daily.index) == [pd.Timestamp("2017-01-01", tz="Asia/Shanghai")]
    assert daily["pm25"].tolist() == pytest.approx([11.5])


def test_daily_inputs_only_for_days_present():
    ts = _hours(3)
    hourly = pd.DataFrame({"ts": ts, "pm25": 20.0})
    hourly = hourly[ts.day != 2]
    daily = aqi.daily_inputs_from_hourly(hourly)
    assert [d.day for d in daily.index] == [1, 3]


def test_daily_inputs_rejects_bad_input():
    ts = _hours(1)
    with pytest.raises(ValueError, match="one station or area"):
        aqi.daily_inputs_from_hourly(pd.DataFrame({"ts": ts.append(ts[:1]), "pm25": 1.0}))
    with pytest.raises(ValueError, match="ts"):
        aqi.daily_inputs_from_hourly(pd.DataFrame({"pm25": [1.0]}))
    with pytest.raises(ValueError, match="on the hour"):
        aqi.daily_inputs_from_hourly(pd.DataFrame({"ts": ts + pd.Timedelta(minutes=5), "o3": 1.0}))


def test_hourly_to_daily_to_aqi_end_to_end():
    ts = _hours(1)
    hourly = pd.DataFrame(
        {"ts": ts, "pm25": 80.0, "pm10": 100.0, "no2": 40.0, "so2": 10.0, "co": 1.0, "o3": 60.0}
    )
    out = aqi.aqi_frame(aqi.daily_inputs_from_hourly(hourly), "hj633")
    assert out["aqi"].tolist() == [107]
    assert out["primary"].tolist() == ["pm25"]
    assert out["category"].tolist() == ["light"]
    assert math.isclose(aqi.iaqi("hj633", "pm25", 80.0, "24h"), 107)
