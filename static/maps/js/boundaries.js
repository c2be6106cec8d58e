// Hover and click on the boundary layers: the finest area under the pointer is highlighted, named in
// a small label that follows the pointer, and described in a popup on click.
import { BOUNDARY_SOURCE, fillLayerId } from "./style.js";

function finestAt(map, point, layers) {
  // Layers come coarsest first; the last one drawn at this zoom is the most detailed.
  const ids = layers.map((layer) => fillLayerId(layer.name)).filter((id) => map.getLayer(id));
  const features = map.queryRenderedFeatures(point, { layers: ids });
  let best = null;
  let bestRank = -1;
  for (const feature of features) {
    const rank = layers.findIndex((layer) => layer.name === feature.sourceLayer);
    if (rank > bestRank) {
      best = feature;
      bestRank = rank;
    }
  }
  return best;
}

function describe(feature, config) {
  const layer = config.layers.find((item) => item.name === feature.sourceLayer);
  const box = document.createElement("div");
  box.className = "area-popup";
  const title = document.createElement("h3");
  title.textContent = feature.properties.name;
  box.append(title);
  const rows = document.createElement("dl");
  for (const [label, value] of [
    [config.text.level, layer ? layer.label : feature.sourceLayer],
    [config.text.code, feature.properties.code],
  ]) {
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    detail.textContent = value;
    rows.append(term, detail);
  }
  box.append(rows);
  return box;
}

export function attachBoundaryInteraction(map, config) {
  const label = document.createElement("div");
  label.className = "map-hover";
  label.hidden = true;
  map.getContainer().append(label);
  let hovered = null;

  function setHover(feature) {
    if (hovered && (!feature || hovered.id !== feature.id || hovered.sourceLayer !== feature.sourceLayer)) {
      map.setFeatureState({ source: BOUNDARY_SOURCE, sourceLayer: hovered.sourceLayer, id: hovered.id }, { hover: false });
      hovered = null;
    }
    if (feature && !hovered) {
      hovered = { id: feature.id, sourceLayer: feature.sourceLayer };
      map.setFeatureState({ source: BOUNDARY_SOURCE, sourceLayer: feature.sourceLayer, id: feature.id }, { hover: true });
    }
  }

  map.on("mousemove", (event) => {
    const feature = finestAt(map, event.point, config.layers);
    setHover(feature);
    map.getCanvas().style.cursor = feature || map.getCanvas().classList.contains("over-case") ? "pointer" : "";
    if (feature) {
      label.textContent = `${feature.properties.name} · ${feature.properties.code}`;
      label.style.left = `${event.point.x}px`;
      label.style.top = `${event.point.y}px`;
      label.hidden = false;
    } else {
      label.hidden = true;
    }
  });
  map.getCanvas().addEventListener("mouseleave", () => {
    setHover(null);
    label.hidden = true;
  });

  map.on("click", (event) => {
    // A case marker took this click (cases.js) and shows its own popup.
    if (event.defaultPrevented) return;
    const feature = finestAt(map, event.point, config.layers);
    if (!feature) return;
    new maplibregl.Popup({ maxWidth: "280px" }).setLngLat(event.lngLat).setDOMContent(describe(feature, config)).addTo(map);
  });
}
