"""Names written on a map that never cover one another.

Plotly writes map text at a fixed size in pixels while the map itself grows and shrinks with
its card, so whether two names collide depends on the size the map is drawn at. The builder of
a map lays its names out for the smallest map it is drawn on (`CARD_MAP_PX` for a dashboard
card); a slide lays them out again for its own, with its larger type (`fit_labels`). Layout
only ever gets easier as the map grows: the points move apart, the text keeps its size.

Each name is either written whole (name and value), shortened to the name, or left out; the
district's hover keeps both. Small districts are called out in a column east of the city, one
under the other in their north-to-south order, each with a line to its district.

The label trace keeps what the layout needs in its `meta` (`{"labels": [...]}`), so a slide
can lay the same names out again; an animation rewrites only the texts, which `frame_texts`
cuts the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .geo import Bounds

CARD_MAP_PX = (540, 400)  # the district map in a card of a 1366×768 screen, less its colorbar
LINE_SPACING = 1.3  # plotly's distance between two lines of one text, in font sizes
GAP_PX = 3  # kept free between two names
FULL, NAME, HIDDEN = "full", "name", "hidden"
LAYOUT_KEYS = ("frame", "city", "column", "ink", "halo")


@dataclass(frozen=True)
class MapLabel:
    """A district's name (and value, "" without one) anchored at a point inside it."""

    lon: float
    lat: float
    name: str
    value: str
    rank: float  # the larger first: a large district keeps its name before a small one
    callout: bool  # written in the column east of the city, with a line to the anchor


@dataclass(frozen=True)
class Placed:
    lon: float
    lat: float
    mode: str  # FULL, NAME or HIDDEN
    box: tuple[float, float, float, float] | None  # x0, y0, x1, y1 in pixels (None: hidden)


