"""The evidence an evaluation rests on, drawn: the event study (weekly effects with their 95 %
intervals and the start line), the placebo starts against the real one, the synthetic control
against the treated units, and the effect itself as a forest-style marker with its interval.

Pure builders: an `Evaluation` (and the `Intervention` it judges) in, a figure dict out. Every
interval is drawn, never only its point: a reader must see how sure the estimate is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from components.charts import FigureContext, finish
from components.figures.plot import (
    Figure,
    add_annotation,
    add_shape,
    figure,
    hline,
    update_layout,
    values,
    vline,
)
from components.theme import PALETTE, colorway
from datasets.evidence.model import Evaluation, Intervention
from i18n import fmt_number, t

from .traffic.common import rgba

FONT_SIZE = 15  # the page is shown on projectors: a size above the dashboard's 13
CI_NAME = "ci95"  # the `legendgroup` of every interval trace, so a test (or a reader) finds them


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def signed(value: float | None, lang: str, digits: int = 1) -> str:
    """A number with its sign (+3.2, −1.0), the locale's way; "–" when unknown."""
    if value is None or not _finite(value):
        return "–"
    text = fmt_number(abs(value), lang, digits)
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def _band(x, lo, hi, colour: str, lang: str, axis: dict | None = None) -> list[dict]:
    """The 95 % interval as a filled band: its upper edge, then its lower edge filled up to it."""
    common = {
        "type": "scatter",
        "x": x,
        "mode": "lines",
        "line": {"width": 0, "color": colour},
        "legendgroup": CI_NAME,
        "hoverinfo": "skip",
        **(axis or {}),
    }
    upper = {**common, "y": hi, "showlegend": False, "name": t("evaluate.figure.ci", lang)}
    lower = {
        **common,
        "y": lo,
        "fill": "tonexty",
        "fillcolor": rgba(colour, 0.22),
        "name": t("evaluate.figure.ci", lang),
    }
    return [upper, lower]


def _start_label(fig, x: object, colour: str, lang: str) -> None:
    """ "Start" written at the top of the intervention's start line."""
    add_annotation(
        fig,
        t("evaluate.figure.start", lang),
        x=x,
        xref="x",
        xanchor="left",
        y=1,
        yanchor="top",
        font={"size": 13, "color": colour},
    )


def _zero_line(ctx: FigureContext) -> dict:
    return hline(0, line={"color": PALETTE[ctx.theme]["text"], "width": 1, "dash": "dot"})


def _axis_title(key: str, ev: Evaluation, lang: str) -> dict:
    return {"title": {"text": t(key, lang, unit=ev.unit_label)}}


# -- the event study -------------------------------------------------------------------------


def event_study_figure(ev: Evaluation, ctx: FigureContext, height: int | None = 380) -> Figure:
    """Weekly effect relative to the week before the start (week −1, fixed at 0), with its 95 %
    interval as a band and the start as a dashed line between weeks −1 and 0: before the line
    the band should hold zero (parallel trends), after it the effect shows."""
    lang = ctx.lang
    c = colorway(ctx.theme)
    frame = ev.event_study.sort_values("week") if len(ev.event_study) else ev.event_study
    traces: list[dict] = []
    if len(frame):
        x = values(frame["week"])
        traces += _band(x, values(frame["lo"]), values(frame["hi"]), c[0], lang)
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": values(frame["coef"]),
                "name": t("evaluate.figure.effect_week", lang),
                "mode": "lines+markers",
                "line": {"color": c[0], "width": 2.5},
                "marker": {"size": 6},
                "customdata": [[lo, hi] for lo, hi in zip(frame["lo"], frame["hi"], strict=True)],
                "hovertemplate": t("evaluate.figure.hover_week", lang)
                + " %{x}<br>%{y:.2f} "
                + ev.unit_label
                + " [%{customdata[0]:.2f}, %{customdata[1]:.2f}]<extra></extra>",
            }
        )
    fig = figure(traces)
    add_shape(fig, **_zero_line(ctx))
    add_shape(fig, **vline(-0.5, line={"color": c[3], "dash": "dash", "width": 2}))
    _start_label(fig, -0.5, c[3], lang)
    update_layout(
        fig,
        font={"size": FONT_SIZE},
        hovermode="closest",
        xaxis={"title": {"text": t("evaluate.figure.weeks", lang)}, "zeroline": False},
        yaxis=_axis_title("evaluate.figure.effect_axis", ev, lang),
    )
    return finish(fig, ctx, height)


