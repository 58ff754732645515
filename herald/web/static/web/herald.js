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

// ---- settings ----
// The new API key's Copy button (Settings page):
//   <div x-data="copyField"><input x-ref="source" x-bind="source" readonly>
//     <button type="button" x-cloak x-bind="trigger">Copy</button>
//     <span role="status" x-text="status"></span></div>
// The button stays hidden (x-cloak) without JavaScript; the key can still be selected.
// When the clipboard is unavailable, the key is selected and the status says to copy it.
(function () {
  "use strict";

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("copyField", function () {
      return {
        status: "",
        source: {
          "@focus": function () {
            this.$refs.source.select();
          },
        },
        copy: function () {
          var input = this.$refs.source;
          var self = this;
          function selectIt() {
            input.focus();
            input.select();
          }
          function fallback() {
            selectIt();
            self.status = "Press Ctrl+C (⌘C on a Mac) to copy the selected key.";
          }
          if (!navigator.clipboard || !window.isSecureContext) {
            fallback();
            return;
          }
          navigator.clipboard.writeText(input.value).then(function () {
            self.status = "Copied to the clipboard.";
          }, fallback);
        },
        trigger: {
          "@click": function () {
            this.copy();
          },
        },
      };
    });
  });
})();
// ---- end settings ----

// ---- campaign page & dashboard ----
// 1. What an htmx action did: the server answers with
//      HX-Trigger: {"herald:status": {"message": "…", "level": "success" | "error"}}
//    and the message goes to the page's live region, <p id="action-status"
//    role="status">, so it is shown and announced. A request the server refuses (403,
//    404, 500 …) or that cannot reach it is reported there too.
// 2. Charts of categories (the dashboard's spend by channel):
//      <div class="chart" data-chart='{"x": [0, 1], "time": false, …}'
//           data-chart-categories='["Google Ads", "Meta Ads"]'>
//    once herald.js has drawn it, the x axis and the legend name the categories
//    instead of 0, 1, …; again whenever the chart is redrawn with new data.
(function () {
  "use strict";

  function showStatus(message, level) {
    var region = document.getElementById("action-status");
    if (!region || !message) return;
    region.textContent = message;
    region.className = "action-status message message-" + (level === "error" ? "error" : "success");
  }

  document.addEventListener("herald:status", function (event) {
    var detail = event.detail || {};
    showStatus(detail.message, detail.level);
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr) return;
    var text = (xhr.responseText || "").trim();
    var plain = text && text.length <= 300 && text.indexOf("<") === -1;
    showStatus(plain ? text : "The server answered " + xhr.status + "; nothing was changed.", "error");
  });

  document.addEventListener("htmx:sendError", function () {
    showStatus("Herald could not be reached; check the connection and try again.", "error");
  });

  function labelCategories(element) {
    var herald = window.herald;
    var chart = herald && herald.charts && herald.charts.get(element);
    if (!chart || chart.categorised) return;
    var categories;
    try {
      categories = JSON.parse(element.getAttribute("data-chart-categories"));
    } catch (error) {
      console.error("herald.js: data-chart-categories is not JSON", element);
      return;
    }
    function name(value) {
      return Number.isInteger(value) && categories[value] != null ? String(categories[value]) : "";
    }
    var plot = chart.plot;
    plot.axes[0].splits = function () {
      return categories.map(function (category, index) {
        return index;
      });
    };
    plot.axes[0].values = function (self, splits) {
      return splits.map(name);
    };
    plot.series[0].value = function (self, value) {
      return value == null ? "–" : name(value);
    };
    chart.categorised = true;
    plot.redraw(false, true);
  }

  function labelAll() {
    document.querySelectorAll(".chart-rendered[data-chart-categories]").forEach(labelCategories);
  }

  new MutationObserver(function (mutations) {
    mutations.forEach(function (mutation) {
      var target = mutation.target;
      if (
        target.nodeType === 1 &&
        target.hasAttribute("data-chart-categories") &&
        target.classList.contains("chart-rendered")
      ) {
        labelCategories(target);
      }
    });
  }).observe(document.documentElement, {
    subtree: true,
    attributes: true,
    attributeFilter: ["class"],
  });
  labelAll();
})();
// ---- end campaign page & dashboard ----

