"""The stations: pollutants by station, the stations map and the share of good days."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.charts import FigureContext
from components.figures import geo
from components.figures.plot import (
    Figure,
    add_shape,
    annotation,
    figure,
    hline,
    update_layout,
    values,
)
from components.theme import PALETTE, colorway
from datasets.aqi import CATEGORIES
from i18n import fmt_number, fmt_percent, t

from .common import (
    HIGHLIGHTED_LINES,
    MAP_COLOURS,
    MAX_POINTS,
    OTHER_LINE,
    WHO_2021,
    axis_title,
    category_label,
    district_name,
    month_label,
    rows_by,
    sep,
    standard_of,
    station_name,
)

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
    rows = rows_by(frame["station_id"])  # each station's rows, stations by first appearance
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


def _stations_box(lon, lat) -> list[geo.Bounds]:
    """The box around the stations, so that one beyond the city's boundary stays on the map."""
    lons, lats = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    keep = np.isfinite(lons) & np.isfinite(lats)
    return [geo.bounds_of(lons[keep].tolist(), lats[keep].tolist())] if keep.any() else []


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
    in_category = rows_by(frame["category"])
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
        geo=geo.view(geo.whole_city(geojson, *_stations_box(lon, lat)), colours["land"]),
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


def _category_bars(
    cells: dict, order: list[str], full: dict[str, str], by_station: bool, standard: str, lang: str
) -> list[dict]:
    """One bar trace per category that has days: horizontal bars per station, or vertical
    bars per month (`full` gives a label's long form for the hover)."""
    bars = []
    for cat in CATEGORIES[standard]:
        row = [cells.get((label, cat.key)) for label in order]
        if all(cell is None for cell in row):
            continue
        name = category_label(standard, cat.key, lang)
        hover = [
            f"<b>{full.get(label, label)}</b><br>{name}{sep(lang)}"
            f"{fmt_percent(cell[0], lang)} "
            f"({fmt_number(cell[1], lang)} {t('eco.hover.days_unit', lang)})"
            if cell is not None
            else ""
            for label, cell in zip(order, row, strict=True)
        ]
        shares = np.array(
            [0.0 if cell is None or pd.isna(cell[0]) else cell[0] for cell in row], dtype="float64"
        )
        bars.append(
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
    return bars


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
        full = {}
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
    fig = figure(_category_bars(cells, order, full, by_station, standard, lang))
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
