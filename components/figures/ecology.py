"""Figures of the ecology page: pure builders, a small frame and a FigureContext in, a figure out.

Each builder returns a plain dict figure, `{"data": [trace dicts], "layout": {...}}` (see
`components.figures.plot`), not a plotly graph object: validating and deep-copying graph objects
cost 10-40 ms a chart, most of a callback's server time, for the same JSON. Arrays are numpy
arrays or lists (`plot.values`), so orjson writes them without a walk in Python; subplot grids
and secondary axes are written as `make_subplots` writes them (`plot.subplot_grid`,
`plot.secondary_y_axes`). The tests wrap every figure in `go.Figure`, which validates it.

AQI categories keep their official colours (they are what residents read in the news); every
other series uses the Okabe-Ito palette of `components.theme`. Every visible text comes from the
message catalogue; dates in hover labels are written by Babel, numbers by plotly with the
locale's separators (set by `finish()`, which the chart card applies).
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

import numpy as np
import pandas as pd
from babel import dates as babel_dates

from components.charts import FigureContext
from components.figures import geo
from components.figures.plot import (
    Figure,
    add_annotation,
    add_shape,
    annotation,
    axis_refs,
    figure,
    hline,
    secondary_y_axes,
    subplot_grid,
    update_axes,
    update_layout,
    values,
)
from components.theme import PALETTE, colorway
from datasets.aqi import CATEGORIES, STANDARDS
from datasets.queries.ecology import is_recycled
from i18n import BABEL_LOCALES, fmt_date, fmt_number, fmt_percent, t

DEFAULT_STANDARD = "hj633"
MAX_POINTS = 5000  # per trace
CALENDAR_MIN_WEEKS = 44  # narrower periods keep square cells
DAY_MS = 24 * 3600 * 1000
# WHO 2021 air-quality guidelines for the averaging time each daily value uses (µg/m³; CO mg/m³)
WHO_2021 = {"pm25": 15.0, "pm10": 45.0, "no2": 25.0, "so2": 40.0, "co": 4.0, "o3": 100.0}
SECTOR_COLOURS = {"industry": "#0072B2", "residential": "#E69F00", "other": "#CC79A7"}
STREAM_COLOURS = {
    "incinerated": "#D55E00",
    "landfilled": "#8C8C8C",
    "recycled": "#009E73",
    "kitchen": "#E69F00",
}
MOBILITY_SERIES = (
    ("metro_riders", "#0072B2"),
    ("bus_riders", "#E69F00"),
    ("public_bike_trips", "#009E73"),
    ("ev_charging_sessions", "#CC79A7"),
)
SHARE_LINE = {"light": "#1F2933", "dark": "#F0E442"}
MAP_COLOURS = {
    "light": {"fill": "#EEF2F6", "line": "#9AA5B1", "outline": "#1F2933", "land": "#FFFFFF"},
    "dark": {"fill": "#1F2937", "line": "#64748B", "outline": "#E5E7EB", "land": "#111827"},
}
HIGHLIGHTED_LINES = 6  # coloured lines a chart can carry and stay legible from afar
OTHER_LINE = {"light": "#B8C0CA", "dark": "#4B5563"}  # the stations not highlighted


# -- shared helpers ------------------------------------------------------------------------------


def standard_of(ctx: FigureContext) -> str:
    value = (ctx.page_options or {}).get("aqi")
    return value if value in STANDARDS else DEFAULT_STANDARD


def category_label(standard: str, key: str, lang: str) -> str:
    return t(f"eco.cat.{standard}.{key}", lang)


def pollutant_label(pollutant: str | None, lang: str) -> str:
    if not pollutant or pollutant not in WHO_2021:
        return t("eco.hover.none", lang)
    return t(f"eco.pollutant.{pollutant}", lang)


def station_name(name: str, name_zh: str | None, lang: str) -> str:
    if lang == "zh" and isinstance(name_zh, str) and name_zh:
        return name_zh
    return name


def district_name(names: dict[int, str], code) -> str:
    try:
        return names.get(int(code), str(code))
    except (TypeError, ValueError):
        return "–"


def sector_label(sector: str, lang: str) -> str:
    return t(f"eco.sector.{sector}", lang) if sector in SECTOR_COLOURS else str(sector)


def stream_label(stream: str, lang: str) -> str:
    return t(f"eco.stream.{stream}", lang) if stream in STREAM_COLOURS else str(stream)


# Babel takes ~60 µs a date or number, most of a builder's time once the figure is a dict; the
# same few thousand days and AQI values come back in every chart and request, so keep them.
@lru_cache(maxsize=16384)
def _date_label(day: dt.date, lang: str) -> str:
    return fmt_date(day, lang, "medium")


@lru_cache(maxsize=4096)
def _month_label(stamp: pd.Timestamp, lang: str, skeleton: str) -> str:
    return babel_dates.format_skeleton(skeleton, stamp, locale=BABEL_LOCALES[lang])


@lru_cache(maxsize=4096)
def _integer_label(value: int, lang: str) -> str:
    return fmt_number(value, lang)


def day_label(value, lang: str) -> str:
    return _date_label(pd.Timestamp(value).date(), lang)


def month_label(value, lang: str, short: bool = False) -> str:
    """ "Mar 2017" (or "Mar" when `short`), the locale's way."""
    return _month_label(pd.Timestamp(value), lang, "MMM" if short else "yMMM")


