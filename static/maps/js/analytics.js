// What the city is saying, on the supervisor map: early warnings (the areas highlighted, the list,
// new ones pushed live over the socket), the day-by-day density layer with its time slider, and the
// charts people would rather look at than read (category mix, unit ranking).
import { element, format, getJSON } from "./api.js";
import { BOUNDARY_SOURCE } from "./style.js";

// --- early warnings ----------------------------------------------------------------------------

const ALERT_LAYERS = [
  { id: "alert-districts-fill", level: "districts", type: "fill", paint: { "fill-color": "#d64545", "fill-opacity": 0.16 } },
  { id: "alert-districts-line", level: "districts", type: "line", paint: { "line-color": "#d64545", "line-width": 3 } },
  { id: "alert-streets-fill", level: "streets", type: "fill", minzoom: 9, paint: { "fill-color": "#d64545", "fill-opacity": 0.24 } },
  { id: "alert-streets-line", level: "streets", type: "line", minzoom: 9, paint: { "line-color": "#a61b1b", "line-width": 2 } },
];

export class Alerts {
  constructor(map, config, notify) {
    this.map = map;
    this.config = config;
    this.notify = notify;
    this.alerts = new Map();
    const before = map.getLayer("districts-line") ? "districts-line" : undefined;
    for (const layer of ALERT_LAYERS) {
      map.addLayer(
        {
          id: layer.id,
          type: layer.type,
          source: BOUNDARY_SOURCE,
          "source-layer": layer.level,
          minzoom: layer.minzoom || 0,
          filter: ["in", ["get", "code"], ["literal", []]],
          paint: layer.paint,
        },
        before,
      );
    }
  }

  async load() {
    const data = await getJSON(this.config.api.alerts);
    this.alerts = new Map(data.alerts.map((alert) => [alert.id, alert]));
    this.draw();
  }

  // A pushed alert carries the area's district; the list reads the same fields as the API's rows.
  add(pushed) {
    const alert = {
      id: pushed.id,
      kind: pushed.kind,
      kind_label: this.config.alertKinds[pushed.kind] || pushed.kind,
      area_code: pushed.area.code,
      area_name: pushed.area.name,
      district: pushed.area.district,
      label: pushed.label,
      observed: pushed.observed,
      expected: pushed.expected,
      p_value: pushed.p_value,
    };
    const fresh = !this.alerts.has(alert.id);
    this.alerts.set(alert.id, alert);
    this.draw();
    if (fresh) this.notify(format(this.config.text.alertNew, { area: alert.area_name, what: alert.label }));
  }

  draw() {
    const alerts = [...this.alerts.values()].sort((a, b) => a.p_value - b.p_value);
    const districts = [...new Set(alerts.map((alert) => alert.district))];
    const streets = [...new Set(alerts.filter((alert) => alert.area_code.length === 9).map((alert) => alert.area_code))];
    for (const layer of ALERT_LAYERS) {
      const codes = layer.level === "districts" ? districts : streets;
      this.map.setFilter(layer.id, ["in", ["get", "code"], ["literal", codes]]);
    }
    const text = this.config.text;
    const list = document.getElementById("alert-list");
    const items = alerts.map((alert) =>
      element(
        "li",
        { dataset: { alert: alert.id, area: alert.area_code, district: alert.district } },
        element("b", {}, alert.area_name),
        element("span", { class: "alert-what" }, `${alert.kind_label}：${alert.label}`),
        element("span", { class: "alert-figures" }, format(text.alertFigures, { n: alert.observed, expected: alert.expected.toFixed(1) })),
      ),
    );
    list.replaceChildren(...(items.length ? items : [element("li", { class: "empty" }, text.noAlerts)]));
    document.getElementById("alert-count").textContent = String(alerts.length);
    document.getElementById("panel-alerts").dataset.districts = districts.join(",");
  }
}

// --- density over time -------------------------------------------------------------------------

const DENSITY_SOURCE = "density";
const DENSITY_LAYER = "density-heat";
// Each frame shows a week ending on the slider's day: one day alone is too sparse to read.
const WINDOW_DAYS = 7;
const PLAY_MS = 700;

