"""The app's plotly.js bundle (`frontend/plotly`, built into `assets/vendor`) draws every trace
type the app's figures use, and is the plotly.js version plotly.py writes figures for."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "assets" / "vendor" / "plotly.min.js"
TRACE_CLASSES = {  # graph_objects loads its classes lazily: dir() then getattr
    name: getattr(go, name)
    for name in dir(go)
    if name[:1].isupper()
    and isinstance(getattr(go, name), type)
    and issubclass(getattr(go, name), BaseTraceType)
}
TRACE_TYPES = {cls().type for cls in TRACE_CLASSES.values()}


def bundle_banner() -> str:
    return BUNDLE.read_text(encoding="utf-8")[:300]


def bundled_traces() -> set[str]:
    found = re.search(r"CityLens bundle: ([a-z ]+)\.", bundle_banner())
    assert found, "the bundle names its traces in its banner (frontend/plotly/build.mjs)"
    return set(found.group(1).split())


def traces_in_code() -> set[str]:
    """Every trace type the code names: `go.<Trace>(` and `"type": "<trace>"` literals."""
    used = set()
    for path in [*ROOT.glob("components/**/*.py"), *ROOT.glob("pages/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= {
            TRACE_CLASSES[name]().type
            for name in re.findall(r"\bgo\.([A-Z]\w*)\(", text)
            if name in TRACE_CLASSES
        }
        used |= set(re.findall(r"""["']type["']:\s*["'](\w+)["']""", text)) & TRACE_TYPES
    return used


def test_bundle_is_the_plotly_js_version_plotly_py_writes_for():
    assert f"plotly.js v{get_plotlyjs_version()} " in bundle_banner()


def test_bundle_draws_every_trace_type_the_app_uses():
    used = traces_in_code()
    assert {"scatter", "bar", "heatmap", "choropleth", "scattergeo"} <= used  # the scan works
    assert used <= bundled_traces(), sorted(used - bundled_traces())


def test_bundle_knows_no_cdn_to_fetch_from():
    """plotly's default address for the world outline is the app's own, not cdn.plot.ly."""
    text = BUNDLE.read_text(encoding="utf-8")
    assert 'topojsonURL:{valType:"string",noBlank:!0,dflt:"/assets/topojson/"' in text
    assert not re.search(r"https?://(cdn\.|cdnjs|unpkg|jsdelivr|fonts\.g)", text)


def test_bundle_has_no_tile_map_or_webgl_trace():
    webgl = {"scattermap", "choroplethmap", "densitymap", "scattergl", "splom", "parcoords"}
    assert not bundled_traces() & webgl
    assert "maplibre" not in BUNDLE.read_text(encoding="utf-8")


def test_bundle_has_no_share_button_or_cloud_to_send_to_by_default():
    """plotly.js 4 shows "Share chart..." unless a page's config says otherwise, and uploads
    the figure to Plotly's cloud: off in the bundle itself, so no copy of it (an exported deck,
    a graph a page forgot to configure) can send a chart out."""
    text = BUNDLE.read_text(encoding="utf-8")
    assert 'showSendToCloud:{valType:"boolean",dflt:!1' in text
    assert 'plotlyServerURL:{valType:"string",dflt:""' in text
    assert "cloud.plotly.com" not in text
