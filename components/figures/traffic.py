"""Figures of the traffic page: a small frame and a FigureContext in, a plotly figure out as a
plain dict (`{"data": [trace dicts], "layout": {...}}`, see `components.figures.plot`).

Dicts rather than graph objects because plotly's validation and deep copies cost 7-70 ms a chart,
most of a callback's server time, while a dict costs nothing to build and orjson writes it in one
pass: every array is a numpy array of numbers or naive times, or a list of plain values. The
tests pass each figure through `plotly.graph_objects.Figure`, which validates every property.

No builder queries anything: the frames come from `datasets.queries.traffic`. Every visible
text is a message of `i18n/messages/traffic.json`; district names come from the city profile
in the viewer's language; numbers written into annotations go through the locale formatters
(plotly formats the rest with the `separators` that `finish` sets). Colours come from the theme's
colour-blind-safe colorway; the two maps are SVG maps of the city's districts
(`components.figures.geo`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
from babel import dates as babel_dates
from plotly.colors import sequential

from components.charts import FigureContext, finish
from components.figures import geo
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
from components.theme import PALETTE, colorway, map_colorscale
from datasets.cities import CityProfile
from datasets.queries.traffic import (
    EMERGENCY_MAX_KM,
    did_summary,
    pilot_weekly,
    pilot_windows,
)
from i18n import BABEL_LOCALES, fmt_date, fmt_number, fmt_percent, messages, t

INCIDENT_TYPES = ("crash", "breakdown", "congestion", "illegal_parking", "roadworks", "obstruction")
HOVER_FORMAT = {
    "5min": "%Y-%m-%d %H:%M",
    "hour": "%Y-%m-%d %H:%M",
    "day": "%a %Y-%m-%d",
    "week": "%Y-%m-%d",
    "month": "%B %Y",
}
EMERGENCY_MIN_RUNS = 10  # distance bins with fewer runs are left out (too noisy)


# -- helpers --------------------------------------------------------------------------------------


def label(prefix: str, value: object, lang: str) -> str:
    """The message `prefix.value` when there is one, else the value itself (uploaded codes)."""
    key = f"{prefix}.{value}"
    return t(key, lang) if key in messages() else str(value)


def weekday_names(lang: str) -> list[str]:
    """Abbreviated weekday names, Monday first, from the locale's CLDR data."""
    names = babel_dates.get_day_names("abbreviated", locale=BABEL_LOCALES[lang])
    return [names[i] for i in range(7)]


def type_colours(types: Iterable[str], theme: str) -> dict[str, str]:
    """A fixed colour per incident type (the same on the map and the clearance chart)."""
    palette = colorway(theme)
    ordered = list(INCIDENT_TYPES) + sorted(set(types) - set(INCIDENT_TYPES))
    return {name: palette[i % len(palette)] for i, name in enumerate(ordered)}


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _viridis() -> list[list]:
    """Viridis as plotly's validator writes a named scale: plotly.py's 10 stops as
    `[[position, colour], ...]`. The name alone would draw plotly.js's own Viridis, whose stops
    differ slightly."""
    stops = sequential.Viridis
    return [[i / (len(stops) - 1), colour] for i, colour in enumerate(stops)]


def _rows(*columns: pd.Series | np.ndarray | list) -> list[list]:
    """Per-point `customdata` rows from columns of equal length, as lists of plain Python
    values (`Series.tolist`), which orjson writes without a fallback walk."""
    lists = [c.tolist() if isinstance(c, pd.Series | np.ndarray) else list(c) for c in columns]
    return [list(row) for row in zip(*lists, strict=True)]


def map_background(theme: str) -> str:
    return PALETTE[theme]["paper"]


def _map_layout(fig: Figure, ctx: FigureContext, bounds: geo.Bounds) -> Figure:
    """Give a dict figure the SVG map layout showing `bounds`."""
    return update_layout(
        fig,
        geo=geo.view(bounds, map_background(ctx.theme)),
        margin={"l": 0, "r": 0, "t": 8, "b": 0},
    )


def district_colours(theme: str) -> tuple[str, str]:
    """The ground and the outline of districts without data: a grey that keeps a contrast of
    `MIN_FILL_CONTRAST` with the page, so that the city's shape shows on a projector too."""
    if theme == "dark":
        return "#374151", "#6b7280"
    return "#cbd2d9", "#7b8794"


def _note(fig: Figure, text: str, ctx: FigureContext, y: float = 1.0) -> None:
    add_annotation(
        fig,
        text,
        x=1,
        y=y,
        xanchor="right",
        yanchor="bottom",
        align="right",
        font={"size": 11, "color": PALETTE[ctx.theme]["text"]},
    )


