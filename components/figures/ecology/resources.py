"""Energy, green mobility and waste: sums per period on period axes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.charts import FigureContext
from components.figures.plot import (
    Figure,
    axis_refs,
    figure,
    secondary_y_axes,
    subplot_grid,
    update_axes,
    update_layout,
    values,
)
from components.theme import PALETTE, colorway
from datasets.queries.ecology import is_recycled
from i18n import t

from .common import (
    DAY_MS,
    MOBILITY_SERIES,
    SECTOR_COLOURS,
    SHARE_LINE,
    STREAM_COLOURS,
    axis_title,
    iso_text,
    month_label,
    period_label,
    period_stamps,
    period_step_days,
    rows_by,
    sector_label,
    sep,
    share_axis,
    stream_label,
    sums_by,
)

# -- energy, mobility, waste -----------------------------------------------------------------------


WEEK_MS = 7 * 24 * 3600 * 1000


def _period_axis(
    periods: pd.Series, lang: str, max_ticks: int = 12, monthly: bool | None = None
) -> dict:
    """A date axis for bucketed values: month names (at most `max_ticks`) over long periods,
    plotly's own ticks over short ones; monthly buckets get their range set, so that one or
    two months still fill the axis."""
    days = period_stamps(periods)
    days = days[~np.isnat(days)]
    months = len(np.unique(days.astype("datetime64[M]")))
    if monthly is None:
        monthly = period_step_days(days) >= 28
    first_month = pd.Timestamp(days.min()).to_period("M")
    axis: dict = {"type": "date", "hoverformat": t("eco.fmt.day", lang), "nticks": max_ticks // 2}
    if monthly:
        first = first_month.start_time
        last = pd.Timestamp(days.max()).to_period("M").end_time
        margin = pd.Timedelta(days=8)
        axis["range"] = [iso_text(first - margin), iso_text(last + margin)]
    if months < 4 and not monthly:
        return axis
    step = next((k for k in (1, 2, 3, 4, 6, 12) if months / k <= max_ticks), 12)
    one_year = len(np.unique(days.astype("datetime64[Y]"))) == 1
    axis.pop("nticks")
    axis.update(
        dtick=f"M{step}",
        tick0=iso_text(first_month.start_time),
        tickformat="%b" if one_year else "%b\n%Y",
        ticklabelmode="period",
    )
    return axis


def _bar_width(periods: pd.Series, monthly: bool | None = None) -> float:
    """Bar width in ms: set, because a lone bar (one month chosen) has no spacing to go by."""
    days = 30.0 if monthly else period_step_days(periods)
    return DAY_MS * days * 0.8


def _period_placement(periods: pd.Series, monthly: bool | None = None) -> dict:
    """Trace settings that centre a bucket's bar or point in its month or week."""
    days = period_step_days(periods)
    if monthly or (monthly is None and days >= 28):
        return {"xperiod": "M1", "xperiodalignment": "middle"}
    if days >= 7:
        return {"xperiod": WEEK_MS, "xperiod0": "2017-01-02", "xperiodalignment": "middle"}
    return {}


def _secondary_layout(fig: Figure, axis: dict, left: dict, right: dict) -> None:
    """Stacked bars on the left axis, a share line on the right one (the layout of
    `make_subplots(specs=[[{"secondary_y": True}]])` and its `update_yaxes` calls)."""
    update_layout(fig, **secondary_y_axes())
    update_layout(
        fig,
        barmode="stack",
        bargap=0.2,
        hovermode="closest",
        xaxis=axis,
        legend={"traceorder": "normal"},
        yaxis=left,
        yaxis2=right,
    )


def _sector_order(sectors) -> list:
    """Known sectors in their fixed order, then the others by name."""
    known = list(SECTOR_COLOURS)
    return sorted(
        sectors, key=lambda s: (s not in SECTOR_COLOURS, known.index(s) if s in known else 0, s)
    )


