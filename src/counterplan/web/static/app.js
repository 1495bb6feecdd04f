// Draws the page's charts: each <div class="vega" data-spec="ID"> gets the
// Vega-Lite spec in the JSON block <script type="application/json" id="ID">.
// No inline script anywhere, so the Content-Security-Policy stays strict.
"use strict";
(function () {
  function draw(element) {
    var block = document.getElementById(element.dataset.spec);
    if (!block) { return; }
    var spec;
    try {
      spec = JSON.parse(block.textContent);
    } catch (err) {
      element.textContent = "This chart could not be read: " + err.message;
      return;
    }
    vegaEmbed(element, spec, { actions: false, renderer: "svg" }).catch(function (err) {
      element.textContent = "This chart could not be drawn: " + err.message;
    });
  }
  function drawAll() {
    if (typeof vegaEmbed !== "function") { return; }
    document.querySelectorAll("div.vega[data-spec]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
