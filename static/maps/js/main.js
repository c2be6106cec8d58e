// Entry point of the supervisor map page: reads the page's configuration, builds the map and wires
// each feature module (boundaries today; cases, heat and live updates join here as they land).
import { attachBoundaryInteraction } from "./boundaries.js";
import { buildStyle } from "./style.js";

const config = JSON.parse(document.getElementById("map-config").textContent);

const map = new maplibregl.Map({
  container: "map",
  style: buildStyle(config),
  center: config.center,
  zoom: config.zoom,
  maxZoom: config.maxZoom,
  attributionControl: config.baseAttribution ? { compact: true } : false,
  // Chinese names are drawn by the browser's own fonts, never fetched.
  localIdeographFontFamily: "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
});
map.addControl(new maplibregl.NavigationControl({ visualizePitch: false }), "top-right");
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");

function showZoom() {
  const zoom = map.getZoom();
  document.getElementById("map-zoom").textContent = zoom.toFixed(1);
  for (const item of document.querySelectorAll(".map-legend li[data-minzoom]")) {
    item.classList.toggle("inactive", zoom < Number(item.dataset.minzoom));
  }
}
map.on("zoom", showZoom);
map.on("load", () => {
  showZoom();
  attachBoundaryInteraction(map, config);
  document.body.dataset.mapReady = "true";
});

// For the browser tests and for the console.
window.shehuiMap = map;
