"""Traffic over time: volume and speed, the hour by weekday heatmap, the adaptive-signal pilot."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from components.charts import FigureContext, finish
from components.evidence import (
    Evidence,
    attached,
    ci_text,
    details_href,
    effect_text,
    plotly_text,
    pre_trend_text,
    summary_of,
    wrapped,
)
from components.figures.plot import (
    KEY_FIGURE,
    Figure,
    add_annotation,
    add_shape,
    figure,
    update_layout,
    values,
    vline,
    vrect,
)
from components.theme import PALETTE, colorway
from datasets.queries.traffic import (
    did_summary,
    pilot_weekly,
    pilot_windows,
)
from i18n import fmt_date, fmt_number, fmt_percent, t

from .common import HOVER_FORMAT, corner_note, rgba, viridis_scale, weekday_names

# -- 3. volume and speed over time ----------------------------------------------------------------


def volume_speed_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Mean flow per detector and mean speed per time bucket, on two y axes."""
    lang = ctx.lang
    c = colorway(ctx.theme)
    bucket = str(frame["bucket"].iloc[0])
    requested = str(frame["requested"].iloc[0])
    hover = HOVER_FORMAT.get(bucket, "%Y-%m-%d")
    x = values(frame["period_start"])
    flow = {
        "type": "scatter",
        "x": x,
        "y": values(frame["flow_vph"]),
        "name": t("traffic.series.flow", lang),
        "mode": "lines",
        "line": {"color": c[0], "width": 1.5},
        "fill": "tozeroy",
        "fillcolor": rgba(c[0], 0.15),
        "xhoverformat": hover,
        "hovertemplate": "%{y:,.0f} " + t("traffic.unit.vph", lang) + "<extra></extra>",
    }
    speed = {
        "type": "scatter",
        "x": x,
        "y": values(frame["speed_kmh"]),
        "name": t("traffic.series.speed", lang),
        "mode": "lines",
        "line": {"color": c[1], "width": 2},
        "yaxis": "y2",
        "xhoverformat": hover,
        "hovertemplate": "%{y:.1f} km/h<extra></extra>",
    }
    # Both axes start at zero; the flow axis reaches higher so that its area stays in the lower
    # part of the plot and the speed line runs above it instead of through it.
    flow_max = float(frame["flow_vph"].max() or 1)
    speed_max = float(frame["speed_kmh"].max() or 1)
    fig = figure(
        [flow, speed],
        hovermode="x unified",
        xaxis={"title": {"text": t(f"traffic.axis.time.{bucket}", lang)}},
        yaxis={
            "title": {"text": t("traffic.axis.flow", lang), "font": {"color": c[0]}},
            "range": [0, flow_max * 1.75],
            "tickmode": "auto",
        },
        yaxis2={
            "title": {"text": t("traffic.axis.speed", lang), "font": {"color": c[1]}},
            "overlaying": "y",
            "side": "right",
            "range": [0, speed_max * 1.08],
            "tickmode": "auto",
            "showgrid": False,
        },
        margin={"r": 64},
    )
    if bucket != requested:
        corner_note(
            fig,
            t(
                "traffic.volume.coarsened",
                lang,
                requested=t(f"traffic.bucket.{requested}", lang),
                used=t(f"traffic.bucket.{bucket}", lang),
            ),
            ctx,
            y=1.08,
        )
    return finish(fig, ctx)


# -- 4. hour x weekday heatmap --------------------------------------------------------------------


