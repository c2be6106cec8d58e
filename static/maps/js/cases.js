// Open cases on the map: clustered markers coloured by status with an SLA ring, a heat layer, and
// a store that applies live changes (a case opened, moved on, closed) without reloading the page.
import { element, format, getJSON, localTime } from "./api.js";

export const CASE_SOURCE = "cases";
const HEAT_SOURCE = "cases-heat";
export const CASE_LAYERS = { clusters: "case-clusters", counts: "case-counts", points: "case-points", heat: "case-heat" };
const EMPTY = { type: "FeatureCollection", features: [] };
const SLA_RING = { red: "#d64545", yellow: "#f0b429" };
const COUNT_IMAGE = "case-count-";

function isSla(level) {
  return ["==", ["get", "sla"], level];
}

function caseLayers(config) {
  const colours = config.statuses.flatMap((status) => [status.status, status.colour]);
  return [
    {
      id: CASE_LAYERS.heat,
      type: "heatmap",
      source: HEAT_SOURCE,
      maxzoom: 17,
      layout: { visibility: "none" },
      paint: {
        // Urgent and overdue cases weigh more: the heat shows where trouble is, not only volume.
        "heatmap-weight": ["+", 1, ["case", ["==", ["get", "urgency"], "urgent"], 1, 0], ["case", isSla("red"), 1, 0]],
        "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 8, 0.6, 15, 2],
        "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 8, 10, 15, 30],
        "heatmap-opacity": 0.75,
        "heatmap-color": [
          "interpolate", ["linear"], ["heatmap-density"],
          0, "rgba(33,134,235,0)", 0.2, "#7cc4fa", 0.45, "#f7d070", 0.7, "#f0b429", 1, "#d64545",
        ],
      },
    },
    {
      id: CASE_LAYERS.clusters,
      type: "circle",
      source: CASE_SOURCE,
      filter: ["has", "point_count"],
      paint: {
        // A cluster takes the colour of its worst case: any overdue → red, any warning → amber.
        "circle-color": ["case", [">", ["get", "red"], 0], "#d64545", [">", ["get", "yellow"], 0], "#f0b429", "#2186eb"],
        "circle-opacity": 0.85,
        "circle-radius": ["step", ["get", "point_count"], 14, 10, 18, 50, 23, 200, 28],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 2,
      },
    },
    {
      id: CASE_LAYERS.counts,
      type: "symbol",
      source: CASE_SOURCE,
      filter: ["has", "point_count"],
      // The style has no glyph server (nothing is fetched from elsewhere), so counts are images
      // drawn on demand by `drawCount`.
      layout: {
        "icon-image": ["concat", COUNT_IMAGE, ["get", "point_count_abbreviated"]],
        "icon-allow-overlap": true,
        "icon-ignore-placement": true,
      },
    },
    {
      id: CASE_LAYERS.points,
      type: "circle",
      source: CASE_SOURCE,
      filter: ["!", ["has", "point_count"]],
      paint: {
        "circle-color": ["match", ["get", "status"], ...colours, "#627d98"],
        "circle-radius": ["case", ["==", ["get", "urgency"], "urgent"], 8, 6.5],
        "circle-stroke-color": ["case", isSla("red"), SLA_RING.red, isSla("yellow"), SLA_RING.yellow, "#ffffff"],
        "circle-stroke-width": ["case", ["any", isSla("red"), isSla("yellow")], 3, 1.5],
      },
    },
  ];
}

function drawCount(map, id) {
  const text = id.slice(COUNT_IMAGE.length);
  const ratio = 2;
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(24, 9 * text.length + 10) * ratio;
  canvas.height = 20 * ratio;
  const context = canvas.getContext("2d");
  context.scale(ratio, ratio);
  context.font = "600 12px system-ui, sans-serif";
  context.fillStyle = "#ffffff";
  context.textAlign = "center";
  context.textBaseline = "middle";
  context.fillText(text, canvas.width / ratio / 2, 10.5);
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  map.addImage(id, { width: canvas.width, height: canvas.height, data: image.data }, { pixelRatio: ratio });
}

function popupContent(properties, config) {
  const text = config.text;
  const sla = { green: text.slaGreen, yellow: text.slaYellow, red: text.slaRed }[properties.sla] || properties.sla;
  const rows = [
    [text.category, properties.category],
    [text.status, properties.status_label],
    [text.sla, sla],
    [text.created, localTime(properties.created_at, true)],
  ];
  const list = element("dl");
  for (const [term, value] of rows) list.append(element("dt", {}, term), element("dd", {}, value));
  const box = element(
    "div",
    { class: "case-popup", dataset: { case: properties.id } },
    element("h3", {}, `${text.case} ${properties.number}`, properties.urgency === "urgent" ? element("span", { class: "tag-urgent" }, text.urgent) : null),
    list,
  );
  if (config.api.casePage) {
    box.append(element("a", { href: config.api.casePage.replace("/0/", `/${properties.id}/`) }, text.openCase));
  }
  return box;
}