# -- placebo starts --------------------------------------------------------------------------


def placebo_figure(
    ev: Evaluation, iv: Intervention, ctx: FigureContext, height: int | None = 340
) -> Figure:
    """The estimate at each fake start date (where nothing happened: they should sit near
    zero) beside the real start's estimate with its 95 % interval."""
    lang = ctx.lang
    c = colorway(ctx.theme)
    frame = ev.placebo_times
    traces: list[dict] = []
    if len(frame):
        starts = [_day(s) for s in frame["start"]]
        traces.append(
            {
                "type": "scatter",
                "x": starts,
                "y": values(frame["estimate"]),
                "name": t("evaluate.figure.placebo", lang),
                "mode": "markers",
                "marker": {
                    "size": 11,
                    "color": PALETTE[ctx.theme]["text"],
                    "symbol": "circle-open",
                },
                "hovertemplate": "%{x}<br>%{y:.2f} " + ev.unit_label + "<extra></extra>",
            }
        )
    lo, hi = ev.ci95
    traces.append(
        {
            "type": "scatter",
            "x": [_day(iv.start)],
            "y": [ev.estimate],
            "name": t("evaluate.figure.real", lang),
            "mode": "markers",
            "marker": {"size": 14, "color": c[3], "symbol": "diamond"},
            "error_y": {
                "type": "data",
                "symmetric": False,
                "array": [hi - ev.estimate],
                "arrayminus": [ev.estimate - lo],
                "color": c[3],
                "thickness": 2.5,
                "width": 8,
            },
            "legendgroup": CI_NAME,
            "hovertemplate": "%{x}<br>%{y:.2f} " + ev.unit_label + "<extra></extra>",
        }
    )
    fig = figure(traces)
    add_shape(fig, **_zero_line(ctx))
    update_layout(
        fig,
        font={"size": FONT_SIZE},
        hovermode="closest",
        xaxis={"title": {"text": t("evaluate.figure.fake_start", lang)}, "type": "date"},
        yaxis=_axis_title("evaluate.figure.estimate_axis", ev, lang),
    )
    return finish(fig, ctx, height)


def _day(value: object) -> str:
    """A date as plotly reads it on a date axis."""
    return pd.Timestamp(value).strftime("%Y-%m-%d")


# -- synthetic control -----------------------------------------------------------------------


def synthetic_series(sc: dict) -> pd.DataFrame:
    """The weekly treated and synthetic series of a synthetic-control result (`weeks`, the ISO
    date each week starts, beside `treated` and `synthetic`): empty when the result holds none
    or its lists disagree in length."""
    sc = sc if isinstance(sc, dict) else {}
    columns = [sc.get(name) for name in ("weeks", "treated", "synthetic")]
    if not all(isinstance(c, list) for c in columns) or len({len(c) for c in columns}) != 1:
        return pd.DataFrame(columns=["week", "treated", "synthetic"])
    weeks, treated, synthetic = columns
    return pd.DataFrame(
        {
            "week": pd.Series(weeks, dtype="str"),
            "treated": pd.to_numeric(pd.Series(treated, dtype="object"), errors="coerce"),
            "synthetic": pd.to_numeric(pd.Series(synthetic, dtype="object"), errors="coerce"),
        }
    )