# -- 2. district choropleth -----------------------------------------------------------------------


SMALL_DISTRICT_SHARE = 0.02  # of the city's box: a district too small to hold its own name
CALLOUT_GAP = 0.04  # of the city's width, between its east edge and the column of callouts
CALLOUT_WIDTH = 0.2  # of the city's width, kept east of the city for the callouts' text


def _label_places(city: CityProfile) -> dict[int, tuple[float, float, bool]]:
    """Where each district's name goes: (lon, lat, callout). A large district holds its name
    at its representative point; the small central ones, too crowded for their names at a
    whole-city view, are called out in a column east of the city, in their north-to-south
    order, each with a line to its district."""
    west, east, south, north = geo.geojson_bounds(city.geojson["features"])
    box_area = (east - west) * (north - south)
    points = city.label_points
    small = [c for c, area in city.district_areas.items() if area < SMALL_DISTRICT_SHARE * box_area]
    places = {code: (lon, lat, False) for code, (lon, lat) in points.items()}
    if small:
        column = east + CALLOUT_GAP * (east - west)
        step = (north - south) / (len(small) + 1)
        for i, code in enumerate(sorted(small, key=lambda c: -points[c][1])):
            places[code] = (column, north - step * (i + 1), True)
    return places


def callout_bounds(city: CityProfile) -> geo.Bounds:
    """The city's box with room east of it for the callouts of its small districts."""
    west, east, south, north = geo.geojson_bounds(city.geojson["features"])
    if any(callout for _, _, callout in _label_places(city).values()):
        east += (CALLOUT_GAP + CALLOUT_WIDTH) * (east - west)
    return west, east, south, north


def district_label_texts(by_code: dict[int, float], column: str, ctx: FigureContext) -> list[str]:
    """Each district's name, with its value below when it has one, in the order the map's
    labels are drawn (so an animation can rewrite them frame by frame)."""
    names = ctx.city.district_names(ctx.lang)
    digits = 2 if column == "tti" else 1
    unit = "" if column == "tti" else " km/h"
    return [
        f"<b>{names.get(code, str(code))}</b>"
        + (
            f"<br>{fmt_number(by_code[code], ctx.lang, digits)}{unit}"
            if code in by_code and by_code[code] == by_code[code]  # NaN: no value
            else ""
        )
        for code in _label_places(ctx.city)
    ]


def _district_labels(data: pd.DataFrame, column: str, ctx: FigureContext) -> list[dict]:
    """Each district's name, with its value below when it has one, in the viewer's language;
    and the lines from the callouts to their districts."""
    by_code = dict(zip(data["district"].astype(int), data[column], strict=True))
    places = _label_places(ctx.city)
    points = ctx.city.label_points
    codes = list(places)
    texts = district_label_texts(by_code, column, ctx)
    colours = PALETTE[ctx.theme]
    lons: list[float | None] = []
    lats: list[float | None] = []
    for code in codes:
        lon, lat, callout = places[code]
        if callout:
            lons += [points[code][0], lon, None]
            lats += [points[code][1], lat, None]
    leaders = {
        "type": "scattergeo",
        "lon": lons,
        "lat": lats,
        "mode": "lines",
        "line": {"color": colours["text"], "width": 1},
        "hoverinfo": "skip",
        "showlegend": False,
    }
    labels = geo.labels(
        [places[code][0] for code in codes],
        [places[code][1] for code in codes],
        texts,
        colours["text"],
        colours["paper"],
        textposition=["middle right" if places[code][2] else "middle center" for code in codes],
    )
    return [leaders, labels]


