"""Min/max-preserving downsampling of long series, so no chart sends more than ~5,000 points
a trace and no peak or trough vanishes.

The series is cut into equal buckets (by position, which for a regular time series is by
time) and the minimum and the maximum of each bucket are kept, with the first and last point:
every local extreme that stands out at the chart's resolution survives, unlike a mean or a
stride. `tsdownsample` (Rust, SIMD) does the work when it is installed; a vectorised NumPy
version gives the same guarantees otherwise.

`cap_figure` applies it to a figure (plotly JSON dict) on its way to the browser: each 2-D
trace longer than the limit keeps the union of the points chosen for its y values, and every
per-point array (x, text, customdata, marker colours ...) is cut to the same points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_POINTS_PER_TRACE = 5000
# Per-point arrays of a trace that follow its points when it is cut.
POINT_KEYS = ("x", "y", "text", "hovertext", "customdata", "ids", "meta")
POINT_SUBKEYS = {"marker": ("color", "size", "symbol", "opacity")}
CUT_TYPES = {"scatter", "scattergl"}

try:  # pragma: no cover - depends on the environment
    from tsdownsample import MinMaxDownsampler, NaNMinMaxDownsampler

    _HAVE_TSDOWNSAMPLE = True
except ImportError:  # pragma: no cover
    _HAVE_TSDOWNSAMPLE = False


def minmax_numpy(y: np.ndarray, n_out: int) -> np.ndarray:
    """Indices (sorted) of the minimum and maximum of `n_out // 2` equal buckets of `y`, plus
    the first and last point. NaNs are ignored; a bucket that holds only NaNs keeps its first
    point, so a gap in the data stays a gap."""
    y = np.asarray(y, dtype="float64")
    n = len(y)
    if n <= n_out:
        return np.arange(n)
    buckets = max(1, n_out // 2)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    starts = edges[:-1]
    bucket_of = np.repeat(np.arange(buckets), np.diff(edges))
    finite = np.isfinite(y)
    lo_fill = np.where(finite, y, np.inf)
    hi_fill = np.where(finite, y, -np.inf)
    lows = np.minimum.reduceat(lo_fill, starts)
    highs = np.maximum.reduceat(hi_fill, starts)
    picks = [np.array([0, n - 1])]
    for values, extremes in ((lo_fill, lows), (hi_fill, highs)):
        hit = np.flatnonzero(values == extremes[bucket_of])
        _, first = np.unique(bucket_of[hit], return_index=True)
        picks.append(hit[first])
    empty = np.flatnonzero(~np.isfinite(lows))
    picks.append(starts[empty])
    return np.unique(np.concatenate(picks))


def minmax_indices(y: Sequence[float] | np.ndarray, n_out: int) -> np.ndarray:
    """Sorted indices of at most about `n_out` points of `y` keeping each bucket's extremes."""
    values = np.asarray(y, dtype="float64")
    n = len(values)
    n_out = max(4, int(n_out))
    if n <= n_out:
        return np.arange(n)
    if _HAVE_TSDOWNSAMPLE:
        even = n_out - n_out % 2
        sampler = NaNMinMaxDownsampler() if np.isnan(values).any() else MinMaxDownsampler()
        chosen = sampler.downsample(values, n_out=even).astype(np.int64)
        return np.unique(np.concatenate([chosen, [0, n - 1]]))
    return minmax_numpy(values, n_out)


def downsample_indices(series: Sequence[np.ndarray], max_points: int) -> np.ndarray:
    """One set of indices for several series sharing an x axis (e.g. flow and speed): each
    keeps its own extremes within an equal share of `max_points`."""
    series = [np.asarray(s, dtype="float64") for s in series]
    if not series:
        return np.arange(0)
    n = len(series[0])
    if n <= max_points:
        return np.arange(n)
    share = max(4, max_points // len(series))
    return np.unique(np.concatenate([minmax_indices(s, share) for s in series]))


def _numeric(values) -> np.ndarray | None:
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        return None
    return arr if arr.ndim == 1 else None


def _take(values, idx: np.ndarray):
    if isinstance(values, np.ndarray):
        return values[idx]
    if isinstance(values, list | tuple):
        return [values[i] for i in idx]
    return values


def points_of(trace: dict) -> int:
    """Points a trace sends: the longest of its per-point arrays (z counts its cells)."""
    longest = 0
    for key in ("x", "y", "lat", "lon", "locations", "values", "labels", "r", "theta"):
        value = trace.get(key)
        if isinstance(value, list | tuple | np.ndarray):
            longest = max(longest, len(value))
    z = trace.get("z")
    if isinstance(z, list | tuple | np.ndarray):
        longest = max(longest, int(np.size(np.asarray(z, dtype=object))))
    return longest


def cap_trace(trace: dict, max_points: int = MAX_POINTS_PER_TRACE) -> bool:
    """Cut a 2-D line/marker trace to about `max_points` points in place; True if it was."""
    if trace.get("type", "scatter") not in CUT_TYPES:
        return False
    y = trace.get("y")
    if y is None or len(y) <= max_points:
        return False
    values = _numeric(y)
    if values is None:  # a categorical y: keep every n-th point
        idx = np.unique(np.linspace(0, len(y) - 1, max_points).astype(np.int64))
    else:
        idx = minmax_indices(values, max_points)
    n = len(y)
    for key in POINT_KEYS:
        value = trace.get(key)
        if isinstance(value, list | tuple | np.ndarray) and len(value) == n:
            trace[key] = _take(value, idx)
    for parent, keys in POINT_SUBKEYS.items():
        sub = trace.get(parent)
        if isinstance(sub, dict):
            for key in keys:
                value = sub.get(key)
                if isinstance(value, list | tuple | np.ndarray) and len(value) == n:
                    sub[key] = _take(value, idx)
    return True


def cap_figure(figure: dict, max_points: int = MAX_POINTS_PER_TRACE) -> int:
    """Cut every over-long line/marker trace of a plotly JSON figure; returns how many."""
    return sum(cap_trace(trace, max_points) for trace in figure.get("data") or [])


def max_points_per_trace(figure: dict) -> int:
    return max((points_of(trace) for trace in figure.get("data") or []), default=0)