// ---- builder & creative studio ----
// The campaign builder's enhancements; every page works without them.
// 1. creativeStudio (<div class="studio" x-data="creativeStudio">, step 5 and
//    /campaigns/<id>/studio/): on every keystroke it redraws the preview text and the
//    character counters; htmx posts the form to the preview endpoint 400 ms later and
//    swaps in the server's preview and findings, after which the typed text is applied
//    again (the server may answer for an older keystroke). It reads only data
//    attributes the server wrote:
//      <span class="counter" data-counter-for="id_headline_0" data-max="30"
//            data-platform="Google Ads">   the limit comes from PLATFORM_CAPABILITIES
//      <p data-preview-fields="id_headline_0 id_headline_1" data-preview-join=" | "
//         data-preview-limit="3" data-preview-empty="Your headline">   joined input values
//      <span data-preview-cta="id_call_to_action">   the chosen <option data-button>
//      <div data-preview-image="id_file">   the chosen file, until the upload answers
//    The drop zone (<label class="dropzone" x-bind="dropzone"> around the file input)
//    hands dropped files to the input and fires its change event, which htmx uploads.
//    The preview mode radios (x-bind="modes") show one platform's preview or all.
// 2. budgetSplit (<form x-data="budgetSplit" x-bind="form" data-currency="USD">): says
//    how much of the budget the channel amounts ([data-allocation]) take, in
//    [data-split-status]; the server decides what is allowed.
(function () {
  "use strict";

  // Characters as the server counts them (capabilities.character_count): the code
  // points of the NFC-normalized text, so "ñ" is one and an emoji is not two.
  function characterCount(text) {
    return Array.from(text.normalize("NFC")).length;
  }

  function inputValue(id) {
    var input = document.getElementById(id);
    return input && typeof input.value === "string" ? input.value : "";
  }

  function idsOf(element, name) {
    return (element.getAttribute(name) || "").split(/\s+/).filter(Boolean);
  }

  function updateCounters(root, input) {
    if (!input.id) return;
    root.querySelectorAll('[data-counter-for="' + input.id + '"]').forEach(function (counter) {
      var max = parseInt(counter.getAttribute("data-max"), 10);
      var count = characterCount(input.value);
      var over = count > max;
      counter.textContent =
        counter.getAttribute("data-platform") + " " + count + "/" + max + (over ? " — too long" : "");
      counter.classList.toggle("is-over", over);
    });
  }

  function fillText(root) {
    root.querySelectorAll("[data-preview-fields]").forEach(function (element) {
      var values = idsOf(element, "data-preview-fields")
        .map(inputValue)
        .filter(function (value) {
          return value.trim() !== "";
        });
      var limit = parseInt(element.getAttribute("data-preview-limit") || "0", 10);
      if (limit > 0) values = values.slice(0, limit);
      var text = values.join(element.getAttribute("data-preview-join") || " ");
      element.textContent = text || element.getAttribute("data-preview-empty") || "";
      element.classList.toggle("is-placeholder", !text);
    });
    root.querySelectorAll("[data-preview-cta]").forEach(function (element) {
      var select = document.getElementById(element.getAttribute("data-preview-cta"));
      if (!select || select.selectedIndex < 0) return;
      var label = select.options[select.selectedIndex].getAttribute("data-button") || "";
      element.textContent = label;
      element.hidden = !label;
    });
  }

  function showImage(root, url, name) {
    root.querySelectorAll("[data-preview-image]").forEach(function (frame) {
      if (url) {
        var image = document.createElement("img");
        image.src = url;
        image.alt = "The ad's image, " + name;
        frame.replaceChildren(image);
      } else {
        var empty = document.createElement("span");
        empty.className = "fb-media-empty";
        empty.textContent = "No image yet";
        frame.replaceChildren(empty);
      }
    });
  }

  document.addEventListener("alpine:init", function () {
    var Alpine = window.Alpine;

    Alpine.data("creativeStudio", function () {
      return {
        mode: "all",
        chosenImage: null, // {url, name} of a file picked but not yet uploaded
        init: function () {
          var self = this;
          var root = this.$root;
          root.classList.add("is-enhanced");
          root.querySelectorAll("[data-counter-for]").forEach(function (counter) {
            var input = document.getElementById(counter.getAttribute("data-counter-for"));
            if (input) updateCounters(root, input);
          });
          fillText(root);
          root.addEventListener("htmx:afterSwap", function (event) {
            // An outerHTML swap reports the element it replaced: look the new one up.
            var target = event.detail && event.detail.target;
            var slot = document.getElementById("media-slot");
            if (target && target.id === "media-slot" && slot) self.uploaded(slot);
            self.refresh();
          });
        },
        refresh: function () {
          fillText(this.$root);
          if (this.chosenImage) showImage(this.$root, this.chosenImage.url, this.chosenImage.name);
          this.applyMode();
        },
        typed: function (event) {
          updateCounters(this.$root, event.target);
          fillText(this.$root);
        },
        choose: function (input) {
          var file = input.files && input.files[0];
          if (!file || file.type.indexOf("image/") !== 0) return;
          if (this.chosenImage) URL.revokeObjectURL(this.chosenImage.url);
          this.chosenImage = { url: URL.createObjectURL(file), name: file.name };
          showImage(this.$root, this.chosenImage.url, file.name);
        },
        uploaded: function (slot) {
          // The server kept the image (or refused it): its answer is what counts now.
          if (this.chosenImage) URL.revokeObjectURL(this.chosenImage.url);
          this.chosenImage = null;
          var url = slot.getAttribute("data-media-url");
          var input = this.$root.querySelector("input[type=file]");
          if (input) input.value = "";
          var caption = slot.querySelector("figcaption");
          showImage(this.$root, url, caption ? caption.textContent : "");
        },
        applyMode: function () {
          var mode = this.mode;
          this.$root.querySelectorAll("#studio-preview [data-channel]").forEach(function (panel) {
            panel.hidden = mode !== "all" && panel.getAttribute("data-channel") !== mode;
          });
        },
        editor: {
          "@input": function (event) {
            if (event.target.type !== "file") this.typed(event);
          },
          "@change": function (event) {
            var input = event.target;
            if (input.type === "file") this.choose(input);
            // A ticked box keeps its value, so htmx's "input changed" skips it: ask.
            if (input.type === "checkbox") {
              document.body.dispatchEvent(new CustomEvent("studio-refresh"));
            }
          },
        },
        modes: {
          "@change": function (event) {
            this.mode = event.target.value;
            this.applyMode();
          },
        },
        dropzone: {
          "@dragenter.prevent": function () {
            this.$el.classList.add("is-dragging");
          },
          "@dragover.prevent": function () {
            this.$el.classList.add("is-dragging");
          },
          "@dragleave": function () {
            this.$el.classList.remove("is-dragging");
          },
          "@drop.prevent": function (event) {
            this.$el.classList.remove("is-dragging");
            var files = event.dataTransfer && event.dataTransfer.files;
            var input = this.$el.querySelector("input[type=file]");
            if (!files || !files.length || !input) return;
            input.files = files;
            input.dispatchEvent(new Event("change", { bubbles: true }));
          },
        },
      };
    });

    Alpine.data("budgetSplit", function () {
      return {
        init: function () {
          this.update();
        },
        update: function () {
          var form = this.$root;
          var status = form.querySelector("[data-split-status]");
          if (!status) return;
          var currency = form.getAttribute("data-currency") || "";
          function number(input) {
            var value = input ? parseFloat(String(input.value).replace(/,/g, "")) : NaN;
            return isNaN(value) ? 0 : value;
          }
          var format;
          try {
            format = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
          } catch (error) {
            format = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
          }
          var budget = number(form.querySelector("[name=amount]"));
          var allocated = 0;
          form.querySelectorAll("[data-allocation]").forEach(function (input) {
            allocated += number(input);
          });
          var left = Math.round((budget - allocated) * 100) / 100;
          var text = "Allocated " + format.format(allocated) + " of " + format.format(budget);
          if (left < 0) text += ": " + format.format(-left) + " more than the budget.";
          else text += ": " + format.format(left) + " not allocated.";
          status.textContent = text;
          status.classList.toggle("is-over", left < 0);
        },
        form: {
          "@input": function () {
            this.update();
          },
        },
      };
    });
  });
})();
// ---- end builder & creative studio ----
