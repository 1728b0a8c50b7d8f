// The trace types CityLens draws; tests/test_plotly_bundle.py checks the figures use no other.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/box'),
    require('plotly.js/lib/choropleth'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/indicator'),
    require('plotly.js/lib/scattergeo'),
    require('plotly.js/lib/table'),
]);

// A choropleth makes the geo subplot load a world outline: from this app (assets/topojson, next
// to this script's folder, whatever path prefix the app is served under), never from plotly's
// CDN (build.mjs also makes /assets/topojson/ the built-in default). Inlined copies (the HTML
// export) carry the outline in window.PlotlyGeoAssets instead.
var script = typeof document !== 'undefined' && document.currentScript;
if (script && script.src) {
    Plotly.setPlotConfig({ topojsonURL: new URL('../topojson/', script.src).href });
}

module.exports = Plotly;