def sep(lang: str) -> str:
    """The label-value separator of the language (": ", " : ", "：")."""
    return t("eco.colon", lang)


def axis_title(text: str) -> dict:
    return {"text": text}


def share_axis(top: float, ticks: int = 5) -> dict:
    """A 0-based share axis reaching at least `top` (a fraction) in about `ticks` round steps
    (1, 2 or 5 times a power of ten), so it never reads 0/5/9/14/19 %."""
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9))  # 0.2 % needs one place
    return {
        "tickmode": "linear",
        "tick0": 0,
        "dtick": step,
        "range": [0, math.ceil(top / step - 1e-9) * step],
        "tickformat": f".{decimals}%",
    }


def pearson(x, y) -> float | None:
    """Pearson correlation (None with fewer than 3 pairs or without variance)."""
    pairs = pd.DataFrame({"x": np.asarray(x, float), "y": np.asarray(y, float)}).dropna()
    if len(pairs) < 3 or pairs["x"].std() == 0 or pairs["y"].std() == 0:
        return None
    return float(np.corrcoef(pairs["x"], pairs["y"])[0, 1])


def period_label(value, bucket_days: float, lang: str) -> str:
    if bucket_days >= 28:
        return month_label(value, lang)
    if bucket_days >= 7:
        return t("eco.hover.week_of", lang, date=day_label(value, lang))
    return day_label(value, lang)


