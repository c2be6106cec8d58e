// The unit inbox (dispatch/inbox.html): the unit's cases from the case API, kept current by /ws/live/.
// Cases that arrive while the page is open are marked new, counted in a badge and announced by a beep.
import {
  beep,
  caseUrl,
  connectLive,
  escapeHtml,
  formatTime,
  getJson,
  readConfig,
  setupSound,
  showLiveState,
  tickCountdowns,
} from "./common.js";

const config = readConfig("inbox-config");
const text = config.text;
const form = document.getElementById("inbox-filters");
const rows = document.getElementById("inbox-rows");
const message = document.getElementById("inbox-message");
const more = document.getElementById("inbox-more");
const badge = document.getElementById("inbox-new");
const PAGE = 50;
const baseTitle = document.title;

let shown = new Map(); // case id -> case from the API
let fresh = new Set(); // ids that arrived live and were not opened yet
let live = new Set(); // ids named by live events since the last refresh
let limit = PAGE;
let loaded = false;
let refreshTimer = null;
let sla = {};

// --- filters: kept in the address so a reload or a shared link shows the same list --------------

function readFilters() {
  const params = new URLSearchParams(location.search);
  for (const element of form.elements) {
    if (!element.name || !params.has(element.name)) continue;
    if (element.type === "checkbox") element.checked = params.get(element.name) === "true";
    else element.dataset.wanted = element.value = params.get(element.name);
  }
}

function writeFilters() {
  const params = new URLSearchParams();
  for (const element of form.elements) {
    if (!element.name) continue;
    if (element.type === "checkbox") {
      if (element.checked) params.set(element.name, "true");
    } else if (element.value !== (element.name === "status" ? "open" : "")) {
      params.set(element.name, element.value);
    }
  }
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

function apiQuery() {
  const params = new URLSearchParams({ limit: String(limit) });
  const status = form.elements.status.value;
  if (status === "open") params.set("status", config.openStatuses.join(","));
  else if (status) params.set("status", status);
  if (form.elements.category.value) params.set("category", form.elements.category.value);
  if (form.elements.unit && form.elements.unit.value) params.set("unit", form.elements.unit.value);
  if (form.elements.overdue.checked) params.set("overdue", "true");
  return `${config.api}?${params}`;
}

async function loadCategories() {
  const select = form.elements.category;
  try {
    const tree = await getJson(config.categories);
    const walk = (nodes, depth) => {
      for (const node of nodes) {
        const option = new Option(`${"\u3000".repeat(depth)}${node.name}`, node.code);
        select.add(option);
        if (depth < 1) walk(node.children, depth + 1);
      }
    };
    walk(tree, 0);
    if (select.dataset.wanted) select.value = select.dataset.wanted;
  } catch {
    // The list still works without the category filter.
  }
}

// --- the list ----------------------------------------------------------------------------------------

function row(item) {
  const isNew = fresh.has(item.id);
  const due = sla[item.id];
  const slaCell = due
    ? `<span class="sla" data-level="${due.level}" data-stage="${due.stage}" data-due="${due.due}"></span>`
    : "";
  const description = item.description.length > 60 ? `${item.description.slice(0, 60)}…` : item.description;
  return `<tr data-case="${item.id}" data-status="${item.status}" class="${isNew ? "is-new" : ""}">
    <td><a href="${caseUrl(config.caseUrl, item.id)}">${escapeHtml(item.number)}</a>${
      isNew ? ` <span class="tag-new">${escapeHtml(text.newCase)}</span>` : ""
    }${item.urgency === "urgent" ? ` <span class="tag-urgent">${escapeHtml(text.urgent)}</span>` : ""}</td>
    <td>${escapeHtml(item.category.name)}</td>
    <td class="description">${escapeHtml(description)}<small>${escapeHtml(item.address || "")}</small></td>
    <td><span class="status" data-status="${item.status}">${escapeHtml(item.status_label)}</span></td>
    <td>${escapeHtml(item.lead_unit ? item.lead_unit.name : "")}</td>
    <td>${slaCell}</td>
    <td>${escapeHtml(formatTime(item.created_at, config.timeZone))}</td>
  </tr>`;
}

function draw() {
  const items = [...shown.values()];
  rows.innerHTML = items.length ? items.map(row).join("") : `<tr><td colspan="7" class="empty">${escapeHtml(text.empty)}</td></tr>`;
  tickCountdowns(rows, text);
  const count = [...fresh].filter((id) => shown.has(id)).length;
  badge.hidden = count === 0;
  badge.textContent = String(count);
  document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
}

async function loadSla(ids) {
  if (!ids.length) {
    sla = {};
    return;
  }
  try {
    const answer = await getJson(`${config.sla}?ids=${ids.join(",")}`);
    sla = answer.cases;
  } catch {
    // Keep the last known deadlines; the countdowns go on ticking.
  }
}

async function refresh() {
  clearTimeout(refreshTimer);
  const named = live;
  live = new Set();
  let page;
  try {
    page = await getJson(apiQuery());
  } catch (error) {
    if (error.status === 401 || error.status === 403) location.reload();
    message.textContent = text.loadFailed;
    return;
  }
  message.textContent = "";
  const before = shown;
  shown = new Map(page.results.map((item) => [item.id, item]));
  let arrived = 0;
  if (loaded) {
    for (const id of shown.keys()) {
      if (!before.has(id) && named.has(id)) {
        fresh.add(id);
        arrived += 1;
      }
    }
  }
  await loadSla([...shown.values()].filter((item) => config.openStatuses.includes(item.status)).map((item) => item.id));
  more.hidden = !page.next;
  loaded = true;
  draw();
  document.body.dataset.inboxReady = "true";
  if (arrived) beep();
  // Events that came in while this request was on its way may describe a later state.
  if (live.size) refreshSoon();
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  // Events of one transaction arrive together: one request for the burst.
  refreshTimer = setTimeout(refresh, 150);
}

// --- wiring ------------------------------------------------------------------------------------------

readFilters();
form.addEventListener("change", () => {
  limit = PAGE;
  writeFilters();
  refresh();
});
form.addEventListener("submit", (event) => event.preventDefault());
more.addEventListener("click", () => {
  limit += PAGE;
  refresh();
});
rows.addEventListener("click", (event) => {
  const tr = event.target.closest("tr[data-case]");
  if (tr) fresh.delete(Number(tr.dataset.case));
});
badge.addEventListener("click", () => {
  fresh = new Set();
  draw();
});
setupSound(document.getElementById("sound-toggle"), text);
setInterval(() => tickCountdowns(rows, text), 1000);
// The sweep's colours change with the clock, not only with events.
setInterval(() => loadSla([...shown.keys()]).then(draw), 60000);
loadCategories();

// The socket first: its hello marks the point after which every change reaches this page live,
// so the list loaded after it cannot miss one.
// Exposed for the browser tests and the console, like the map page's `shehuiMap`.
window.inboxLive = connectLive(config.ws, {
  onFirstHello: refresh,
  onEvent: (event) => {
    live.add(event.case);
    if (loaded) refreshSoon();
  },
  onReload: refresh,
  onState: showLiveState(document.getElementById("live-state"), text),
});
// Without a socket (a proxy that refuses websockets) the list still loads.
setTimeout(() => loaded || refresh(), 3000);