def district_map(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Mean speed (or travel time index) per district on the district boundaries, named.

    The frame may carry a `chosen` column (the districts the filter bar picked): those are
    outlined, and any without a value is named in a note, so that the map stays the way back."""
    lang = ctx.lang
    measure = "tti" if ctx.option == "tti" else "speed"
    column = "tti" if measure == "tti" else "speed_kmh"
    names = ctx.city.district_names(lang)
    data = frame.dropna(subset=[column])
    chosen = set(frame["district"][frame["chosen"]].astype(int)) if "chosen" in frame else set()
    features = ctx.city.geojson["features"]
    shown = {int(code) for code in data["district"]}
    subset = {"type": "FeatureCollection", "features": [f for f in features if f["id"] in shown]}
    text = PALETTE[ctx.theme]["text"]
    neutral, outline = district_colours(ctx.theme)
    codes = data["district"].astype(int).tolist()
    trace = {
        "type": "choropleth",
        "geojson": subset,
        "locations": codes,
        "z": values(data[column]),
        "customdata": _rows(
            [names.get(int(c), str(c)) for c in data["district"]],
            data["detectors"],
            data["speed_kmh"],
            data["tti"],
        ),
        "colorscale": map_colorscale(ctx.theme),
        "reversescale": measure == "tti",
        "showscale": bool(codes),
        # the chosen districts drawn with a thick outline in the text colour
        "marker": {
            "line": {
                "color": [text if c in chosen else outline for c in codes],
                "width": [3 if c in chosen else 1 for c in codes],
            },
        },
        "colorbar": {
            "title": {"text": t(f"traffic.map.colorbar.{measure}", lang), "side": "right"},
            "thickness": 12,
            "len": 0.8,
            "tickfont": {"color": text},
        },
        "hovertemplate": (
            "<b>%{customdata[0]}</b><br>"
            + t("traffic.hover.speed", lang)
            + " %{customdata[2]:.1f} km/h<br>"
            + t("traffic.hover.tti", lang)
            + " %{customdata[3]:.2f}<br>"
            + t("traffic.hover.detectors", lang)
            + " %{customdata[1]}<extra></extra>"
        ),
        "name": t(f"traffic.measure.{measure}", lang),
    }
    ground = geo.boundaries(ctx.city.geojson, neutral, outline, 0.8)
    if chosen - shown:  # a chosen district without data: outlined on the ground it shows
        ground["marker"]["line"] = {
            "color": [text if f["id"] in chosen else outline for f in features],
            "width": [3 if f["id"] in chosen else 0.8 for f in features],
        }
    # the labels before the data so that the data stays the last trace (the slides animate
    # it); plotly draws every scattergeo above every choropleth whatever their order
    fig = figure([ground, *_district_labels(data, column, ctx), trace])
    # the whole city, whatever has data: a map cut to two districts loses the way back
    _map_layout(fig, ctx, geo.padded(callout_bounds(ctx.city), pad=0.04))
    missing = sorted(chosen - shown)
    if missing:
        add_annotation(
            fig,
            t(
                "traffic.map.no_readings",
                lang,
                districts=", ".join(names.get(c, str(c)) for c in missing),
            ),
            x=0.5,
            y=1.0,
            xanchor="center",
            yanchor="top",
            bgcolor=PALETTE[ctx.theme]["paper"],
            font={"size": geo.LABEL_SIZE_PX, "color": text},
        )
    return finish(fig, ctx)


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
        "fillcolor": _rgba(c[0], 0.15),
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
        _note(
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
        "colorscale": _viridis(),
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
            "yref": "paper",
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


def pilot_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Weekly peak-hour speed of pilot and control detectors around the pilot start, with DiD."""
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
    add_annotation(
        fig,
        _did_text(did_summary(frame), lang),
        x=1,
        y=1.02,
        xanchor="right",
        yanchor="bottom",
        align="right",
        font={"size": 12, "color": PALETTE[ctx.theme]["text"]},
        name=KEY_FIGURE,
    )
    update_layout(
        fig,
        hovermode="closest",
        xaxis={"title": {"text": t("traffic.axis.week", lang)}},
        yaxis={"title": {"text": t("traffic.axis.peak_speed", lang)}},
        legend={"x": 0, "y": 1.02, "yanchor": "bottom"},
        margin={"t": 72},
    )
    return finish(fig, ctx)


# -- 6. incidents ---------------------------------------------------------------------------------


def _incident_trace(points: dict[str, np.ndarray], kind: str, colour: str, lang: str) -> dict:
    """The markers of one incident type; `points` holds their columns as numpy arrays,
    with the hover texts `where` and `when`."""
    kind_label = label("traffic.incident", kind, lang)
    return {
        "type": "scattergeo",
        "lat": points["lat"],
        "lon": points["lon"],
        "mode": "markers",
        "name": kind_label,
        "marker": {
            "size": points["severity"].astype(float) * 3 + 4,
            "color": colour,
            "opacity": 0.8,
        },
        "customdata": _rows(
            [kind_label] * len(points["lat"]),
            points["where"],
            points["when"],
            points["clear_min"],
            points["severity"],
        ),
        "hovertemplate": (
            "<b>%{customdata[0]}</b> · %{customdata[1]}<br>"
            + t("traffic.hover.detected", lang)
            + " %{customdata[2]}<br>"
            + t("traffic.hover.clear", lang)
            + " %{customdata[3]:.0f} min<br>"
            + t("traffic.hover.severity", lang)
            + " %{customdata[4]}/3<extra></extra>"
        ),
    }


def incident_map(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Incident locations coloured by type (a capped, deterministic sample)."""
    lang = ctx.lang
    colours = type_colours(frame["type"].unique(), ctx.theme)
    names = ctx.city.district_names(lang)
    # every column once as an array (one strftime for the hover times), then each type's
    # points by index: a filtered frame a type cost more than the rest of the figure
    columns = {
        "lat": frame["lat"].to_numpy("float64"),
        "lon": frame["lon"].to_numpy("float64"),
        "severity": frame["severity"].to_numpy(),
        "clear_min": frame["clear_min"].to_numpy("float64"),
        "where": np.array([names.get(int(d), str(d)) for d in frame["district"]], dtype=object),
        "when": frame["detected_at"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(object),
    }
    types = frame["type"].to_numpy(object)
    traces = []
    for kind in colours:
        index = np.flatnonzero(types == kind)
        if len(index):
            points = {name: column[index] for name, column in columns.items()}
            traces.append(_incident_trace(points, kind, colours[kind], lang))
    fig = figure(traces)
    # numpy's quantiles: pandas' own cost ~1 ms each (same linear interpolation, NaN skipped)
    lons = np.nanquantile(frame["lon"].to_numpy(dtype="float64"), [0.02, 0.98])
    lats = np.nanquantile(frame["lat"].to_numpy(dtype="float64"), [0.02, 0.98])
    _, outline = district_colours(ctx.theme)
    fig["data"].insert(0, geo.boundaries(ctx.city.geojson, "rgba(0,0,0,0)", outline, 0.8))
    _map_layout(fig, ctx, geo.padded(geo.bounds_of(lons.tolist(), lats.tolist())))
    total, shown = int(frame["total"].iloc[0]), len(frame)
    update_layout(
        fig,
        geo={"domain": {"x": [0, 1], "y": [0, 0.86]}},
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "top"},
        margin={"t": 8, "b": 28},
    )
    add_annotation(
        fig,
        t(
            "traffic.incidents.sample" if shown < total else "traffic.incidents.all",
            lang,
            shown=fmt_number(shown, lang),
            total=fmt_number(total, lang),
        ),
        x=0,
        y=0,
        xanchor="left",
        yanchor="top",
        yshift=-4,
        font={"size": 11, "color": PALETTE[ctx.theme]["text"]},
    )
    return finish(fig, ctx)


def clearance_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """Median minutes from detection to clearance per type, with the interquartile range."""
    lang = ctx.lang
    colours = type_colours(frame["type"], ctx.theme)
    ink = PALETTE[ctx.theme]["text"]
    data = frame.sort_values("median_min", ascending=False)
    labels = [label("traffic.incident", k, lang) for k in data["type"]]
    trace = {
        "type": "scatter",
        "x": values(data["median_min"]),
        "y": labels,
        "mode": "markers",
        "marker": {
            "size": 12,
            "color": [colours[k] for k in data["type"]],
            "line": {"width": 1, "color": ink},
        },
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": values(data["p75_min"] - data["median_min"]),
            "arrayminus": values(data["median_min"] - data["p25_min"]),
            "thickness": 2,
            "width": 0,
            "color": ink,
        },
        "customdata": _rows(labels, data["incidents"], data["p25_min"], data["p75_min"]),
        "hovertemplate": (
            "<b>%{customdata[0]}</b><br>"
            + t("traffic.hover.median", lang)
            + " %{x:.0f} min<br>"
            + t("traffic.hover.iqr", lang)
            + " %{customdata[2]:.0f}–%{customdata[3]:.0f} min<br>"
            + t("traffic.hover.incidents", lang)
            + " %{customdata[1]:,}<extra></extra>"
        ),
        "showlegend": False,
    }
    fig = figure(
        [trace],
        xaxis={
            "title": {"text": t("traffic.axis.clear_min", lang)},
            "type": "log",
            "tickvals": [5, 10, 20, 50, 100, 200, 500, 1000],
        },
        yaxis={"showgrid": False, "automargin": True},
        margin={"l": 8},
    )
    return finish(fig, ctx)


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
        "fillcolor": _rgba(colour, 0.15),
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
        "customdata": _rows(ranges, part["runs"]),
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
            bgcolor=_rgba(PALETTE[ctx.theme]["paper"], 0.85),
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
