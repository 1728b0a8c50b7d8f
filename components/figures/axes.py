"""Axis ticks in the reader's language, where plotly.js has no format for it.

plotly.js writes large numbers in thousands ("3,000,000" or "3M") and month ticks as "Jan 2017";
a Chinese reader counts in 万 (10⁴) and 亿 (10⁸) and writes dates "2017年1月". Numeric axes get
their tick values computed here and labelled by Babel's compact format; date axes get per-zoom
formats (`tickformatstops`), which plotly.js applies at any zoom without a server round trip.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from i18n import fmt_compact

from .plot import Figure

# The ticks of a numeric axis: about this many, on round steps (1, 2, 2.5, 5 × 10ⁿ).
TICKS = 5
ROUND_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
# Languages that group large numbers by 10⁴ (万, 亿) rather than by thousands.
COMPACT_LANGUAGES = frozenset({"zh"})
# Below 10⁴ (one 万) the locale's usual digits read best: no axis needs redoing.
COMPACT_FROM = 1e4

CARTESIAN = frozenset({"scatter", "scattergl", "bar", "heatmap", "box", "histogram"})
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DAY_MS = 24 * 3600 * 1000
# plotly.js picks a tick spacing from the zoom; each format covers spacings from its first bound.
DATE_FORMATS: dict[str, list[tuple[Any, str]]] = {
    "zh": [
        (None, "%-H:%M"),
        (DAY_MS, "%-m月%-d日"),
        ("M1", "%Y年%-m月"),
        ("M12", "%Y年"),
    ],
}
# Fixed formats some builders set, in the languages that write them another way.
DATE_FORMAT_SWAPS: dict[str, dict[str, str]] = {
    "zh": {"%b": "%-m月", "%b\n%Y": "%Y年%-m月", "%b %Y": "%Y年%-m月", "%Y": "%Y年"},
}


def round_ticks(low: float, high: float, count: int = TICKS) -> list[float]:
    """About `count` round values spanning [low, high] (0 included when the span holds it)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        high = low + 1.0
    rough = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(s * magnitude for s in ROUND_STEPS if s * magnitude >= rough)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [round(i * step, 10) for i in range(first, last + 1)]


def axis_numbers(values: Iterable[float], lang: str) -> dict:
    """`tickvals`/`ticktext` for a numeric axis showing `values`, in the language's own way of
    writing large numbers; {} where plotly's own ticks already read right."""
    if lang not in COMPACT_LANGUAGES:
        return {}
    numbers = np.asarray(_numbers(list(values)), dtype="float64")
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0 or np.abs(numbers).max() < COMPACT_FROM:
        return {}
    ticks = round_ticks(min(0.0, float(numbers.min())), max(0.0, float(numbers.max())))
    return {"tickvals": ticks, "ticktext": [fmt_compact(v, lang) for v in ticks]}


def localize_axes(fig: Figure, lang: str) -> Figure:
    """Numeric and date axes of a figure (a dict) written the language's way."""
    layout = fig.setdefault("layout", {})
    if lang not in COMPACT_LANGUAGES and lang not in DATE_FORMATS:
        return fig
    for key in axis_keys(fig):
        axis = layout.setdefault(key, {})
        if not isinstance(axis, dict) or "tickvals" in axis or axis.get("type") == "category":
            continue
        if axis.get("type") == "date" or (key.startswith("xaxis") and _dates_on(fig, key)):
            if lang in DATE_FORMATS:
                _localize_dates(axis, lang)
        elif not axis.get("tickformat") and axis.get("type") != "log":
            ref = key[0] + key[5:]  # "y2" for "yaxis2"
            drawn = _axis_values(fig, ref)
            if key.startswith("xaxis") and not drawn:  # x carries numbers of horizontal bars only
                continue
            # a range the builder fixed is what the axis shows, whatever the data reach
            fixed = axis.get("range")
            axis.update(axis_numbers(_numbers(fixed) if fixed else drawn, lang))
    return fig


def axis_keys(fig: Figure) -> list[str]:
    """The layout keys of the figure's cartesian axes: those it sets and those its traces use."""
    keys = {k for k in fig["layout"] if k.startswith(("xaxis", "yaxis"))}
    for trace in fig.get("data", []):
        if trace.get("type", "scatter") in CARTESIAN:
            keys.add("xaxis" + (trace.get("xaxis") or "x")[1:])
            keys.add("yaxis" + (trace.get("yaxis") or "y")[1:])
    return sorted(keys)


def _dates_on(fig: Figure, key: str) -> bool:
    """Whether the traces on an x axis draw times (plotly then makes it a date axis itself)."""
    ref = "x" + key[5:]
    for trace in fig.get("data", []):
        if (trace.get("xaxis") or "x") != ref or trace.get("x") is None:
            continue
        xs = trace["x"]
        if isinstance(xs, np.ndarray) and xs.dtype.kind == "M":
            return True
        first = next((v for v in xs if v is not None), None)
        if isinstance(first, dt.date | np.datetime64):
            return True
        return isinstance(first, str) and ISO_DATE.match(first) is not None
    return False


def _localize_dates(axis: dict, lang: str) -> None:
    fixed = axis.get("tickformat")
    if fixed:
        axis["tickformat"] = DATE_FORMAT_SWAPS[lang].get(fixed, fixed)
    elif "tickformatstops" not in axis:
        axis["tickformatstops"] = [
            {"dtickrange": [low, high], "value": fmt}
            for (low, fmt), (high, _) in zip(
                DATE_FORMATS[lang], [*DATE_FORMATS[lang][1:], (None, "")], strict=True
            )
        ]


def _axis_values(fig: Figure, ref: str) -> list[float]:
    """The numbers drawn along an axis: against a y axis ("y", "y2" …) by its vertical
    traces, along an x axis by its horizontal bars; stacked bars reach the sum of their stack
    at each category."""
    letter, other = ("x", "y") if ref.startswith("x") else ("y", "x")
    horizontal = letter == "x"
    stacked = fig["layout"].get("barmode") in {"stack", "relative"}
    found: list[float] = []
    stacks: dict[object, float] = {}
    for trace in fig.get("data", []):
        kind = trace.get("type", "scatter")
        if (trace.get(f"{letter}axis") or letter) != ref:
            continue
        if (trace.get("orientation") == "h") != horizontal or trace.get(letter) is None:
            continue
        if kind not in ({"bar"} if horizontal else {"scatter", "scattergl", "bar"}):
            continue
        numbers = _numbers(trace[letter])
        if stacked and kind == "bar":
            at = trace.get(other)
            at = list(range(len(numbers))) if at is None else np.asarray(at, dtype=object).tolist()
            for place, number in zip(at, numbers, strict=False):
                stacks[place] = stacks.get(place, 0.0) + (number if number == number else 0.0)
        else:
            found.extend(numbers)
    return found + list(stacks.values())


def _numbers(column: object) -> list[float]:
    """A trace's values as floats (NaN for a gap or anything not a number)."""
    array = np.asarray(column)
    if array.dtype.kind in "fiu":  # numeric arrays, the usual case: no walk in Python
        return array.astype("float64").ravel().tolist()
    return [
        float(v) if isinstance(v, int | float | np.number) and not isinstance(v, bool) else math.nan
        for v in array.astype(object).ravel().tolist()
    ]
