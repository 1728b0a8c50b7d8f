"""Figures of the SDG and comparison pages, and the small SVG trend lines of the indicator cards
and of the Voluntary Local Review annex.

The sparklines are plain SVG strings (no script, no font from outside), so the same drawing is
an `<img>` on the page and inline SVG in the annex and its PDF.
"""

from __future__ import annotations

import html
from urllib.parse import quote

import pandas as pd
import plotly.graph_objects as go
from babel import dates as babel_dates

from components.charts import FigureContext
from components.theme import colorway
from datasets.indicators import WHO_PM25, WHO_PM25_24H
from i18n import BABEL_LOCALES, fmt_figure, fmt_number, t

SPARK_COLOURS = {"good": "#1a7f37", "fair": "#a15c00", "poor": "#c2410c", "bad": "#b42318",
                 "neutral": "#0072b2"}  # fmt: skip
IT_COLOURS = ("#b42318", "#c2410c", "#a15c00", "#8a8a00")  # interim targets 1 (35) … 4 (10)
GUIDELINE_COLOUR = "#1a7f37"


def month_names(lang: str, width: str = "abbreviated") -> list[str]:
    names = babel_dates.get_month_names(width, locale=BABEL_LOCALES[lang])
    return [names[i] for i in range(1, 13)]


def period_label(period: pd.Timestamp, unit: str, lang: str) -> str:
    if unit == "year":
        return str(period.year)
    return babel_dates.format_date(period.date(), "MMM y", locale=BABEL_LOCALES[lang])


def sparkline_svg(
    trend: pd.DataFrame,
    unit: str,
    lang: str,
    *,
    status_class: str = "neutral",
    reference: float | None = None,
    percent: bool = False,
    digits: int = 1,
    width: int = 168,
    height: int = 44,
    label: str = "",
) -> str:
    """Bars for monthly values, a line with dots for yearly ones; an optional reference line.

    Self-contained SVG: a `<title>` lists every value for screen readers and tooltips."""
    values = [None if pd.isna(v) else float(v) for v in trend["value"]]
    labels = [period_label(p, unit, lang) for p in trend["period"]]
    present = [v for v in values if v is not None]
    colour = SPARK_COLOURS.get(status_class, SPARK_COLOURS["neutral"])
    text = "; ".join(
        f"{lab}: {fmt_figure(v, lang, digits, percent)}"
        for lab, v in zip(labels, values, strict=True)
    )
    title = html.escape(f"{label}: {text}" if label else text)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{title}"><title>{title}</title>'
    )
    if not present:
        return head + "</svg>"
    top = max([*present, reference or 0]) * 1.08 or 1.0
    pad = 3
    inner_h = height - 2 * pad

    def y(v: float) -> float:
        return round(pad + inner_h * (1 - v / top), 2)

    parts = [head]
    n = len(values)
    if unit == "month":
        step = (width - 2 * pad) / max(n, 1)
        for i, v in enumerate(values):
            if v is None:
                continue
            x = pad + i * step + step * 0.15
            parts.append(
                f'<rect x="{x:.2f}" y="{y(v)}" width="{step * 0.7:.2f}" '
                f'height="{height - pad - y(v):.2f}" fill="{colour}" opacity="0.8"/>'
            )
    else:
        step = (width - 2 * pad - 6) / max(n - 1, 1)
        points = [(pad + 3 + i * step, y(v)) for i, v in enumerate(values) if v is not None]
        path = " ".join(f"{x:.2f},{yy}" for x, yy in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.2f}" cy="{yy}" r="2.6" fill="{colour}"/>' for x, yy in points]
    if reference is not None and reference <= top:
        ry = y(reference)
        parts.append(
            f'<line x1="0" x2="{width}" y1="{ry}" y2="{ry}" stroke="{GUIDELINE_COLOUR}" '
            'stroke-width="1" stroke-dasharray="3,2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;charset=utf-8," + quote(svg)


def _month_axis(ctx: FigureContext) -> dict:
    return {
        "tickmode": "array",
        "tickvals": list(range(1, 13)),
        "ticktext": month_names(ctx.lang),
        "title": {"text": t("sdg.axis.month", ctx.lang)},
        "range": [0.5, 12.5],
    }


def pm25_who_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """Monthly PM2.5 (columns period, value) as bars, WHO guideline and interim targets as lines."""
    lang = ctx.lang
    labels = [period_label(p, "month", lang) for p in frame["period"]]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=frame["value"],
            name=t("sdg.axis.pm25", lang),
            marker_color=colorway(ctx.theme)[0],
            opacity=0.85,
            showlegend=False,
            hovertemplate="%{x}: %{y:.1f} µg/m³<extra></extra>",
        )
    )
    lines = [(WHO_PM25.value, t("sdg.who.guideline", lang), GUIDELINE_COLOUR)]
    lines += [
        (limit, t("sdg.who.it", lang, n=n), IT_COLOURS[n - 1])
        for n, limit in enumerate(WHO_PM25.interim, 1)
    ]
    top = max(float(frame["value"].max() or 0), 35.0) * 1.1
    for limit, name, colour in lines:  # lines as legend entries: labels never overlap
        solid = limit == WHO_PM25.value
        fig.add_scatter(
            x=[labels[0], labels[-1]] if labels else [],
            y=[limit, limit],
            mode="lines",
            name=f"{name} · {fmt_number(limit, lang)} µg/m³",
            line={
                "color": colour,
                "width": 2 if solid else 1.5,
                "dash": "solid" if solid else "dot",
            },
            hoverinfo="name",
        )
    fig.update_layout(
        yaxis={
            "title": {"text": t("sdg.axis.pm25", lang)},
            "range": [0, top],
            "rangemode": "tozero",
        },
        xaxis={"title": {"text": t("sdg.axis.month", lang)}},
        showlegend=True,
        bargap=0.25,
    )
    return fig