def energy_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Electricity per day by sector (stacked) and the renewable share (line, right axis)."""
    lang = ctx.lang
    bucket_days = period_step_days(frame["period"])
    placement = _period_placement(frame["period"])
    width = _bar_width(frame["period"])
    fig = figure()
    extra = iter(c for c in colorway(ctx.theme) if c not in SECTOR_COLOURS.values())
    periods = values(frame["period"])
    electricity = values(frame["electricity_gwh_day"])
    labels = [[period_label(p, bucket_days, lang)] for p in frame["period"]]
    rows = rows_by(frame["sector"])
    for sector in _sector_order(rows):
        at = rows[sector]
        name = sector_label(sector, lang)
        fig["data"].append(
            {
                "type": "bar",
                "x": periods[at],
                "y": electricity[at],
                **placement,
                "width": width,
                "name": name,
                "marker": {"color": SECTOR_COLOURS.get(sector) or next(extra, "#999999")},
                "customdata": [labels[i] for i in at],
                "hovertemplate": "<b>%{customdata[0]}</b><br>"
                + name
                + sep(lang)
                + "%{y:,.1f} "
                + t("eco.unit.gwh_day", lang)
                + "<extra></extra>",
                "xaxis": "x",
                "yaxis": "y",
            }
        )
    days, total, renewable = sums_by(periods, electricity, values(frame["renewable_gwh_day"]))
    share = renewable / np.where(total > 0, total, np.nan)
    fig["data"].append(
        {
            "type": "scatter",
            "x": days,
            "y": share,
            **placement,
            "mode": "lines+markers",
            "name": t("eco.legend.renewable_share", lang),
            "line": {"color": "#009E73", "width": 3},
            "marker": {
                "size": 7,
                "color": "#009E73",
                "line": {"width": 1.5, "color": PALETTE[ctx.theme]["paper"]},
            },
            "customdata": [[period_label(p, bucket_days, lang)] for p in days],
            "hovertemplate": "<b>%{customdata[0]}</b><br>"
            + t("eco.legend.renewable_share", lang)
            + sep(lang)
            + "%{y:.1%}<extra></extra>",
            "xaxis": "x",
            "yaxis": "y2",
        }
    )
    top = float(np.nanmax(share)) if (~np.isnan(share)).any() else 0.2
    _secondary_layout(
        fig,
        _period_axis(frame["period"], lang),
        left={"title": axis_title(t("eco.axis.gwh_day", lang)), "separatethousands": True},
        right={
            "title": axis_title(t("eco.legend.renewable_share", lang)),
            **share_axis(max(top * 1.25, 0.05)),
            "showgrid": False,
        },
    )
    return fig


def mobility_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Riders, trips and charging sessions per day, one small panel per mode."""
    lang = ctx.lang
    series = [(column, colour) for column, colour in MOBILITY_SERIES if column in frame.columns]
    rows = 2 if len(series) > 2 else 1
    cols = 2 if len(series) > 1 else 1
    fig = figure(
        **subplot_grid(
            rows,
            cols,
            shared_xaxes=True,
            titles=[t(f"eco.mobility.{column}", lang) for column, _ in series],
            vertical_spacing=0.16,
            horizontal_spacing=0.16,
        )
    )
    bucket_days = period_step_days(frame["period"])
    placement = _period_placement(frame["period"])
    periods = values(frame["period"])
    labels = [[period_label(p, bucket_days, lang)] for p in frame["period"]]
    for i, (column, colour) in enumerate(series):
        name = t(f"eco.mobility.{column}", lang)
        fig["data"].append(
            {
                "type": "scatter",
                "x": periods,
                "y": values(frame[column]),
                **placement,
                "mode": "lines",
                "name": name,
                "line": {"color": colour, "width": 2},
                "fill": "tozeroy",
                "fillcolor": colour + "22",
                "customdata": labels,
                "hovertemplate": "<b>%{customdata[0]}</b><br>"
                + name
                + sep(lang)
                + "%{y:,.0f} "
                + t("eco.unit.per_day", lang)
                + "<extra></extra>",
                "showlegend": False,
                **axis_refs(i // cols + 1, i % cols + 1, cols),
            }
        )
    update_axes(fig, "y", rangemode="tozero", separatethousands=True, exponentformat="none")
    axis = _period_axis(frame["period"], lang, 5)
    update_axes(fig, "x", **{k: v for k, v in axis.items() if k != "type"})
    for title in fig["layout"].get("annotations", []):
        title["font"] = {**title.get("font", {}), "size": 13}
    update_layout(fig, hovermode="closest", margin={"t": 32})
    return fig


def _stream_order(streams: set) -> list:
    """Known streams in their fixed order, then the others by name."""
    return [s for s in STREAM_COLOURS if s in streams] + sorted(streams - set(STREAM_COLOURS))


def waste_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Household waste per month by stream (stacked) and the recycled share (line)."""
    lang = ctx.lang
    placement = _period_placement(frame["month"], monthly=True)
    width = _bar_width(frame["month"], monthly=True)
    fig = figure()
    extra = iter(c for c in colorway(ctx.theme) if c not in STREAM_COLOURS.values())
    months = values(frame["month"])
    tonnes = values(frame["tonnes"])
    labels = [[month_label(m, lang)] for m in frame["month"]]
    rows = rows_by(frame["stream"])
    for stream in _stream_order(set(rows)):
        at = rows[stream]
        name = stream_label(stream, lang)
        fig["data"].append(
            {
                "type": "bar",
                "x": months[at],
                "y": tonnes[at],
                **placement,
                "width": width,
                "name": name,
                "marker": {"color": STREAM_COLOURS.get(stream) or next(extra, "#999999")},
                "customdata": [labels[i] for i in at],
                "hovertemplate": "<b>%{customdata[0]}</b><br>"
                + name
                + sep(lang)
                + "%{y:,.0f} t<extra></extra>",
                "xaxis": "x",
                "yaxis": "y",
            }
        )
    recycled = is_recycled(frame["stream"]).to_numpy(bool)
    days, total, kept = sums_by(months, tonnes, np.where(recycled, tonnes, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = kept / total
    fig["data"].append(
        {
            "type": "scatter",
            "x": days,
            "y": share,
            **placement,
            "mode": "lines+markers",
            "name": t("eco.legend.recycled_share", lang),
            "line": {"color": SHARE_LINE[ctx.theme], "width": 2.5},
            "marker": {"size": 7},
            "customdata": [[month_label(m, lang)] for m in days],
            "hovertemplate": "<b>%{customdata[0]}</b><br>"
            + t("eco.legend.recycled_share", lang)
            + sep(lang)
            + "%{y:.1%}<extra></extra>",
            "xaxis": "x",
            "yaxis": "y2",
        }
    )
    top = float(np.nanmax(share)) if (~np.isnan(share)).any() else 0.05
    _secondary_layout(
        fig,
        _period_axis(frame["month"], lang, monthly=True),
        left={
            "title": axis_title(t("eco.axis.tonnes", lang)),
            "separatethousands": True,
            "exponentformat": "none",
        },
        right={
            "title": axis_title(t("eco.legend.recycled_share", lang)),
            **share_axis(max(top * 1.3, 0.01)),
            "showgrid": False,
        },
    )
    return fig
