"""Min/max-preserving downsampling (datasets/downsample.py) and the points cap of figures."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from datasets import downsample as ds


def spiky(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.sin(np.linspace(0, 40, n)) + rng.normal(0, 0.05, n)
    y[n // 3] = 25.0  # one 5-minute peak in a year: must survive
    y[2 * n // 3] = -25.0
    return y


@pytest.mark.parametrize("impl", ["numpy", "default"])
def test_extremes_first_and_last_survive(impl):
    y = spiky(105_120)
    idx = ds.minmax_numpy(y, 5000) if impl == "numpy" else ds.minmax_indices(y, 5000)
    assert len(idx) <= 5002
    assert np.all(np.diff(idx) > 0)
    kept = set(idx.tolist())
    assert {0, len(y) - 1, int(np.argmax(y)), int(np.argmin(y))} <= kept


def test_every_bucket_keeps_its_own_extremes():
    y = spiky(10_000)
    idx = ds.minmax_numpy(y, 100)
    edges = np.linspace(0, len(y), 51).astype(int)
    for lo, hi in itertools.pairwise(edges):
        part = y[lo:hi]
        assert lo + int(np.argmax(part)) in idx and lo + int(np.argmin(part)) in idx


def test_short_series_are_left_alone():
    assert ds.minmax_indices(np.arange(10.0), 5000).tolist() == list(range(10))


def test_nan_gaps_stay_gaps():
    y = spiky(20_000)
    y[5000:7000] = np.nan
    idx = ds.minmax_numpy(y, 1000)
    assert np.isnan(y[idx]).any()  # a bucket of NaNs keeps one, so the line breaks there
    assert int(np.nanargmax(y)) in idx
    assert int(np.nanargmax(y)) in ds.minmax_indices(y, 1000)


def test_several_series_share_one_set_of_points():
    a, b = spiky(50_000, 1), -spiky(50_000, 2)
    idx = ds.downsample_indices([a, b], 5000)
    assert len(idx) <= 5004
    assert {int(np.argmax(a)), int(np.argmin(b))} <= set(idx.tolist())


def test_cap_figure_cuts_long_traces_with_their_per_point_arrays():
    n = 20_000
    y = spiky(n)
    x = np.arange(n).astype("datetime64[m]")
    figure = {
        "data": [
            {
                "type": "scatter",
                "x": x,
                "y": y,
                "customdata": list(range(n)),
                "marker": {"color": y},
            },
            {"type": "scatter", "x": [1, 2, 3], "y": [1, 2, 3]},
            {"type": "heatmap", "z": np.zeros((200, 200))},
        ],
        "layout": {},
    }
    assert ds.max_points_per_trace(figure) == 40_000  # the heatmap's cells
    assert ds.cap_figure(figure, 5000) == 1
    long = figure["data"][0]
    assert (
        len(long["x"]) == len(long["y"]) == len(long["customdata"]) == len(long["marker"]["color"])
    )
    assert len(long["y"]) <= 5002 and max(long["y"]) == 25.0 and min(long["y"]) == -25.0
    assert long["customdata"][int(np.argmax(long["y"]))] == n // 3
    assert figure["data"][1]["y"] == [1, 2, 3]


# -- zoom detail (components/charts.py) -------------------------------------------------------


def test_a_zoom_is_read_from_relayout_data():
    from components.charts import zoom_range

    assert zoom_range({"xaxis.range[0]": "2017-03-01 06:00", "xaxis.range[1]": "2017-03-04"}) == (
        "2017-03-01 06:00",
        "2017-03-04",
    )
    assert zoom_range({"xaxis.range": ["2017-03-01", "2017-03-02"]}) == ("2017-03-01", "2017-03-02")
    assert zoom_range({"xaxis.autorange": True}) == "reset"
    for other in (None, {}, {"autosize": True}, {"yaxis.range[0]": 0, "yaxis.range[1]": 5}):
        assert zoom_range(other) is None


def test_a_zoom_narrows_the_filters_to_its_days(demo_workspace, demo_city):
    import datetime as dt

    from components.charts import REGISTRY, ChartContext, render, zoomed
    from datasets.query import Filters
    from pages import traffic  # noqa: F401 - registers the traffic charts

    page = Filters(dt.date(2017, 1, 1), dt.date(2017, 6, 30), (330106,))
    ctx = ChartContext(
        lang="en",
        theme="light",
        city=demo_city,
        option="5min",
        engine=demo_workspace.engine,
        filters=page,
    )
    ctx = zoomed(ctx, ("2017-03-03 10:00", "2017-03-05 12:00"))
    assert ctx.filters == Filters(dt.date(2017, 3, 3), dt.date(2017, 3, 5), (330106,))
    figure, _, shown = render(REGISTRY["traffic-volume-speed"], ctx)
    assert shown and len(figure["data"][0]["x"]) == 3 * 288  # 5-minute detail of the 3 days
    assert figure["layout"]["xaxis"]["range"] == ["2017-03-03T10:00:00", "2017-03-05T12:00:00"]
    assert zoomed(ctx, ("2018-01-01", "2018-01-02")) is None  # outside the page's dates
    assert zoomed(ctx, ("a", "b")) is None
