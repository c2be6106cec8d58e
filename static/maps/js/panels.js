// The panels beside the map: counts, the triage queue with its dispatch action, the overdue list,
// the live feed, the opened/closed trend, unit rankings and hot words. Each panel loads from its own
// endpoint and is reloaded by main.js when live events say something changed.
import { drawRanking } from "./analytics.js";
import { debounce, element, errorMessage, format, getJSON, HttpError, localTime, postJSON } from "./api.js";

function replace(list, items, emptyText) {
  list.replaceChildren(...(items.length ? items : [element("li", { class: "empty" }, emptyText)]));
}

function duration(minutes, text) {
  if (minutes < 60) return format(text.minutes, { n: minutes });
  if (minutes < 60 * 48) return format(text.hours, { n: Math.round(minutes / 60) });
  return format(text.days, { n: Math.round(minutes / 1440) });
}

// --- counts ------------------------------------------------------------------------------------

export async function loadSummary(config) {
  const data = await getJSON(config.api.summary);
  for (const node of document.querySelectorAll("[data-kpi]")) node.textContent = data[node.dataset.kpi];
  const colours = Object.fromEntries(config.statuses.map((status) => [status.status, status.colour]));
  replace(
    document.getElementById("by-status"),
    data.by_status.map((row) =>
      element(
        "li",
        { dataset: { status: row.status } },
        element("span", { class: "dot", style: `background:${colours[row.status] || "#627d98"}` }),
        `${row.label} `,
        element("b", {}, String(row.count)),
      ),
    ),
    config.text.empty,
  );
  const most = Math.max(1, ...data.by_district.map((row) => row.count));
  replace(
    document.getElementById("by-district"),
    data.by_district.map((row) =>
      element(
        "li",
        { dataset: { district: row.code } },
        element("span", { class: "bar-label" }, row.name || config.text.noLocation),
        element("span", { class: "bar", style: `width:${(100 * row.count) / most}%` }),
        element("b", {}, String(row.count)),
      ),
    ),
    config.text.empty,
  );
}

// --- triage queue with the dispatch action -----------------------------------------------------

function caseSummary(row, config, cases) {
  const title = element(
    "button",
    { type: "button", class: "case-link", title: config.text.showOnMap, onclick: () => cases.flyTo(row.id, row.lon === null ? null : [row.lon, row.lat]) },
    row.number,
  );
  return [
    element(
      "div",
      { class: "case-head" },
      title,
      element("span", { class: `status status-${row.status}` }, row.status_label),
      row.urgency === "urgent" ? element("span", { class: "tag-urgent" }, config.text.urgent) : null,
    ),
    element("p", { class: "case-what" }, `${row.category} · ${row.district_name || config.text.noLocation}`),
    row.description ? element("p", { class: "case-desc" }, row.description) : null,
  ];
}

