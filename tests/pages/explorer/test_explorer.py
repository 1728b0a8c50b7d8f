"""The explorer's query builder against pandas on small tables, its pure figure builder, and
the dataset chooser's view of the query engine."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.charts import FigureContext
from components.datasets_choice import ChosenEngine, chosen_engine, chosen_ids, dataset_choices
from components.explorer_figure import Axes, esc, explorer_figure
from components.explorer_query import charts_for, spec_from_options
from datasets.catalog import DatasetMeta
from datasets.queries.explorer import (
    MAX_CATEGORIES,
    MAX_POINTS,
    MAX_SERIES,
    Col,
    build,
    choose_bucket,
    values_query,
)
from datasets.query import MissingDataset
from datasets.workspace import Workspace

CITY = "hangzhou-2017"
ODD = 'odd "name"; DROP TABLE x --'


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> tuple[pd.DataFrame, str, list[Col]]:
    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame(
        {
            "ts": pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 90 * 24, n), "h"),
            "station": rng.choice(["A", "B", "C", "<b>D</b>"], n),
            "value": rng.normal(50, 10, n).round(2),
            "count": rng.integers(0, 100, n),
            ODD: rng.choice(["x", "y"], n),
            "lat": 30.2 + rng.integers(0, 5, n) / 100,
            "lon": 120.1 + rng.integers(0, 5, n) / 100,
        }
    )
    frame.loc[rng.choice(n, 40, replace=False), "value"] = np.nan
    path = tmp_path_factory.mktemp("explorer") / "part-0000.parquet"
    frame["ts"] = frame["ts"].astype("datetime64[s]")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    schema = pq.read_schema(path)
    cols = [Col(f.name, str(f.type), "µg/m³" if f.name == "value" else "") for f in schema]
    return frame, f"read_parquet('{path}')", cols


def run(sql: str, params=()) -> pd.DataFrame:
    return duckdb.sql(sql, params=list(params) or None).df() if params else duckdb.sql(sql).df()


def query(table, bucket=None, **options):
    _, src, cols = table
    spec = spec_from_options(options, cols)
    q = build(spec, cols, src, bucket)
    con = duckdb.connect()
    return spec, q, con.execute(q.sql, list(q.params)).df()


# -- the spec --------------------------------------------------------------------------------------


def test_roles_from_arrow_types():
    roles = {
        t: Col("c", t).role
        for t in ("timestamp[s]", "date32[day]", "double", "int16", "float", "bool", "string")
    }
    assert roles == {
        "timestamp[s]": "time",
        "date32[day]": "time",
        "double": "number",
        "int16": "number",
        "float": "number",
        "bool": "bool",
        "string": "text",
    }


def test_defaults_and_unknown_names_from_a_hand_edited_url(table):
    _, _, cols = table
    spec = spec_from_options({}, cols)
    assert (spec.chart, spec.x, spec.y, spec.agg, spec.time) == (
        "line",
        "ts",
        "value",
        "mean",
        "ts",
    )
    spec = spec_from_options(
        {"chart": "pie", "x": "nope", "y": "station", "color": "ts", "agg": "drop", "f1": "nope",
         "v1": '["a"]', "since": "2017-13-01", "bucket": "fortnight"},
        cols,
    )  # fmt: skip
    assert (spec.chart, spec.x, spec.y, spec.agg, spec.bucket) == (
        "line",
        "ts",
        "value",
        "mean",
        "auto",
    )
    assert spec.color is None  # the same column as x
    assert spec.filters == () and spec.since is None
    assert "map" in charts_for(cols)
    assert "map" not in charts_for([c for c in cols if c.name != "lat"])


def test_a_dataset_without_numbers_counts_rows():
    spec = spec_from_options({"agg": "sum"}, [Col("name", "string")])
    assert (spec.y, spec.agg) == (None, "count")
    assert spec.notes == ("explorer.note.count_only",)


# -- queries against pandas ----------------------------------------------------------------------


@pytest.mark.parametrize("agg", ["mean", "sum", "median", "min", "max", "count"])
def test_bars_by_category_match_pandas(table, agg):
    frame = table[0]
    _, q, got = query(table, chart="bar", x="station", y="value", agg=agg)
    grouped = frame.groupby("station")["value"]
    expected = grouped.size() if agg == "count" else getattr(grouped, agg)()
    got = got.set_index("x")["value"].astype(float)
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index().astype(float), check_names=False, atol=1e-6
    )
    assert q.x_role == "text"


def test_daily_line_by_colour_with_filters_and_a_time_range_matches_pandas(table):
    frame = table[0]
    options = {
        "chart": "line",
        "x": "ts",
        "y": "count",
        "color": "station",
        "agg": "sum",
        "f1": ODD,
        "v1": json.dumps(["x"]),
        "since": "2017-02-01",
        "until": "2017-02-28",
    }
    spec, q, got = query(table, bucket="day", **options)
    assert spec.filters == ((ODD, ("x",)),)
    sub = frame[(frame[ODD] == "x") & (frame.ts >= "2017-02-01") & (frame.ts < "2017-03-01")]
    expected = sub.groupby([sub.ts.dt.floor("D"), "station"])["count"].sum()
    got = got.set_index(["x", "color"])["value"]
    assert len(got) == len(expected) and got.index.get_level_values(0).min() >= pd.Timestamp(
        "2017-02-01"
    )
    for key, value in expected.items():
        assert got.loc[key] == value
    assert q.bucket == "day"
    assert all("DROP" not in str(p) for p in q.params)  # names are identifiers, not parameters


def test_box_statistics_match_pandas(table):
    frame = table[0]
    _, _, got = query(table, chart="box", x="station", y="value")
    for row in got.itertuples():
        values = frame.loc[frame.station == row.x, "value"].dropna()
        assert row.median == pytest.approx(values.median())
        assert row.q1 == pytest.approx(values.quantile(0.25))
        assert row.q3 == pytest.approx(values.quantile(0.75))
        assert (row.lo, row.hi, row.n) == (values.min(), values.max(), len(values))


def test_heatmap_and_map_group_like_pandas(table):
    frame = table[0]
    _, _, heat = query(table, chart="heatmap", x="station", y="value", color=ODD, agg="max")
    expected = frame.groupby(["station", ODD])["value"].max()
    assert len(heat) == len(expected)
    for row in heat.itertuples():
        assert row.value == pytest.approx(expected[(row.x, row.color)])
    _, _, points = query(table, chart="map", y="count", agg="mean")
    expected = frame.groupby([frame.lat.round(5), frame.lon.round(5)])["count"].mean()
    assert len(points) == len(expected)
    for row in points.itertuples():
        assert row.value == pytest.approx(expected[(row.lat, row.lon)])


def test_scatter_samples_at_most_the_cap_and_only_real_rows(table):
    frame = table[0]
    _, _, got = query(table, chart="scatter", x="value", y="count")
    assert len(got) <= MAX_POINTS
    assert len(got) == frame[["value", "count"]].dropna().shape[0]  # under the cap: every row
    pairs = set(zip(frame["value"], frame["count"], strict=True))
    assert all((v, c) in pairs for v, c in zip(got["x"], got["y"], strict=True))


def test_points_categories_and_series_are_capped(tmp_path):
    n = 20_000
    frame = pd.DataFrame(
        {
            "k": [f"k{i % 300}" for i in range(n)],
            "c": [f"c{i % 40}" for i in range(n)],
            "v": np.arange(n, dtype=float),
        }
    )
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    cols = [Col("k", "string"), Col("c", "string"), Col("v", "double")]
    src = f"read_parquet('{path}')"
    con = duckdb.connect()

    def rows(**options):
        q = build(spec_from_options(options, cols), cols, src)
        return con.execute(q.sql, list(q.params)).df()

    bars = rows(chart="bar", x="k", y="v", color="c")
    assert bars["x"].nunique() <= MAX_CATEGORIES and bars["color"].nunique() <= MAX_SERIES
    assert len(rows(chart="scatter", x="v", y="v")) == MAX_POINTS
    assert len(rows(chart="line", x="v", y="v")) == MAX_POINTS


def test_bucket_keeps_a_chart_readable():
    day = 86400
    assert choose_bucket(3 * day) == "hour"
    assert choose_bucket(365 * day) == "day"
    assert choose_bucket(365 * day, series=12) == "week"
    assert choose_bucket(40 * 365 * day) == "month"
    assert choose_bucket(None) == "day"


def test_filter_values_are_the_most_frequent_as_text(table):
    frame, src, _ = table
    got = duckdb.sql(values_query(ODD, src)).df()
    expected = frame[ODD].value_counts()
    assert dict(zip(got["v"], got["n"], strict=True)) == expected.to_dict()


# -- the figure ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fig_ctx():
    from datasets.cities import BUILTIN_CITIES_DIR, load_city

    return FigureContext(lang="en", theme="light", city=load_city(BUILTIN_CITIES_DIR / CITY))


def test_figure_builder_is_pure_and_escapes_text_from_the_file(table, fig_ctx):
    spec, q, got = query(table, chart="bar", x="station", y="value", color=ODD)
    axes = Axes(q.x_role, q.bucket, (("value", "µg/m³"),))
    first = explorer_figure(got, spec, axes, fig_ctx).to_plotly_json()
    again = explorer_figure(got.copy(), spec, axes, fig_ctx).to_plotly_json()
    assert json.dumps(first, default=str) == json.dumps(again, default=str)
    text = json.dumps(first, default=str, ensure_ascii=False)
    assert "<b>D</b>" not in text and "&lt;b&gt;D&lt;/b&gt;" in text
    assert first["layout"]["yaxis"]["title"]["text"] == "mean of value (µg/m³)"
    assert {t["name"] for t in first["data"]} == {"x", "y"}
    assert esc("a < b & c") == "a &lt; b &amp; c"


@pytest.mark.parametrize(
    ("chart", "trace"),
    [("line", "scatter"), ("bar", "bar"), ("box", "box"), ("heatmap", "heatmap"),
     ("scatter", "scatter"), ("map", "scattergeo")],
)  # fmt: skip
def test_each_chart_type_draws_its_trace(table, fig_ctx, chart, trace):
    options = {"chart": chart, "x": "station", "y": "value", "color": ODD}
    if chart == "scatter":
        options["x"] = "count"
    spec, q, got = query(table, bucket="day", **options)
    fig = explorer_figure(got, spec, Axes(q.x_role, q.bucket), fig_ctx)
    if chart == "map":  # an SVG map: the city's outlines under the points, no base map
        assert fig.data[0].type == "choropleth" and fig.data[0].hoverinfo == "skip"
        assert fig.layout.geo.visible is False
        fig.data = fig.data[1:]
    assert {t.type for t in fig.data} == {trace}


# -- the dataset chooser ---------------------------------------------------------------------------


def publish_air(workspace: Workspace, dataset_id: str, pm25: float, city: str = CITY) -> None:
    meta = DatasetMeta(
        id=dataset_id,
        city=city,
        kind="air_quality_hourly",
        round_table="ecology",
        title={"en": dataset_id},
        description={"en": ""},
    )
    table = pa.table(
        {
            "ts": pa.array([dt.datetime(2017, 1, 1, h) for h in range(3)], pa.timestamp("s")),
            "station_id": ["s1"] * 3,
            "pm25": pa.array([pm25] * 3, pa.float32()),
        }
    )
    workspace.catalog.publish(
        meta, lambda folder: pq.write_table(table, Path(folder) / "part-0000.parquet")
    )
    with sqlite3.connect(workspace.catalog.path) as con:  # one a second apart, in this order
        count = con.execute("SELECT count(*) FROM datasets").fetchone()[0]
        stamp = f"2026-01-01T00:00:{count:02d}+00:00"
        con.execute("UPDATE datasets SET updated_at = ? WHERE id = ?", (stamp, dataset_id))


@pytest.fixture
def two_air(tmp_path) -> Workspace:
    workspace = Workspace.open(tmp_path / "data")
    publish_air(workspace, "demo-air", 10.0)
    publish_air(workspace, "uploaded-air", 99.0)  # the most recent: the default
    publish_air(workspace, "elsewhere-air", 5.0, city="other-city")
    return workspace


def pm25(engine) -> float:
    src = engine.source(CITY, "air_quality_hourly")
    return float(engine.frame(f"SELECT avg(pm25) AS v FROM {src}")["v"].iloc[0])


def test_the_chosen_dataset_feeds_the_queries(two_air):
    engine = two_air.engine
    assert chosen_engine(engine, {}) is engine and chosen_engine(engine, {"aqi": "epa"}) is engine
    assert pm25(engine) == 99.0
    view = chosen_engine(engine, {"ds_air_quality_hourly": "demo-air", "aqi": "epa"})
    assert isinstance(view, ChosenEngine)
    assert pm25(view) == 10.0
    assert view.dataset(CITY, "air_quality_hourly").id == "demo-air"
    assert view.find(CITY, "air_quality_hourly").id == "demo-air"
    assert view.catalog.find(CITY, "air_quality_hourly").id == "demo-air"  # source lines
    assert pm25(engine) == 99.0  # the engine itself is untouched
    if hasattr(type(engine), "plan"):  # methods that look up through self see the choice
        source, _ = view.plan(CITY, "air_quality_hourly", ())
        assert "demo-air" in source
    with pytest.raises(MissingDataset):
        view.dataset(CITY, "energy_daily")


@pytest.mark.parametrize("bad", ["elsewhere-air", "no-such-dataset", "../../etc"])
def test_a_choice_of_another_city_kind_or_nothing_is_ignored(two_air, bad):
    view = chosen_engine(two_air.engine, {"ds_air_quality_hourly": bad})
    assert pm25(view) == 99.0
    assert chosen_ids({"ds_air_quality_hourly": "", "ds_x": None, "other": "y"}) == {}


def test_the_chooser_lists_a_kinds_datasets_when_there_are_several(two_air):
    class Ctx:
        workspace = two_air
        lang = "en"

        class city:
            id = CITY

    choices = dataset_choices(Ctx, "air_quality_hourly")
    assert [value for value, _ in choices] == ["", "uploaded-air", "demo-air"]
    assert choices[0][1] == "Most recent: uploaded-air"
    assert dataset_choices(Ctx, "energy_daily") == []
