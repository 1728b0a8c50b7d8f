"""A forecast with its uncertainty: the recent past, the forecast mean, its 80 % and 95 %
intervals, the moment the forecast starts and, when the forecast was cut before the end of the
data, what actually followed; the model and its skill (MASE against a seasonal-naive forecast)
written on the chart, so an exported image or a slide keeps them.

The frame holds one row per series and hour (see `COLUMNS`): `observed` before `start` is the
history, after it the actuals; the forecast columns are empty before `start`. One series is one
chart; several are small multiples (at most `MAX_PANELS`), so no panel carries more than three
lines.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from babel import dates as babel_dates

from components.charts import FigureContext
from components.figures.plot import (
    KEY_FIGURE,
    Figure,
    add_annotation,
    add_shape,
    axis_refs,
    figure,
    subplot_grid,
    update_layout,
    values,
    vline,
)
from components.figures.traffic.common import rgba
from components.theme import PALETTE, colorway
from datasets.aqi import BREAKPOINTS, CATEGORIES, STANDARDS, ppb_to_ugm3
from i18n import BABEL_LOCALES, fmt_number, messages, t

COLUMNS = (
    "series",  # station id or district code, as text
    "label",  # its name in the reader's language
    "measure",  # what is forecast: an AQI pollutant, "aqi", "flow" or "speed"
    "ts",
    "observed",
    "mean",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
    "start",  # the first forecast hour
    "model",
    "mase",
    "mase_naive",
    "synthetic",
)
MAX_PANELS = 4
DAY_MS = 24 * 3600 * 1000
START_SHAPE = "forecast-start"  # the `name` of the dashed line where the forecast starts
BAND_ALPHA = {"95": 0.16, "80": 0.32}
AQI_BAND_ALPHA = 0.13
# The averaging period whose breakpoints colour an hourly concentration: China's hourly
# real-time AQI reads PM with the 24-h table and the gases with their 1-h tables; the EPA
# colours each pollutant on the table its index is defined on (O3 and CO: 8 h).
BAND_TABLE = {
    "hj633": {"pm25": "24h", "pm10": "24h", "no2": "1h", "so2": "1h", "co": "1h", "o3": "1h"},
    "epa": {"pm25": "24h", "pm10": "24h", "no2": "1h", "so2": "1h", "co": "8h", "o3": "8h"},
}


# -- AQI bands ------------------------------------------------------------------------------------


def _storage_units(standard: str, pollutant: str, value: float) -> float:
    """A table value in the units the data are stored in (EPA gases are ppb, O3 and CO ppm)."""
    if standard != "epa" or pollutant in ("pm25", "pm10"):
        return value
    if pollutant == "o3":
        return float(ppb_to_ugm3("o3", value * 1000.0))
    return float(ppb_to_ugm3(pollutant, value))


def aqi_bands(measure: str, standard: str) -> list[tuple[float, float, str]]:
    """(low, high, official colour) of each AQI category on the measure's own scale: index
    values for "aqi", concentrations for a pollutant; [] for a measure without an AQI."""
    categories = CATEGORIES.get(standard, [])
    if measure == "aqi":  # integer bands (0-50, 51-100): drawn edge to edge, without a gap
        return [(float(c.low and c.low - 1), float(c.high), c.color) for c in categories]
    table = BREAKPOINTS.get((standard, measure, BAND_TABLE.get(standard, {}).get(measure, "")))
    if not table:
        return []
    top_of = {bp.i_hi: bp.c_hi for bp in table}
    bands, low = [], 0.0
    for category in categories:
        high = top_of.get(category.high)
        if high is None:
            break
        high = _storage_units(standard, measure, high)
        bands.append((low, high, category.color))
        low = high
    return bands


def _standard(ctx: FigureContext) -> str:
    value = (ctx.page_options or {}).get("aqi")
    return value if value in STANDARDS else STANDARDS[0]


# -- text -----------------------------------------------------------------------------------------


def model_name(model: str, lang: str) -> str:
    key = f"forecast.model.{model}"
    return t(key, lang) if key in messages() else str(model)


def skill_text(mase: float | None, mase_naive: float | None, lang: str) -> str:
    """ "MASE 0.71 (seasonal naive: 1)": the model's backtest error over the forecast hours
    against a seasonal-naive forecast's on the same scale (lower is better)."""
    if mase is None or not math.isfinite(mase):
        return t("forecast.skill.none", lang)
    if mase_naive is None or not math.isfinite(mase_naive):
        naive_text = "–"
    else:
        naive_text = fmt_number(mase_naive, lang, 0 if round(mase_naive, 2) == 1 else 2)
    return t("forecast.skill", lang, mase=fmt_number(mase, lang, 2), naive=naive_text)


