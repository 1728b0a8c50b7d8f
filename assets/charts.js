// The buttons of a chart's toolbar (components/charts.py, `chart_toolbar`) that need no server:
// PNG and SVG downloads at projector size, drawn by plotly.js from the chart on the page, and a
// link to the view (the page's address, with its filters, pointing at the chart's card).
(function () {
  "use strict";

  var SHOWN_MS = 2500; // how long "Link copied" replaces the button's label

  function graphIn(card) {
    return card ? card.querySelector(".js-plotly-plot") : null;
  }

  function download(button, card) {
    var graph = graphIn(card);
    if (!graph || !window.Plotly || !graph._fullLayout) {
      return; // not drawn yet: nothing to export
    }
    window.Plotly.downloadImage(graph, {
      format: button.dataset.chartAction,
      width: Number(button.dataset.width),
      height: Number(button.dataset.height),
      scale: Number(button.dataset.scale),
      filename: button.dataset.filename || "chart",
    });
  }

  function viewLink(card) {
    var url = new URL(window.location.href);
    url.hash = card && card.id ? card.id : "";
    return url.href;
  }

  // The asynchronous clipboard exists only in secure contexts (https, localhost); the app is
  // also served over plain http on a LAN, where a selected text area and "copy" still work.
  function copyBySelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "0";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (e) {
      copied = false;
    }
    document.body.removeChild(area);
    return copied;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(null, function () {
        return copyBySelection(text) ? undefined : Promise.reject(new Error("copy refused"));
      });
    }
    return copyBySelection(text) ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copyLink(button, card) {
    var link = viewLink(card);
    copyText(link).then(
      function () {
        if (!button.dataset.label) {
          button.dataset.label = button.textContent;
        }
        button.textContent = button.dataset.done;
        window.clearTimeout(Number(button.dataset.timer || 0));
        button.dataset.timer = String(
          window.setTimeout(function () {
            button.textContent = button.dataset.label;
          }, SHOWN_MS)
        );
      },
      function () {
        window.prompt(button.title, link); // the browser refused: the link to copy by hand
      }
    );
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-chart-action]") : null;
    if (!button) {
      return;
    }
    var card = button.closest(".chart-card");
    if (button.dataset.chartAction === "link") {
      copyLink(button, card);
    } else {
      download(button, card);
    }
  });

  // A copied link names a chart's card: the page is drawn after the browser looked for it, so
  // scroll to the card once it exists.
  function scrollToLinkedCard() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (id.indexOf("card-") !== 0) {
      return;
    }
    var found = function () {
      var card = document.getElementById(id);
      if (card) {
        card.scrollIntoView({ block: "start" });
      }
      return card;
    };
    if (found()) {
      return;
    }
    var watch = new MutationObserver(function () {
      if (found()) {
        watch.disconnect();
      }
    });
    watch.observe(document.body, { childList: true, subtree: true });
    window.setTimeout(function () {
      watch.disconnect();
    }, 30000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scrollToLinkedCard);
  } else {
    scrollToLinkedCard();
  }
})();
