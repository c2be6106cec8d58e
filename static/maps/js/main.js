// Entry point of the supervisor dashboard (一张图): builds the map from our own boundary tiles, puts
// the open cases on it, fills the panels beside it and keeps all of it current from the live socket.
import { Alerts, DensityLayer, loadCategoryMix } from "./analytics.js";
import { attachBoundaryInteraction } from "./boundaries.js";
import { CaseLayer } from "./cases.js";
import { LiveSocket } from "./live.js";
import { addToFeed, loadHotWords, loadOverdue, loadRanking, loadSummary, loadTrend, loadTriage } from "./panels.js";
import { buildStyle } from "./style.js";

const config = JSON.parse(document.getElementById("map-config").textContent);

// Legend colours come as data attributes: the Content-Security-Policy allows no inline style attribute.
for (const dot of document.querySelectorAll(".legend-cases .dot[data-colour]")) {
  dot.style.background = dot.dataset.colour;
}
const SLOW_REFRESH_MS = 5 * 60 * 1000;

const map = new maplibregl.Map({
  container: "map",
  style: buildStyle(config),
  center: config.center,
  zoom: config.zoom,
  // A dispatcher's map opens on their own district(s), a supervisor's on the whole city.
  bounds: config.bounds || undefined,
  fitBoundsOptions: { padding: 24 },
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

function notify(message) {
  const box = document.getElementById("map-notice");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => (box.hidden = true), 6000);
}

// A panel that fails to load says so and tries again on the next refresh; it never stops the rest.
function guarded(name, load) {
  return async () => {
    const panel = document.getElementById(`panel-${name}`);
    try {
      await load();
      panel.classList.remove("failed");
      panel.dataset.loaded = "true";
    } catch (error) {
      panel.classList.add("failed");
      panel.dataset.error = config.text.loadFailed;
      console.warn(`panel ${name}:`, error);
    }
  };
}

function start(cases, alerts) {
  const panels = {
    alerts: guarded("alerts", () => alerts.load()),
    categories: guarded("categories", () => loadCategoryMix(config)),
    summary: guarded("summary", () => loadSummary(config)),
    triage: guarded("triage", () => loadTriage(config, cases, notify)),
    overdue: guarded("overdue", () => loadOverdue(config, cases)),
    trend: guarded("trend", () => loadTrend(config)),
    ranking: guarded("ranking", () => loadRanking(config)),
    hotwords: guarded("hotwords", () => loadHotWords(config, cases)),
  };
  const loadCases = () => cases.loadAll().catch(() => notify(config.text.loadFailed));
  const loadEverything = () => {
    loadCases();
    for (const load of Object.values(panels)) load();
  };
  for (const id of ["hotwords-district", "hotwords-week"]) {
    document.getElementById(id).addEventListener("change", panels.hotwords);
  }
  document.getElementById("trend-group").addEventListener("change", panels.trend);

  // Events come in bursts (one transaction writes several) and, city-wide, in a steady stream. Markers
  // follow within half a second, the lists at most every two; a timer already set is never pushed
  // back, so a stream that never pauses still gets its updates.
  let changed = new Set();
  let casesTimer = null;
  let panelsTimer = null;
  function refreshCases() {
    casesTimer = null;
    const ids = [...changed];
    changed = new Set();
    cases.refresh(ids).catch((error) => console.warn("cases:", error));
  }
  function refreshPanels() {
    panelsTimer = null;
    panels.summary();
    panels.triage();
    panels.overdue();
  }

  const live = new LiveSocket(config.api.live, {
    // Data is read after the socket is up, so no event can fall between the two.
    onHello: loadEverything,
    onReload: () => {
      notify(config.text.liveReload);
      loadEverything();
    },
    onEvent: (event) => {
      addToFeed(config, event, cases);
      changed.add(event.case);
      casesTimer = casesTimer || setTimeout(refreshCases, 400);
      panelsTimer = panelsTimer || setTimeout(refreshPanels, 1500);
    },
    onAlert: (alert) => alerts.add(alert),
    onState: (state) => {
      const box = document.getElementById("live-status");
      box.dataset.state = state;
      box.textContent = { connecting: config.text.liveConnecting, on: config.text.liveOn, off: config.text.liveOff, denied: config.text.liveDenied }[state];
      // Without a socket the page still works: it falls back to loading once.
      if (state === "denied") loadEverything();
    },
  });
  live.connect();
  setInterval(() => {
    panels.alerts();
    panels.categories();
    panels.trend();
    panels.ranking();
    panels.hotwords();
  }, SLOW_REFRESH_MS);
  return live;
}

map.on("zoom", showZoom);
map.on("load", () => {
  showZoom();
  const alerts = new Alerts(map, config, notify);
  const density = new DensityLayer(map, config);
  const cases = new CaseLayer(map, config);
  attachBoundaryInteraction(map, config);
  for (const [id, kind] of [["toggle-markers", "markers"], ["toggle-heat", "heat"]]) {
    document.getElementById(id).addEventListener("change", (event) => cases.setVisible(kind, event.target.checked));
  }
  document.getElementById("toggle-density").addEventListener("change", (event) => {
    density.setVisible(event.target.checked).catch(() => notify(config.text.loadFailed));
  });
  window.shehuiDashboard = { cases, alerts, density, live: start(cases, alerts) };
  document.body.dataset.mapReady = "true";
});

// For the browser tests and for the console.
window.shehuiMap = map;