def _bucket_days(periods: pd.Series) -> float:
    """The usual step between distinct periods, in whole days (1 for a single period)."""
    stamps = _stamps(periods)
    stamps = np.unique(stamps[~np.isnat(stamps)])
    if len(stamps) < 2:
        return 1.0
    return float(np.median(np.diff(stamps) // np.timedelta64(1, "D")))


def _stamps(periods) -> np.ndarray:
    """Times as datetime64[ns] (NaT where missing), without pandas' parsing when they are
    times already."""
    stamps = np.asarray(periods)
    if stamps.dtype.kind != "M":
        stamps = pd.to_datetime(pd.Series(periods)).to_numpy()
    return stamps.astype("datetime64[ns]")


def _rows_by(keys: pd.Series) -> dict:
    """Row positions of each distinct non-missing key (a trace's rows, without a pandas mask
    and copy of the frame per trace)."""
    codes, uniques = pd.factorize(keys)
    return {key: np.flatnonzero(codes == i) for i, key in enumerate(uniques)}


def _sums_by(times: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """(distinct times in order, then each column's sum per time), missing values as 0, as a
    pandas group sum gives them."""
    known = ~np.isnat(times)
    distinct, at = np.unique(times[known], return_inverse=True)
    sums = (
        np.bincount(at, weights=np.nan_to_num(c[known], nan=0.0), minlength=len(distinct))
        for c in columns
    )
    return distinct, *sums


def _iso(value) -> str:
    """A time as ISO text (a `pd.Timestamp` is no type orjson writes)."""
    return pd.Timestamp(value).isoformat()


# -- AQI -----------------------------------------------------------------------------------------


def _aqi_hover(frame: pd.DataFrame, standard: str, lang: str) -> list[str]:
    aqi_label = t("eco.hover.aqi", lang) + sep(lang)
    primary_label = t("eco.hover.primary", lang) + sep(lang)
    lines = []
    for date, aqi, category, primary in zip(
        frame["date"], frame["aqi"], frame["category"], frame["primary"], strict=True
    ):
        text = f"<b>{day_label(date, lang)}</b><br>{aqi_label}"
        text += f"{_integer_label(int(aqi), lang)} · {category_label(standard, category, lang)}"
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
    rows = _rows_by(days["category"])
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
    legend = [  # a legend with every category of the standard, in order
        {
            "type": "scatter",
            "x": [None],
            "y": [None],
            "mode": "markers",
            "marker": {"symbol": "square", "size": 12, "color": cat.color},
            "name": category_label(standard, cat.key, ctx.lang),
            "hoverinfo": "skip",
            "showlegend": True,
        }
        for cat in cats
    ]
    fig = figure([heatmap, *legend])
    # Month names under the week holding each month's first day; a short period keeps square
    # cells by leaving the rest of a year-wide grid empty, as GitHub's calendar does.
    starts = pd.date_range(first.to_period("M").start_time, last, freq="MS")
    starts = [max(start, first) for start in starts]
    multi_year = first.year != last.year
    tickvals = [monday + pd.Timedelta(weeks=(start - monday).days // 7) for start in starts]
    ticktext = [
        month_label(start, ctx.lang, short=not (multi_year and (i == 0 or start.month == 1)))
        for i, start in enumerate(starts)
    ]
    half_week = pd.Timedelta(days=3.5)
    shown_weeks = max(len(weeks), CALENDAR_MIN_WEEKS)
    update_layout(
        fig,
        xaxis={
            "type": "date",
            "tickvals": [_iso(tick) for tick in tickvals],
            "ticktext": ticktext,
            "range": [
                _iso(monday - half_week),
                _iso(monday + pd.Timedelta(weeks=shown_weeks) - half_week),
            ],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={"autorange": "reversed", "showgrid": False, "zeroline": False, "fixedrange": True},
        plot_bgcolor=PALETTE[ctx.theme]["paper"],
        legend={"itemclick": False, "itemdoubleclick": False},
        margin={"l": 48, "r": 8, "t": 8, "b": 32},
    )
    return fig


# -- pollutants by station -----------------------------------------------------------------------


def _thin(part: pd.DataFrame) -> pd.DataFrame:
    """Weekly means of a station's days (more than a trace should carry)."""
    weekly = part.set_index("date")["value"].resample("W-MON", label="left", closed="left")
    return weekly.mean().dropna().rename("value").reset_index()


def pollutant_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Daily value of one pollutant with the WHO 2021 guideline: the most polluted stations in
    colour, the others as thin grey lines behind them (more colours than that blur together on
    a projector)."""
    pollutant = str(frame["pollutant"].iloc[0])
    palette = [c for c in colorway(ctx.theme) if c.upper() not in ("#000000", "#FFFFFF")]
    fig = figure()
    rows = _rows_by(frame["station_id"])  # each station's rows, stations by first appearance
    names, names_zh = frame["name"].tolist(), frame["name_zh"].tolist()
    labels = {
        sid: station_name(names[at[0]], names_zh[at[0]], ctx.lang) for sid, at in rows.items()
    }
    dates, daily = values(frame["date"]), values(frame["value"])
    means = {sid: float(np.nanmean(daily[at])) for sid, at in rows.items()}
    worst = sorted(rows, key=lambda sid: (-means[sid], labels[sid]))[:HIGHLIGHTED_LINES]
    others = sorted(set(rows) - set(worst), key=labels.get)
    for i, station_id in enumerate([*others, *sorted(worst, key=labels.get)]):
        at = rows[station_id]
        at = at[np.argsort(dates[at], kind="stable")]
        x, y = dates[at], daily[at]
        if len(at) > MAX_POINTS:
            part = _thin(pd.DataFrame({"date": x, "value": y}))
            x, y = values(part["date"]), values(part["value"])
        highlighted = station_id in worst
        trace = {"type": "scatter", "x": x, "y": y, "mode": "lines", "name": labels[station_id]}
        if highlighted:
            colour = palette[(i - len(others)) % len(palette)]
            trace |= {"line": {"width": 2.2, "color": colour}, "hovertemplate": "%{y:,.1f}"}
        else:
            # One legend entry toggles every grey line; the hover still names each station.
            trace |= {
                "line": {"width": 1, "color": OTHER_LINE[ctx.theme]},
                "legendgroup": "others",
                "showlegend": station_id == others[0],
                "hovertemplate": f"{labels[station_id]}: %{{y:,.1f}}<extra></extra>",
            }
            if station_id == others[0]:
                trace["name"] = t("eco.legend.other_stations", ctx.lang, count=len(others))
        fig["data"].append(trace)
    guideline = WHO_2021.get(pollutant)
    if guideline is not None:
        _add_guideline(fig, guideline, ctx)
    update_layout(
        fig,
        hovermode="x unified",
        xaxis={"type": "date", "hoverformat": t("eco.fmt.day", ctx.lang)},
        yaxis={
            "title": axis_title(t(f"eco.axis.daily.{pollutant}", ctx.lang)),
            "rangemode": "tozero",
        },
    )
    return fig


def _add_guideline(fig: Figure, level: float, ctx: FigureContext) -> None:
    """The WHO guideline as a dotted line labelled at its top left (plotly's `add_hline` with
    `annotation_position="top left"`)."""
    add_shape(
        fig,
        **hline(level, line={"width": 1.5, "dash": "dot", "color": PALETTE[ctx.theme]["text"]}),
    )
    label = t("eco.legend.who", ctx.lang, value=fmt_number(level, ctx.lang))
    fig["layout"].setdefault("annotations", []).append(
        annotation(
            label,
            font={"size": 11},
            x=0,
            xanchor="left",
            xref="x domain",
            y=level,
            yanchor="bottom",
            yref="y",
        )
    )


# -- stations map --------------------------------------------------------------------------------


def _stations_view(lat: pd.Series, lon: pd.Series, ctx: FigureContext) -> geo.Bounds:
    """The box around every station, never closer than the city's core view (one station
    alone is not drawn across the whole card)."""
    closest = ctx.city.core_zoom or ctx.city.zoom + 2
    west, east, _, _ = geo.zoom_bounds(ctx.city.center, closest, 700, 380)
    box = geo.bounds_of(lon.astype(float), lat.astype(float))
    return geo.padded(box, pad=0.18, min_span=east - west)


def _station_hover(label: str, row, category: str, names: dict, lang: str) -> str:
    lines = [
        f"<b>{label}</b>",
        f"{t('eco.hover.district', lang)}{sep(lang)}{district_name(names, row.district)}",
        f"{t('eco.hover.mean_aqi', lang)}{sep(lang)}{fmt_number(row.mean_aqi, lang)} · {category}",
        f"{t('eco.hover.good_share', lang)}{sep(lang)}{fmt_percent(row.good_share, lang)}",
        f"{t('eco.hover.mean_pm25', lang)}{sep(lang)}{fmt_number(row.pm25, lang, 1)} µg/m³",
        f"{t('eco.hover.days', lang)}{sep(lang)}{fmt_number(row.days, lang)}",
    ]
    if row.kind == "background":
        lines.append(f"<i>{t('eco.hover.background', lang)}</i>")
    return "<br>".join(lines)


def stations_map_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Stations coloured by the category of their mean AQI, over the district boundaries."""
    standard = standard_of(ctx)
    lang = ctx.lang
    colours = MAP_COLOURS[ctx.theme]
    geojson = ctx.city.geojson
    names = ctx.city.district_names(lang)
    districts = geo.boundaries(
        geojson,  # the city's own dict, not copied: nothing writes to it
        colours["fill"],
        colours["line"],
        hovertext=[names.get(f["id"], str(f["id"])) for f in geojson["features"]],
    )
    labels = [
        station_name(n, z, lang) for n, z in zip(frame["name"], frame["name_zh"], strict=True)
    ]
    lat, lon = values(frame["lat"]), values(frame["lon"])
    rings = {  # a dark ring under each marker keeps the yellow ones visible on a light map
        "type": "scattergeo",
        "lat": lat,
        "lon": lon,
        "mode": "markers",
        "marker": {"size": 21, "color": colours["outline"]},
        "hoverinfo": "skip",
        "showlegend": False,
    }
    fig = figure([districts, rings])
    codes = frame["district"].astype(int).to_numpy()
    rows = frame[["district", "mean_aqi", "good_share", "pm25", "days", "kind"]]
    rows = list(rows.itertuples(index=False))
    in_category = _rows_by(frame["category"])
    for cat in CATEGORIES[standard]:
        at = in_category.get(cat.key)
        if at is None:
            continue
        label = category_label(standard, cat.key, lang)
        fig["data"].append(
            {
                "type": "scattergeo",
                "lat": lat[at],
                "lon": lon[at],
                "mode": "markers",
                "marker": {"size": 15, "color": cat.color},
                "name": label,
                "customdata": codes[at].reshape(-1, 1),
                "hovertext": [_station_hover(labels[i], rows[i], label, names, lang) for i in at],
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    paper = PALETTE[ctx.theme]
    fig["data"].append(  # last, so that no marker covers a name
        geo.labels(lon, lat, labels, paper["text"], paper["paper"], textposition="top center")
        # an invisible marker of the ring's size lifts each name clear of its station
        | {"mode": "markers+text", "marker": {"size": 21, "opacity": 0}}
    )
    update_layout(
        fig,
        geo=geo.view(_stations_view(frame["lat"], frame["lon"], ctx), colours["land"]),
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        legend={
            "orientation": "v",
            "x": 0.01,
            "y": 0.99,
            "xanchor": "left",
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.8)" if ctx.theme == "light" else "rgba(17,24,39,0.8)",
        },
        hovermode="closest",
    )
    return fig


# -- share of good days --------------------------------------------------------------------------


def good_days_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Share of days per AQI category, stacked to 100 % per month or per station."""
    standard = standard_of(ctx)
    lang = ctx.lang
    by_station = frame["name"].notna().any()
    frame = frame.copy()
    if by_station:
        frame["label"] = [
            station_name(n, z, lang) for n, z in zip(frame["name"], frame["name_zh"], strict=True)
        ]
    else:
        one_year = pd.to_datetime(frame["group"]).dt.year.nunique() == 1
        frame["label"] = [month_label(m, lang, short=one_year) for m in frame["group"]]
        full = dict(
            zip(frame["label"], [month_label(m, lang) for m in frame["group"]], strict=True)
        )
    good_keys = [c.key for c in CATEGORIES[standard] if c.high <= 100]
    totals = frame.groupby("label", sort=False)["days"].sum()
    good = frame[frame["category"].isin(good_keys)].groupby("label", sort=False)["share"].sum()
    good = good.reindex(totals.index, fill_value=0.0)
    order = list(good.sort_values().index) if by_station else list(totals.index)
    # each (label, category) cell once, rather than a filtered, re-indexed frame a category
    cells = {
        (label, category): (share, days)
        for label, category, share, days in zip(
            frame["label"], frame["category"], frame["share"], frame["days"], strict=True
        )
        if not pd.isna(days)
    }
    fig = figure()
    for cat in CATEGORIES[standard]:
        row = [cells.get((label, cat.key)) for label in order]
        if all(cell is None for cell in row):
            continue
        name = category_label(standard, cat.key, lang)
        hover = [
            f"<b>{label if by_station else full[label]}</b><br>{name}{sep(lang)}"
            f"{fmt_percent(cell[0], lang)} "
            f"({fmt_number(cell[1], lang)} {t('eco.hover.days_unit', lang)})"
            if cell is not None
            else ""
            for label, cell in zip(order, row, strict=True)
        ]
        shares = np.array(
            [0.0 if cell is None or pd.isna(cell[0]) else cell[0] for cell in row], dtype="float64"
        )
        fig["data"].append(
            {
                "type": "bar",
                "x": shares if by_station else order,
                "y": order if by_station else shares,
                "orientation": "h" if by_station else "v",
                "name": name,
                "marker": {"color": cat.color, "line": {"width": 0}},
                "hovertext": hover,
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    good_text = [fmt_percent(good[label], lang) for label in order]
    fig["data"].append(
        {
            "type": "scatter",
            "x": [1.0] * len(order) if by_station else order,
            "y": order if by_station else [1.0] * len(order),
            "mode": "text",
            "text": good_text,
            "textposition": "middle right" if by_station else "top center",
            "textfont": {"size": 11, "color": PALETTE[ctx.theme]["text"]},
            "name": t("eco.legend.good_share", lang),
            "hoverinfo": "skip",
            "showlegend": False,
            "cliponaxis": False,
        }
    )
    share_axis = {
        "tickformat": ".0%",
        "range": [0, 1.12],
        "tickvals": [0, 0.25, 0.5, 0.75, 1.0],
        "title": axis_title(t("eco.axis.share_days", lang)),
    }
    update_layout(
        fig, barmode="stack", bargap=0.25, hovermode="closest", legend={"traceorder": "normal"}
    )
    if by_station:
        update_layout(fig, xaxis=share_axis, yaxis={"automargin": True})
    else:
        update_layout(fig, yaxis=share_axis, xaxis={"type": "category"})
    return fig


# -- NO2 and traffic -----------------------------------------------------------------------------


def no2_traffic_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Daily NO2 against daily traffic volume, workdays and weekends, with a least-squares line."""
    lang = ctx.lang
    fig = figure()
    groups = (
        (False, "eco.legend.workdays", "#0072B2" if ctx.theme == "light" else "#56B4E9"),
        (True, "eco.legend.weekends", "#E69F00"),
    )
    weekends = frame["weekend"].to_numpy(bool)
    volume, no2 = values(frame["volume"]), values(frame["no2"])
    labels = [[day_label(d, lang)] for d in frame["date"]]
    for weekend, key, colour in groups:
        at = np.flatnonzero(weekends == weekend)
        if not len(at):
            continue
        fig["data"].append(
            {
                "type": "scatter",
                "x": volume[at],
                "y": no2[at],
                "mode": "markers",
                "name": t(key, lang),
                "marker": {
                    "size": 7,
                    "color": colour,
                    "opacity": 0.75,
                    "symbol": "diamond" if weekend else "circle",
                },
                "customdata": [labels[i] for i in at],
                "hovertemplate": (
                    "<b>%{customdata[0]}</b><br>"
                    + t("eco.hover.vehicles", lang)
                    + sep(lang)
                    + "%{x:,.0f}<br>NO₂"
                    + sep(lang)
                    + "%{y:,.1f} µg/m³<extra></extra>"
                ),
            }
        )
    r = pearson(frame["volume"], frame["no2"])
    if r is not None:
        _add_fit(fig, frame, r, ctx)
    update_layout(
        fig,
        xaxis={
            "title": axis_title(t("eco.axis.vehicles", lang)),
            "separatethousands": True,
            "exponentformat": "none",
        },
        yaxis={"title": axis_title(t("eco.axis.no2", lang))},
        hovermode="closest",
    )
    return fig


def _add_fit(fig: Figure, frame: pd.DataFrame, r: float, ctx: FigureContext) -> None:
    """The least-squares line over the observed volumes, and the correlation in a corner."""
    lang = ctx.lang
    slope, intercept = np.polyfit(frame["volume"].astype(float), frame["no2"].astype(float), 1)
    xs = np.array([frame["volume"].min(), frame["volume"].max()], dtype=float)
    fig["data"].append(
        {
            "type": "scatter",
            "x": xs,
            "y": intercept + slope * xs,
            "mode": "lines",
            "name": t("eco.legend.fit", lang),
            "line": {"color": PALETTE[ctx.theme]["text"], "width": 2, "dash": "dash"},
            "hoverinfo": "skip",
        }
    )
    n = fmt_number(len(frame), lang)
    add_annotation(
        fig,
        t("eco.legend.correlation", lang, r=fmt_number(r, lang, 2), n=n),
        x=0.01,
        y=0.98,
        xanchor="left",
        yanchor="top",
        font={"size": 13},
        bgcolor=PALETTE[ctx.theme]["paper"],
        opacity=0.9,
    )


# -- energy, mobility, waste -----------------------------------------------------------------------


WEEK_MS = 7 * 24 * 3600 * 1000


def _period_axis(
    periods: pd.Series, lang: str, max_ticks: int = 12, monthly: bool | None = None
) -> dict:
    """A date axis for bucketed values: month names (at most `max_ticks`) over long periods,
    plotly's own ticks over short ones; monthly buckets get their range set, so that one or
    two months still fill the axis."""
    days = _stamps(periods)
    days = days[~np.isnat(days)]
    months = len(np.unique(days.astype("datetime64[M]")))
    if monthly is None:
        monthly = _bucket_days(days) >= 28
    first_month = pd.Timestamp(days.min()).to_period("M")
    axis: dict = {"type": "date", "hoverformat": t("eco.fmt.day", lang), "nticks": max_ticks // 2}
    if monthly:
        first = first_month.start_time
        last = pd.Timestamp(days.max()).to_period("M").end_time
        axis["range"] = [_iso(first - pd.Timedelta(days=8)), _iso(last + pd.Timedelta(days=8))]
    if months < 4 and not monthly:
        return axis
    step = next((k for k in (1, 2, 3, 4, 6, 12) if months / k <= max_ticks), 12)
    one_year = len(np.unique(days.astype("datetime64[Y]"))) == 1
    axis.pop("nticks")
    axis.update(
        dtick=f"M{step}",
        tick0=_iso(first_month.start_time),
        tickformat="%b" if one_year else "%b\n%Y",
        ticklabelmode="period",
    )
    return axis


def _bar_width(periods: pd.Series, monthly: bool | None = None) -> float:
    """Bar width in ms: set, because a lone bar (one month chosen) has no spacing to go by."""
    days = 30.0 if monthly else _bucket_days(periods)
    return DAY_MS * days * 0.8


def _period_placement(periods: pd.Series, monthly: bool | None = None) -> dict:
    """Trace settings that centre a bucket's bar or point in its month or week."""
    days = _bucket_days(periods)
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
    bucket_days = _bucket_days(frame["period"])
    placement = _period_placement(frame["period"])
    width = _bar_width(frame["period"])
    fig = figure()
    extra = iter(c for c in colorway(ctx.theme) if c not in SECTOR_COLOURS.values())
    periods = values(frame["period"])
    electricity = values(frame["electricity_gwh_day"])
    labels = [[period_label(p, bucket_days, lang)] for p in frame["period"]]
    rows = _rows_by(frame["sector"])
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
    days, total, renewable = _sums_by(periods, electricity, values(frame["renewable_gwh_day"]))
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
    bucket_days = _bucket_days(frame["period"])
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
    rows = _rows_by(frame["stream"])
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
    days, total, kept = _sums_by(months, tonnes, np.where(recycled, tonnes, 0.0))
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


__all__ = [
    "aqi_calendar_figure",
    "aqi_daily_figure",
    "energy_figure",
    "good_days_figure",
    "mobility_figure",
    "no2_traffic_figure",
    "pearson",
    "pollutant_figure",
    "stations_map_figure",
    "waste_figure",
]
