// Admin geometry widget (partners/widgets.py): the value lives in the textarea as GeoJSON; the map
// previews it over the district outlines and edits it by clicking (a point) or drawing (a polygon).
(function () {
  "use strict";
  const EMPTY = { type: "FeatureCollection", features: [] };
  const round = (n) => Math.round(n * 1e6) / 1e6;

  function parse(text) {
    text = (text || "").trim();
    if (!text) return null;
    try {
      const geom = JSON.parse(text);
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

  function bounds(geoms) {
    return geoms.reduce((box, g) => (g && g.coordinates ? extend(box, g.coordinates) : box), null);
  }

  const collection = (geoms) => ({
    type: "FeatureCollection",
    features: geoms.filter(Boolean).map((g) => ({ type: "Feature", properties: {}, geometry: g })),
  });
  const isArea = ["match", ["geometry-type"], ["Polygon", "MultiPolygon"], true, false];
  const isPoint = ["match", ["geometry-type"], ["Point", "MultiPoint"], true, false];

  function init(root) {
    const textarea = root.querySelector(".geom-value");
    const status = root.querySelector(".geom-status");
    const mapNode = root.querySelector(".geom-map");
    const drawButton = root.querySelector(".geom-draw");
    const pointOnly = root.dataset.geomType === "Point";
    const context = JSON.parse(root.dataset.context || "null") || EMPTY;
    let sketch = null; // vertices while drawing a polygon, else null

    const map = new maplibregl.Map({
      container: mapNode,
      style: {
        version: 8,
        sources: {},
        layers: [{ id: "background", type: "background", paint: { "background-color": "#f4f6f3" } }],
      },
      center: JSON.parse(root.dataset.centre),
      zoom: 8,
      doubleClickZoom: false,
      attributionControl: false,
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));

    function render() {
      const geom = parse(textarea.value);
      map.getSource("value").setData(geom ? collection([geom]) : EMPTY);
      let drawn = EMPTY;
      if (sketch && sketch.length) {
        drawn = collection([
          sketch.length > 1 ? { type: "LineString", coordinates: sketch } : null,
          { type: "MultiPoint", coordinates: sketch },
        ]);
      }
      map.getSource("sketch").setData(drawn);
      if (sketch) status.textContent = root.dataset.msgDrawing;
      else status.textContent = textarea.value.trim() && !geom ? root.dataset.msgInvalid : "";
      return geom;
    }

    function setValue(geom) {
      textarea.value = geom ? JSON.stringify(geom) : "";
      textarea.dispatchEvent(new Event("change", { bubbles: true }));
      render();
    }

    function stopDrawing() {
      sketch = null;
      mapNode.classList.remove("drawing");
      render();
    }

    map.on("load", () => {
      map.addSource("context", { type: "geojson", data: context });
      map.addLayer({ id: "context", type: "line", source: "context", paint: { "line-color": "#7d8c82", "line-width": 1 } });
      map.addSource("value", { type: "geojson", data: EMPTY });
      map.addLayer({ id: "value-fill", type: "fill", source: "value", filter: isArea,
        paint: { "fill-color": "#2f7de1", "fill-opacity": 0.25 } });
      map.addLayer({ id: "value-line", type: "line", source: "value", filter: isArea,
        paint: { "line-color": "#2f7de1", "line-width": 2 } });
      map.addLayer({ id: "value-point", type: "circle", source: "value", filter: isPoint,
        paint: { "circle-radius": 6, "circle-color": "#d9480f", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
      map.addSource("sketch", { type: "geojson", data: EMPTY });
      map.addLayer({ id: "sketch-line", type: "line", source: "sketch",
        paint: { "line-color": "#d9480f", "line-width": 2, "line-dasharray": [2, 1] } });
      map.addLayer({ id: "sketch-vertex", type: "circle", source: "sketch", filter: isPoint,
        paint: { "circle-radius": 4, "circle-color": "#d9480f" } });
      const box = bounds([render()]) || bounds(context.features.map((f) => f.geometry));
      if (box) map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 30, duration: 0, maxZoom: 13 });
    });

    map.on("click", (event) => {
      const at = [round(event.lngLat.lng), round(event.lngLat.lat)];
      if (pointOnly) setValue({ type: "Point", coordinates: at });
      else if (sketch) {
        sketch.push(at);
        render();
      }
    });

    map.on("dblclick", (event) => {
      if (!sketch) return;
      event.preventDefault();
      sketch.pop(); // the second click of the double click added the last vertex twice
      if (sketch.length >= 3) {
        const ring = [...sketch, sketch[0]];
        sketch = null;
        mapNode.classList.remove("drawing");
        setValue({ type: "MultiPolygon", coordinates: [[ring]] });
      }
    });

    if (drawButton) {
      drawButton.addEventListener("click", () => {
        sketch = [];
        mapNode.classList.add("drawing");
        render();
      });
    }
    root.querySelector(".geom-clear").addEventListener("click", () => {
      stopDrawing();
      setValue(null);
    });
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && sketch) stopDrawing();
    });
    textarea.addEventListener("input", render);
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof maplibregl === "undefined") return;
    document.querySelectorAll(".partners-geom").forEach(init);
  });
})();