def _mercator(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _latitude(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


class Projection:
    """Longitude and latitude to pixels of a Mercator map showing `frame` in `size` pixels,
    fitted and centred as plotly fits a geo subplot's ranges (y grows downwards)."""

    def __init__(self, frame: Bounds, size: tuple[float, float]) -> None:
        west, east, south, north = frame
        self.west, self.top = math.radians(west), _mercator(north)
        span_x, span_y = math.radians(east) - self.west, self.top - _mercator(south)
        self.scale = min(size[0] / span_x, size[1] / span_y)
        self.left = (size[0] - self.scale * span_x) / 2
        self.down = (size[1] - self.scale * span_y) / 2
        # plotly clips a geo subplot's text to the frame: names must stay inside it
        self.box = (self.left, self.down, size[0] - self.left, size[1] - self.down)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x = self.left + self.scale * (math.radians(lon) - self.west)
        return x, self.down + self.scale * (self.top - _mercator(lat))

    def lon_of(self, x: float) -> float:
        return math.degrees(self.west + (x - self.left) / self.scale)

    def lat_of(self, y: float) -> float:
        return _latitude(self.top - (y - self.down) / self.scale)


def text_width(text: str, font_px: float, bold: bool = False) -> float:
    """A generous estimate of a line's width: a Chinese character is a whole em wide, a Latin
    glyph of the sans-serif fonts the app uses at most about 0.62 em (0.7 in bold)."""
    em = sum(1.0 if ord(c) >= 0x2E80 else 0.7 if bold else 0.62 for c in text)
    return em * font_px


def label_text(label: MapLabel, mode: str) -> str:
    if mode == HIDDEN:
        return ""
    if mode == NAME or not label.value:
        return f"<b>{label.name}</b>"
    return f"<b>{label.name}</b><br>{label.value}"


def _size(label: MapLabel, mode: str, font_px: float) -> tuple[float, float]:
    width = text_width(label.name, font_px, bold=True)
    if mode == FULL and label.value:
        return max(width, text_width(label.value, font_px)), font_px * (1 + LINE_SPACING)
    return width, font_px * LINE_SPACING


def _meets(box: tuple, others: list[tuple], frame: tuple) -> bool:
    x0, y0, x1, y1 = box
    if x0 < frame[0] or y0 < frame[1] or x1 > frame[2] or y1 > frame[3]:
        return True
    return any(
        x0 < b[2] + GAP_PX and b[0] < x1 + GAP_PX and y0 < b[3] + GAP_PX and b[1] < y1 + GAP_PX
        for b in others
    )


def _column(
    labels: list[MapLabel],
    at: Projection,
    column_lon: float,
    span: tuple[float, float],
    font: float,
) -> dict[int, Placed]:
    """The callouts, one under the other across the city's height `span` (pixels, top and
    bottom): whole if they all fit, else by name, the smallest districts' left out until the
    rest fits."""
    x = at.point(column_lon, 0.0)[0]

    def fits(kept: list[int], mode: str) -> bool:
        step = (span[1] - span[0]) / (len(kept) + 1)
        sizes = [_size(labels[i], mode, font) for i in kept]
        return all(h + GAP_PX <= step and x + w <= at.box[2] for w, h in sizes)

    kept = sorted(range(len(labels)), key=lambda i: -labels[i].lat)
    mode = FULL
    if not fits(kept, FULL):
        mode = NAME
        while kept and not fits(kept, NAME):
            kept.remove(min(kept, key=lambda i: labels[i].rank))
    placed = {i: Placed(labels[i].lon, labels[i].lat, HIDDEN, None) for i in range(len(labels))}
    step = (span[1] - span[0]) / (len(kept) + 1)
    for n, i in enumerate(kept):
        y = span[0] + step * (n + 1)
        w, h = _size(labels[i], mode, font)
        placed[i] = Placed(column_lon, at.lat_of(y), mode, (x, y - h / 2, x + w, y + h / 2))
    return placed


def callout_frame(
    labels: Sequence[MapLabel],
    frame: Bounds,
    column_lon: float,
    size: tuple[float, float],
    font_px: float,
) -> Bounds:
    """`frame` widened east until the callouts' names fit between their column and its edge
    at this size and type (plotly would cut them at the frame's edge)."""
    names = [text_width(label.name, font_px, bold=True) for label in labels if label.callout]
    for _ in range(4):  # the wider frame draws smaller when the map is as wide as its card
        at = Projection(frame, size)
        needed = at.point(column_lon, 0.0)[0] + max(names, default=0.0) + 2 * GAP_PX
        if needed <= at.box[2]:
            break
        frame = (frame[0], at.lon_of(needed), frame[2], frame[3])
    return frame


def layout_labels(
    labels: Sequence[MapLabel],
    frame: Bounds,
    city: Bounds,
    column_lon: float,
    size: tuple[float, float],
    font_px: float,
) -> list[Placed]:
    """Where and how each label is written on a map of `size` pixels showing `frame`: the
    callouts first (their column is planned), then the others from the largest district down,
    each whole if it meets no name already written, else by name, else left out."""
    labels = list(labels)
    at = Projection(frame, size)
    span = (at.point(city[0], city[3])[1], at.point(city[0], city[2])[1])
    callouts = [i for i, label in enumerate(labels) if label.callout]
    column = _column([labels[i] for i in callouts], at, column_lon, span, font_px)
    placed: dict[int, Placed] = {callouts[j]: p for j, p in column.items()}
    boxes = [p.box for p in placed.values() if p.box is not None]
    for i in sorted(set(range(len(labels))) - set(callouts), key=lambda i: -labels[i].rank):
        label = labels[i]
        x, y = at.point(label.lon, label.lat)
        placed[i] = Placed(label.lon, label.lat, HIDDEN, None)
        for mode in (FULL, NAME):
            w, h = _size(label, mode, font_px)
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if not _meets(box, boxes, at.box):
                placed[i] = Placed(label.lon, label.lat, mode, box)
                boxes.append(box)
                break
    return [placed[i] for i in range(len(labels))]


def label_traces(
    labels: Sequence[MapLabel], placed: Sequence[Placed], layout: dict, font_px: float
) -> tuple[dict, dict]:
    """The lines from the callouts to their districts, and the names (in `labels`' order) in
    the `ink` colour, ringed by a `halo` of the background so that they stay legible over any
    fill. `layout` (frame, city, column, ink, halo) is kept with the labels for `fit_labels`."""
    ink, halo = layout["ink"], layout["halo"]
    lons: list[float | None] = []
    lats: list[float | None] = []
    for label, place in zip(labels, placed, strict=True):
        if label.callout and place.mode != HIDDEN:
            lons += [label.lon, place.lon, None]
            lats += [label.lat, place.lat, None]
    leaders = {
        "type": "scattergeo",
        "lon": lons,
        "lat": lats,
        "mode": "lines",
        "line": {"color": ink, "width": 1},
        "hoverinfo": "skip",
        "showlegend": False,
        "meta": {"leaders": True},
    }
    ring = ", ".join(f"{x}px {y}px 2px {halo}" for x in (-1, 1) for y in (-1, 1))
    names = {
        "type": "scattergeo",
        "lon": [p.lon for p in placed],
        "lat": [p.lat for p in placed],
        "text": [label_text(label, p.mode) for label, p in zip(labels, placed, strict=True)],
        "mode": "text",
        "textposition": ["middle right" if label.callout else "middle center" for label in labels],
        "textfont": {"size": font_px, "color": ink, "shadow": f"{ring}, 0 0 3px {halo}"},
        "hoverinfo": "skip",
        "showlegend": False,
        "meta": {
            "labels": [asdict(label) for label in labels],
            "modes": [p.mode for p in placed],
            **layout,
        },
    }
    return leaders, names


def cut_text(text: str, mode: str) -> str:
    """A label's text (a frame's, with that frame's value) as its layout `mode` writes it."""
    if mode == HIDDEN:
        return ""
    return text.split("<br>")[0] if mode == NAME else text


def fit_labels(figure: dict[str, Any], size: tuple[float, float], font_px: float) -> None:
    """Lay a map's names out again, in place, for a map of `size` pixels written in `font_px`
    type (a slide's): the label and leader traces, and the texts the animation frames write."""
    data = figure.get("data") or []
    found = [
        i
        for i, tr in enumerate(data)
        if isinstance(tr.get("meta"), dict) and "labels" in tr["meta"]
    ]
    for index in found:
        meta = data[index]["meta"]
        labels = [MapLabel(**raw) for raw in meta["labels"]]
        frame = callout_frame(labels, tuple(meta["frame"]), meta["column"], size, font_px)
        placed = layout_labels(labels, frame, tuple(meta["city"]), meta["column"], size, font_px)
        layout = {**{k: meta[k] for k in LAYOUT_KEYS}, "frame": frame}
        geo = figure.setdefault("layout", {}).setdefault("geo", {})
        geo.setdefault("lonaxis", {})["range"] = [frame[0], frame[1]]
        leaders, names = label_traces(labels, placed, layout, font_px)
        data[index] = {**data[index], **names}
        for i, trace in enumerate(data):
            if _meta(trace).get("leaders"):
                data[i] = {**trace, "lon": leaders["lon"], "lat": leaders["lat"]}
        modes = names["meta"]["modes"]
        for frame in figure.get("frames") or []:
            rewritten = zip(frame.get("traces") or [], frame.get("data") or [], strict=True)
            for trace_index, trace in rewritten:
                if trace_index == index and trace.get("text") is not None:
                    trace["text"] = [
                        cut_text(t, m) for t, m in zip(trace["text"], modes, strict=True)
                    ]


def _meta(trace: dict) -> dict:
    meta = trace.get("meta")
    return meta if isinstance(meta, dict) else {}
