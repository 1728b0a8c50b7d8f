"""An explorer view drawn: the dataset and the URL options in, (figure, note) out.

The explorer page (`/data/<id>`) and a deck's slide draw a view with this one function, so a
slide shows the very chart the explorer showed. A slide holds the view as chart id `EXPLORER`
and a query string: the explorer's own options plus `dataset=<id>`.
"""

from __future__ import annotations

from components.charts import FigureContext, blank_figure, finish_json
from components.explorer_figure import MAP_HEIGHT, Axes, explorer_figure
from components.explorer_query import spec_from_options
from datasets.catalog import Dataset
from datasets.queries import explorer as queries
from datasets.queries.explorer import (
    MAX_CATEGORIES,
    MAX_POINTS,
    MAX_SERIES,
    NAMED_LEFT_OUT,
    Col,
    Spec,
    columns_of,
)
from datasets.query import QueryEngine
from datasets.schemas import KINDS
from i18n import fmt_number, t, unit_text

EXPLORER = "explorer"  # the chart id of a slide that shows an explorer view
DATASET_OPTION = "dataset"  # the slide's query option naming the dataset
GRAPH_HEIGHT = 460


def preferred_time(dataset: Dataset) -> str | None:
    kind = KINDS.get(dataset.meta.kind)
    return kind.time_column if kind else None


def series_note(
    engine: QueryEngine, dataset: Dataset, spec: Spec, cols: list[Col], lang: str
) -> str:
    """ "Showing the 7 largest of 19 series of station; 12 more not shown: …", or "" when every
    series is drawn."""
    left = queries.series_left_out(engine, dataset, spec, cols)
    if left is None or left.empty:
        return ""
    total = int(left["total"].iloc[0])
    names = [str(v) for v in left["v"].head(NAMED_LEFT_OUT)]
    if len(left) > NAMED_LEFT_OUT:
        names.append("…")
    return t(
        "explorer.note.series_left_out",
        lang,
        shown=MAX_SERIES,
        total=fmt_number(total, lang),
        column=spec.color,
        n=fmt_number(total - MAX_SERIES, lang),
        names=", ".join(names),
    )


def explorer_chart(
    engine: QueryEngine, dataset: Dataset, options: dict, fig_ctx: FigureContext
) -> tuple[dict, str]:
    """(figure as JSON, note) for the options; the note says what was capped or adjusted."""
    lang = fig_ctx.lang
    cols = columns_of(dataset)
    spec = spec_from_options(options, cols, preferred_time(dataset))
    frame, query = queries.chart_frame(engine, dataset, spec, cols)
    notes = [t(key, lang) for key in spec.notes]
    if frame.empty:
        return blank_figure(fig_ctx), " ".join([*notes, t("chart.empty", lang)])
    units = tuple((c.name, unit_text(c.unit, lang)) for c in cols if c.unit)
    axes = Axes(query.x_role, query.bucket, units)
    figure = explorer_figure(frame, spec, axes, fig_ctx)
    height = MAP_HEIGHT if spec.chart == "map" else GRAPH_HEIGHT
    shown = t("explorer.note.points", lang, n=fmt_number(len(frame), lang))
    if query.bucket:
        bucket_name = t(f"explorer.bucket.{query.bucket}", lang)
        shown += " " + t("explorer.note.bucket", lang, bucket=bucket_name)
    if len(frame) >= MAX_POINTS:
        shown += " " + t("explorer.note.capped", lang, n=fmt_number(MAX_POINTS, lang))
    left_out = series_note(engine, dataset, spec, cols, lang)
    if left_out:
        shown += " " + left_out
    if query.x_role in {"text", "bool"} and frame["x"].nunique() >= MAX_CATEGORIES:
        shown += " " + t("explorer.note.categories", lang, n=MAX_CATEGORIES)
    return finish_json(figure, fig_ctx, height), " ".join([*notes, shown])
