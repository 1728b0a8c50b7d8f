// Chinese numeric axes after a zoom in the browser. The server labels a zh figure's large-number
// axes in 万 and 亿 (components/figures/axes.py: fixed tickvals and ticktext), which plotly.js
// cannot write itself; a zoom or pan is drawn by plotly.js alone, so those fixed ticks fall out
// of view or no longer fit. After each zoom, such an axis gets round ticks for the range shown,
// labelled as the server labels them (Babel's compact format: 1.5万, 22.5亿).
//
// The ticks are redrawn with Plotly.redraw rather than Plotly.relayout: a relayout would reach
// the graph's relayoutData, and the charts that fetch detail on a zoom would send a request.
(function () {
  "use strict";

  var TICKS = 5; // about as many ticks as the server draws
  var ROUND_STEPS = [1, 2, 2.5, 5, 10];
  var COMPACT_FROM = 1e4; // below one 万 an axis keeps the locale's usual digits
  var UNITS = [
    [1e12, "万亿"],
    [1e8, "亿"],
    [1e4, "万"],
  ];
  var AXIS = /^[xy]axis\d*$/;

  function isChinese(gd) {
    var locale = gd._context && gd._context.locale;
    return typeof locale === "string" && locale.slice(0, 2) === "zh";
  }

  function tidy(value) {
    return parseFloat(value.toPrecision(12)); // 0.1 * 3 is 0.30000000000000004
  }

  // Round values (1, 2, 2.5, 5 × 10ⁿ apart) inside [low, high], on the server's steps
  // (`round_ticks`); a range those leave with fewer than 3 gets the finer steps of twice as many.
  function roundTicks(low, high, count) {
    if (!isFinite(low) || !isFinite(high)) {
      return [];
    }
    if (high <= low) {
      high = low + 1;
    }
    count = count || TICKS;
    var rough = (high - low) / count;
    var magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
    var step = magnitude * 10;
    for (var i = 0; i < ROUND_STEPS.length; i += 1) {
      if (ROUND_STEPS[i] * magnitude >= rough) {
        step = ROUND_STEPS[i] * magnitude;
        break;
      }
    }
    var ticks = [];
    for (var k = Math.ceil(low / step); k <= Math.floor(high / step); k += 1) {
      ticks.push(tidy(k * step));
    }
    return ticks.length < 3 && count === TICKS ? roundTicks(low, high, 2 * TICKS) : ticks;
  }

  // Babel's zh compact decimal, as `i18n.fmt_compact` writes it: from one 万 on, the largest unit
  // the number reaches, two fraction digits at most; below it, the number as it is.
  function compact(value) {
    var size = Math.abs(value);
    var sign = value < 0 ? "-" : "";
    for (var i = 0; i < UNITS.length; i += 1) {
      if (size >= UNITS[i][0]) {
        var scaled = Math.round((size / UNITS[i][0]) * 100) / 100;
        if (i > 0 && scaled * UNITS[i][0] >= UNITS[i - 1][0]) {
          i -= 1; // rounded up to the next unit: 9999.9999万 is 1亿
          scaled = Math.round((size / UNITS[i][0]) * 100) / 100;
        }
        return sign + tidy(scaled) + UNITS[i][1];
      }
    }
    return String(tidy(value));
  }

  // The axes the server labelled in 万/亿 on the figure last given to plotly.js.
  function compactAxes(gd) {
    var names = [];
    var layout = gd.layout || {};
    Object.keys(layout).forEach(function (name) {
      var axis = layout[name];
      if (!AXIS.test(name) || !axis || !Array.isArray(axis.tickvals) || !axis.ticktext) {
        return;
      }
      var largest = Math.max.apply(null, axis.tickvals.map(Math.abs));
      if (largest >= COMPACT_FROM) {
        names.push(name);
      }
    });
    return names;
  }

  function sameTicks(a, b) {
    return Array.isArray(a) && a.length === b.length && a.every(function (v, i) {
      return v === b[i];
    });
  }

  function relabel(gd) {
    if (gd.__zhRedrawing || !isChinese(gd) || !gd._fullLayout || !window.Plotly) {
      return;
    }
    var changed = false;
    (gd.__zhAxes || []).forEach(function (name) {
      var axis = gd.layout[name];
      var drawn = gd._fullLayout[name];
      if (!axis || !drawn || drawn.type !== "linear" || !Array.isArray(drawn.range)) {
        return;
      }
      var low = Math.min(drawn.range[0], drawn.range[1]);
      var high = Math.max(drawn.range[0], drawn.range[1]);
      var ticks = roundTicks(low, high);
      if (!ticks.length || sameTicks(axis.tickvals, ticks)) {
        return;
      }
      axis.tickmode = "array";
      axis.tickvals = ticks;
      axis.ticktext = ticks.map(compact);
      changed = true;
    });
    if (changed) {
      gd.__zhRedrawing = true;
      var done = function () {
        gd.__zhRedrawing = false;
      };
      window.Plotly.redraw(gd).then(done, done);
    }
  }

  function watch(gd) {
    if (!gd || typeof gd.on !== "function") {
      return;
    }
    if (gd.layout !== gd.__zhLayout) {
      // a new figure from the server, with its own ticks (the same one drawn again keeps the
      // axes found before its ticks were redone here)
      gd.__zhLayout = gd.layout;
      gd.__zhAxes = compactAxes(gd);
    }
    if (!gd.__zhWatched) {
      gd.__zhWatched = true;
      gd.on("plotly_relayout", function () {
        relabel(gd);
      });
    }
  }

  // dcc.Graph draws every figure with the global Plotly.react: each graph is watched once it
  // holds a figure, whichever page, slide or explorer drew it.
  function wrapReact() {
    var Plotly = window.Plotly;
    if (!Plotly || Plotly.__zhTicks) {
      return;
    }
    var react = Plotly.react;
    Plotly.react = function () {
      var drawn = react.apply(this, arguments);
      Promise.resolve(drawn).then(watch, function () {});
      return drawn;
    };
    Plotly.__zhTicks = true;
  }

  window.CityLensAxisTicks = { compact: compact, roundTicks: roundTicks };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wrapReact); // plotly.js is a later script
  } else {
    wrapReact();
  }
})();
