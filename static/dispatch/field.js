// The grid worker's page (dispatch/field.html), made for a phone on a flaky network.
//
// A report is written to IndexedDB first, with an Idempotency-Key made once for it, and only then
// sent. It stays "waiting" through network errors, 5xx (a 503 while the server's database is away is
// retried no sooner than its Retry-After) and 409 (the first try still running) and is retried with
// backoff and whenever the browser comes back online; the key makes every retry return the first
// answer, so a report becomes exactly one case however often it is sent. Any other 4xx marks it
// "refused" with the reasons, shown to the worker. Reports belong to the account that made them.
import {
  caseUrl,
  connectLive,
  errorLines,
  escapeHtml,
  formatTime,
  getJson,
  newKey,
  postForm,
  readConfig,
  showLiveState,
} from "./common.js";

const config = readConfig("field-config");
const text = config.text;
const form = document.getElementById("report-form");
const queueList = document.getElementById("queue");
const formErrors = document.getElementById("report-errors");
const gpsOutput = document.getElementById("gps-output");
const listsState = document.getElementById("lists-state");
let categoryNames = {};

// --- storage: IndexedDB, or memory when the browser refuses it (private windows of old browsers) -----

const STORE = "reports";
let dbOpening = null;
const memory = new Map();

function openDb() {
  if (!dbOpening) {
    dbOpening = new Promise((resolve) => {
      if (!window.indexedDB) return resolve(null);
      const request = indexedDB.open("shehui-field", 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
    });
  }
  return dbOpening;
}

async function store(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
  });
}

async function allReports() {
  if (!(await openDb())) return [...memory.values()];
  return store("readonly", (s) => s.getAll());
}

async function saveReport(report) {
  if (!(await openDb())) return void memory.set(report.id, { ...report });
  return store("readwrite", (s) => s.put(report));
}

async function deleteReport(id) {
  if (!(await openDb())) return void memory.delete(id);
  return store("readwrite", (s) => s.delete(id));
}

// --- the queue ---------------------------------------------------------------------------------------

let flushing = false;
let retryTimer = null;

function backoff(attempts) {
  const base = Math.min(300000, 2000 * 2 ** Math.max(0, attempts - 1));
  return base * (0.8 + Math.random() * 0.4);
}

function reportForm(report) {
  const data = new FormData();
  data.set("source", "field");
  data.set("category", report.category);
  data.set("description", report.description);
  if (report.lon !== null) {
    data.set("lon", report.lon);
    data.set("lat", report.lat);
    data.set("crs", "wgs84");
  }
  if (report.address) data.set("address", report.address);
  data.set("self_resolved", report.selfResolved ? "true" : "false");
  for (const photo of report.photos) data.append("photos", photo, photo.name || "photo.jpg");
  return data;
}

// A 4xx is the server saying no to this report as it stands: shown to the worker, never retried,
// except the ones that say "not now" (a lost session, the first try still running, too many requests).
function refusal(status, answer) {
  if (status === 403) return Boolean(answer.body && answer.body.code === "forbidden");
  return status >= 400 && status < 500 && ![401, 408, 409, 425, 429].includes(status);
}

async function sendOne(report) {
  report.state = "sending";
  report.attempts += 1;
  report.note = "";
  await saveReport(report);
  await drawQueue();
  let answer = null;
  try {
    answer = await postForm(config.api, reportForm(report), { key: report.key });
  } catch {
    answer = null; // the network: try again later
  }
  const status = answer ? answer.status : 0;
  if (status === 201 || status === 200) {
    Object.assign(report, { state: "sent", caseId: answer.body.id, number: answer.body.number, sentAt: Date.now() });
    report.photos = [];
  } else if (refusal(status, answer)) {
    const errors = errorLines(answer.body);
    Object.assign(report, { state: "refused", errors: errors.length ? errors : [text.refusedStatus.replace("%s", status)] });
  } else {
    // 401/403 without our code: the session ended. 409: the first try is still running. 5xx, 0: retry,
    // when the server says (503 + Retry-After: its database is away), no sooner than it asks.
    report.state = "waiting";
    report.note = status === 401 || status === 403 ? text.needLogin : status === 503 ? text.serverDown : "";
    const wait = Math.max(backoff(report.attempts), (answer && answer.retryAfter ? answer.retryAfter : 0) * 1000);
    report.nextAt = Date.now() + wait;
  }
  await saveReport(report);
}

