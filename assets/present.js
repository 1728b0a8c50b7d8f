/* CityLens presenter mode: keys, clicker, kiosk playlist, presenter sync, exports.
 *
 * Loaded on every page of the app (Dash loads all assets) but idle unless the page holds
 * #present-root; also inlined in exported HTML decks, which call `standalone(deck)`.
 * Installed once: one keydown listener, one click listener, one 500 ms ticker, one
 * BroadcastChannel, whatever the number of slides shown, so a kiosk can loop for hours.
 *
 * In the app the slide number lives in the URL (`?deck=forum&slide=3`): a key changes the URL
 * (history.replaceState, then the event dcc.Location listens to) and the page's callback
 * renders that slide into the one graph. In an exported file the slide goes in the #hash and
 * this script draws the embedded figures itself with Plotly.react.
 */
(function () {
  "use strict";
  if (window.CityLensPresent) {
    return;
  }

  var CHANNEL = "citylens-present";
  var DRAFT_KEY = "citylens.deck.draft";
  var TIMER_KEY = "citylens.present.start";
  var DEFAULT_ADVANCE = 20;
  var MAX_DRAFT = 200;
  var FIRST_KEYS = ["city", "from", "to", "district"];
  var LAST_KEYS = ["lang", "theme"];
  var windowId = Math.random().toString(36).slice(2);

  var state = {
    mode: null, // "dash" | "standalone"
    deck: "",
    role: "audience",
    count: 0,
    index: 1,
    kiosk: false,
    advance: 0, // seconds between slides, 0: none
    paused: false,
    lastChange: Date.now(),
    jump: "",
    played: 0, // the slide whose playback the kiosk started
    reload: 0, // kiosk: seconds after which a finished loop reloads the page (0: never)
    loadedAt: Date.now(),
    data: null, // standalone: the embedded deck
    installed: false,
  };
  var channel = null;

  function root() {
    return document.getElementById("present-root");
  }

  function message(name) {
    if (state.mode === "standalone" && state.data && state.data.messages) {
      return state.data.messages[name.replace(/-/g, "_")] || "";
    }
    var r = root();
    return (r && r.getAttribute("data-msg-" + name)) || "";
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function setText(id, text) {
    var el = byId(id);
    if (el) {
      el.textContent = text || "";
    }
  }

  function status(text) {
    setText("present-status", text);
  }

  // -- the URL -------------------------------------------------------------------------------

  /* The query the way ViewState.to_query writes it, so the shell does not rewrite it. */
  function canonicalQuery(params) {
    var keys = [];
    params.forEach(function (_v, k) {
      if (keys.indexOf(k) < 0) {
        keys.push(k);
      }
    });
    var middle = keys
      .filter(function (k) {
        return FIRST_KEYS.indexOf(k) < 0 && LAST_KEYS.indexOf(k) < 0;
      })
      .sort();
    var ordered = FIRST_KEYS.concat(middle, LAST_KEYS).filter(function (k) {
      return params.has(k) && params.get(k) !== "";
    });
    if (!ordered.length) {
      return "";
    }
    return (
      "?" +
      ordered
        .map(function (k) {
          var v = params.getAll(k);
          return (
            encodeURIComponent(k) + "=" + encodeURIComponent(v[v.length - 1]).replace(/%2C/gi, ",")
          );
        })
        .join("&")
    );
  }

  function slideFromSearch(search) {
    var n = parseInt(new URLSearchParams(search || "").get("slide"), 10);
    return isFinite(n) && n > 0 ? n : 1;
  }

  function dashNavigate(url, replace) {
    if (replace) {
      window.history.replaceState(null, "", url);
    } else {
      window.history.pushState(null, "", url);
    }
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  }

  // -- moving between slides ------------------------------------------------------------------

  function clamp(n) {
    return Math.min(Math.max(n, 1), Math.max(state.count, 1));
  }

  function goTo(n, opts) {
    opts = opts || {};
    if (!state.mode || !state.count) {
      return;
    }
    n = clamp(parseInt(n, 10) || 1);
    if (n === state.index && !opts.force) {
      return;
    }
    state.index = n;
    state.lastChange = Date.now();
    state.played = 0;
    if (state.mode === "dash") {
      var params = new URLSearchParams(window.location.search);
      params.set("slide", String(n));
      dashNavigate(window.location.pathname + canonicalQuery(params) + window.location.hash, true);
    } else {
      drawStandalone(n);
      window.history.replaceState(null, "", "#" + n);
    }
    if (opts.broadcast !== false) {
      post({ type: "slide", slide: n });
    }
  }

  function next(loop) {
    if (state.index >= state.count && loop && state.kiosk && kioskReload()) {
      return;
    }
    goTo(state.index >= state.count && loop ? 1 : state.index + 1);
  }

  /* A kiosk runs for days: browsers and plotting libraries keep a little of every figure they
     drew, so once `reload` seconds have passed, the end of a loop reloads the page (when the
     server answers) and memory starts again from nothing. */
  function kioskReload() {
    if (!state.reload || state.mode !== "dash" || Date.now() - state.loadedAt < state.reload * 1000) {
      return false;
    }
    state.reload = 0; // one attempt: if the server does not answer, the loop goes on
    fetch("/health", { cache: "no-store" })
      .then(function (res) {
        if (res.ok) {
          var params = new URLSearchParams(window.location.search);
          params.set("slide", "1");
          window.location.replace(window.location.pathname + canonicalQuery(params));
        }
      })
      .catch(function () {});
    return false;
  }

  function prev() {
    goTo(state.index - 1);
  }

  function togglePause() {
    if (!state.advance) {
      state.advance = DEFAULT_ADVANCE;
      state.paused = false;
    } else {
      state.paused = !state.paused;
    }
    state.lastChange = Date.now();
    status(state.paused ? message("paused") : message("playing") + " · " + state.advance + " s");
  }

  function toggleFullscreen() {
    var doc = document;
    var request = doc.documentElement.requestFullscreen;
    if (doc.fullscreenElement) {
      doc.exitFullscreen().catch(function () {});
    } else if (request) {
      request.call(doc.documentElement).catch(function () {});
    }
  }

  function toggleNotes() {
    var panel = byId("present-notes");
    if (panel) {
      panel.hidden = !panel.hidden;
    }
  }

  function leave() {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(function () {});
      return;
    }
    if (state.mode !== "dash") {
      return;
    }
    var r = root();
    var lang = r ? r.getAttribute("data-lang") : "";
    detach();
    dashNavigate("/" + (lang ? "?lang=" + encodeURIComponent(lang) : ""), false);
  }

  function showJump() {
    var el = byId("present-jump");
    if (!el) {
      return;
    }
    el.hidden = !state.jump;
    el.textContent = state.jump ? message("jump") + " " + state.jump : "";
  }

  // -- keys and buttons -----------------------------------------------------------------------

  function onKey(ev) {
    if (!state.mode || !root() || ev.defaultPrevented) {
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) {
      return;
    }
    var target = ev.target;
    if (
      target &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName || ""))
    ) {
      return;
    }
    var key = ev.key;
    var handled = true;
    if (/^[0-9]$/.test(key)) {
      state.jump = (state.jump + key).slice(-4);
      showJump();
    } else if (key === "Enter") {
      if (state.jump) {
        var wanted = parseInt(state.jump, 10);
        state.jump = "";
        showJump();
        goTo(wanted);
      } else {
        handled = false;
      }
    } else if (key === "Backspace" && state.jump) {
      state.jump = state.jump.slice(0, -1);
      showJump();
    } else {
      if (state.jump) {
        state.jump = "";
        showJump();
      }
      switch (key) {
        case "ArrowRight":
        case "PageDown":
        case " ":
        case "Spacebar":
          next(false);
          break;
        case "ArrowLeft":
        case "PageUp":
          prev();
          break;
        case "Home":
          goTo(1);
          break;
        case "End":
          goTo(state.count);
          break;
        case "f":
        case "F":
          toggleFullscreen();
          break;
        case "p":
        case "P":
          togglePause();
          break;
        case "n":
        case "N":
          toggleNotes();
          break;
        case "Escape":
        case "Esc":
          leave();
          break;
        default:
          handled = false;
      }
    }
    if (handled) {
      ev.preventDefault();
    }
  }

  function onClick(ev) {
    var el = ev.target && ev.target.closest ? ev.target.closest("[data-present-action]") : null;
    if (!el || !root()) {
      return;
    }
    var action = el.getAttribute("data-present-action");
    if (action === "presenter") {
      ev.preventDefault();
      var params = new URLSearchParams(window.location.search);
      params.set("slide", String(state.index));
      params.delete("kiosk");
      params.delete("advance");
      window.open("/present/presenter" + canonicalQuery(params), "citylens-presenter");
      return;
    }
    ev.preventDefault();
    if (action === "next") {
      next(false);
    } else if (action === "prev") {
      prev();
    } else if (action === "first") {
      goTo(1);
    } else if (action === "last") {
      goTo(state.count);
    } else if (action === "pause") {
      togglePause();
    } else if (action === "fullscreen") {
      toggleFullscreen();
    } else if (action === "notes") {
      toggleNotes();
    } else if (action === "reset-timer") {
      sessionStorage.setItem(TIMER_KEY, String(Date.now()));
      tick();
    } else if (action === "export") {
      startExport(el.getAttribute("data-format") || "html");
    }
  }

  // -- exports with progress ------------------------------------------------------------------

  function startExport(format) {
    var r = root();
    if (!r || state.mode !== "dash") {
      return;
    }
    var label = format.toUpperCase();
    var query =
      "?deck=" +
      encodeURIComponent(state.deck) +
      "&format=" +
      encodeURIComponent(format) +
      "&lang=" +
      encodeURIComponent(r.getAttribute("data-lang") || "en") +
      "&theme=" +
      encodeURIComponent(r.getAttribute("data-theme") || "dark");
    status(message("exporting") + " " + label + "…");
    function fail(error) {
      var text = error && error.message ? error.message : error;
      status(message("export-failed") + " " + label + ": " + text);
    }
    // a refusal (429 when too many exports wait) carries a translated message in `error`
    function json(res) {
      return res
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          if (!res.ok) {
            throw new Error(body.error || res.status + " " + res.statusText);
          }
          return body;
        });
    }
    function poll(job) {
      if (job.state === "done") {
        status(message("export-done") + " " + label);
        window.location.href = "/present/export/jobs/" + job.id + "/file";
        return;
      }
      if (job.state === "cancelled") {
        status(message("export-cancelled") + " " + label);
        return;
      }
      if (job.state === "failed") {
        fail(job.error || "");
        return;
      }
      if (job.state === "queued") {
        status(message("exporting") + " " + label + ": " + message("export-queued") + "…");
      } else {
        status(message("exporting") + " " + label + " " + job.done + "/" + job.total);
      }
      window.setTimeout(function () {
        fetch("/present/export/jobs/" + job.id, { cache: "no-store" })
          .then(json)
          .then(poll, fail);
      }, 400);
    }
    fetch("/present/export/jobs" + query, { method: "POST" })
      .then(json)
      .then(poll)
      .catch(fail);
  }

  // -- presenter and audience windows ---------------------------------------------------------

  function ensureChannel() {
    if (channel || typeof BroadcastChannel === "undefined" || state.mode !== "dash") {
      return;
    }
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = function (ev) {
      var m = ev.data || {};
      if (!root() || m.from === windowId || m.deck !== state.deck) {
        return;
      }
      if (m.type === "slide" && m.slide !== state.index) {
        goTo(m.slide, { broadcast: false });
      } else if (m.type === "hello" && state.role === "audience") {
        post({ type: "slide", slide: state.index });
      }
    };
  }

  function post(m) {
    if (!channel || !root()) {
      return;
    }
    m.from = windowId;
    m.deck = state.deck;
    channel.postMessage(m);
  }

  // -- the clock: auto-advance, kiosk playback, presenter timer -------------------------------

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function graphDiv() {
    return document.querySelector("#present-graph.js-plotly-plot, #present-graph .js-plotly-plot");
  }

  function kioskPlayback(now) {
    // A playback slide plays once in a kiosk when it fits in the time the slide is shown.
    var gd = graphDiv();
    if (state.played === state.index || now - state.lastChange < 1500 || !gd || !window.Plotly) {
      return;
    }
    var frames = gd._transitionData && gd._transitionData._frames;
    var menus = gd.layout && gd.layout.updatemenus;
    if (!frames || !frames.length || !menus || !menus.length) {
      return;
    }
    var loading = document.querySelector("[data-dash-is-loading='true']");
    if (loading) {
      return;
    }
    state.played = state.index;
    var args = menus[0].buttons[0].args[1];
    var duration = (args.frame && args.frame.duration) || 500;
    if (frames.length * duration + 2500 > state.advance * 1000) {
      return;
    }
    window.Plotly.animate(gd, null, args).catch(function () {});
  }

  function tick() {
    var r = root();
    if (!r) {
      if (state.mode === "dash") {
        detach();
      }
      return;
    }
    var now = Date.now();
    if (state.mode === "dash") {
      bodyClasses(r);
    }
    if (
      state.role === "audience" &&
      state.advance > 0 &&
      !state.paused &&
      state.count > 0 &&
      now - state.lastChange >= state.advance * 1000
    ) {
      next(true);
    }
    if (state.kiosk) {
      kioskPlayback(now);
    }
    if (state.role === "presenter") {
      var start = parseInt(sessionStorage.getItem(TIMER_KEY), 10) || now;
      var secs = Math.max(0, Math.floor((now - start) / 1000));
      var h = Math.floor(secs / 3600);
      var text = (h ? h + ":" + two(Math.floor(secs / 60) % 60) : two(Math.floor(secs / 60))) +
        ":" + two(secs % 60);
      setText("presenter-elapsed", text);
      var d = new Date(now);
      setText("presenter-clock", two(d.getHours()) + ":" + two(d.getMinutes()));
    }
  }

  // -- attaching to a page --------------------------------------------------------------------

  function install() {
    if (state.installed) {
      return;
    }
    state.installed = true;
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick);
    window.setInterval(tick, 500);
  }

  function bodyClasses(r) {
    var body = document.body;
    body.classList.add("present-mode");
    body.classList.toggle("present-kiosk", r.getAttribute("data-kiosk") === "1");
    body.classList.toggle("present-light", r.getAttribute("data-theme") === "light");
    body.classList.toggle("present-presenter", r.getAttribute("data-role") === "presenter");
  }

  function detach() {
    var body = document.body;
    ["present-mode", "present-kiosk", "present-light", "present-presenter"].forEach(function (c) {
      body.classList.remove(c);
    });
    state.mode = null;
    state.deck = "";
    state.jump = "";
  }

  /* Called by the page's clientside callback whenever its config or the URL changes. */
  function attach(config, search) {
    var r = root();
    if (!r || !config || window.location.pathname.indexOf("/present") !== 0) {
      return;
    }
    install();
    var deck = r.getAttribute("data-deck") || "";
    var role = r.getAttribute("data-role") || "audience";
    var fresh = state.mode !== "dash" || state.deck !== deck || state.role !== role;
    state.mode = "dash";
    state.deck = deck;
    state.role = role;
    state.count = parseInt(r.getAttribute("data-count"), 10) || 0;
    state.kiosk = r.getAttribute("data-kiosk") === "1";
    var index = slideFromSearch(search);
    if (fresh) {
      state.advance = parseInt(r.getAttribute("data-advance"), 10) || 0;
      state.reload = parseInt(r.getAttribute("data-reload"), 10) || 0;
      state.paused = false;
      state.played = 0;
      state.lastChange = Date.now();
    }
    if (index !== state.index) {
      state.index = index;
      state.lastChange = Date.now();
      state.played = 0;
    }
    bodyClasses(r);
    ensureChannel();
    if (fresh && role === "presenter") {
      if (!sessionStorage.getItem(TIMER_KEY)) {
        sessionStorage.setItem(TIMER_KEY, String(Date.now()));
      }
      post({ type: "hello" });
    }
    tick();
  }

  // -- exported decks -------------------------------------------------------------------------

  function drawStandalone(n) {
    var deck = state.data;
    var slide = deck.slides[n - 1];
    if (!slide) {
      return;
    }
    setText("present-section", slide.section);
    setText("present-counter", slide.index + " / " + slide.count);
    setText("present-title", slide.title);
    setText("present-takeaway", slide.takeaway);
    setText("present-sources", (slide.sources || []).join(" | "));
    var empty = byId("present-empty");
    if (empty) {
      empty.textContent = slide.message || "";
      empty.hidden = !slide.message;
    }
    var notes = byId("present-notes");
    if (notes) {
      notes.textContent = "";
      (slide.notes || "").split("\n").forEach(function (line) {
        if (line) {
          var p = document.createElement("p");
          p.textContent = line;
          notes.appendChild(p);
        }
      });
    }
    document.title = slide.title + " · " + deck.title;
    var fig = slide.figure || { data: [], layout: {} };
    window.Plotly.react(byId("present-graph"), {
      data: fig.data || [],
      layout: fig.layout || {},
      frames: fig.frames || [],
      config: deck.config || {},
    });
  }

  function standalone(deck) {
    state.mode = "standalone";
    state.data = deck;
    state.deck = "export";
    state.role = "export";
    state.count = deck.slides.length;
    state.index = 0;
    install();
    var fromHash = function () {
      return parseInt((window.location.hash || "").replace("#", ""), 10) || 1;
    };
    goTo(fromHash(), { broadcast: false, force: true });
    window.addEventListener("hashchange", function () {
      goTo(fromHash(), { broadcast: false });
    });
  }

  // -- "add to deck" on chart cards, read by the deck editor ---------------------------------

  function readDraftRaw() {
    try {
      var draft = JSON.parse(window.localStorage.getItem(DRAFT_KEY) || "null");
      if (draft && Array.isArray(draft.slides)) {
        return draft;
      }
    } catch (e) {
      /* a damaged draft starts again */
    }
    return { slides: [] };
  }

  function addToDraft(chartId, option, search, label) {
    var draft = readDraftRaw();
    var params = new URLSearchParams(search || "");
    LAST_KEYS.forEach(function (k) {
      params.delete(k);
    });
    draft.slides.push({
      chart: chartId,
      query: canonicalQuery(params),
      option: option || null,
      title: "",
      takeaway: "",
      notes: "",
    });
    draft.slides = draft.slides.slice(-MAX_DRAFT);
    window.localStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
    return String(label || "").replace(/\s*✓.*$/, "") + " ✓ " + draft.slides.length;
  }

  function readDraft(cleared) {
    var trigger = window.dash_clientside && window.dash_clientside.callback_context;
    var byClear =
      trigger && trigger.triggered && trigger.triggered.some(function (t) {
        return t.prop_id === "deck-draft-cleared.data";
      });
    if (cleared && byClear) {
      window.localStorage.removeItem(DRAFT_KEY);
    }
    return readDraftRaw();
  }

  window.CityLensPresent = {
    attach: attach,
    standalone: standalone,
    addToDraft: addToDraft,
    readDraft: readDraft,
    canonicalQuery: canonicalQuery,
    goTo: goTo,
    state: function () {
      return {
        mode: state.mode,
        deck: state.deck,
        index: state.index,
        count: state.count,
        advance: state.advance,
        paused: state.paused,
        kiosk: state.kiosk,
      };
    },
  };
})();