def _axis_title(measure: str, ctx: FigureContext) -> str:
    key = f"forecast.axis.{measure}"
    if key not in messages():
        return str(measure)
    return t(key, ctx.lang, standard=t(f"forecast.standard.{_standard(ctx)}", ctx.lang))


def moment_label(moment: pd.Timestamp, lang: str) -> str:
    """ "1 Nov 00:00": the day the locale's way, the hour on the 24-h clock."""
    day = babel_dates.format_skeleton("MMMd", moment.to_pydatetime(), locale=BABEL_LOCALES[lang])
    return f"{day} {moment:%H:%M}"


def _float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


# -- traces ---------------------------------------------------------------------------------------


def _band(part: pd.DataFrame, level: str, colour: str, refs: dict, first: bool, lang: str):
    """The interval as one closed outline (upper edge forward, lower edge back), filled."""
    ts = values(part["ts"])
    upper, lower = values(part[f"hi{level}"]), values(part[f"lo{level}"])
    return {
        "type": "scatter",
        "x": np.concatenate([ts, ts[::-1]]),
        "y": np.concatenate([upper, lower[::-1]]),
        "fill": "toself",
        "fillcolor": rgba(colour, BAND_ALPHA[level]),
        "line": {"width": 0},
        "mode": "lines",
        "hoverinfo": "skip",
        "name": t(f"forecast.legend.band{level}", lang),
        "legendgroup": f"band{level}",
        "showlegend": first,
        "meta": f"band{level}",
        **refs,
    }


def _mean_hover(part: pd.DataFrame, lang: str) -> list[str]:
    """The forecast and both intervals at each hour, in the reader's number format."""

    def num(value) -> str:
        return fmt_number(value, lang, 1)

    template = t("forecast.hover.mean", lang)
    return [
        template.format(
            mean=num(mean), lo80=num(lo80), hi80=num(hi80), lo95=num(lo95), hi95=num(hi95)
        )
        for mean, lo80, hi80, lo95, hi95 in zip(
            part["mean"], part["lo80"], part["hi80"], part["lo95"], part["hi95"], strict=True
        )
    ]


def _line(part, column: str, role: str, style: dict, refs: dict, first: bool, lang: str):
    return {
        "type": "scatter",
        "x": values(part["ts"]),
        "y": values(part[column]),
        "mode": "lines",
        "line": style,
        "name": t(f"forecast.legend.{role}", lang),
        "legendgroup": role,
        "showlegend": first,
        "meta": role,
        "xhoverformat": "%Y-%m-%d %H:%M",
        "hovertemplate": "%{x}<br>%{y:.1f}<extra>%{fullData.name}</extra>",
        **refs,
    }


def _panel_traces(series: pd.DataFrame, refs: dict, first: bool, ctx: FigureContext) -> list:
    """Bands below, then the history, the forecast mean and the actuals on top."""
    lang, theme = ctx.lang, ctx.theme
    colours = colorway(theme)
    ink = PALETTE[theme]["text"]
    start = pd.Timestamp(series["start"].iloc[0])
    ahead = series[series["ts"] >= start].dropna(subset=["mean"])
    past = series[series["ts"] < start].dropna(subset=["observed"])
    followed = series[series["ts"] >= start].dropna(subset=["observed"])
    traces = [_band(ahead, level, colours[0], refs, first, lang) for level in ("95", "80")]
    traces.append(_line(past, "observed", "history", {"color": ink, "width": 1.5}, refs,
                        first, lang))  # fmt: skip
    mean = _line(ahead, "mean", "mean", {"color": colours[0], "width": 3}, refs, first, lang)
    mean.update(hovertext=_mean_hover(ahead, lang), hovertemplate="%{x}<br>%{hovertext}"
                "<extra>%{fullData.name}</extra>")  # fmt: skip
    traces.append(mean)
    if not followed.empty:
        style = {"color": colours[3], "width": 2, "dash": "dot"}
        traces.append(_line(followed, "observed", "actual", style, refs, first, lang))
    return traces


# -- decorations ----------------------------------------------------------------------------------


def _start_marker(fig: Figure, start: pd.Timestamp, refs: dict, ctx: FigureContext, label: bool):
    ink = PALETTE[ctx.theme]["text"]
    x = start.isoformat()
    yref = refs["yaxis"] + " domain"
    shape = vline(x, xref=refs["xaxis"], yref=yref, name=START_SHAPE,
                  line={"color": ink, "dash": "dash", "width": 1.5})  # fmt: skip
    add_shape(fig, **shape)
    if label:
        text = t("forecast.start", ctx.lang, date=moment_label(start, ctx.lang))
        add_annotation(fig, text, x=x, xref=refs["xaxis"], y=1, yref=yref, xanchor="right",
                       xshift=-4, yanchor="top", font={"size": 13, "color": ink},
                       bgcolor=PALETTE[ctx.theme]["paper"])  # fmt: skip