export class DensityLayer {
  constructor(map, config) {
    this.map = map;
    this.config = config;
    this.days = [];
    this.loaded = false;
    this.timer = null;
    map.addSource(DENSITY_SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({
      id: DENSITY_LAYER,
      type: "heatmap",
      source: DENSITY_SOURCE,
      layout: { visibility: "none" },
      paint: {
        "heatmap-weight": ["get", "n"],
        "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 8, 0.5, 14, 2],
        "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 8, 12, 14, 36],
        "heatmap-opacity": 0.8,
        "heatmap-color": [
          "interpolate", ["linear"], ["heatmap-density"],
          0, "rgba(94,53,177,0)", 0.25, "#9575cd", 0.5, "#f7d070", 0.8, "#f0803c", 1, "#c62828",
        ],
      },
    });
    this.slider = document.getElementById("density-day");
    this.label = document.getElementById("density-label");
    this.slider.addEventListener("input", () => this.show(Number(this.slider.value)));
    document.getElementById("density-play").addEventListener("click", () => this.play());
  }

  async setVisible(visible) {
    document.getElementById("density-controls").hidden = !visible;
    this.map.setLayoutProperty(DENSITY_LAYER, "visibility", visible ? "visible" : "none");
    if (visible && !this.loaded) await this.load();
    if (!visible) this.stop();
  }

  async load() {
    const data = await getJSON(this.config.api.density);
    this.days = data.days;
    this.map.getSource(DENSITY_SOURCE).setData(data);
    this.slider.max = String(this.days.length - 1);
    this.slider.value = this.slider.max;
    this.loaded = true;
    this.show(this.days.length - 1);
    document.body.dataset.densityFeatures = String(data.features.length);
  }

  show(index) {
    this.map.setFilter(DENSITY_LAYER, ["all", [">", ["get", "index"], index - WINDOW_DAYS], ["<=", ["get", "index"], index]]);
    const first = this.days[Math.max(0, index - WINDOW_DAYS + 1)];
    this.label.textContent = first ? `${first} – ${this.days[index]}` : "";
    this.slider.dataset.day = this.days[index] || "";
  }

  play() {
    if (this.timer) return this.stop();
    let index = Math.min(WINDOW_DAYS - 1, this.days.length - 1);
    this.timer = setInterval(() => {
      this.slider.value = String(index);
      this.show(index);
      index += 1;
      if (index >= this.days.length) this.stop();
    }, PLAY_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }
}

// --- charts ------------------------------------------------------------------------------------

const charts = {};

function chart(id) {
  if (!window.echarts) return null;
  if (!charts[id]) {
    charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    window.addEventListener("resize", () => charts[id].resize());
  }
  return charts[id];
}

export async function loadCategoryMix(config) {
  const data = await getJSON(config.api.categories);
  const instance = chart("category-chart");
  if (!instance) return;
  const rows = data.categories.slice(0, 8);
  const rest = data.categories.slice(8).reduce((sum, row) => sum + row.count, 0);
  if (rest) rows.push({ name: config.text.otherCategories, count: rest });
  instance.setOption({
    animation: false,
    tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
    series: [
      {
        type: "pie",
        radius: ["38%", "68%"],
        center: ["50%", "52%"],
        label: { fontSize: 10, formatter: "{b}\n{d}%" },
        data: rows.map((row) => ({ name: row.name, value: row.count })),
      },
    ],
  });
  document.getElementById("category-chart").dataset.slices = String(rows.length);
}

export function drawRanking(config, scored) {
  const box = document.getElementById("ranking-chart");
  // Nothing scored yet: the list below says so, an empty chart would only take the room.
  box.hidden = scored.length === 0;
  const instance = chart("ranking-chart");
  if (!instance) return;
  const top = scored.slice(0, 10).reverse();
  if (!box.hidden) instance.resize();
  instance.setOption({
    animation: false,
    grid: { left: 118, right: 28, top: 6, bottom: 20 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", max: 100, axisLabel: { fontSize: 10 } },
    yAxis: { type: "category", data: top.map((row) => row.unit.name), axisLabel: { fontSize: 10, width: 110, overflow: "truncate" } },
    series: [
      {
        name: config.text.score,
        type: "bar",
        data: top.map((row) => Number(row.score.toFixed(1))),
        itemStyle: { color: "#0e7c86" },
        label: { show: true, position: "right", fontSize: 10 },
      },
    ],
  });
  document.getElementById("ranking-chart").dataset.bars = String(top.length);
}