def synthetic_figure(
    ev: Evaluation, iv: Intervention, ctx: FigureContext, height: int | None = 340
) -> Figure:
    """The treated units' weekly outcome against their synthetic control (a weighted mix of
    control units that tracked them before the start); the gap after the start is the effect."""
    lang = ctx.lang
    c = colorway(ctx.theme)
    frame = synthetic_series(ev.synthetic_control)
    x = [_day(v) for v in frame["week"]]
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": values(frame[column].astype("float64")),
            "name": t(f"evaluate.figure.{column}", lang),
            "mode": "lines",
            "line": {"color": colour, "width": width, "dash": dash},
            "hovertemplate": "%{x}<br>%{y:.2f} "
            + ev.unit_label
            + "<extra>%{fullData.name}</extra>",
        }
        for column, colour, width, dash in (
            ("synthetic", c[0], 2, "dash"),
            ("treated", c[3], 2.5, "solid"),
        )
    ]
    fig = figure(traces)
    at = _day(iv.start)
    add_shape(fig, **vline(at, line={"color": c[3], "dash": "dash", "width": 1.5}))
    _start_label(fig, at, c[3], lang)
    update_layout(
        fig,
        font={"size": FONT_SIZE},
        hovermode="x unified",
        xaxis={"title": {"text": t("evaluate.figure.week_of", lang)}, "type": "date"},
        yaxis=_axis_title("evaluate.figure.outcome_axis", ev, lang),
    )
    return finish(fig, ctx, height)


# -- the effect --------------------------------------------------------------------------------


def _estimates(ev: Evaluation, lang: str) -> list[tuple[str, float, Sequence[float] | None]]:
    """(label, effect in %, its 95 % interval or None) per method that gave one."""
    rows = [(t("evaluate.method.did", lang), ev.estimate_pct, ev.ci95_pct)]
    sc = ev.synthetic_control if isinstance(ev.synthetic_control, dict) else {}
    pct = sc.get("estimate_pct")
    if _finite(pct):
        ci = sc.get("ci95_pct")
        ok = isinstance(ci, list | tuple) and len(ci) == 2 and all(_finite(v) for v in ci)
        rows.append((t("evaluate.method.synthetic", lang), float(pct), ci if ok else None))
    return rows


def effect_figure(ev: Evaluation, ctx: FigureContext, height: int | None = 200) -> Figure:
    """The effect in percent as a forest plot: one row per method (difference in differences,
    and synthetic control when there is one), a point with its 95 % interval, against zero."""
    lang = ctx.lang
    c = colorway(ctx.theme)
    rows = _estimates(ev, lang)
    traces = []
    for i, (label, pct, ci) in enumerate(rows):
        trace = {
            "type": "scatter",
            "x": [pct],
            "y": [label],
            "name": label,
            "mode": "markers",
            "marker": {"size": 16, "color": c[3] if i == 0 else c[0], "symbol": "square"},
            "showlegend": False,
            "hovertemplate": "%{x:.1f} %<extra>%{y}</extra>",
        }
        if ci is not None:
            trace["error_x"] = {
                "type": "data",
                "symmetric": False,
                "array": [ci[1] - pct],
                "arrayminus": [pct - ci[0]],
                "thickness": 3,
                "width": 10,
                "color": trace["marker"]["color"],
            }
            trace["legendgroup"] = CI_NAME
        traces.append(trace)
    fig = figure(traces)
    add_shape(
        fig,
        type="line",
        xref="x",
        x0=0,
        x1=0,
        yref="y domain",
        y0=0,
        y1=1,
        line={"color": PALETTE[ctx.theme]["text"], "width": 1, "dash": "dot"},
    )
    update_layout(
        fig,
        font={"size": FONT_SIZE},
        xaxis={"title": {"text": t("evaluate.figure.effect_pct", lang)}, "ticksuffix": " %"},
        yaxis={"type": "category", "autorange": "reversed", "tickfont": {"size": 14}},
        margin={"l": 190, "t": 12},
    )
    return finish(fig, ctx, height)
