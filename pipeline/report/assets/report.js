// Draws the report's charts from the JSON in #report-data (pipeline/report
// Report). Amounts arrive as exact decimal strings; charts plot them as
// numbers, the tables beside them keep the exact text.
(function () {
  "use strict";
  var status = { charts: 0 };
  window.awumeterReport = status;

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var colors = { token: "#2f6fde", list: "#e07b39", good: "#2e9e6a", warn: "#d9a21b", bad: "#c8453c", muted: "#8a93a5" };
  var usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 4 });
  var pct = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#5b6476";

  function num(s) { return s === null || s === undefined ? null : Number(s); }
  // Names come from data and may be long; charts show the first 40
  // characters, the tables all of them.
  function label(s) {
    if (s === "") { return "(none)"; }
    return s.length > 40 ? s.slice(0, 39) + "…" : s;
  }
  var counts = { beginAtZero: true, ticks: { precision: 0 } };

  function draw(id, config) {
    var el = document.getElementById(id);
    if (!el) { return; }
    new Chart(el, config);
    status.charts++;
  }

  function moneyAxis() {
    return { beginAtZero: true, ticks: { callback: function (v) { return usd.format(v); } } };
  }
  function percentAxis(horizontal) {
    var axis = { beginAtZero: true, max: 1, ticks: { callback: function (v) { return pct.format(v); } } };
    return horizontal ? { x: axis } : { y: axis };
  }
  function percentTooltip(ctx) { return ctx.dataset.label + ": " + pct.format(ctx.parsed.x !== undefined && ctx.chart.options.indexAxis === "y" ? ctx.parsed.x : ctx.parsed.y); }

  // Cost per workcycle: one bar per bucket, at each price.
  draw("chart-cost-distribution", {
    type: "bar",
    data: {
      labels: data.cost_buckets.map(function (b) { return b.label; }),
      datasets: [
        { label: "by token cost", data: data.cost_buckets.map(function (b) { return b.token; }), backgroundColor: colors.token },
        { label: "by list price", data: data.cost_buckets.map(function (b) { return b.list; }), backgroundColor: colors.list }
      ]
    },
    options: { scales: { y: Object.assign({ title: { display: true, text: "workcycles" } }, counts) } }
  });

  var days = data.days.map(function (d) { return d.day; });
  draw("chart-daily-cost", {
    type: "line",
    data: {
      labels: days,
      datasets: [
        { label: "list price", data: data.days.map(function (d) { return num(d.list_cost); }), borderColor: colors.list, backgroundColor: colors.list, tension: 0.2 },
        { label: "token cost", data: data.days.map(function (d) { return num(d.token_cost); }), borderColor: colors.token, backgroundColor: colors.token, tension: 0.2 }
      ]
    },
    options: {
      scales: { y: moneyAxis() },
      plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + usd.format(ctx.parsed.y); } } } }
    }
  });

  var f = data.funnel;
  draw("chart-funnel", {
    type: "bar",
    data: {
      labels: ["attempted", "succeeded", "validated", "rolled back", "failed"],
      datasets: [{ label: "AWUs", data: [f.attempted, f.succeeded, f.validated, f.rolled_back, f.failed],
        backgroundColor: [colors.muted, colors.good, colors.token, colors.warn, colors.bad] }]
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: counts } }
  });

  draw("chart-tools", {
    type: "bar",
    data: {
      labels: data.tools.map(function (t) { return label(t.tool); }),
      datasets: [
        { label: "AWUs that succeeded", data: data.tools.map(function (t) { return t.awus ? t.awus_succeeded / t.awus : 0; }), backgroundColor: colors.good },
        { label: "attempts that succeeded", data: data.tools.map(function (t) { return t.attempts ? t.awus_succeeded / t.attempts : 0; }), backgroundColor: colors.muted }
      ]
    },
    options: { indexAxis: "y", scales: percentAxis(true), plugins: { tooltip: { callbacks: { label: percentTooltip } } } }
  });

  draw("chart-retry-inflation", {
    type: "line",
    data: {
      labels: days,
      datasets: [{ label: "attempts per AWU", data: data.days.map(function (d) { return d.awus ? d.attempts / d.awus : null; }),
        borderColor: colors.warn, backgroundColor: colors.warn, tension: 0.2 }]
    },
    options: { scales: { y: { suggestedMin: 1 } } }
  });

  draw("chart-tokens-per-awu", {
    type: "line",
    data: {
      labels: days,
      datasets: [{ label: "tokens per AWU", data: data.days.map(function (d) { return d.awus ? (d.input_tokens + d.output_tokens) / d.awus : null; }),
        borderColor: colors.token, backgroundColor: colors.token, tension: 0.2 }]
    },
    options: { scales: { y: { beginAtZero: true } } }
  });

  var outcomesCanvas = document.getElementById("chart-outcomes");
  var outcomes = data.outcomes.slice(0, outcomesCanvas ? Number(outcomesCanvas.dataset.rows) : 0); // the most completed first
  draw("chart-outcomes", {
    type: "bar",
    data: {
      labels: outcomes.map(function (o) {
        var parts = data.tenant ? [] : [label(o.tenant)];
        return parts.concat([label(o.agent), label(o.outcome_type)]).join(" · ");
      }),
      datasets: [
        { label: "resolution", data: outcomes.map(function (o) { return o.resolution_rate; }), backgroundColor: colors.good },
        { label: "escalation", data: outcomes.map(function (o) { return o.escalation_rate; }), backgroundColor: colors.warn },
        { label: "override", data: outcomes.map(function (o) { return o.override_rate; }), backgroundColor: colors.bad }
      ]
    },
    options: { indexAxis: "y", scales: percentAxis(true), plugins: { tooltip: { callbacks: { label: percentTooltip } } } }
  });

  var roi = data.roi;
  if (roi) {
    var h = num(roi.human_cost.per_case);
    draw("chart-roi", {
      type: "line",
      data: {
        datasets: [
          { label: "blended cost per case at S = " + pct.format(num(roi.time_saved)),
            data: roi.curve.map(function (p) { return { x: num(p.resolution_rate), y: num(p.blended_per_case) }; }),
            borderColor: colors.token, backgroundColor: colors.token, pointRadius: 0 },
          { label: "all-human H", data: [{ x: 0, y: h }, { x: 1, y: h }], borderColor: colors.muted, borderDash: [6, 4], pointRadius: 0 },
          { label: "this month", type: "scatter", data: [{ x: num(roi.resolution_rate), y: num(roi.blended_per_case) }],
            backgroundColor: colors.list, pointRadius: 7 }
        ]
      },
      options: {
        scales: {
          x: { type: "linear", min: 0, max: 1, title: { display: true, text: "resolution rate R" }, ticks: { callback: function (v) { return pct.format(v); } } },
          y: moneyAxis()
        },
        plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": R " + pct.format(ctx.parsed.x) + ", " + usd.format(ctx.parsed.y); } } } }
      }
    });
  }

  document.body.setAttribute("data-charts", String(status.charts));
})();