async function flushNow() {
  const reports = (await allReports())
    .filter((r) => r.user === config.user && r.state === "waiting")
    .sort((a, b) => a.createdAt - b.createdAt);
  for (const report of reports) {
    if (!navigator.onLine) break;
    if (report.nextAt && report.nextAt > Date.now()) continue;
    await sendOne(report);
  }
}

async function flush() {
  // Sending while offline only fails: the "online" event starts the next round.
  if (flushing || !navigator.onLine) return drawQueue();
  flushing = true;
  try {
    // One sender across this browser's tabs; the key would make a second one harmless, only wasteful.
    if (navigator.locks) await navigator.locks.request("shehui-field-send", flushNow);
    else await flushNow();
  } finally {
    flushing = false;
    await drawQueue();
    scheduleRetry();
  }
}

async function scheduleRetry() {
  clearTimeout(retryTimer);
  const waiting = (await allReports()).filter((r) => r.user === config.user && r.state === "waiting");
  if (!waiting.length) return;
  const next = Math.min(...waiting.map((r) => r.nextAt || 0));
  retryTimer = setTimeout(flush, Math.max(0, next - Date.now()));
}

async function drawQueue() {
  const reports = (await allReports()).sort((a, b) => b.createdAt - a.createdAt);
  queueList.innerHTML = reports
    .map((r) => {
      const mine = r.user === config.user;
      const state = mine ? r.state : "other";
      let detail = "";
      if (!mine) detail = text.otherUser;
      else if (r.state === "sent") {
        detail = `${text.caseNo} <a href="${caseUrl(config.caseUrl, r.caseId)}">${escapeHtml(r.number)}</a>`;
      } else if (r.state === "refused") {
        detail = `<ul class="errors">${r.errors.map((e) => `<li>${escapeHtml(e)}</li>`).join("")}</ul>`;
      } else if (r.state === "waiting") {
        const when = r.nextAt && r.nextAt > Date.now() ? text.retryAt.replace("%s", new Date(r.nextAt).toLocaleTimeString()) : "";
        detail = escapeHtml([r.note, navigator.onLine ? when : text.offline].filter(Boolean).join(" · "));
      }
      const label = { waiting: text.waiting, sending: text.sending, sent: text.sent, refused: text.refused, other: text.waiting }[state];
      const removable = mine && (r.state === "sent" || r.state === "refused");
      return `<li data-id="${r.id}" data-state="${state}">
        <span class="queue-state" data-state="${state}">${escapeHtml(label)}</span>
        <strong>${escapeHtml(r.categoryName)}</strong> <small class="muted">${escapeHtml(formatTime(new Date(r.createdAt).toISOString(), config.timeZone))}</small>
        <p>${escapeHtml(r.description.slice(0, 80))}</p>
        <div class="queue-detail">${detail}</div>
        ${removable ? `<button type="button" class="small" data-remove="${r.id}">${escapeHtml(text.remove)}</button>` : ""}
      </li>`;
    })
    .join("");
}

queueList.addEventListener("click", async (event) => {
  const id = event.target.dataset.remove;
  if (!id) return;
  await deleteReport(id);
  drawQueue();
});

// --- the report form ---------------------------------------------------------------------------------

