// Entry point of the 12345 console (hotline/templates/hotline/console.html): the call form with its
// suggestions and map, filing the call and showing where it went and why, the agent's recent calls
// and the callback queue, kept current from the live socket.
import { element, errorMessage, format, getJSON, HttpError, newKey, postJSON } from "../../maps/js/api.js";
import { LiveSocket } from "../../maps/js/live.js";
import { createAddressMap } from "./addressmap.js";
import { CallbackQueue, RecentCalls } from "./callbacks.js";
import {
  attachCallerLookup,
  attachCategorySuggestions,
  attachPlaceSuggestions,
  chainText,
  duplicateFinder,
  latestOnly,
} from "./suggest.js";

const config = JSON.parse(document.getElementById("console-config").textContent);
const text = config.text;
const form = document.getElementById("call-form");
const $ = (id) => document.getElementById(id);
const fields = {
  phone: $("caller-phone"),
  name: $("caller-name"),
  content: $("content"),
  category: $("category"),
  urgency: $("urgency"),
  address: $("address"),
  lon: $("lon"),
  lat: $("lat"),
  answered: $("answered"),
  answer: $("answer"),
};
// One key per call being taken: a double click or a retry after a timeout files it once.
let idempotencyKey = newKey();
let addressMap = null;

// --- where the call is ---------------------------------------------------------------------------

function point() {
  return fields.lon.value === "" ? { lon: null, lat: null } : { lon: Number(fields.lon.value), lat: Number(fields.lat.value) };
}

function findDuplicatesNow() {
  const { lon, lat } = point();
  findDuplicates({ lon, lat, category: fields.category.value, q: fields.content.value.trim() });
}

function showChain(parts) {
  const box = $("location-chain");
  box.replaceChildren(...parts.filter(Boolean).map((part) => element("span", {}, part)));
}

function placeAt(lon, lat, { fly = true } = {}) {
  fields.lon.value = lon.toFixed(6);
  fields.lat.value = lat.toFixed(6);
  if (addressMap) addressMap.show(lon, lat, { fly });
  findDuplicatesNow();
}

const describePoint = latestOnly(
  ({ lon, lat }) => getJSON(config.api.places, { lon: String(lon), lat: String(lat), limit: "3" }),
  (found) => {
    const location = found && found.location;
    if (!location) {
      showChain([text.outside]);
      return;
    }
    const nearby = found.results.map((place) => place.name).join("、");
    showChain([
      format(text.locatedAt, { chain: chainText(location.chain) }),
      location.outside ? text.outside : null,
      location.near_boundary ? text.nearBoundary : null,
      nearby ? format(text.nearby, { places: nearby }) : null,
    ]);
  },
  100,
);

// --- the result ----------------------------------------------------------------------------------

function localized(texts) {
  if (!texts || typeof texts === "string") return texts || "";
  const language = document.documentElement.lang.startsWith("en") ? "en" : "zh-hans";
  return texts[language] || texts["zh-hans"] || Object.values(texts)[0] || "";
}

function rows(pairs) {
  const list = element("dl", { class: "result-facts" });
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    list.append(element("dt", {}, term), element("dd", {}, value));
  }
  return list;
}

function showResult(filed) {
  const body = $("result-body");
  const kase = filed.case;
  const parts = [element("p", { class: "result-message" }, filed.message)];
  if (filed.previous_calls) parts.push(element("p", { class: "muted" }, format(text.previousCalls, { n: filed.previous_calls })));
  if (filed.geocode && filed.geocode.message) parts.push(element("p", { class: "muted" }, filed.geocode.message));
  if (kase) {
    const explanation = (kase.routing && kase.routing.explanation) || {};
    const names = (units) => (units.length ? units.map((unit) => unit.name).join("、") : text.none);
    const number = config.api.casePage
      ? element("a", { href: config.api.casePage.replace("/0/", `/${kase.id}/`) }, kase.number)
      : kase.number;
    parts.push(
      rows([
        [text.caseNumber, number],
        [text.status, kase.status_label],
        [text.lead, kase.lead_unit ? kase.lead_unit.name : text.none],
        [text.collaborators, names(kase.collaborators)],
        [text.partners, names(kase.partners)],
        [text.chain, explanation.chain ? chainText(explanation.chain) : null],
        // The message already says why when it opened the case.
        [text.why, filed.message.includes(kase.why) ? null : kase.why],
      ]),
    );
    if (kase.triage) parts.push(element("p", { class: "result-flag triage" }, text.triage));
    if (kase.needs_review) parts.push(element("p", { class: "result-flag" }, `${text.needsReview}：${localized(explanation.review)}`));
    if (explanation.rules && explanation.rules.length) {
      const list = element("ol", { class: "rules" });
      for (const rule of explanation.rules) {
        list.append(
          element(
            "li",
            { class: `rule-${rule.outcome}` },
            element("b", {}, `${text.rule} #${rule.rule}`),
            ` ${rule.category} @ ${rule.territory} → ${rule.target} `,
            element("span", { class: "outcome" }, text[rule.outcome] || rule.outcome),
            rule.note ? element("small", {}, localized(rule.note)) : null,
          ),
        );
      }
      parts.push(element("details", { open: true }, element("summary", {}, text.rules), list));
    }
  }
  body.replaceChildren(...parts);
  const result = $("result");
  result.hidden = false;
  result.dataset.outcome = filed.outcome;
  result.focus();
}

// --- filing --------------------------------------------------------------------------------------

