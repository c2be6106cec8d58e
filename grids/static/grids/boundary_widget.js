// Admin boundary widget (grids/widgets.py): previews the GeoJSON in the textarea over the parent's
// outline on a blank MapLibre map; re-draws as the text changes.
(function () {
  "use strict";
  const EMPTY = { type: "FeatureCollection", features: [] };

  function parse(text) {
    try {
      const geom = JSON.parse((text || "").trim());
      return geom && geom.type && geom.coordinates ? geom : null;
    } catch (e) {
      return null;
    }
  }

  function extend(box, coords) {
    if (typeof coords[0] === "number") {
      return box
        ? [Math.min(box[0], coords[0]), Math.min(box[1], coords[1]), Math.max(box[2], coords[0]), Math.max(box[3], coords[1])]
        : [coords[0], coords[1], coords[0], coords[1]];
    }
    return coords.reduce(extend, box);
  }

  const asCollection = (geom) =>
    geom ? { type: "FeatureCollection", features: [{ type: "Feature", properties: {}, geometry: geom }] } : EMPTY;

  function init(root) {
    const textarea = root.querySelector(".boundary-value");
    const status = root.querySelector(".boundary-status");
    const context = JSON.parse(root.dataset.context || "null") || EMPTY;
    const map = new maplibregl.Map({
      container: root.querySelector(".boundary-map"),
      style: {
        version: 8,
        sources: {},
        layers: [{ id: "background", type: "background", paint: { "background-color": "#f4f6f3" } }],
      },
      center: [106.63, 26.65],
      zoom: 8,
      attributionControl: false,
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));

    function render() {
      const geom = parse(textarea.value);
      map.getSource("value").setData(asCollection(geom));
      status.textContent = textarea.value.trim() && !geom ? root.dataset.msgInvalid : "";
      return geom;
    }

    map.on("load", () => {
      map.addSource("context", { type: "geojson", data: context });
      map.addLayer({ id: "context", type: "line", source: "context", paint: { "line-color": "#7d8c82", "line-width": 1 } });
      map.addSource("value", { type: "geojson", data: EMPTY });
      map.addLayer({ id: "value-fill", type: "fill", source: "value", paint: { "fill-color": "#2f7de1", "fill-opacity": 0.25 } });
      map.addLayer({ id: "value-line", type: "line", source: "value", paint: { "line-color": "#2f7de1", "line-width": 2 } });
      const geom = render();
      let box = geom ? extend(null, geom.coordinates) : null;
      if (!box) box = context.features.reduce((b, f) => extend(b, f.geometry.coordinates), null);
      if (box) map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 30, duration: 0, maxZoom: 16 });
    });
    textarea.addEventListener("input", render);
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof maplibregl === "undefined") return;
    document.querySelectorAll(".grids-boundary").forEach(init);
  });
})();