def _city_colours(cities: list[str], ctx: FigureContext) -> dict[str, str]:
    palette = colorway(ctx.theme)
    return {city: palette[i % len(palette)] for i, city in enumerate(cities)}


def compare_profile_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """Columns: city, label (city and year), month (1-12), value. One line per city."""
    colours = _city_colours(list(dict.fromkeys(frame["city"])), ctx)
    fig = go.Figure()
    for (city, label), rows in frame.groupby(["city", "label"], sort=False):
        fig.add_scatter(
            x=rows["month"],
            y=rows["value"],
            mode="lines+markers",
            name=label,
            line={"color": colours[city], "width": 2.5},
            hovertemplate=f"{label} · %{{x}}: %{{y:.1f}} µg/m³<extra></extra>",
        )
    fig.add_hline(
        y=WHO_PM25.value,
        line={"color": GUIDELINE_COLOUR, "dash": "dot", "width": 1.5},
        annotation={"text": t("sdg.who.guideline", ctx.lang), "font": {"size": 11}},
        annotation_position="top left",
    )
    fig.update_layout(
        xaxis=_month_axis(ctx),
        yaxis={"title": {"text": t("sdg.axis.pm25", ctx.lang)}, "rangemode": "tozero"},
    )
    return fig


def compare_good_days_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """Columns: city, label, month, value (share of good days). Grouped bars per month."""
    colours = _city_colours(list(dict.fromkeys(frame["city"])), ctx)
    fig = go.Figure()
    for (city, label), rows in frame.groupby(["city", "label"], sort=False):
        fig.add_bar(
            x=rows["month"],
            y=rows["value"],
            name=label,
            marker_color=colours[city],
            hovertemplate=f"{label} · %{{x}}: %{{y:.0%}}<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        xaxis=_month_axis(ctx),
        yaxis={
            "title": {"text": t("compare.axis.share", ctx.lang)},
            "tickformat": ".0%",
            "range": [0, 1.02],
        },
    )
    return fig


def compare_distribution_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """Columns: city, label, value (daily PM2.5). One box per city."""
    colours = _city_colours(list(dict.fromkeys(frame["city"])), ctx)
    fig = go.Figure()
    for (city, label), rows in frame.groupby(["city", "label"], sort=False):
        fig.add_box(
            y=rows["value"],
            name=label,
            marker_color=colours[city],
            boxpoints=False,
            hoverinfo="y",
        )
    fig.add_hline(
        y=WHO_PM25_24H,
        line={"color": GUIDELINE_COLOUR, "dash": "dot", "width": 1.5},
        annotation={"text": t("compare.who_24h", ctx.lang), "font": {"size": 11}},
        annotation_position="top left",
    )
    fig.update_layout(
        yaxis={"title": {"text": t("sdg.axis.pm25", ctx.lang)}, "rangemode": "tozero"},
        showlegend=False,
    )
    return fig