async function loadCategories() {
  const select = form.elements.category;
  const cacheKey = "shehui.field.categories";
  let tree = null;
  try {
    tree = await getJson(config.categories);
    localStorage.setItem(cacheKey, JSON.stringify(tree));
  } catch {
    tree = JSON.parse(localStorage.getItem(cacheKey) || "[]");
  }
  const leaves = [];
  const walk = (nodes, path) => {
    for (const node of nodes) {
      const trail = [...path, node.name];
      if (node.is_leaf) leaves.push([node.code, trail.slice(1).join(" › ") || node.name]);
      else walk(node.children, trail);
    }
  };
  walk(tree, []);
  categoryNames = Object.fromEntries(leaves);
  for (const [code, name] of leaves) select.add(new Option(name, code));
  document.body.dataset.categoriesReady = "true";
}

document.getElementById("gps-button").addEventListener("click", () => {
  if (!navigator.geolocation) {
    gpsOutput.textContent = text.noGpsSupport;
    return;
  }
  gpsOutput.textContent = text.locating;
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { longitude, latitude, accuracy } = position.coords;
      form.elements.lon.value = longitude.toFixed(6);
      form.elements.lat.value = latitude.toFixed(6);
      gpsOutput.textContent = `${text.located.replace("%s", Math.round(accuracy))} (${longitude.toFixed(5)}, ${latitude.toFixed(5)})`;
      document.body.dataset.located = "true";
    },
    (error) => {
      gpsOutput.textContent = `${text.noGps}${error.message}`;
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 10000 },
  );
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = form.elements;
  const photos = [...f.photos.files];
  const problems = [];
  if (!f.category.value) problems.push(text.pickCategory);
  if (photos.length > config.photosMax) problems.push(text.tooManyPhotos.replace("%s", config.photosMax));
  formErrors.replaceChildren(...problems.map((p) => Object.assign(document.createElement("p"), { textContent: p })));
  if (problems.length) return;
  const report = {
    id: newKey(),
    // Made once, here: every retry of this report carries the same key.
    key: newKey(),
    user: config.user,
    category: f.category.value,
    categoryName: categoryNames[f.category.value] || f.category.value,
    description: f.description.value.trim(),
    lon: f.lon.value ? Number(f.lon.value) : null,
    lat: f.lat.value ? Number(f.lat.value) : null,
    address: f.address.value.trim(),
    selfResolved: f.self_resolved.checked,
    photos,
    createdAt: Date.now(),
    state: "waiting",
    attempts: 0,
    nextAt: 0,
    errors: [],
    note: "",
  };
  await saveReport(report);
  form.reset();
  gpsOutput.textContent = text.queued;
  await drawQueue();
  flush();
});

// --- the worker's grids: verification tasks and open cases --------------------------------------------

const listsKey = `shehui.field.lists.${config.user}`;
let listsTimer = null;

function inMyGrids(item) {
  return config.grids.includes(item.grid_code);
}

function drawLists(open, verifying) {
  const tasks = document.getElementById("tasks");
  tasks.innerHTML = verifying.length
    ? verifying
        .map(
          (c) => `<li data-case="${c.id}" data-version="${c.version}">
        <a href="${caseUrl(config.caseUrl, c.id)}">${escapeHtml(c.number)}</a> <strong>${escapeHtml(c.category.name)}</strong>
        <p>${escapeHtml(c.description.slice(0, 100))}</p><small class="muted">${escapeHtml(c.address || c.grid_code)}</small>
        <div class="verify-buttons">
          <button type="button" class="primary" data-verify="pass">${escapeHtml(text.pass)}</button>
          <button type="button" class="danger" data-verify="fail">${escapeHtml(text.fail)}</button>
        </div>
        <label class="fail-reason" hidden>${escapeHtml(text.failReason)}<textarea rows="2" maxlength="2000"></textarea></label>
        <div class="field-errors" role="alert"></div>
      </li>`,
        )
        .join("")
    : `<li class="empty">${escapeHtml(text.noTasks)}</li>`;
  const cases = document.getElementById("grid-cases");
  cases.innerHTML = open.length
    ? open
        .map(
          (c) => `<li><a href="${caseUrl(config.caseUrl, c.id)}">${escapeHtml(c.number)}</a>
        <span class="status" data-status="${c.status}">${escapeHtml(c.status_label)}</span>
        <strong>${escapeHtml(c.category.name)}</strong><p>${escapeHtml(c.description.slice(0, 80))}</p></li>`,
        )
        .join("")
    : `<li class="empty">${escapeHtml(text.noCases)}</li>`;
}