def hour_weekday_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Mean speed (or flow) per hour of the day and day of the week."""
    lang = ctx.lang
    measure = "flow" if ctx.option == "flow" else "speed"
    column = "flow_vph" if measure == "flow" else "speed_kmh"
    unit = t("traffic.unit.vph", lang) if measure == "flow" else "km/h"
    # a groupby mean, unstacked: what `pivot_table` computes, in a quarter of the time
    grid = frame.groupby(["weekday", "hour"])[column].mean().unstack("hour")
    grid = grid.reindex(index=range(1, 8), columns=range(24))
    days = weekday_names(lang)
    heatmap = {
        "type": "heatmap",
        # orjson writes only C-ordered arrays; a pivot may come out Fortran-ordered
        "z": np.ascontiguousarray(grid.to_numpy(dtype="float64", na_value=np.nan)),
        "x": [f"{h:02d}" for h in grid.columns],
        "y": [days[d - 1] for d in grid.index],
        "colorscale": viridis_scale(),
        "colorbar": {"title": {"text": unit, "side": "right"}, "thickness": 12},
        "xgap": 1,
        "ygap": 1,
        "hovertemplate": (
            "%{y} %{x}:00<br>"
            + t(f"traffic.measure.{measure}", lang)
            + ": %{z:,.1f} "
            + unit
            + "<extra></extra>"
        ),
    }
    fig = figure(
        [heatmap],
        xaxis={"title": {"text": t("traffic.axis.hour", lang)}, "showgrid": False},
        yaxis={"autorange": "reversed", "showgrid": False},
    )
    return finish(fig, ctx)


# -- 5. adaptive-signal pilot ---------------------------------------------------------------------


def _signed_percent(value: float | None, lang: str) -> str:
    if value is None:
        return "–"
    return ("+" if value > 0 else "") + fmt_percent(value, lang, 1)


def _pilot_trace(part: pd.DataFrame, group: str, colour: str, lang: str) -> dict:
    return {
        "type": "scatter",
        "x": values(part["week"]),
        "y": values(part["speed_kmh"]),
        "name": t(f"traffic.pilot.{group}", lang),
        "mode": "lines+markers",
        "marker": {"size": 4},
        "line": {"color": colour, "width": 2.5 if group == "pilot" else 2},
        "xhoverformat": "%Y-%m-%d",
        "hovertemplate": t("traffic.hover.week_of", lang)
        + " %{x}<br>%{y:.1f} km/h<extra>%{fullData.name}</extra>",
    }


def _pilot_windows(fig: Figure, start: dt.date, lang: str) -> None:
    """The before and after windows as shaded bands labelled at their top left corner (what
    plotly's `add_vrect(..., annotation_position="top left")` writes)."""
    (b0, b1), (a0, a1) = pilot_windows(start)
    shade = "rgba(148,163,184,0.16)"
    for name, (lo, hi) in (("before", (b0, b1)), ("after", (a0, a1))):
        end = hi + dt.timedelta(days=1)
        add_shape(fig, **vrect(lo, end, fillcolor=shade, line={"width": 0}, layer="below"))
        add_annotation(
            fig,
            t(f"traffic.pilot.window.{name}", lang),
            font={"size": 11},
            x=lo,
            xref="x",
            xanchor="left",
            y=1,
            yref="y domain",
            yanchor="top",
        )


def _pilot_start(fig: Figure, start: dt.date, colour: str, ctx: FigureContext) -> None:
    """A dashed line at the pilot start, and its date at the foot of the line."""
    at = dt.datetime.combine(start, dt.time())  # midnight, as the weekly x values
    add_shape(fig, **vline(at, line={"color": colour, "dash": "dash", "width": 1.5}))
    # on the x axis (no xref: plotly.js's default), so not through `add_annotation`
    fig["layout"].setdefault("annotations", []).append(
        {
            "x": at,
            "y": 0,
            "yref": "y domain",  # the plot's foot, above the summary band under it
            "yanchor": "bottom",
            "xanchor": "left",
            "text": t("traffic.pilot.start", ctx.lang, date=fmt_date(start, ctx.lang)),
            "showarrow": False,
            "font": {"size": 11, "color": colour},
            "bgcolor": PALETTE[ctx.theme]["paper"],
        }
    )


def _did_text(summary: dict, lang: str) -> str:
    """Before → after per group, and the difference in differences, in the locale."""
    lines = []
    for group in ("pilot", "control"):
        before, after = summary[f"{group}_before"], summary[f"{group}_after"]
        lines.append(
            t(
                f"traffic.pilot.summary.{group}",
                lang,
                before=fmt_number(before, lang, 1),
                after=fmt_number(after, lang, 1),
                change=_signed_percent(summary[f"{group}_change"], lang),
            )
        )
    did = summary["did"]
    lines.append(
        "<b>"
        + t(
            "traffic.pilot.summary.did",
            lang,
            did="–" if did is None else ("+" if did > 0 else "") + fmt_number(did * 100, lang, 1),
        )
        + "</b>"
    )
    return "<br>".join(lines)


# The summary under the pilot chart: about this many Latin characters a line, which a slide's
# projector type still fits across a 1366 px screen.
SUMMARY_WIDTH = 96


def _evaluation_text(evidence: Evidence, lang: str) -> str:
    """The key figure: the effect in percent, its 95 % interval and the pre-trend test."""
    ev = evidence.evaluation
    effect = t("traffic.pilot.evaluation.effect", lang, effect=effect_text(ev, lang))
    return f"<b>{effect}</b><br>{ci_text(ev, lang)} · {pre_trend_text(ev, lang)}"


def _footnote_lines(evidence: Evidence | None, lang: str) -> list[str]:
    """What the chart says under its axis: the evaluation's summary with the link to its
    details, or why there is none (the simple difference in differences is shown then)."""
    if evidence is not None and evidence.ok:
        lines = [plotly_text(line) for line in wrapped(summary_of(evidence, lang), SUMMARY_WIDTH)]
        href = details_href(evidence.intervention, lang)
        link = t("traffic.pilot.evaluation.details", lang)
        lines[-1] += f' <a href="{href}" target="_self">{link}</a>'
        return lines
    problem = evidence.problem if evidence is not None and evidence.problem else "none"
    return wrapped(t(f"traffic.pilot.evaluation.{problem}", lang), SUMMARY_WIDTH)


def _footnote(fig: Figure, lines: list[str], ctx: FigureContext) -> None:
    """`lines` in the band under the x axis, which takes a share of the height that grows
    with them (paper coordinates: a slide's larger type gets a larger band too)."""
    bottom = min(0.5, 0.2 + 0.09 * len(lines))  # enough for a printed slide's 24 px type
    update_layout(fig, yaxis={"domain": [bottom, 1]})
    add_annotation(
        fig,
        "<br>".join(lines),
        x=0,
        y=0,
        xanchor="left",
        yanchor="bottom",
        align="left",
        font={"size": 12, "color": PALETTE[ctx.theme]["text"]},
        name="pilot-summary",
    )


def pilot_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Weekly peak-hour speed of pilot and control detectors around the pilot start, with the
    pilot's causal evaluation (effect, 95 % interval, pre-trend test, summary) when the frame
    carries one (`components.evidence.attach`), else the simple difference in differences."""
    lang = ctx.lang
    c = colorway(ctx.theme)
    start = pd.Timestamp(frame["pilot_start"].iloc[0]).date()
    weekly = pilot_weekly(frame)
    colours = {"pilot": c[3], "control": c[0]}
    traces = []
    for group in ("control", "pilot"):
        part = weekly[weekly["group"] == group]
        if not part.empty:
            traces.append(_pilot_trace(part, group, colours[group], lang))
    fig = figure(traces)
    _pilot_windows(fig, start, lang)
    _pilot_start(fig, start, c[3], ctx)
    evidence = attached(frame)
    evaluated = evidence is not None and evidence.ok
    add_annotation(
        fig,
        _evaluation_text(evidence, lang) if evaluated else _did_text(did_summary(frame), lang),
        x=1,
        y=1.02,
        xanchor="right",
        yanchor="bottom",
        align="right",
        font={"size": 12, "color": PALETTE[ctx.theme]["text"]},
        name=KEY_FIGURE,
    )
    _footnote(fig, _footnote_lines(evidence, lang), ctx)
    update_layout(
        fig,
        hovermode="closest",
        xaxis={"title": {"text": t("traffic.axis.week", lang)}},
        yaxis={"title": {"text": t("traffic.axis.peak_speed", lang)}},
        legend={"x": 0, "y": 1.02, "yanchor": "bottom"},
        margin={"t": 88, "b": 8},  # two lines of the key figure in a slide's type
    )
    return finish(fig, ctx)
