// Small helpers shared by the dashboard's and the hotline console's modules: JSON requests with the page's CSRF token, and
// Django-style "%(name)s" placeholders in translated strings.

export class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function parse(response) {
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new HttpError(response.status, body);
  return body;
}

// Addresses under /api/v1/ carry no language prefix: tell the server the page's language, so labels
// and explanations come back in the language the page is in.
function languageHeaders() {
  return { Accept: "application/json", "Accept-Language": document.documentElement.lang || "zh-hans" };
}

export async function getJSON(url, params) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  const response = await fetch(url + query, { credentials: "same-origin", headers: languageHeaders() });
  return parse(response);
}

export async function postJSON(url, body, csrfToken, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { ...languageHeaders(), "Content-Type": "application/json", "X-CSRFToken": csrfToken, ...headers },
    body: JSON.stringify(body),
  });
  return parse(response);
}

export function format(text, params) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => (name in params ? String(params[name]) : ""));
}

// The first readable message in a DRF error body: {"detail": ...} or {field: [messages]}.
export function errorMessage(error, fallback) {
  const body = error && error.body;
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    for (const value of Object.values(body)) {
      if (Array.isArray(value) && value.length) return String(value[0]);
    }
  }
  return fallback;
}

// Calls `fn` once calls have stopped for `wait` ms (the last arguments win).
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    // Through the CSSOM: the Content-Security-Policy refuses style attributes set as text.
    else if (name === "style") node.style.cssText = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function localTime(iso, withDate = false) {
  const date = new Date(iso);
  const options = withDate
    ? { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }
    : { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  return date.toLocaleString(document.documentElement.lang || undefined, { ...options, hour12: false });
}

// A fresh Idempotency-Key. crypto.randomUUID exists only on HTTPS or localhost; an intranet served
// over plain HTTP still has getRandomValues.
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