def _aqi_shading(fig: Figure, measure: str, top: float, refs: dict, ctx: FigureContext) -> None:
    """The official AQI categories as faint horizontal bands, up to the top of the data (a band
    above it would stretch the axis)."""
    for low, high, colour in aqi_bands(measure, _standard(ctx)):
        if low >= top:
            break
        xref = refs["xaxis"] + " domain"
        add_shape(fig, type="rect", xref=xref, x0=0, x1=1, yref=refs["yaxis"], y0=low,
                  y1=min(high, top), fillcolor=colour, opacity=AQI_BAND_ALPHA,
                  line={"width": 0}, layer="below")  # fmt: skip


def _top(series: pd.DataFrame) -> float:
    highest = np.nanmax(series[["observed", "hi95"]].to_numpy(dtype="float64", na_value=np.nan))
    return float(highest) * 1.05 if np.isfinite(highest) else 0.0


def _series_skill(series: pd.DataFrame, lang: str) -> str:
    """ "Xihu · MASE 0.64 (seasonal naive: 0.81)"."""
    row = series.iloc[0]
    skill = skill_text(_float(row["mase"]), _float(row["mase_naive"]), lang)
    return f"{row['label']} · {skill}"


def _models_text(frame: pd.DataFrame, lang: str) -> str:
    """The models drawn (named once for small multiples), and whether the data are synthetic."""
    names = [model_name(str(m), lang) for m in dict.fromkeys(frame["model"].dropna())]
    text = t("forecast.model", lang, models=t("forecast.list_sep", lang).join(names) or "–")
    if bool(frame["synthetic"].any()):
        text += " · " + t("forecast.synthetic", lang)
    return text


# -- the figure -----------------------------------------------------------------------------------


def forecast_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """One panel per series (in the frame's order, at most `MAX_PANELS`), each with its
    skill; a single series states its model and skill as the chart's key figure."""
    order = list(dict.fromkeys(frame["series"]))[:MAX_PANELS]
    groups = {key: part for key, part in frame.groupby("series", sort=False) if key in order}
    single = len(order) == 1
    cols = 1 if single else 2
    rows = math.ceil(len(order) / cols)
    fig = figure()
    if not single:
        titles = [_series_skill(groups[key], ctx.lang) for key in order]
        fig["layout"].update(subplot_grid(rows, cols, titles=titles, shared_xaxes=True,
                                          vertical_spacing=0.14))  # fmt: skip
        for note in fig["layout"].get("annotations", []):
            note["font"] = {"size": 15}
    measure = str(frame["measure"].iloc[0])
    for i, key in enumerate(order):
        series = groups[key].sort_values("ts")
        refs = axis_refs(i // cols + 1, i % cols + 1, cols)
        fig["data"].extend(_panel_traces(series, refs, i == 0, ctx))
        _aqi_shading(fig, measure, _top(series), refs, ctx)
        _start_marker(fig, pd.Timestamp(series["start"].iloc[0]), refs, ctx, label=i == 0)
    font = {"size": 15, "color": PALETTE[ctx.theme]["text"]}
    models = _models_text(frame[frame["series"].isin(order)], ctx.lang)
    if single:
        skill = _series_skill(groups[order[0]], ctx.lang)
        add_annotation(fig, skill, x=0, y=1.0, xanchor="left", yanchor="bottom", font=font,
                       name=KEY_FIGURE)  # fmt: skip
        add_annotation(fig, models, x=1, y=1.0, xanchor="right", yanchor="bottom", font=font)
    else:
        add_annotation(fig, models, x=0, y=1.0, yshift=26, xanchor="left", yanchor="bottom",
                       font=font)  # fmt: skip
    _axes(fig, measure, single, ctx)
    return fig


def _axes(fig: Figure, measure: str, single: bool, ctx: FigureContext) -> None:
    """Time axes ticked once a day, 0-based value axes titled once, the legend under the
    chart (the top holds the skill and the model)."""
    title = _axis_title(measure, ctx)
    layout = fig["layout"]
    for key in [k for k in layout if k.startswith("xaxis")] or ["xaxis"]:
        layout.setdefault(key, {}).update(type="date", dtick=DAY_MS)  # a tick a day
    for n, key in enumerate([k for k in layout if k.startswith("yaxis")] or ["yaxis"]):
        axis = layout.setdefault(key, {})
        axis["rangemode"] = "tozero"
        if n == 0:
            axis["title"] = {"text": title}
    update_layout(
        fig,
        hovermode="closest",
        margin={"t": 48 if single else 64, "b": 96},
        legend={"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top", "traceorder": "normal"},
    )
