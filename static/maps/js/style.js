// The MapLibre style of the supervisor map, built here from our own tile source only (no remote
// style, sprites or glyphs); an optional raster base layer comes from the MAP_BASE_TILE_URL setting.

export const BOUNDARY_SOURCE = "boundaries";

// Drawn from the coarsest to the finest level; `fill` layers exist for hover and click.
const LINE_PAINT = {
  districts: { "line-color": "#243b53", "line-width": ["interpolate", ["linear"], ["zoom"], 6, 1.5, 12, 3] },
  streets: { "line-color": "#486581", "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1, 14, 2] },
  communities: { "line-color": "#829ab1", "line-width": 1.2, "line-dasharray": [3, 2] },
  grids: { "line-color": "#9fb3c8", "line-width": ["interpolate", ["linear"], ["zoom"], 13, 0.5, 16, 1.2] },
};

export function fillLayerId(name) {
  return `${name}-fill`;
}

// Absolute URL without URL() so the {z}/{x}/{y} placeholders are not percent-encoded.
function absolute(path) {
  return path.startsWith("/") ? window.location.origin + path : path;
}

export function buildStyle(config) {
  const sources = {
    [BOUNDARY_SOURCE]: {
      type: "vector",
      tiles: [absolute(config.tiles)],
      minzoom: 0,
      // Past this zoom the client stretches the last tiles instead of asking for more.
      maxzoom: config.tileMaxZoom,
      // Codes are unique across levels, so they can key the hover state.
      promoteId: "code",
    },
  };
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#f4f6f8" } }];

  if (config.baseTiles) {
    sources.base = {
      type: "raster",
      tiles: [config.baseTiles],
      tileSize: 256,
      attribution: config.baseAttribution || "",
    };
    layers.push({ id: "base", type: "raster", source: "base" });
  }

  for (const layer of config.layers) {
    layers.push({
      id: fillLayerId(layer.name),
      type: "fill",
      source: BOUNDARY_SOURCE,
      "source-layer": layer.name,
      minzoom: layer.minzoom,
      paint: {
        "fill-color": "#0b6bcb",
        "fill-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 0.18, 0],
      },
    });
  }
  for (const layer of config.layers) {
    layers.push({
      id: `${layer.name}-line`,
      type: "line",
      source: BOUNDARY_SOURCE,
      "source-layer": layer.name,
      minzoom: layer.minzoom,
      layout: { "line-join": "round" },
      paint: LINE_PAINT[layer.name] || { "line-color": "#627d98", "line-width": 1 },
    });
  }
  // Finest level on top so it is what a click picks; districts keep the outline above everything.
  const districtLine = layers.findIndex((layer) => layer.id === "districts-line");
  if (districtLine >= 0) layers.push(...layers.splice(districtLine, 1));

  return { version: 8, sources, layers };
}