function showErrors(body) {
  for (const node of form.querySelectorAll(".field-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const names = { caller_phone: "phone", caller_name: "name", content: "content", category: "category", urgency: "urgency", address: "address", lon: "address", lat: "address", answer: "answer" };
  const other = [];
  for (const [name, messages] of Object.entries(body || {})) {
    const field = fields[names[name]];
    const message = Array.isArray(messages) ? messages.join(" ") : String(messages);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.closest("label").append(element("span", { class: "field-error", dataset: { field: name } }, message));
    } else {
      other.push(message);
    }
  }
  const box = $("form-error");
  box.textContent = other.length ? other.join(" ") : text.fixErrors;
  box.hidden = false;
}

async function file(extra = {}) {
  const submit = $("submit");
  submit.disabled = true;
  submit.textContent = text.submitting;
  $("form-error").hidden = true;
  const { lon, lat } = point();
  const body = {
    caller_phone: fields.phone.value,
    caller_name: fields.name.value,
    request_type: form.elements.request_type.value,
    content: fields.content.value,
    address: fields.address.value,
    lon,
    lat,
    category: fields.category.value || null,
    urgency: fields.urgency.value || null,
    answered: fields.answered.checked,
    answer: fields.answer.value,
    ...extra,
  };
  try {
    const filed = await postJSON(config.api.calls, body, config.csrfToken, { "Idempotency-Key": idempotencyKey });
    for (const node of form.querySelectorAll(".field-error")) node.remove();
    form.classList.add("filed");
    for (const control of form.querySelectorAll("fieldset")) control.disabled = true;
    $("duplicates").hidden = true;
    showResult(filed);
    recent.reload().catch((error) => console.warn("recent calls:", error));
  } catch (error) {
    if (error instanceof HttpError && error.status === 400) showErrors(error.body);
    else {
      $("form-error").textContent = errorMessage(error, text.loadFailed);
      $("form-error").hidden = false;
    }
    // A refused call was not filed: the corrected one is a new request with a key of its own.
    if (error instanceof HttpError && error.status < 500) idempotencyKey = newKey();
  } finally {
    submit.disabled = false;
    submit.textContent = submit.dataset.label;
  }
}

function resetForm() {
  form.reset();
  form.classList.remove("filed");
  for (const control of form.querySelectorAll("fieldset")) control.disabled = false;
  for (const node of form.querySelectorAll(".field-error")) node.remove();
  for (const id of ["result", "duplicates", "form-error", "caller-notice", "answer-label"]) $(id).hidden = true;
  $("answered-block").hidden = true;
  $("category-suggestions").replaceChildren();
  showChain([]);
  fields.lon.value = fields.lat.value = "";
  if (addressMap) addressMap.clear();
  idempotencyKey = newKey();
  fields.phone.focus();
}

// --- wiring --------------------------------------------------------------------------------------

const recent = new RecentCalls(config, $("recent-calls"));
const callbacks = new CallbackQueue(config, { list: $("callback-list"), count: $("callback-count"), notice: $("callback-notice") });
const findDuplicates = duplicateFinder(config, {
  section: $("duplicates"),
  list: $("duplicate-list"),
  onJoin: (dup) => {
    if (window.confirm(format(text.joinConfirm, { number: dup.number }))) file({ join_case: dup.id });
  },
});

$("submit").dataset.label = $("submit").textContent;
attachCallerLookup(config, { phone: fields.phone, name: fields.name, notice: $("caller-notice") });
attachCategorySuggestions(config, { content: fields.content, select: fields.category, box: $("category-suggestions"), onChange: findDuplicatesNow });
attachPlaceSuggestions(config, {
  input: fields.address,
  list: $("place-suggestions"),
  onPick: (place) => {
    if (place.lon === null) return;
    showChain([format(text.locatedAt, { chain: chainText(place.chain) || place.name })]);
    placeAt(place.lon, place.lat);
  },
});
fields.content.addEventListener("input", () => findDuplicatesNow());
for (const radio of form.elements.request_type) {
  radio.addEventListener("change", () => {
    // Only a consultation can be settled on the line.
    const consult = form.elements.request_type.value === "consult";
    $("answered-block").hidden = !consult;
    if (!consult) fields.answered.checked = false;
    $("answer-label").hidden = !fields.answered.checked;
  });
}
fields.answered.addEventListener("change", () => ($("answer-label").hidden = !fields.answered.checked));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  file();
});
$("reset").addEventListener("click", resetForm);

createAddressMap($("console-map"), config.api.mapConfig, (lon, lat) => {
  placeAt(lon, lat, { fly: false });
  describePoint({ lon, lat });
})
  .then((created) => {
    addressMap = created;
    window.shehuiConsoleMap = created.map;
    document.body.dataset.mapReady = "true";
  })
  .catch((error) => console.warn("map:", error));

const loadCallbacks = () => callbacks.load().catch((error) => callbacks.say(errorMessage(error, text.loadFailed)));
let refreshTimer = null;
new LiveSocket(config.api.live, {
  onHello: loadCallbacks,
  onReload: loadCallbacks,
  onEvent: (event) => {
    recent.update(event);
    // Closing puts a case in the queue; a callback or a reopening takes it out.
    if (["closed", "revisited", "reopened", "merged"].includes(event.kind)) {
      refreshTimer =
        refreshTimer ||
        setTimeout(() => {
          refreshTimer = null;
          loadCallbacks();
        }, 500);
    }
  },
  onState: (state) => {
    const box = $("live-status");
    box.dataset.state = state;
    box.textContent = state === "on" ? text.liveOn : state === "connecting" ? "" : text.liveOff;
    if (state === "denied") loadCallbacks();
  },
}).connect();
document.body.dataset.consoleReady = "true";
