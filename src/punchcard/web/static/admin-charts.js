/* The dashboard's charts: Chart.js (served from /static/vendor) draws what the page's
   <script type="application/json" id="chart-data"> block holds. No inline script, so the
   Content-Security-Policy can forbid them; without JavaScript the figures stay readable in
   the cards, the heat map and the CSV. */
(function () {
  "use strict";

  var BLUE = "#3346c8", GREEN = "#1f7a4d", AMBER = "#9a6700", RED = "#b42318", GREY = "#8a93a6";
  var PALETTE = [BLUE, GREEN, AMBER, RED, GREY, "#6b4fbb", "#0f7c90", "#c4569a"];

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) { return; }
    config.options = Object.assign(
      { responsive: true, maintainAspectRatio: false, animation: false },
      config.options || {}
    );
    new window.Chart(canvas, config);
  }

  function start() {
    var source = document.getElementById("chart-data");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    draw("chart-points", {
      type: "bar",
      data: {
        labels: data.points.labels,
        datasets: [
          { label: data.points.issuedLabel, data: data.points.issued, backgroundColor: BLUE },
          { label: data.points.redeemedLabel, data: data.points.redeemed, backgroundColor: GREEN }
        ]
      },
      options: { scales: { y: { beginAtZero: true } } }
    });
    draw("chart-liability", {
      type: "bar",
      data: {
        labels: data.liability.labels,
        datasets: [{ label: data.liability.label, data: data.liability.values,
                     backgroundColor: [BLUE, GREEN, AMBER, RED] }]
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true } } }
    });
    draw("chart-tiers", {
      type: "doughnut",
      data: {
        labels: data.tiers.labels.length ? data.tiers.labels : ["—"],
        datasets: [{ data: data.tiers.values.length ? data.tiers.values : [0],
                     backgroundColor: PALETTE }]
      }
    });
    draw("chart-campaigns", {
      type: "bar",
      data: {
        labels: data.campaigns.labels,
        datasets: [
          { label: data.campaigns.pointsLabel, data: data.campaigns.points,
            backgroundColor: BLUE, yAxisID: "y" },
          { label: data.campaigns.revenueLabel, data: data.campaigns.revenue,
            backgroundColor: GREEN, yAxisID: "y1" }
        ]
      },
      options: { scales: { y: { beginAtZero: true, position: "left" },
                           y1: { beginAtZero: true, position: "right",
                                 grid: { drawOnChartArea: false } } } }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
