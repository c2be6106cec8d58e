// Suggestions while the agent types: who is calling (repeat callers), what the problem is (category),
// where it is (places), and whether it was reported already (duplicates). Every lookup is debounced
// and only the answer to the newest question is shown.
import { debounce, element, format, getJSON, localTime } from "../../maps/js/api.js";

// Debounces `ask(...args)` (which fetches) and hands its answer to `show` only if no newer question
// was asked meanwhile; `ask` returning null means "nothing to ask" and `show(null)` clears.
export function latestOnly(ask, show, wait) {
  let asked = 0;
  return debounce(async (...args) => {
    const ticket = ++asked;
    try {
      const answer = await ask(...args);
      if (ticket === asked) show(answer);
    } catch (error) {
      console.warn("suggestion:", error);
    }
  }, wait);
}

export function chainText(chain) {
  const order = ["city", "district", "street", "community", "grid"];
  return [...chain]
    .sort((a, b) => order.indexOf(a.level) - order.indexOf(b.level))
    .filter((link) => link.level !== "city")
    .map((link) => link.name)
    .join(" › ");
}

// --- repeat callers ------------------------------------------------------------------------------

export function attachCallerLookup(config, { phone, name, notice }) {
  const text = config.text;
  const lookup = latestOnly(
    () => (phone.value.replace(/\D/g, "").length < 7 ? null : getJSON(config.api.callers, { phone: phone.value })),
    (found) => {
      notice.replaceChildren();
      notice.hidden = found === null;
      if (found === null) return;
      notice.classList.toggle("repeat", found.repeat);
      if (found.known && found.name && !name.value.trim()) name.value = found.name;
      if (!found.repeat) {
        notice.append(found.known ? format(text.knownCaller, { name: found.name || found.phone }) : text.newCaller);
        return;
      }
      notice.append(element("strong", {}, format(text.repeatCaller, { days: found.period_days, n: found.calls.length })));
      const list = element("ul");
      for (const call of found.calls.slice(0, 5)) {
        list.append(
          element(
            "li",
            { dataset: { call: call.id } },
            `${localTime(call.created_at, true)} ${call.request_type_label} · `,
            call.case ? `${call.case.number}（${call.case.status_label}）` : call.outcome_label,
            ` ${call.content.slice(0, 40)}`,
          ),
        );
      }
      notice.append(list);
    },
    400,
  );
  phone.addEventListener("input", lookup);
  phone.addEventListener("change", lookup);
}

// --- categories ----------------------------------------------------------------------------------

export function attachCategorySuggestions(config, { content, select, box, onChange }) {
  const text = config.text;
  const suggest = latestOnly(
    () => {
      const q = content.value.trim();
      return q.length < 4 ? null : getJSON(config.api.categories, { q, limit: "5" });
    },
    (found) => {
      box.replaceChildren();
      if (!found || !found.length) return;
      box.append(element("span", { class: "suggest-label" }, text.suggestedCategories));
      for (const category of found) {
        const keywords = (category.reasons && category.reasons.keywords) || [];
        box.append(
          element(
            "button",
            {
              type: "button",
              class: `chip${select.value === category.code ? " chosen" : ""}`,
              dataset: { category: category.code },
              title: keywords.length ? format(text.keywordsHit, { words: keywords.join("、") }) : null,
              onclick: () => {
                select.value = category.code;
                markChosen();
                onChange();
              },
            },
            category.name,
            category.group ? element("small", {}, category.group) : null,
          ),
        );
      }
    },
    350,
  );
  function markChosen() {
    for (const chip of box.querySelectorAll(".chip")) chip.classList.toggle("chosen", chip.dataset.category === select.value);
  }
  content.addEventListener("input", suggest);
  select.addEventListener("change", () => {
    markChosen();
    onChange();
  });
}

// --- places --------------------------------------------------------------------------------------

export function attachPlaceSuggestions(config, { input, list, onPick }) {
  const text = config.text;
  let active = -1;
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    active = -1;
  };
  const suggest = latestOnly(
    () => {
      const q = input.value.trim();
      return q.length < 2 ? null : getJSON(config.api.places, { q, limit: "8" });
    },
    (found) => {
      if (found === null) {
        close();
        return;
      }
      list.results = found.results;
      list.replaceChildren(
        ...(found.results.length
          ? found.results.map((place, index) =>
              element(
                "li",
                {
                  role: "option",
                  id: `place-${index}`,
                  onmousedown: (event) => {
                    // Before the input's blur closes the list.
                    event.preventDefault();
                    pick(place);
                  },
                },
                element("span", {}, place.name),
                element("small", {}, chainText(place.chain) || place.level),
              ),
            )
          : [element("li", { class: "empty" }, text.noPlaces)]),
      );
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    },
    250,
  );
  function pick(place) {
    close();
    onPick(place);
  }
  input.addEventListener("input", suggest);
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (event) => {
    const options = list.hidden ? [] : [...list.querySelectorAll("[role=option]")];
    if (!options.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + options.length) % options.length;
      options.forEach((option, index) => option.setAttribute("aria-selected", String(index === active)));
      input.setAttribute("aria-activedescendant", options[active].id);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      pick(list.results[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
}

// --- duplicates ----------------------------------------------------------------------------------

export function duplicateFinder(config, { section, list, onJoin }) {
  const text = config.text;
  return latestOnly(
    ({ lon, lat, category, q }) => {
      if (lon === null || lat === null) return null;
      const params = { lon: String(lon), lat: String(lat), limit: "5" };
      if (category) params.category = category;
      if (q) params.q = q.slice(0, 500);
      return getJSON(config.api.duplicates, params);
    },
    (found) => {
      section.hidden = found === null;
      if (found === null) return;
      list.replaceChildren(
        ...(found.length
          ? found.map((dup) =>
              element(
                "li",
                { dataset: { case: dup.id } },
                element(
                  "div",
                  { class: "dup-head" },
                  element("b", {}, dup.number),
                  element("span", { class: "status" }, dup.status_label),
                  element("span", {}, dup.category.name),
                  element("span", { class: "muted" }, format(text.metres, { m: Math.round(dup.distance_m) })),
                  element("button", { type: "button", class: "join", onclick: () => onJoin(dup) }, text.join),
                ),
                element("p", {}, dup.description),
                element("small", { class: "muted" }, `${localTime(dup.created_at, true)} ${dup.address}`),
              ),
            )
          : [element("li", { class: "empty" }, text.noDuplicates)]),
      );
    },
    500,
  );
}