export class CaseLayer {
  constructor(map, config) {
    this.map = map;
    this.config = config;
    this.features = new Map();
    this.flushTimer = null;
    map.on("styleimagemissing", (event) => {
      if (event.id.startsWith(COUNT_IMAGE)) drawCount(map, event.id);
    });
    map.addSource(CASE_SOURCE, {
      type: "geojson",
      data: EMPTY,
      cluster: true,
      clusterMaxZoom: 14,
      clusterRadius: 45,
      clusterProperties: {
        red: ["+", ["case", isSla("red"), 1, 0]],
        yellow: ["+", ["case", isSla("yellow"), 1, 0]],
      },
    });
    map.addSource(HEAT_SOURCE, { type: "geojson", data: EMPTY });
    for (const layer of caseLayers(config)) map.addLayer(layer);
    this.attachInteraction();
  }

  attachInteraction() {
    const { map, config } = this;
    // Registered before the boundary handlers, which leave a click a case marker took.
    map.on("click", CASE_LAYERS.points, (event) => {
      event.preventDefault();
      const feature = event.features[0];
      new maplibregl.Popup({ maxWidth: "300px" })
        .setLngLat(feature.geometry.coordinates)
        .setDOMContent(popupContent(feature.properties, config))
        .addTo(map);
    });
    map.on("click", CASE_LAYERS.clusters, async (event) => {
      event.preventDefault();
      const feature = event.features[0];
      const zoom = await map.getSource(CASE_SOURCE).getClusterExpansionZoom(feature.properties.cluster_id);
      map.easeTo({ center: feature.geometry.coordinates, zoom });
    });
    for (const id of [CASE_LAYERS.points, CASE_LAYERS.clusters]) {
      map.on("mouseenter", id, () => map.getCanvas().classList.add("over-case"));
      map.on("mouseleave", id, () => map.getCanvas().classList.remove("over-case"));
    }
  }

  async loadAll() {
    const collection = await getJSON(this.config.api.cases);
    this.features = new Map(collection.features.map((feature) => [feature.id, feature]));
    this.flush(true);
    const notice = document.getElementById("map-notice");
    notice.hidden = !collection.truncated;
    if (collection.truncated) notice.textContent = format(this.config.text.truncated, { n: collection.features.length });
  }

  // Re-reads the named cases: each comes back where it now is, or not at all when it closed, was
  // merged or is no longer visible to this user. Returns the ids that were not on the map before.
  async refresh(ids) {
    const wanted = [...new Set(ids)];
    if (!wanted.length) return [];
    const collection = await getJSON(this.config.api.cases, { ids: wanted.join(",") });
    const back = new Map(collection.features.map((feature) => [feature.id, feature]));
    const added = [];
    for (const id of wanted) {
      if (back.has(id)) {
        if (!this.features.has(id)) added.push(back.get(id));
        this.features.set(id, back.get(id));
      } else {
        this.features.delete(id);
      }
    }
    this.flush();
    for (const feature of added) this.pulse(feature);
    return added.map((feature) => feature.id);
  }

  // Several changes in a row become one redraw (at most one pending, never pushed back).
  flush(now = false) {
    const apply = () => {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
      const data = { type: "FeatureCollection", features: [...this.features.values()] };
      this.map.getSource(CASE_SOURCE).setData(data);
      this.map.getSource(HEAT_SOURCE).setData(data);
      document.body.dataset.caseCount = String(this.features.size);
    };
    if (now) apply();
    else this.flushTimer = this.flushTimer || setTimeout(apply, 150);
  }

  // A short-lived ring where a case just appeared, so a new report catches the eye on a big screen.
  pulse(feature) {
    const dot = element("div", { class: "case-pulse", dataset: { case: feature.id, number: feature.properties.number } });
    const marker = new maplibregl.Marker({ element: dot }).setLngLat(feature.geometry.coordinates).addTo(this.map);
    setTimeout(() => marker.remove(), 12000);
  }

  has(id) {
    return this.features.has(id);
  }

  flyTo(id, fallback) {
    const feature = this.features.get(id);
    const at = feature ? feature.geometry.coordinates : fallback;
    if (!at) return;
    this.map.flyTo({ center: at, zoom: Math.max(this.map.getZoom(), 15) });
  }

  setVisible(kind, visible) {
    const ids = kind === "heat" ? [CASE_LAYERS.heat] : [CASE_LAYERS.clusters, CASE_LAYERS.counts, CASE_LAYERS.points];
    for (const id of ids) this.map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
  }
}
