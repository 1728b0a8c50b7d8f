"""The air quality index: daily bars and the calendar of days."""

from __future__ import annotations

import numpy as np
import pandas as pd
from babel import dates as babel_dates

from components.charts import FigureContext
from components.figures.plot import (
    Figure,
    add_shape,
    figure,
    hline,
    update_layout,
    values,
)
from components.theme import PALETTE
from datasets.aqi import CATEGORIES
from i18n import BABEL_LOCALES, t

from .common import (
    CALENDAR_MIN_WEEKS,
    DAY_MS,
    axis_title,
    category_label,
    day_label,
    integer_label,
    iso_text,
    month_label,
    pollutant_label,
    rows_by,
    sep,
    standard_of,
)

# -- AQI -----------------------------------------------------------------------------------------


def _aqi_hover(frame: pd.DataFrame, standard: str, lang: str) -> list[str]:
    aqi_label = t("eco.hover.aqi", lang) + sep(lang)
    primary_label = t("eco.hover.primary", lang) + sep(lang)
    lines = []
    for date, aqi, category, primary in zip(
        frame["date"], frame["aqi"], frame["category"], frame["primary"], strict=True
    ):
        text = f"<b>{day_label(date, lang)}</b><br>{aqi_label}"
        text += f"{integer_label(int(aqi), lang)} · {category_label(standard, category, lang)}"
        text += f"<br>{primary_label}"
        text += pollutant_label(primary if isinstance(primary, str) else None, lang)
        lines.append(text)
    return lines


def aqi_daily_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Daily city AQI as bars in the official colour of each day's category."""
    standard = standard_of(ctx)
    days = frame.dropna(subset=["aqi"])
    dates, aqi = values(days["date"]), values(days["aqi"].astype("float64"))
    hover = _aqi_hover(days, standard, ctx.lang)
    rows = rows_by(days["category"])
    fig = figure()
    for cat in CATEGORIES[standard]:
        at = rows.get(cat.key)
        if at is None:
            continue
        fig["data"].append(
            {
                "type": "bar",
                "x": dates[at],
                "y": aqi[at],
                "name": category_label(standard, cat.key, ctx.lang),
                "marker": {"color": cat.color, "line": {"width": 0}},
                "width": DAY_MS * 0.85,  # one width for every category, however few its days
                "hovertext": [hover[i] for i in at],
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    for level in (50, 100):
        add_shape(
            fig,
            **hline(
                level,
                line={"width": 1, "dash": "dot", "color": PALETTE[ctx.theme]["text"]},
                opacity=0.45,
            ),
        )
    update_layout(
        fig,
        barmode="overlay",
        hovermode="closest",
        legend={"title": {"text": ""}, "traceorder": "normal"},
        yaxis={
            "title": axis_title(
                t("eco.axis.aqi", ctx.lang, standard=t(f"eco.aqi.{standard}", ctx.lang))
            ),
            "rangemode": "tozero",
        },
        xaxis={"type": "date"},
    )
    return fig


def _weekday_names(lang: str) -> list[str]:
    names = babel_dates.get_day_names("abbreviated", locale=BABEL_LOCALES[lang])
    return [names[i] for i in range(7)]  # Monday first


def _category_legend(standard: str, lang: str) -> list[dict]:
    """A legend with every category of the standard, in order (the heatmap has no legend)."""
    return [
        {
            "type": "scatter",
            "x": [None],
            "y": [None],
            "mode": "markers",
            "marker": {"symbol": "square", "size": 12, "color": cat.color},
            "name": category_label(standard, cat.key, lang),
            "hoverinfo": "skip",
            "showlegend": True,
        }
        for cat in CATEGORIES[standard]
    ]


def _month_axis(
    first: pd.Timestamp, last: pd.Timestamp, monday: pd.Timestamp, weeks: int, lang: str
) -> dict:
    """Month names under the week holding each month's first day; a short period keeps square
    cells by leaving the rest of a year-wide grid empty, as GitHub's calendar does."""
    starts = pd.date_range(first.to_period("M").start_time, last, freq="MS")
    starts = [max(start, first) for start in starts]
    multi_year = first.year != last.year
    tickvals = [monday + pd.Timedelta(weeks=(start - monday).days // 7) for start in starts]
    ticktext = [
        month_label(start, lang, short=not (multi_year and (i == 0 or start.month == 1)))
        for i, start in enumerate(starts)
    ]
    half_week = pd.Timedelta(days=3.5)
    shown_weeks = max(weeks, CALENDAR_MIN_WEEKS)
    return {
        "type": "date",
        "tickvals": [iso_text(tick) for tick in tickvals],
        "ticktext": ticktext,
        "range": [
            iso_text(monday - half_week),
            iso_text(monday + pd.Timedelta(weeks=shown_weeks) - half_week),
        ],
        "showgrid": False,
        "zeroline": False,
    }


def aqi_calendar_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """A GitHub-style calendar: one square per day (weeks × weekdays) in the category colour."""
    standard = standard_of(ctx)
    cats = CATEGORIES[standard]
    index = {cat.key: i for i, cat in enumerate(cats)}
    days = frame.dropna(subset=["aqi"]).copy()
    days["date"] = pd.to_datetime(days["date"])
    first = days["date"].min().normalize()
    last = days["date"].max().normalize()
    monday = first - pd.Timedelta(days=first.day_of_week)
    weeks = pd.date_range(monday, last, freq="7D")
    z = np.full((7, len(weeks)), np.nan)
    text = np.full((7, len(weeks)), "", dtype=object)
    hover = dict(zip(days["date"], _aqi_hover(days, standard, ctx.lang), strict=True))
    for date, category in zip(days["date"], days["category"], strict=True):
        col = (date - monday).days // 7
        row = date.day_of_week
        z[row, col] = index[category]
        text[row, col] = hover[date]
    n = len(cats)
    scale = []
    for i, cat in enumerate(cats):
        scale += [[i / n, cat.color], [(i + 1) / n, cat.color]]
    heatmap = {
        "type": "heatmap",
        "x": values(weeks),
        "y": _weekday_names(ctx.lang),
        "z": z,
        "text": text.tolist(),
        "hovertemplate": "%{text}<extra></extra>",
        "colorscale": scale,
        "zmin": -0.5,
        "zmax": n - 0.5,
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hoverongaps": False,
    }
    fig = figure([heatmap, *_category_legend(standard, ctx.lang)])
    update_layout(
        fig,
        xaxis=_month_axis(first, last, monday, len(weeks), ctx.lang),
        yaxis={"autorange": "reversed", "showgrid": False, "zeroline": False, "fixedrange": True},
        plot_bgcolor=PALETTE[ctx.theme]["paper"],
        legend={"itemclick": False, "itemdoubleclick": False},
        margin={"l": 48, "r": 8, "t": 8, "b": 32},
    )
    return fig