function dispatchForm(row, config, onDone) {
  const text = config.text;
  let chosen = null;
  const search = element("input", { type: "search", placeholder: text.searchUnit, "aria-label": text.dispatchTo, autocomplete: "off" });
  const results = element("ul", { class: "unit-results", role: "listbox" });
  const note = element("input", { type: "text", placeholder: text.note, "aria-label": text.note, maxlength: "2000" });
  const message = element("p", { class: "form-message", role: "alert" });
  const submit = element("button", { type: "submit", class: "primary" }, text.send);
  const cancel = element("button", { type: "button" }, text.cancel);
  const form = element("form", { class: "dispatch-form" }, element("label", {}, text.dispatchTo, search), results, note, element("div", { class: "actions" }, submit, cancel), message);

  let asked = 0;
  async function findUnits() {
    // Answers can overtake each other; only the newest question's answer is shown.
    const ticket = ++asked;
    const params = { kind: "unit", active: "true", limit: "8" };
    const q = search.value.trim();
    if (q) params.q = q;
    // With nothing typed, offer the units of the case's own district first.
    else if (row.district) params.area = row.district;
    try {
      const page = await getJSON(config.api.units, params);
      if (ticket !== asked) return;
      replace(
        results,
        page.results.map((unit) =>
          element(
            "li",
            {},
            element(
              "button",
              {
                type: "button",
                role: "option",
                dataset: { unit: unit.id },
                onclick: (event) => {
                  chosen = unit;
                  search.value = unit.name;
                  for (const option of results.querySelectorAll("[role=option]")) option.setAttribute("aria-selected", "false");
                  event.currentTarget.setAttribute("aria-selected", "true");
                },
              },
              unit.name,
              element("small", {}, [unit.type_label, unit.area && unit.area.name].filter(Boolean).join(" · ")),
            ),
          ),
        ),
        text.empty,
      );
    } catch (error) {
      message.textContent = errorMessage(error, text.loadFailed);
    }
  }
  const findLater = debounce(findUnits, 250);
  search.addEventListener("input", () => {
    chosen = null;
    findLater();
  });
  search.addEventListener("focus", findUnits, { once: true });
  cancel.addEventListener("click", () => form.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!chosen) {
      message.textContent = text.chooseUnit;
      search.focus();
      return;
    }
    submit.disabled = true;
    try {
      await postJSON(config.api.action.replace("/0/", `/${row.id}/`), { action: "dispatch", version: row.version, unit: chosen.id, note: note.value }, config.csrfToken);
      onDone(format(text.dispatched, { unit: chosen.name }));
    } catch (error) {
      if (error instanceof HttpError && error.status === 409) onDone(text.stale);
      else message.textContent = errorMessage(error, text.loadFailed);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function loadTriage(config, cases, notify) {
  const data = await getJSON(config.api.triage);
  document.getElementById("triage-count").textContent = data.count;
  const list = document.getElementById("triage-list");
  // Keep an open dispatch form while the queue reloads around it.
  const editing = list.querySelector(".dispatch-form") ? list.querySelector(".dispatch-form").closest("[data-case]") : null;
  const items = data.results.map((row) => {
    if (editing && Number(editing.dataset.case) === row.id && Number(editing.dataset.version) === row.version) return editing;
    const item = element("li", { dataset: { case: row.id, version: row.version } }, ...caseSummary(row, config, cases));
    if (row.reason) item.append(element("p", { class: "case-reason" }, row.reason));
    const open = element("button", { type: "button", class: "dispatch-open" }, config.text.dispatch);
    open.addEventListener("click", () => {
      if (item.querySelector(".dispatch-form")) return;
      const form = dispatchForm(row, config, (done) => {
        notify(done);
        loadTriage(config, cases, notify);
      });
      item.append(form);
      form.querySelector("input").focus();
      form.scrollIntoView({ block: "nearest" });
    });
    item.querySelector(".case-head").append(open);
    return item;
  });
  replace(list, items, config.text.empty);
}

// --- overdue -----------------------------------------------------------------------------------

export async function loadOverdue(config, cases) {
  const data = await getJSON(config.api.overdue);
  document.getElementById("overdue-count").textContent = data.count;
  replace(
    document.getElementById("overdue-list"),
    data.results.map((row) =>
      element(
        "li",
        { dataset: { case: row.id }, class: `sla-${row.sla}` },
        ...caseSummary(row, config, cases),
        element(
          "p",
          { class: "case-late" },
          `${row.stage === "sign" ? config.text.lateSign : config.text.lateReply} · ${format(config.text.lateBy, { time: duration(row.late_minutes, config.text) })}`,
          row.lead_unit ? ` · ${row.lead_unit.name}` : "",
        ),
      ),
    ),
    config.text.empty,
  );
}

// --- live feed ---------------------------------------------------------------------------------

const FEED_LENGTH = 40;

export function addToFeed(config, event, cases) {
  const list = document.getElementById("live-feed");
  list.querySelector(".empty")?.remove();
  const kind = config.kinds[event.kind] || event.kind;
  const item = element(
    "li",
    { dataset: { case: event.case, seq: event.seq, kind: event.kind } },
    element("time", { datetime: event.at }, localTime(event.at)),
    element("button", { type: "button", class: "case-link", onclick: () => cases.flyTo(event.case) }, event.number),
    element("span", { class: "feed-kind" }, kind),
    element("span", { class: "feed-what" }, [event.category && event.category.name, event.lead_unit && `→ ${event.lead_unit.name}`].filter(Boolean).join(" ")),
  );
  list.prepend(item);
  while (list.children.length > FEED_LENGTH) list.lastElementChild.remove();
}

// --- trend -------------------------------------------------------------------------------------

let trendChart = null;
const GROUP_COLOURS = ["#2186eb", "#e12d39", "#3ebd93", "#f0b429", "#9446ed", "#0e7c86", "#f7d070", "#829ab1"];

// Opened and closed per day (or, grouped, the opened counts of the biggest categories or districts)
// from /maps/api/series/; rest days of the working calendar have grey labels.
export async function loadTrend(config) {
  const groupBy = document.getElementById("trend-group").value;
  const data = await getJSON(config.api.series, groupBy ? { group_by: groupBy } : {});
  const box = document.getElementById("trend-chart");
  if (!window.echarts) return;
  if (!trendChart) {
    trendChart = echarts.init(box, null, { renderer: "canvas" });
    window.addEventListener("resize", () => trendChart.resize());
  }
  const line = (name, values, colour) => ({ name, type: "line", symbolSize: 4, data: values, itemStyle: { color: colour } });
  const series = groupBy
    ? data.groups.map((group, i) => line(group.label, group.opened, GROUP_COLOURS[i % GROUP_COLOURS.length]))
    : [line(config.text.opened, data.opened, "#2186eb"), line(config.text.closed, data.closed, "#3ebd93")];
  trendChart.setOption(
    {
      animation: false,
      grid: { left: 32, right: 12, top: groupBy ? 44 : 28, bottom: 24 },
      tooltip: { trigger: "axis" },
      legend: { data: series.map((item) => item.name), top: 0, type: "scroll", textStyle: { fontSize: 11 } },
      xAxis: {
        type: "category",
        data: data.days.map((day) => day.slice(5)),
        axisLabel: { fontSize: 10, color: (value, index) => (data.working[index] ? "#52606d" : "#bcccdc") },
      },
      yAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: 10 } },
      series,
    },
    { notMerge: true },
  );
  box.dataset.days = String(data.days.length);
  box.dataset.groups = String(groupBy ? data.groups.length : 0);
}

