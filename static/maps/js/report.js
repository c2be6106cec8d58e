// Charts of the monthly district report (maps/templates/maps/monthly_report.html). SVG, so they print
// as sharply as the text; drawn once, with no animation, so a printout never catches them half-way.
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const text = JSON.parse(document.getElementById("report-text").textContent);
  const charts = [];

  function chart(id, option) {
    const box = document.getElementById(id);
    if (!box || !window.echarts) return;
    const instance = echarts.init(box, null, { renderer: "svg" });
    instance.setOption({ animation: false, ...option });
    box.dataset.drawn = "true";
    charts.push(instance);
  }

  chart("chart-trend", {
    grid: { left: 36, right: 12, top: 28, bottom: 28 },
    tooltip: { trigger: "axis" },
    legend: { data: [text.opened, text.closed], top: 0 },
    xAxis: { type: "category", data: data.days.map((day) => day.slice(8)) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      {
        name: text.opened,
        type: "bar",
        // Rest days in grey: a quiet Sunday is not a quiet working day.
        data: data.opened.map((value, i) => ({ value, itemStyle: { color: data.working[i] ? "#2186eb" : "#bcccdc" } })),
      },
      { name: text.closed, type: "line", symbolSize: 4, data: data.closed, itemStyle: { color: "#3ebd93" } },
    ],
  });

  chart("chart-categories", {
    tooltip: { trigger: "item" },
    series: [
      {
        type: "pie",
        radius: ["35%", "65%"],
        label: { formatter: "{b} {d}%" },
        data: data.categories.map((row) => ({ name: row.name, value: row.count })),
      },
    ],
  });

  const units = data.units.slice().reverse();
  // No unit scored this month: the table says so, and the chart's room is given back.
  if (!units.length) document.getElementById("chart-units").hidden = true;
  chart("chart-units", {
    grid: { left: 150, right: 24, top: 8, bottom: 24 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", max: 100, name: text.score },
    yAxis: { type: "category", data: units.map((row) => row.name), axisLabel: { width: 140, overflow: "truncate" } },
    series: [{ type: "bar", data: units.map((row) => row.score), itemStyle: { color: "#0e7c86" } }],
  });

  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  window.addEventListener("beforeprint", () => charts.forEach((c) => c.resize()));
  document.getElementById("print-report")?.addEventListener("click", () => window.print());
  document.body.dataset.chartsReady = "true";
})();
