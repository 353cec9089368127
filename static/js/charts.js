/* Inflow's charts, drawn with the vendored Apache ECharts (static/vendor/echarts-6.1.0).

   A page marks each chart with <div class="chart" data-chart="KIND" data-chart-data="ID"> and embeds
   its figures with {{ data|json_script:"ID" }} (no inline script: the Content-Security-Policy allows
   only our own files). Amounts arrive as strings (exact decimals); they become numbers here only to be
   drawn. Labels, series names and units arrive translated from the template; numbers, months and
   currencies are formatted for the page's language (<html lang>) with Intl, and ECharts' own texts use
   its Chinese locale on a zh-hans page. A table of the same figures sits beside every chart. */
(function () {
  "use strict";

  var lang = (document.documentElement.lang || "en").toLowerCase();
  var zh = lang.indexOf("zh") === 0;
  var locale = zh ? "zh-CN" : "en-US";
  var COLORS = { main: "#1d4ed8", second: "#0f766e", band: "#bfdbfe", muted: "#9ca3af", overdue: "#dc2626",
                 current: "#16a34a" };

  function num(value) {
    return value === null || value === undefined || value === "" ? null : Number(value);
  }

  function money(currency, compact) {
    var options = { style: "currency", currency: currency };  // CN¥ in English, ¥ in Chinese, as the pages write it
    if (compact) { options.notation = "compact"; options.maximumFractionDigits = 1; }
    var format;
    try { format = new Intl.NumberFormat(locale, options); } catch (e) { format = new Intl.NumberFormat(locale); }
    return function (value) { return value === null || value === undefined ? "—" : format.format(value); };
  }

  function decimal(places) {
    var format = new Intl.NumberFormat(locale, { minimumFractionDigits: places, maximumFractionDigits: places });
    return function (value) { return value === null || value === undefined ? "—" : format.format(value); };
  }

  function percent(value) {
    return value === null || value === undefined ? "—"
      : new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(value);
  }

  function isoDate(iso) {  // "2026-06-30" -> a local date at noon (no time-zone shift to the day before)
    var parts = iso.split("-");
    return new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]), 12);
  }

  function dateLabel(options) {
    var format = new Intl.DateTimeFormat(locale, options);
    return function (iso) { return format.format(isoDate(iso)); };
  }

  function narrow(el) { return el.clientWidth < 480; }

  function grid(el, top) {  // top: room for the legend and the value axis' name above the plot
    return { left: 8, right: 16, top: top || 40, bottom: 8, containLabel: true };
  }

  function legend(el) {
    return { top: 0, type: "scroll", itemWidth: 14, itemGap: narrow(el) ? 8 : 12,
             textStyle: { fontSize: narrow(el) ? 11 : 12 } };
  }

  function tooltipRows(title, rows) {
    var html = "<strong>" + escapeHtml(title) + "</strong>";
    rows.forEach(function (row) { html += "<br>" + row[0] + " " + escapeHtml(row[1]) + ": " + escapeHtml(row[2]); });
    return html;
  }

  function marker(color) {
    return '<span style="display:inline-block;width:9px;height:9px;border-radius:50%;background:' + color + '"></span>';
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var builders = {
    // Aging by bucket: {labels, keys, values, currency, series}
    aging: function (data, el) {
      var full = money(data.currency), short = money(data.currency, true);
      var small = narrow(el);  // a phone: the bucket ranges only, under an axis name; the tooltip has the full label
      return {
        grid: Object.assign(grid(el, 24), { bottom: small ? 28 : 8 }),
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (p) {
          return tooltipRows(data.labels[p[0].dataIndex], [[marker(p[0].color), data.series, full(p[0].value)]]);
        } },
        xAxis: { type: "category", data: small ? data.short_labels : data.labels,
                 name: small ? data.axis : "", nameLocation: "middle", nameGap: 26,
                 axisLabel: { interval: 0, fontSize: small ? 11 : 12, width: 110, overflow: "break" } },
        yAxis: { type: "value", axisLabel: { formatter: short } },
        series: [{ name: data.series, type: "bar", barMaxWidth: 48,
                   data: data.values.map(function (v, i) {
                     return { value: num(v), itemStyle: { color: data.keys[i] === "current" ? COLORS.current
                       : (i === data.values.length - 1 ? COLORS.overdue : COLORS.main) } };
                   }) }]
      };
    },

    // DSO by month: {dates, standard, countback, names: {standard, countback}, unit}
    dso: function (data, el) {
      var label = dateLabel({ year: "2-digit", month: "short" }), day = decimal(1);
      var dates = data.dates.map(label);
      return {
        grid: grid(el, 56), legend: legend(el),
        tooltip: { trigger: "axis", formatter: function (params) {
          return tooltipRows(dateLabel({ year: "numeric", month: "long", day: "numeric" })(data.dates[params[0].dataIndex]),
            params.map(function (p) { return [marker(p.color), p.seriesName, p.value === null ? "—" : day(p.value) + " " + data.unit]; }));
        } },
        xAxis: { type: "category", data: dates, boundaryGap: false, axisLabel: { hideOverlap: true } },
        yAxis: { type: "value", name: data.unit, nameTextStyle: { align: "right" }, min: 0 },
        series: [
          { name: data.names.standard, type: "line", data: data.standard.map(num), color: COLORS.main,
            symbolSize: 6, connectNulls: false },
          { name: data.names.countback, type: "line", data: data.countback.map(num), color: COLORS.second,
            symbolSize: 6, lineStyle: { type: "dashed" } }
        ]
      };
    },

    // Credit score history: {dates, scores, grades, name, grade_label}
    score: function (data, el) {
      var long = dateLabel({ year: "numeric", month: "long", day: "numeric" });
      return {
        grid: grid(el, 16),
        tooltip: { trigger: "axis", formatter: function (params) {
          var i = params[0].dataIndex;
          return tooltipRows(long(data.dates[i]), [[marker(COLORS.main), data.name, String(data.scores[i])],
                                                   ["", data.grade_label, data.grades[i]]]);
        } },
        xAxis: { type: "time", axisLabel: { hideOverlap: true } },
        yAxis: { type: "value", min: 0, max: 100 },
        series: [{ name: data.name, type: "line", color: COLORS.main, symbolSize: 7,
                   data: data.dates.map(function (d, i) { return [isoDate(d), num(data.scores[i])]; }) }]
      };
    },

    // 13-week cash forecast: {weeks, p10, p50, p90, baseline, currency, names: {band, p50, baseline}}
    forecast: function (data, el) {
      var full = money(data.currency), short = money(data.currency, true);
      var label = dateLabel({ month: "short", day: "numeric" });
      var p10 = data.p10.map(num), p90 = data.p90.map(num);
      var names = data.names;
      return {
        grid: grid(el, 36), legend: Object.assign(legend(el), { data: [names.band, names.p50, names.baseline] }),
        tooltip: { trigger: "axis", formatter: function (params) {
          var i = params[0].dataIndex;
          return tooltipRows(data.week_label + " " + label(data.weeks[i]), [
            [marker(COLORS.band), "P10", full(p10[i])], [marker(COLORS.main), names.p50, full(num(data.p50[i]))],
            [marker(COLORS.band), "P90", full(p90[i])], [marker(COLORS.muted), names.baseline, full(num(data.baseline[i]))]]);
        } },
        xAxis: { type: "category", data: data.weeks.map(label), boundaryGap: false, axisLabel: { hideOverlap: true } },
        yAxis: { type: "value", axisLabel: { formatter: short } },
        series: [
          { name: names.band, type: "line", stack: "band", data: p10, symbol: "none", lineStyle: { opacity: 0 },
            color: COLORS.band, silent: true },
          { name: names.band, type: "line", stack: "band", symbol: "none", lineStyle: { opacity: 0 },
            color: COLORS.band, areaStyle: { color: COLORS.band, opacity: 0.9 }, silent: true,
            data: p90.map(function (v, i) { return v === null || p10[i] === null ? null : v - p10[i]; }) },
          { name: names.p50, type: "line", data: data.p50.map(num), color: COLORS.main, symbolSize: 5,
            lineStyle: { width: 2 } },
          { name: names.baseline, type: "line", data: data.baseline.map(num), color: COLORS.muted, symbolSize: 5,
            lineStyle: { type: "dotted" } }
        ]
      };
    },

    // Forecast accuracy: {horizons, wape, baseline_wape, names: {model, baseline}, horizon_label}
    accuracy: function (data, el) {
      return {
        grid: Object.assign(grid(el, 36), { bottom: 28 }), legend: legend(el),
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (params) {
          return tooltipRows(data.horizon_label + " " + params[0].name,
            params.map(function (p) { return [marker(p.color), p.seriesName, percent(p.value)]; }));
        } },
        xAxis: { type: "category", data: data.horizons.map(String), name: data.horizon_label,
                 nameLocation: "middle", nameGap: 26 },
        yAxis: { type: "value", axisLabel: { formatter: percent } },
        series: [
          { name: data.names.model, type: "bar", data: data.wape.map(num), color: COLORS.main, barMaxWidth: 28 },
          { name: data.names.baseline, type: "bar", data: data.baseline_wape.map(num), color: COLORS.muted, barMaxWidth: 28 }
        ]
      };
    }
  };

  function draw(el) {
    var kind = el.getAttribute("data-chart");
    var source = document.getElementById(el.getAttribute("data-chart-data"));
    if (!builders[kind] || !source || typeof echarts === "undefined") { return null; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { locale: zh ? "ZH" : "EN", renderer: "canvas" });
    var optionFor = function () {
      var option = builders[kind](data, el);
      option.aria = { enabled: true };  // ECharts writes a text description of the chart for screen readers
      option.animation = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      return option;
    };
    chart.setOption(optionFor());
    el.setAttribute("data-chart-drawn", "true");
    // Redraw at the new size (phone rotation, the side menu opening); axis label sizes follow the width.
    var width = el.clientWidth;
    var redraw = function () {
      if (el.clientWidth !== width) {
        width = el.clientWidth;
        chart.setOption(optionFor(), { notMerge: true });
      }
      chart.resize();
    };
    if (window.ResizeObserver) { new ResizeObserver(redraw).observe(el); } else { window.addEventListener("resize", redraw); }
    return chart;
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", drawAll); } else { drawAll(); }
})();
