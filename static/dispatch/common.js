// Shared by the inbox, case and field pages: the page's JSON configuration, API calls with the
// CSRF token, idempotency keys, the /ws/live/ client with resume, SLA countdowns and the new-case beep.

export function readConfig(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// crypto.randomUUID exists only on https and localhost; a phone on plain http still needs keys.
export function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The API answers in the page's language, whatever the browser itself prefers.
function language() {
  return document.documentElement.lang || "zh-hans";
}

export async function getJson(url) {
  const headers = { Accept: "application/json", "Accept-Language": language() };
  const response = await fetch(url, { credentials: "same-origin", headers });
  if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status });
  return response.json();
}

// POST a FormData with the session's CSRF token; resolves to {status, body} whatever the status.
export async function postForm(url, form, { key } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": language(), "X-CSRFToken": csrfToken() };
  if (key) headers["Idempotency-Key"] = key;
  const response = await fetch(url, { method: "POST", body: form, credentials: "same-origin", headers });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  // Seconds the server asks us to wait (503 while its database is away); 0 when it says nothing.
  const retryAfter = Number(response.headers.get("Retry-After")) || 0;
  return { status: response.status, body, retryAfter };
}

// "{field: [messages]}" or "{detail}" from the API as one readable line per field.
export function errorLines(body) {
  if (!body || typeof body !== "object") return [];
  if (body.detail) return [String(body.detail)];
  return Object.entries(body).map(([field, messages]) => {
    const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
    return field === "non_field_errors" ? text : `${field}: ${text}`;
  });
}

// URL templates from the pages' configuration carry the case id as "/0/": "/cases/0/", "/api/v1/cases/0/actions/".
export function caseUrl(template, id) {
  return template.replace("/0/", `/${id}/`);
}

// "11-22 09:14" on the site's clock (TIME_ZONE), whatever zone the browser is set to.
export function formatTime(iso, timeZone) {
  if (!iso) return "";
  const parts = {};
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  for (const part of format.formatToParts(new Date(iso))) parts[part.type] = part.value;
  return `${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

// "1天 02:03:04" style; negative durations are shown by the caller as overdue.
export function formatDuration(ms, text) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const pad = (n) => String(n).padStart(2, "0");
  const hms = `${pad(Math.floor((total % 86400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days ? `${days}${text.days} ${hms}` : hms;
}

// Every element with data-due gets its countdown redrawn each second; red once the due time passes.
export function tickCountdowns(root, text) {
  const now = Date.now();
  for (const el of root.querySelectorAll("[data-due]")) {
    const left = new Date(el.dataset.due).getTime() - now;
    const sign = el.dataset.stage === "sign";
    if (left <= 0) el.dataset.level = "red";
    const template = left <= 0 ? (sign ? text.signOverdue : text.replyOverdue) : sign ? text.signLeft : text.replyLeft;
    el.textContent = template.replace("%s", formatDuration(left, text));
  }
}

export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// --- /ws/live/ ---------------------------------------------------------------------------------------
// Protocol (docs/live.md): hello {seq}; event {seq, case, status, version, kind}; after a drop the
// client reconnects with ?after_seq=<last seq seen> and gets what it missed, then {resumed}; a
// {reload} says too much was missed: reload the lists and carry on from its seq.

export function connectLive(path, { onEvent, onReload, onState, onFirstHello } = {}) {
  let lastSeq = null;
  let attempt = 0;
  let socket = null;
  let timer = null;
  let pinger = null;
  const state = (value) => {
    document.body.dataset.live = value;
    if (onState) onState(value);
  };

  function url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const resume = lastSeq === null ? "" : `?after_seq=${lastSeq}`;
    return `${scheme}//${location.host}${path}${resume}`;
  }

  function schedule() {
    clearTimeout(timer);
    // Offline, a socket cannot open: wait for the browser's "online" instead of failing in a loop.
    if (!navigator.onLine) {
      state("offline");
      return;
    }
    const delay = Math.min(30000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    state("reconnecting");
    timer = setTimeout(open, delay);
  }

  function open() {
    clearTimeout(timer);
    if (!navigator.onLine) {
      state("offline");
      return;
    }
    state(lastSeq === null ? "connecting" : "reconnecting");
    socket = new WebSocket(url());
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "hello") {
        attempt = 0;
        const first = lastSeq === null;
        if (first) lastSeq = data.seq;
        state("open");
        if (first && onFirstHello) onFirstHello(data);
      } else if (data.type === "event") {
        if (lastSeq === null || data.seq > lastSeq) lastSeq = data.seq;
        if (onEvent) onEvent(data);
      } else if (data.type === "resumed") {
        if (data.seq > lastSeq) lastSeq = data.seq;
      } else if (data.type === "reload") {
        lastSeq = data.seq;
        if (onReload) onReload();
      } else if (data.type === "status") {
        // The server lost its database or Redis: the socket stays, the page says so. When it is
        // whole again, ask for whatever was missed meanwhile.
        if (data.degraded.length) state("degraded");
        else {
          state("open");
          if (lastSeq !== null) socket.send(JSON.stringify({ type: "resume", after_seq: lastSeq }));
        }
      }
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pinger);
      if (event.code === 4401) return state("unauthenticated");
      if (event.code === 4403) return state("forbidden");
      schedule();
    });
    clearInterval(pinger);
    // Keeps proxies from closing a quiet socket.
    pinger = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send('{"type":"ping"}'), 25000);
  }

  window.addEventListener("online", () => {
    if (!socket || socket.readyState === WebSocket.CLOSED) {
      attempt = 0;
      open();
    } else if (socket.readyState === WebSocket.OPEN) {
      // The socket lived through the outage.
      state("open");
    }
  });
  window.addEventListener("offline", () => state("offline"));
  open();
  return {
    get lastSeq() {
      return lastSeq;
    },
    // For tests and the console: drop the socket as a network failure would.
    drop() {
      if (socket) socket.close();
    },
  };
}

export function showLiveState(el, text) {
  return (value) => {
    if (!el) return;
    el.dataset.state = value;
    el.textContent = text[`live_${value}`] || value;
  };
}

// --- beep --------------------------------------------------------------------------------------------
// Browsers let a page make sound only after the user has touched it, so the audio context is made on
// the first click or key press (or on the sound button) and never before.

let audio = null;
let soundWanted = localStorage.getItem("shehui.sound") !== "off";

function unlock() {
  if (audio || !soundWanted) return;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (Context) audio = new Context();
}

export function setupSound(button, text) {
  const draw = () => {
    const on = soundWanted && audio !== null;
    button.textContent = on ? text.soundOn : text.soundOff;
    button.setAttribute("aria-pressed", String(on));
  };
  button.addEventListener("click", () => {
    soundWanted = !(soundWanted && audio !== null);
    localStorage.setItem("shehui.sound", soundWanted ? "on" : "off");
    unlock();
    if (soundWanted) beep();
    draw();
  });
  const first = () => {
    unlock();
    draw();
  };
  window.addEventListener("pointerdown", first, { once: true });
  window.addEventListener("keydown", first, { once: true });
  draw();
}

export function beep() {
  if (!audio || !soundWanted) return;
  if (audio.state === "suspended") audio.resume();
  const t = audio.currentTime;
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.type = "sine";
  tone.frequency.setValueAtTime(880, t);
  tone.frequency.setValueAtTime(1320, t + 0.12);
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
  tone.connect(gain).connect(audio.destination);
  tone.start(t);
  tone.stop(t + 0.32);
}