// --- unit ranking ------------------------------------------------------------------------------

export async function loadRanking(config) {
  // No dates: the server applies the city's configured evaluation period (admin: 考评设置).
  const data = await getJSON(config.api.stats);
  const period = document.getElementById("ranking-period");
  if (period) period.textContent = `${data.from} – ${data.to}`;
  const scored = data.units.filter((row) => row.score !== null).sort((a, b) => b.score - a.score);
  drawRanking(config, scored);
  const percent = (value) => (value === null ? "–" : `${Math.round(value * 100)}%`);
  replace(
    document.getElementById("ranking-list"),
    scored.slice(0, 10).map((row) =>
      element(
        "li",
        { dataset: { unit: row.unit.id } },
        element("span", { class: "rank-name" }, row.unit.name),
        element("b", { class: "rank-score", title: config.text.score }, row.score.toFixed(1)),
        element(
          "small",
          { class: "rank-rates" },
          `${config.text.responseRate} ${percent(row.response_rate)} · ${config.text.resolutionRate} ${percent(row.resolution_rate)} · ${config.text.satisfactionRate} ${percent(row.satisfaction_rate)}`,
        ),
      ),
    ),
    config.text.noScore,
  );
}

// --- hot topics --------------------------------------------------------------------------------

// The week's topics (maps.topics: jieba with our word list and synonyms) with the change against the
// week before; a topic opens the list of the cases behind it.
export async function loadHotWords(config, cases) {
  const district = document.getElementById("hotwords-district").value;
  const option = document.getElementById("hotwords-week").selectedOptions[0];
  const params = { from: option.dataset.from, to: option.dataset.to };
  if (district) params.district = district;
  const data = await getJSON(config.api.topics, params);
  document.getElementById("hotwords-meta").textContent = format(config.text.hotwordsCases, { n: data.cases });
  const most = Math.max(1, ...data.topics.map((topic) => topic.count));
  const behind = document.getElementById("hotwords-cases");
  behind.replaceChildren();
  const change = (topic) => {
    if (!topic.previous) return element("small", { class: "topic-new" }, config.text.topicNew);
    if (!topic.change) return null;
    return element("small", { class: topic.change > 0 ? "topic-up" : "topic-down" }, topic.change > 0 ? `↑${topic.change}` : `↓${-topic.change}`);
  };
  const show = (topic) => {
    behind.replaceChildren(
      element("h3", {}, format(config.text.topicCases, { word: topic.word, n: topic.count })),
      element(
        "ol",
        { dataset: { word: topic.word } },
        ...topic.cases.map((row) =>
          element(
            "li",
            { dataset: { case: row.id } },
            element("button", { type: "button", class: "case-link", onclick: () => cases.flyTo(row.id) }, row.number),
            element("span", { class: "case-desc" }, row.description),
          ),
        ),
      ),
    );
  };
  replace(
    document.getElementById("hotwords-list"),
    data.topics.map((topic) =>
      element(
        "li",
        { dataset: { word: topic.word, count: topic.count, change: topic.change } },
        element(
          "button",
          { type: "button", class: "topic", style: `font-size:${(0.8 + (0.8 * topic.count) / most).toFixed(2)}rem`, title: `${topic.count} / ${topic.previous}`, onclick: () => show(topic) },
          topic.word,
        ),
        change(topic),
      ),
    ),
    config.text.empty,
  );
}
