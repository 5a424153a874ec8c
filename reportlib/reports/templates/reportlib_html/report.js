/* reportlib: draw every figure from its inert JSON block with the plotly.js inlined above. */
(function () {
  "use strict";
  var MIME = "application/vnd.reportlib.plotly+json";
  function plots() { return document.querySelectorAll(".rl-plot"); }
  function fail(el, err) {
    el.classList.add("rl-plot-failed");
    el.setAttribute("data-rl-drawn", "failed");
    el.textContent = "This chart could not be drawn.";
    if (window.console) { console.error("reportlib chart failed:", err); }
  }
  // On paper (the PDF printer sets rlPrintMargins, delivery/pdf.py) each margin starts at least at its floor:
  // plotly.js draws a chart, measures its tick labels and draws it all again when they need more room than
  // the margins give (automargin); starting from the room most charts need at the printed width saves that
  // second drawing. A chart that needs more still grows.
  function withFloor(layout, floor) {
    var tpl = (layout.template && layout.template.layout && layout.template.layout.margin) || {};
    var own = layout.margin || {};
    var margin = {};
    ["l", "r", "t", "b", "pad", "autoexpand"].forEach(function (k) {
      if (own[k] !== undefined) { margin[k] = own[k]; } else if (tpl[k] !== undefined) { margin[k] = tpl[k]; }
    });
    Object.keys(floor).forEach(function (k) {
      var now = margin[k] === undefined ? 80 : margin[k];  // 80 px: plotly.js's own default margin
      margin[k] = Math.max(now, floor[k]);
    });
    return Object.assign({}, layout, { margin: margin });
  }
  function draw() {
    var blocks = document.querySelectorAll('script[type="' + MIME + '"]');
    Array.prototype.forEach.call(blocks, function (block) {
      var el = document.getElementById(block.getAttribute("data-target"));
      if (!el || el.getAttribute("data-rl-drawn")) { return; }  // drawn already: draw() may run again
      if (typeof Plotly === "undefined") { fail(el, "plotly.js is missing"); return; }
      var spec;
      try { spec = JSON.parse(block.textContent); } catch (e) { fail(el, e); return; }
      var layout = spec.layout || {};
      if (window.rlPrintMargins) { layout = withFloor(layout, window.rlPrintMargins); }
      Plotly.newPlot(el, spec.data || [], layout, spec.config || {}).then(
        function (gd) {
          // plotly.js draws a trace of a type it does not hold as an invisible scatter, silently: say so
          var have = {};
          Array.prototype.forEach.call(gd._fullData || [], function (t) { have[t.type] = true; });
          var missing = (spec.data || []).map(function (t) { return (t && t.type) || "scatter"; })
            .filter(function (type) { return !have[type]; });
          if (missing.length) { fail(el, "trace type " + missing.join(", ") + " is not in this page's plotly.js"); return; }
          el.setAttribute("data-rl-drawn", "1");
        },
        function (e) { fail(el, e); }
      );
    });
  }
  function resizeAll() {
    if (typeof Plotly === "undefined") { return; }
    Array.prototype.forEach.call(plots(), function (el) {
      if (el.getAttribute("data-rl-drawn") === "1") { Plotly.Plots.resize(el); }
    });
  }
  // Paper: a table wider than the page is scaled down to the page width (never below MIN_ZOOM).
  var MIN_ZOOM = 0.45;
  function fitForPrint() {
    Array.prototype.forEach.call(document.querySelectorAll(".rl-table-wrap"), function (wrap) {
      var table = wrap.querySelector("table");
      if (!table) { return; }
      table.style.zoom = "";
      var room = wrap.clientWidth, need = table.scrollWidth;
      if (room > 0 && need > room + 1) { table.style.zoom = String(Math.max(MIN_ZOOM, room / need)); }
    });
  }
  function unfit() {
    Array.prototype.forEach.call(document.querySelectorAll(".rl-table-wrap table"), function (t) { t.style.zoom = ""; });
  }
  window.rlFitForPrint = fitForPrint;
  window.rlDraw = draw;  // the PDF printer draws a page put into an open tab (delivery/pdf.py)
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
  window.addEventListener("beforeprint", function () { fitForPrint(); resizeAll(); });
  window.addEventListener("afterprint", function () { unfit(); resizeAll(); });
})();
