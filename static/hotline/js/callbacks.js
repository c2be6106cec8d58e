// The console's side: the agent's recent calls, and the callback queue (回访) of closed hotline cases
// where the agent records 满意 / 基本满意 / 不满意 (不满意 needs the reason and reopens the case).
import { element, errorMessage, format, getJSON, HttpError, localTime, newKey, postJSON } from "../../maps/js/api.js";

function caseLink(config, kase) {
  if (!kase) return null;
  return config.api.casePage
    ? element("a", { href: config.api.casePage.replace("/0/", `/${kase.id}/`), class: "case-number" }, kase.number)
    : element("span", { class: "case-number" }, kase.number);
}

export function recentCallItem(config, call) {
  return element(
    "li",
    { dataset: { call: call.id, case: call.case ? call.case.id : "" } },
    element(
      "div",
      { class: "recent-head" },
      element("time", { datetime: call.created_at }, localTime(call.created_at, true)),
      element("span", {}, call.request_type),
      element("span", { class: "muted" }, `${call.caller.name} ${call.caller.phone}`),
    ),
    element("p", {}, call.content),
    element(
      "div",
      { class: "recent-case" },
      caseLink(config, call.case),
      element("span", { class: "status", dataset: { status: call.case ? call.case.status : call.outcome } }, call.case ? call.case.status_label : call.outcome_label),
    ),
  );
}

export class RecentCalls {
  constructor(config, list) {
    this.config = config;
    this.list = list;
    this.show(config.recentCalls);
  }

  show(calls) {
    const items = calls.map((call) => recentCallItem(this.config, call));
    this.list.replaceChildren(...(items.length ? items : [element("li", { class: "empty" }, this.config.text.empty)]));
  }

  async reload() {
    this.show((await getJSON(this.config.api.recent)).results);
  }

  // A live event moved one of these cases on.
  update(event) {
    for (const status of this.list.querySelectorAll(`li[data-case="${event.case}"] .status`)) {
      status.dataset.status = event.status;
      status.textContent = this.config.statuses[event.status] || event.status;
    }
  }
}

export class CallbackQueue {
  constructor(config, { list, count, notice }) {
    this.config = config;
    this.list = list;
    this.count = count;
    this.notice = notice;
  }

  async load() {
    const page = await getJSON(this.config.api.callbacks, { limit: "30" });
    this.count.textContent = page.count;
    const items = page.results.map((kase) => this.item(kase));
    this.list.replaceChildren(...(items.length ? items : [element("li", { class: "empty" }, this.config.text.empty)]));
    this.list.dataset.loaded = "true";
  }

  item(kase) {
    const text = this.config.text;
    const callers = kase.calls.map((call) => `${call.caller.name} ${call.caller.phone}`).join("、");
    const actions = element("div", { class: "callback-actions" });
    const item = element(
      "li",
      { dataset: { case: kase.id } },
      element("div", { class: "callback-head" }, caseLink(this.config, kase), element("span", {}, kase.category.name)),
      element("p", {}, kase.description),
      element(
        "small",
        { class: "muted" },
        [kase.lead_unit && kase.lead_unit.name, format(text.closedAt, { at: localTime(kase.closed_at, true) })].filter(Boolean).join(" · "),
      ),
      callers ? element("p", { class: "callers" }, `${text.callers}：${callers}`) : null,
      actions,
    );
    for (const result of this.config.callbackResults) {
      actions.append(
        element(
          "button",
          {
            type: "button",
            dataset: { result: result.value },
            onclick: () => (result.value === "unsatisfied" ? this.askReason(item, kase, result) : this.record(item, kase, result, "")),
          },
          result.label,
        ),
      );
    }
    return item;
  }

  askReason(item, kase, result) {
    if (item.querySelector(".callback-reason")) return;
    const text = this.config.text;
    const note = element("textarea", { rows: "2", maxlength: "2000", "aria-label": text.callbackNote, placeholder: text.callbackNote });
    const message = element("p", { class: "form-message", role: "alert" });
    const form = element(
      "form",
      { class: "callback-reason" },
      note,
      element("div", { class: "callback-actions" }, element("button", { type: "submit", class: "primary" }, text.confirm), element("button", { type: "button", onclick: () => form.remove() }, text.cancel)),
      message,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!note.value.trim()) {
        message.textContent = text.callbackNote;
        note.focus();
        return;
      }
      this.record(item, kase, result, note.value.trim(), message);
    });
    item.append(form);
    note.focus();
  }

  async record(item, kase, result, note, message = null) {
    const buttons = item.querySelectorAll("button");
    buttons.forEach((button) => (button.disabled = true));
    try {
      await postJSON(this.config.api.callback.replace("/0/", `/${kase.id}/`), { result: result.value, version: kase.version, note }, this.config.csrfToken, { "Idempotency-Key": newKey() });
      this.say(format(this.config.text.callbackDone, { number: kase.number, result: result.label }));
      item.remove();
      this.count.textContent = Math.max(0, Number(this.count.textContent) - 1);
    } catch (error) {
      if (error instanceof HttpError && error.status === 409) {
        this.say(this.config.text.stale);
        this.load();
      } else if (message) {
        message.textContent = errorMessage(error, this.config.text.loadFailed);
      } else {
        this.say(errorMessage(error, this.config.text.loadFailed));
      }
    } finally {
      buttons.forEach((button) => (button.disabled = false));
    }
  }

  say(message) {
    this.notice.textContent = message;
    this.notice.hidden = false;
  }
}
