// The case page (dispatch/case.html): a small map of the case point, and the server-rendered body
// (details, actions, timeline) re-rendered whenever /ws/live/ reports a change to this case.
// Every action carries the version the page shows; a stale one (409) reloads the body and says so.
import {
  connectLive,
  errorLines,
  newKey,
  postForm,
  readConfig,
  showLiveState,
  tickCountdowns,
} from "./common.js";

const config = readConfig("case-config");
const text = config.text;
const holder = document.getElementById("case-body");
const message = document.getElementById("case-message");
let refreshing = null;
let again = false;

function say(line, kind = "info") {
  message.textContent = line;
  message.dataset.kind = kind;
}

function currentVersion() {
  return holder.querySelector(".case-body").dataset.version;
}

// --- the map -----------------------------------------------------------------------------------------

function drawMap() {
  const box = document.getElementById("case-map");
  if (!config.point) {
    box.classList.add("empty");
    box.textContent = text.noPoint;
    return;
  }
  const tiles = config.tiles.startsWith("/") ? location.origin + config.tiles : config.tiles;
  const line = (layer, color, width, minzoom) => ({
    id: `${layer}-line`,
    type: "line",
    source: "boundaries",
    "source-layer": layer,
    minzoom,
    paint: { "line-color": color, "line-width": width },
  });
  let map;
  try {
    map = new maplibregl.Map({
      container: box,
      center: config.point,
      zoom: 15,
      maxZoom: 19,
      attributionControl: false,
      style: {
        version: 8,
        sources: { boundaries: { type: "vector", tiles: [tiles], minzoom: 0, maxzoom: 16 } },
        layers: [
          { id: "background", type: "background", paint: { "background-color": "#f4f6f8" } },
          line("grids", "#9fb3c8", 1, 13),
          line("communities", "#829ab1", 1.2, 12),
          line("streets", "#486581", 2, 10),
          line("districts", "#243b53", 3, 0),
        ],
      },
    });
  } catch {
    // No WebGL: the page works without its map.
    box.classList.add("empty");
    box.textContent = text.noMap;
    return;
  }
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  new maplibregl.Marker({ color: "#d64545" }).setLngLat(config.point).addTo(map);
  map.on("load", () => {
    document.body.dataset.mapReady = "true";
  });
  window.caseMap = map;
}

// --- the body ----------------------------------------------------------------------------------------

// What someone is typing survives a re-render caused by somebody else's change.
function typedValues() {
  const kept = {};
  for (const form of holder.querySelectorAll("form[data-action]")) {
    for (const field of form.elements) {
      if (field.name && field.type !== "file" && field.type !== "radio" && field.value) {
        kept[`${form.dataset.action}.${field.name}`] = field.value;
      }
    }
    const open = form.querySelector("details");
    if (open && open.open) kept[`${form.dataset.action}.__open`] = true;
  }
  return kept;
}

function restore(kept) {
  for (const form of holder.querySelectorAll("form[data-action]")) {
    for (const field of form.elements) {
      const value = kept[`${form.dataset.action}.${field.name}`];
      if (field.name && value !== undefined && field.type !== "file" && field.type !== "radio") field.value = value;
    }
    const open = form.querySelector("details");
    if (open && kept[`${form.dataset.action}.__open`]) open.open = true;
  }
}

async function refreshBody() {
  // One request at a time; a change during it asks for one more.
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const response = await fetch(config.body, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.status === 404) {
        holder.querySelector("#case-actions")?.remove();
        say(text.gone, "warning");
        return;
      }
      if (!response.ok) {
        say(text.loadFailed, "error");
        return;
      }
      const kept = typedValues();
      holder.innerHTML = await response.text();
      restore(kept);
      tickCountdowns(holder, text);
    } catch {
      say(text.networkError, "error");
    }
  })();
  await refreshing;
  refreshing = null;
  if (again) {
    again = false;
    await refreshBody();
  }
}

// --- actions -----------------------------------------------------------------------------------------

function formData(form) {
  const data = new FormData();
  data.set("action", form.dataset.action);
  data.set("version", currentVersion());
  for (const field of form.elements) {
    if (!field.name) continue;
    if (field.type === "file") {
      for (const file of field.files) data.append(field.name, file);
    } else if (field.type === "radio") {
      if (field.checked) data.set(field.name, field.value);
    } else if (field.type === "datetime-local") {
      // The browser's local time, sent with its offset so the server need not guess the zone.
      if (field.value) data.set(field.name, new Date(field.value).toISOString());
    } else if (field.value !== "") {
      data.set(field.name, field.value);
    }
  }
  return data;
}

function showFieldErrors(form, body) {
  const box = form.querySelector(".field-errors");
  box.replaceChildren(
    ...errorLines(body).map((line) => Object.assign(document.createElement("p"), { textContent: line })),
  );
}

holder.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-action]");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  showFieldErrors(form, null);
  let answer;
  try {
    answer = await postForm(config.action, formData(form), { key: newKey() });
  } catch {
    button.disabled = false;
    say(text.networkError, "error");
    return;
  }
  button.disabled = false;
  if (answer.status === 200) {
    form.reset();
    say(text.done, "success");
    await refreshBody();
  } else if (answer.status === 409) {
    say(answer.body && answer.body.code === "stale_version" ? text.stale : `${text.failed}${errorLines(answer.body).join(" ")}`, "warning");
    await refreshBody();
  } else if (answer.status === 400) {
    showFieldErrors(form, answer.body);
  } else if (answer.status === 404) {
    say(text.gone, "warning");
    await refreshBody();
  } else {
    say(`${text.failed}${errorLines(answer.body).join(" ") || answer.status}`, "error");
  }
});

// --- wiring ------------------------------------------------------------------------------------------

drawMap();
tickCountdowns(holder, text);
setInterval(() => tickCountdowns(holder, text), 1000);
connectLive(config.ws, {
  onFirstHello: (hello) => {
    // Something happened between this page's render and the socket's hello: it may be this case.
    if (hello.seq > config.seq) refreshBody();
  },
  onEvent: (event) => {
    if (event.case === config.caseId) refreshBody();
  },
  onReload: refreshBody,
  onState: showLiveState(document.getElementById("live-state"), text),
});
