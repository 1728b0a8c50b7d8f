"""Maps drawn in SVG: plotly's `geo` subplot with the city's own GeoJSON and no base map.

Why not the tile maps (`choroplethmap`, `scattermap`)? They need maplibre and a WebGL context
each: two thirds of the full plotly.js, the slowest part of a first load, and no text glyphs
without a glyph server. An SVG map draws at once, exports as it shows and needs no GPU; the app
ships a plotly.js without maplibre (`frontend/plotly`). The base layers stay hidden
(`visible: False`): the world outline plotly loads for any choropleth (served from
`assets/topojson`) never shows, the districts are the map.

A view is a box of longitudes and latitudes (west, east, south, north) that plotly fits into
the card with the Mercator projection, keeping its aspect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

Bounds = tuple[float, float, float, float]  # west, east, south, north


def bounds_of(lons: Iterable[float], lats: Iterable[float]) -> Bounds:
    lons, lats = list(lons), list(lats)
    return min(lons), max(lons), min(lats), max(lats)


def geojson_bounds(features: Iterable[dict]) -> Bounds | None:
    """The box around every ring of the features; None when there is no feature."""
    lons: list[float] = []
    lats: list[float] = []
    for feature in features:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            for ring in polygon:
                lons.extend(pt[0] for pt in ring)
                lats.extend(pt[1] for pt in ring)
    return bounds_of(lons, lats) if lons else None


def padded(bounds: Bounds, pad: float = 0.08, min_span: float = 0.0) -> Bounds:
    """The box grown by `pad` of its size on each side and to at least `min_span` degrees of
    longitude, so that one station or one district is not drawn across the whole card."""
    west, east, south, north = bounds
    lon_span = max(east - west, min_span)
    lat_span = max(north - south, min_span * math.cos(math.radians((north + south) / 2)))
    lon_mid, lat_mid = (west + east) / 2, (south + north) / 2
    half_lon, half_lat = lon_span * (0.5 + pad), lat_span * (0.5 + pad)
    return lon_mid - half_lon, lon_mid + half_lon, lat_mid - half_lat, lat_mid + half_lat


CITY_PAD = 0.04  # margin of a whole-city map, of the city's size on each side


def whole_city(geojson: dict, *also: Bounds) -> Bounds:
    """The frame of a whole-city map: the box of every district, grown to hold the boxes
    `also` (a column of callouts, a station beyond the boundary), with a margin of CITY_PAD.
    Every map of the city frames the same place, whatever part of it has data."""
    boxes = [geojson_bounds(geojson["features"]), *also]
    boxes = [box for box in boxes if box is not None]
    west = min(b[0] for b in boxes)
    east = max(b[1] for b in boxes)
    south = min(b[2] for b in boxes)
    north = max(b[3] for b in boxes)
    return padded((west, east, south, north), pad=CITY_PAD)


def zoom_bounds(center: dict, zoom: float, width_px: int, height_px: int) -> Bounds:
    """The box a web-map view (centre and zoom level, 512-px tiles) shows in a card of that
    size: the cities' profiles give their default view this way."""
    lon_span = width_px * 360 / (512 * 2**zoom)
    y_mid = math.log(math.tan(math.pi / 4 + math.radians(center["lat"]) / 2))
    y_half = height_px * math.pi / (512 * 2**zoom)

    def lat_of(y: float) -> float:
        return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)

    return (
        center["lon"] - lon_span / 2,
        center["lon"] + lon_span / 2,
        lat_of(y_mid - y_half),
        lat_of(y_mid + y_half),
    )


def view(bounds: Bounds, background: str, **extra: Any) -> dict[str, Any]:
    """The `geo` layout showing `bounds` on a plain background, base layers hidden."""
    west, east, south, north = bounds
    return {
        "visible": False,
        "projection": {"type": "mercator"},
        "lonaxis": {"range": [west, east]},
        "lataxis": {"range": [south, north]},
        "bgcolor": background,
        **extra,
    }


def boundaries(
    geojson: dict, fill: str, line: str, width: float = 1.0, hovertext: list | None = None
) -> dict[str, Any]:
    """Every district in one colour under the data: the map's ground and outlines."""
    codes = [feature["id"] for feature in geojson["features"]]
    trace: dict[str, Any] = {
        "type": "choropleth",
        "geojson": geojson,
        "locationmode": "geojson-id",
        "locations": codes,
        "z": [0] * len(codes),
        "colorscale": [[0, fill], [1, fill]],
        "showscale": False,
        "marker": {"line": {"color": line, "width": width}},
        "showlegend": False,
    }
    if hovertext is None:
        trace["hoverinfo"] = "skip"
    else:
        trace["hovertext"] = hovertext
        trace["hovertemplate"] = "%{hovertext}<extra></extra>"
    return trace


LABEL_SIZE_PX = 14  # the smallest text a projector audience reads from the back of a room


def labels(
    lons: Iterable[float],
    lats: Iterable[float],
    texts: list[str],
    ink: str,
    halo: str,
    **extra: Any,
) -> dict[str, Any]:
    """Names written on the map in `ink`, each ringed by a `halo` of the background colour so
    that it stays legible over any fill, dark or bright."""
    ring = ", ".join(f"{x}px {y}px 2px {halo}" for x in (-1, 1) for y in (-1, 1))
    return {
        "type": "scattergeo",
        "lon": lons,
        "lat": lats,
        "text": texts,
        "mode": "text",
        "textfont": {"size": LABEL_SIZE_PX, "color": ink, "shadow": f"{ring}, 0 0 3px {halo}"},
        "hoverinfo": "skip",
        "showlegend": False,
        **extra,
    }
