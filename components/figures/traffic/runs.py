"""Emergency runs against distance, and the real metro flows."""

from __future__ import annotations

import pandas as pd

from components.charts import FigureContext, finish
from components.figures.plot import (
    KEY_FIGURE,
    Figure,
    add_annotation,
    figure,
    update_layout,
    values,
)
from components.theme import PALETTE, colorway
from datasets.queries.traffic import (
    EMERGENCY_MAX_KM,
)
from i18n import fmt_number, t

from .common import EMERGENCY_MIN_RUNS, customdata_rows, rgba

# -- 7. emergency runs ----------------------------------------------------------------------------


def _emergency_traces(part: pd.DataFrame, priority: bool, colour: str, lang: str) -> list[dict]:
    """The interquartile band and the median line of one group of runs."""
    km = part["km_from"].astype(int)
    x = km + 0.5
    band = {
        "type": "scatter",
        "x": values(pd.concat([x, x[::-1]])),
        "y": values(pd.concat([part["p75_min"], part["p25_min"][::-1]])),
        "mode": "lines",
        "fill": "toself",
        "fillcolor": rgba(colour, 0.15),
        "line": {"width": 0},
        "hoverinfo": "skip",
        "showlegend": False,
        "legendgroup": str(priority),
    }
    ranges = [f"≥ {k}" if k >= EMERGENCY_MAX_KM else f"{k}–{k + 1}" for k in km.tolist()]
    median = {
        "type": "scatter",
        "x": values(x),
        "y": values(part["median_min"]),
        "name": t(f"traffic.emergency.{'with' if priority else 'without'}", lang),
        "legendgroup": str(priority),
        "mode": "lines+markers",
        "line": {"color": colour, "width": 2.5},
        "marker": {"size": 6},
        "customdata": customdata_rows(ranges, part["runs"]),
        "hovertemplate": (
            "%{customdata[0]} km<br>"
            + t("traffic.hover.median", lang)
            + " %{y:.1f} min<br>"
            + t("traffic.hover.runs", lang)
            + " %{customdata[1]:,}<extra>%{fullData.name}</extra>"
        ),
    }
    return [band, median]


def _emergency_summary(totals: pd.DataFrame, lang: str) -> str:
    """Median minutes, minutes per km and runs with and without priority ("" without totals)."""
    parts = []
    for priority in (True, False):
        if priority in totals.index:
            row = totals.loc[priority]
            parts.append(
                t(
                    f"traffic.emergency.summary.{'with' if priority else 'without'}",
                    lang,
                    minutes=fmt_number(row["median_min"], lang, 1),
                    per_km=fmt_number(row["min_per_km"], lang, 1),
                    runs=fmt_number(row["runs"], lang),
                )
            )
    return "<br>".join(parts)


def emergency_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Median travel minutes against distance, with and without signal priority."""
    lang = ctx.lang
    c = colorway(ctx.theme)
    colours = {True: c[2], False: c[3]}
    totals = frame[frame["km_from"].isna()].set_index("priority")
    bins = frame[frame["km_from"].notna() & (frame["runs"] >= EMERGENCY_MIN_RUNS)]
    traces = []
    for priority in (False, True):
        part = bins[bins["priority"] == priority].sort_values("km_from")
        if not part.empty:
            traces += _emergency_traces(part, priority, colours[priority], lang)
    fig = figure(traces)
    summary = _emergency_summary(totals, lang)
    if summary:
        add_annotation(
            fig,
            summary,
            x=0.02,
            y=0.98,
            xanchor="left",
            yanchor="top",
            align="left",
            bgcolor=rgba(PALETTE[ctx.theme]["paper"], 0.85),
            font={"size": 11, "color": PALETTE[ctx.theme]["text"]},
            name=KEY_FIGURE,
        )
    update_layout(
        fig,
        hovermode="closest",
        xaxis={"title": {"text": t("traffic.axis.distance", lang)}, "rangemode": "tozero"},
        yaxis={"title": {"text": t("traffic.axis.travel_min", lang)}, "rangemode": "tozero"},
        legend={"x": 0, "y": 1.02, "yanchor": "bottom"},
        margin={"t": 40},
    )
    return finish(fig, ctx)


# -- 8. real metro flows --------------------------------------------------------------------------


def _metro_profile_traces(frame: pd.DataFrame, ctx: FigureContext) -> list[dict]:
    """The average weekday and weekend day, on the times of one (arbitrary) Monday."""
    c = colorway(ctx.theme)
    base = pd.Timestamp("2000-01-03")
    traces = []
    for i, day_type in enumerate(("weekday", "weekend")):
        part = frame[frame["day_type"] == day_type]
        if part.empty:
            continue
        x = base + pd.to_timedelta(part["minute_of_day"].astype("int64"), unit="min")
        traces.append(
            {
                "type": "scatter",
                "x": values(x),
                "y": values(part["inflow"]),
                "name": t(f"traffic.metro.{day_type}", ctx.lang),
                "mode": "lines",
                "line": {"color": c[i], "width": 2.5 if day_type == "weekday" else 2},
                "xhoverformat": "%H:%M",
                "hovertemplate": "%{x}<br>%{y:,.0f}<extra>%{fullData.name}</extra>",
            }
        )
    return traces


def metro_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Network inflow per 10 minutes: the average weekday and weekend day, or every day."""
    lang = ctx.lang
    profile = "day_type" in frame.columns
    if profile:
        fig = figure(
            _metro_profile_traces(frame, ctx),
            xaxis={"tickformat": "%H:%M", "dtick": 3 * 3600 * 1000},
        )
        x_title = t("traffic.axis.time_of_day", lang)
    else:
        days = {
            "type": "scatter",
            "x": values(frame["ts"]),
            "y": values(frame["inflow"]),
            "name": t("traffic.metro.inflow", lang),
            "mode": "lines",
            "line": {"color": colorway(ctx.theme)[0], "width": 1},
            "xhoverformat": "%a %Y-%m-%d %H:%M",
            "hovertemplate": "%{x}<br>%{y:,.0f}<extra></extra>",
        }
        fig = figure([days])
        x_title = t("traffic.axis.date", lang)
    update_layout(
        fig,
        hovermode="x unified" if profile else "closest",
        xaxis={"title": {"text": x_title}},
        yaxis={"title": {"text": t("traffic.axis.metro_inflow", lang)}, "rangemode": "tozero"},
    )
    return finish(fig, ctx)
