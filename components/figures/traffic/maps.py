"""The district map and the incident map: SVG maps of the city's districts
(`components.figures.geo`)."""

from __future__ import annotations

import pandas as pd

from components.charts import FigureContext, finish
from components.figures import geo
from components.figures.labels import (
    CARD_MAP_PX,
    MapLabel,
    callout_frame,
    label_traces,
    layout_labels,
)
from components.figures.plot import (
    Figure,
    add_annotation,
    figure,
    values,
)
from components.theme import PALETTE, map_colorscale
from datasets.cities import CityProfile
from i18n import fmt_number, t

from .common import customdata_rows, district_colours, map_layout

# -- 2. district choropleth -----------------------------------------------------------------------


SMALL_DISTRICT_SHARE = 0.02  # of the city's box: a district too small to hold its own name
CALLOUT_GAP = 0.04  # of the city's width, between its east edge and the column of callouts
CALLOUT_WIDTH = 0.2  # of the city's width, kept east of the city for the callouts' text


def _small_districts(city: CityProfile) -> set[int]:
    """The districts too small to hold their own name at a whole-city view (the crowded
    centre): they are called out in a column east of the city."""
    west, east, south, north = geo.geojson_bounds(city.geojson["features"])
    box_area = (east - west) * (north - south)
    return {c for c, area in city.district_areas.items() if area < SMALL_DISTRICT_SHARE * box_area}


def callout_bounds(city: CityProfile) -> geo.Bounds:
    """The city's box with room east of it for the callouts of its small districts."""
    west, east, south, north = geo.geojson_bounds(city.geojson["features"])
    if _small_districts(city):
        east += (CALLOUT_GAP + CALLOUT_WIDTH) * (east - west)
    return west, east, south, north


def _value_texts(by_code: dict[int, float], column: str, lang: str) -> dict[int, str]:
    digits = 2 if column == "tti" else 1
    unit = "" if column == "tti" else " km/h"
    return {
        code: f"{fmt_number(value, lang, digits)}{unit}"
        for code, value in by_code.items()
        if value == value  # NaN: no value
    }


def district_label_texts(by_code: dict[int, float], column: str, ctx: FigureContext) -> list[str]:
    """Each district's name, with its value below when it has one, in the order the map's
    labels are drawn (so an animation can rewrite them frame by frame); the map cuts them as
    its layout wrote them (`labels.cut_text`)."""
    names = ctx.city.district_names(ctx.lang)
    shown = _value_texts(by_code, column, ctx.lang)
    return [
        f"<b>{names.get(code, str(code))}</b>" + (f"<br>{shown[code]}" if code in shown else "")
        for code in ctx.city.label_points
    ]


def _district_labels(data: pd.DataFrame, column: str, ctx: FigureContext) -> list[dict]:
    """Each district's name, with its value below when it has one, in the viewer's language,
    laid out so that none covers another on a card's map; and the lines from the callouts to
    their districts."""
    city = ctx.city
    by_code = dict(zip(data["district"].astype(int), data[column], strict=True))
    shown = _value_texts(by_code, column, ctx.lang)
    names = city.district_names(ctx.lang)
    small, areas = _small_districts(city), city.district_areas
    labels = [
        MapLabel(
            lon,
            lat,
            names.get(code, str(code)),
            shown.get(code, ""),
            areas.get(code, 0.0),
            code in small,
        )
        for code, (lon, lat) in city.label_points.items()
    ]
    box = geo.geojson_bounds(city.geojson["features"])
    colours = PALETTE[ctx.theme]
    layout = {
        "frame": geo.whole_city(city.geojson, callout_bounds(city)),
        "city": box,
        "column": box[1] + CALLOUT_GAP * (box[1] - box[0]),
        "ink": colours["text"],
        "halo": colours["paper"],
    }
    layout["frame"] = callout_frame(
        labels, layout["frame"], layout["column"], CARD_MAP_PX, geo.LABEL_SIZE_PX
    )
    placed = layout_labels(
        labels, layout["frame"], box, layout["column"], CARD_MAP_PX, geo.LABEL_SIZE_PX
    )
    return list(label_traces(labels, placed, layout, geo.LABEL_SIZE_PX))


def _speed_trace(data: pd.DataFrame, measure: str, chosen: set[int], ctx: FigureContext) -> dict:
    """The districts with a value, coloured by it; the chosen ones outlined in the text colour."""
    lang = ctx.lang
    column = "tti" if measure == "tti" else "speed_kmh"
    names = ctx.city.district_names(lang)
    shown = {int(code) for code in data["district"]}
    features = ctx.city.geojson["features"]
    text = PALETTE[ctx.theme]["text"]
    _, outline = district_colours(ctx.theme)
    codes = data["district"].astype(int).tolist()
    return {
        "type": "choropleth",
        "geojson": {
            "type": "FeatureCollection",
            "features": [f for f in features if f["id"] in shown],
        },
        "locations": codes,
        "z": values(data[column]),
        "customdata": customdata_rows(
            [names.get(int(c), str(c)) for c in data["district"]],
            data["detectors"],
            data["speed_kmh"],
            data["tti"],
        ),
        "colorscale": map_colorscale(ctx.theme),
        "reversescale": measure == "tti",
        "showscale": bool(codes),
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
    text = PALETTE[ctx.theme]["text"]
    neutral, outline = district_colours(ctx.theme)
    ground = geo.boundaries(ctx.city.geojson, neutral, outline, 0.8)
    if chosen - shown:  # a chosen district without data: outlined on the ground it shows
        ground["marker"]["line"] = {
            "color": [text if f["id"] in chosen else outline for f in features],
            "width": [3 if f["id"] in chosen else 0.8 for f in features],
        }
    # the labels before the data so that the data stays the last trace (the slides animate
    # it); plotly draws every scattergeo above every choropleth whatever their order
    labels = _district_labels(data, column, ctx)
    fig = figure([ground, *labels, _speed_trace(data, measure, chosen, ctx)])
    # the whole city, whatever has data: a map cut to two districts loses the way back
    map_layout(fig, ctx, labels[-1]["meta"]["frame"])
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
