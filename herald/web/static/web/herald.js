/*
 * Herald's own client-side code, loaded on every page (deferred, before Alpine).
 *
 * Everything here runs under the Content Security Policy (script-src 'self',
 * style-src 'self'): no eval, no inline scripts, no style attributes written as text.
 *
 * 1. Alpine components, registered with Alpine.data() on "alpine:init" so that the
 *    CSP build of Alpine can use them by name: <div x-data="disclosure">.
 * 2. Charts: any <div class="chart" data-chart='{"x": [...], "series": [...]}'> is drawn
 *    with uPlot, on page load and whenever such an element appears later (htmx swaps,
 *    Alpine templates), redrawn when its width changes and torn down when removed.
 *    uPlot itself is loaded on demand, the first time a chart is on the page.
 */
(function () {
  "use strict";

  var herald = (window.herald = window.herald || {});
  var thisScript = document.currentScript;

  /* ---- Alpine components ------------------------------------------------------- */

  document.addEventListener("alpine:init", function () {
    var Alpine = window.Alpine;

    // A toggled region: a menu, a details panel, the mobile navigation.
    //   <div x-data="disclosure">
    //     <button type="button" x-bind="trigger" aria-controls="panel-id">Menu</button>
    //     <div id="panel-id" x-bind="panel">…</div>
    //   </div>
    // The root gets the class "is-enhanced" once Alpine runs, so CSS can keep the panel
    // visible when JavaScript does not run; the panel gets "is-open" while open.
    Alpine.data("disclosure", function () {
      return {
        open: false,
        init: function () {
          this.$root.classList.add("is-enhanced");
        },
        toggle: function () {
          this.open = !this.open;
        },
        close: function () {
          this.open = false;
        },
        trigger: {
          "@click": function () {
            this.toggle();
          },
          ":aria-expanded": function () {
            return this.open ? "true" : "false";
          },
        },
        panel: {
          ":class": function () {
            return { "is-open": this.open };
          },
          "@keydown.escape.window": function () {
            this.close();
          },
        },
      };
    });
  });

  /* ---- Charts ------------------------------------------------------------------ */

  // Where uPlot lives: base.html puts its (hashed, in production) static URLs on the
  // <script> tag that loads this file.
  var uplotJs = thisScript && thisScript.getAttribute("data-uplot-js");
  var uplotCss = thisScript && thisScript.getAttribute("data-uplot-css");
  var uplotLoading = null;

  function loadUPlot() {
    if (window.uPlot) return Promise.resolve(window.uPlot);
    if (uplotLoading) return uplotLoading;
    if (!uplotJs) return Promise.reject(new Error("herald.js: the uPlot URL is not set"));
    function load(tag, attrs) {
      return new Promise(function (resolve, reject) {
        var element = document.createElement(tag);
        Object.keys(attrs).forEach(function (name) {
          element.setAttribute(name, attrs[name]);
        });
        element.addEventListener("load", resolve);
        element.addEventListener("error", function () {
          reject(new Error("herald.js: could not load " + (attrs.src || attrs.href)));
        });
        document.head.appendChild(element);
      });
    }
    var loads = [load("script", { src: uplotJs })];
    if (uplotCss && !document.querySelector('link[href="' + uplotCss + '"]')) {
      loads.push(load("link", { rel: "stylesheet", href: uplotCss }));
    }
    uplotLoading = Promise.all(loads).then(function () {
      return window.uPlot;
    });
    return uplotLoading;
  }

  var PALETTE_FALLBACK = ["#2753d7", "#e8710a", "#137333", "#a142f4", "#b3261e", "#007b83"];

  function palette() {
    var style = getComputedStyle(document.documentElement);
    return PALETTE_FALLBACK.map(function (fallback, index) {
      return style.getPropertyValue("--chart-" + (index + 1)).trim() || fallback;
    });
  }

  // x values: unix seconds, or ISO 8601 dates / date-times ("2027-01-10").
  function toSeconds(value) {
    if (typeof value === "number") return value;
    var ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? value + "T00:00:00Z" : value);
    if (isNaN(ms)) throw new Error("herald.js: chart x value is not a date: " + value);
    return ms / 1000;
  }

  function formatter(format) {
    var numbers = new Intl.NumberFormat(undefined, format || { maximumFractionDigits: 2 });
    return function (self, value) {
      return value == null ? "–" : numbers.format(value);
    };
  }

  function axisFormatter(format) {
    var numbers = new Intl.NumberFormat(
      undefined,
      Object.assign({ notation: "compact", maximumFractionDigits: 1 }, format || {})
    );
    return function (self, ticks) {
      return ticks.map(function (value) {
        return numbers.format(value);
      });
    };
  }

  function buildChart(uPlot, spec, width) {
    if (!spec || !Array.isArray(spec.x) || !Array.isArray(spec.series)) {
      throw new Error('herald.js: data-chart needs {"x": [...], "series": [...]}');
    }
    var colors = palette();
    var utc = spec.utc !== false && spec.x.some(function (v) {
      return typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v);
    });
    var hasRight = spec.series.some(function (s) {
      return s.axis === "right";
    });
    var leftFormat = (spec.series.find(function (s) { return s.axis !== "right"; }) || {}).format;
    var rightFormat = (spec.series.find(function (s) { return s.axis === "right"; }) || {}).format;
    var timeX = spec.time !== false;

    var series = [{ label: spec.xLabel || (timeX ? "Date" : "") }];
    var data = [timeX ? spec.x.map(toSeconds) : spec.x.map(Number)];
    spec.series.forEach(function (s, index) {
      if (!Array.isArray(s.values) || s.values.length !== spec.x.length) {
        throw new Error("herald.js: chart series '" + s.label + "' needs one value per x");
      }
      var color = s.color || colors[index % colors.length];
      var options = {
        label: s.label || "Series " + (index + 1),
        stroke: color,
        width: 2,
        scale: s.axis === "right" ? "right" : "y",
        value: formatter(s.format),
        spanGaps: false,
        points: { show: spec.x.length <= 31 },
      };
      if (s.bars) {
        options.paths = uPlot.paths.bars({ size: [0.6, 64] });
        options.fill = color;
        options.points = { show: false };
      }
      series.push(options);
      data.push(s.values);
    });

    var axes = [
      {},
      { scale: "y", values: axisFormatter(leftFormat), size: 56 },
    ];
    if (hasRight) {
      axes.push({
        scale: "right",
        side: 1,
        grid: { show: false },
        values: axisFormatter(rightFormat),
        size: 56,
      });
    }
    var scales = { x: { time: timeX } };
    if (spec.series.some(function (s) { return s.bars; })) {
      // Bars are centred on their x: leave half a step on either side.
      var xs = data[0];
      var step = Infinity;
      for (var i = 1; i < xs.length; i++) step = Math.min(step, xs[i] - xs[i - 1]);
      var half = (isFinite(step) && step > 0 ? step : timeX ? 86400 : 1) / 2;
      scales.x.range = function (self, min, max) {
        return [min - half, max + half];
      };
    }
    // Bars start at zero (a bar's height is its value).
    spec.series.forEach(function (s) {
      var key = s.axis === "right" ? "right" : "y";
      if (s.bars && !scales[key]) {
        scales[key] = {
          range: function (self, min, max) {
            return uPlot.rangeNum(Math.min(0, min), Math.max(0, max), 0.1, true);
          },
        };
      }
    });
    var options = {
      width: width,
      height: spec.height || 240,
      series: series,
      axes: axes,
      scales: scales,
      legend: { show: spec.legend !== false },
      cursor: { drag: { x: false, y: false } },
    };
    if (spec.title) options.title = spec.title;
    if (utc) options.tzDate = function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); };
    return { options: options, data: data };
  }

  var charts = new Map(); // element -> {plot, source, observer}

  function contentWidth(element) {
    var style = getComputedStyle(element);
    return Math.floor(
      element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
    );
  }

  function destroy(element) {
    var chart = charts.get(element);
    if (!chart) return;
    chart.observer.disconnect();
    chart.plot.destroy();
    charts.delete(element);
    element.classList.remove("chart-rendered");
  }

  function draw(uPlot, element) {
    var source = element.getAttribute("data-chart");
    var existing = charts.get(element);
    if (existing && existing.source === source) return;
    destroy(element);
    var built;
    try {
      built = buildChart(uPlot, JSON.parse(source), contentWidth(element) || 600);
    } catch (error) {
      console.error(error.message || error, element);
      return;
    }
    var plot = new uPlot(built.options, built.data, element);
    element.classList.add("chart-rendered");
    var lastWidth = contentWidth(element);
    var frame = 0;
    var observer = new ResizeObserver(function () {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(function () {
        var width = contentWidth(element);
        if (width && width !== lastWidth) {
          lastWidth = width;
          plot.setSize({ width: width, height: built.options.height });
        }
      });
    });
    observer.observe(element);
    charts.set(element, { plot: plot, source: source, observer: observer });
  }

  // Draws every chart under root (a document or an element); drops charts whose element
  // left the page. Safe to call again: a chart whose data did not change is kept.
  herald.renderCharts = function (root) {
    charts.forEach(function (chart, element) {
      if (!element.isConnected) destroy(element);
    });
    root = root || document;
    var elements = Array.prototype.slice.call(root.querySelectorAll(".chart[data-chart]"));
    if (root.matches && root.matches(".chart[data-chart]")) elements.unshift(root);
    if (!elements.length) return Promise.resolve();
    return loadUPlot().then(
      function (uPlot) {
        elements.forEach(function (element) {
          if (element.isConnected) draw(uPlot, element);
        });
      },
      function (error) {
        console.error(error.message || error);
      }
    );
  };

  herald.charts = charts;

  function start() {
    herald.renderCharts(document);
    // Content added later (htmx swaps, Alpine x-if/x-for) and data-chart changes.
    var pending = false;
    new MutationObserver(function (mutations) {
      var relevant = mutations.some(function (mutation) {
        if (mutation.type === "attributes") return true;
        var nodes = Array.prototype.slice.call(mutation.addedNodes).concat(
          Array.prototype.slice.call(mutation.removedNodes)
        );
        return nodes.some(function (node) {
          return node.nodeType === 1 && (node.matches(".chart") || node.querySelector(".chart"));
        });
      });
      if (!relevant || pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        herald.renderCharts(document);
      });
    }).observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["data-chart"],
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