async function loadLists() {
  clearTimeout(listsTimer);
  let open;
  let verifying;
  try {
    const [a, b] = await Promise.all([
      getJson(`${config.api}?status=${config.openStatuses.join(",")}&limit=100`),
      getJson(`${config.api}?status=verifying&limit=100`),
    ]);
    open = a.results.filter(inMyGrids);
    verifying = b.results.filter(inMyGrids);
    localStorage.setItem(listsKey, JSON.stringify({ open, verifying }));
    listsState.textContent = "";
  } catch {
    ({ open = [], verifying = [] } = JSON.parse(localStorage.getItem(listsKey) || "{}"));
    listsState.textContent = text.offlineList;
  }
  drawLists(open, verifying);
  document.body.dataset.listsReady = "true";
}

document.getElementById("tasks").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-verify]");
  if (!button) return;
  const item = button.closest("li[data-case]");
  const reason = item.querySelector(".fail-reason");
  const note = reason.querySelector("textarea").value.trim();
  const passed = button.dataset.verify === "pass";
  if (!passed && reason.hidden) {
    reason.hidden = false;
    reason.querySelector("textarea").focus();
    return;
  }
  const data = new FormData();
  data.set("action", "verify");
  data.set("version", item.dataset.version);
  data.set("passed", passed ? "true" : "false");
  if (note) data.set("note", note);
  const errors = item.querySelector(".field-errors");
  for (const b of item.querySelectorAll("button")) b.disabled = true;
  let answer = null;
  try {
    answer = await postForm(caseUrl(config.actionUrl, item.dataset.case), data, { key: newKey() });
  } catch {
    errors.textContent = text.networkError;
  }
  for (const b of item.querySelectorAll("button")) b.disabled = false;
  if (!answer) return;
  if (answer.status === 200) loadLists();
  else if (answer.status === 409) {
    listsState.textContent = text.stale;
    loadLists();
  } else errors.textContent = errorLines(answer.body).join(" ");
});

// --- wiring ------------------------------------------------------------------------------------------

const netState = document.getElementById("net-state");
function drawNet() {
  netState.dataset.online = String(navigator.onLine);
  netState.textContent = navigator.onLine ? text.online : text.offline;
}
window.addEventListener("online", async () => {
  drawNet();
  // Back online: everything waiting goes now, whatever its backoff said.
  for (const report of await allReports()) {
    if (report.user === config.user && report.state === "waiting" && report.nextAt) {
      report.nextAt = 0;
      await saveReport(report);
    }
  }
  flush();
  loadLists();
});
window.addEventListener("offline", () => {
  drawNet();
  drawQueue();
});

async function start() {
  drawNet();
  // A report caught mid-send when the page closed goes again; its key makes that safe.
  const dayAgo = Date.now() - 86400000;
  for (const report of await allReports()) {
    if (report.state === "sending") {
      report.state = "waiting";
      await saveReport(report);
    } else if (report.state === "sent" && report.sentAt < dayAgo) {
      await deleteReport(report.id);
    }
  }
  await drawQueue();
  flush();
  loadCategories();
  loadLists();
  connectLive(config.ws, {
    onEvent: (event) => {
      if (config.grids.includes(event.grid)) {
        clearTimeout(listsTimer);
        listsTimer = setTimeout(loadLists, 200);
      }
    },
    onReload: loadLists,
    onState: showLiveState(document.getElementById("live-state"), text),
  });
  if ("serviceWorker" in navigator) navigator.serviceWorker.register(config.sw).catch(() => {});
}
start();
