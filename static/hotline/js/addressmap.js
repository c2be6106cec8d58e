// The console's address map: our boundary tiles (the same style as the city map), a marker where the
// call is, and a click that places the call there.
import { buildStyle } from "../../maps/js/style.js";
import { getJSON } from "../../maps/js/api.js";

export async function createAddressMap(container, configUrl, onPick) {
  const config = await getJSON(configUrl);
  const map = new maplibregl.Map({
    container,
    style: buildStyle(config),
    center: config.center,
    zoom: config.zoom,
    maxZoom: config.maxZoom,
    attributionControl: config.baseAttribution ? { compact: true } : false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  const marker = new maplibregl.Marker({ color: "#d64545" });
  map.on("click", (event) => onPick(event.lngLat.lng, event.lngLat.lat));
  map.getCanvas().style.cursor = "crosshair";
  await new Promise((resolve) => map.once("load", resolve));
  return {
    map,
    show(lon, lat, { fly = true } = {}) {
      marker.setLngLat([lon, lat]).addTo(map);
      if (fly) map.flyTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 15) });
    },
    clear() {
      marker.remove();
      map.jumpTo({ center: config.center, zoom: config.zoom });
    },
  };
}
