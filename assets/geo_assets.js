// Every map hides plotly's base layers (`geo.visible: false`, components/figures/geo.py): the
// districts are the map. plotly.js still fetches and parses a world outline (285 KB) before it
// draws any geo subplot, on each first load and after each redraw of a map; an empty outline
// given here lets it draw at once, and nothing is fetched.
window.PlotlyGeoAssets = window.PlotlyGeoAssets || { topojson: {} };
window.PlotlyGeoAssets.topojson = window.PlotlyGeoAssets.topojson || {};
window.PlotlyGeoAssets.topojson.world_110m = { type: "Topology", objects: {}, arcs: [] };
