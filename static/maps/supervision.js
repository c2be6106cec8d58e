// The supervision page: filters apply as they change; a form posts once; dismissing asks for a reason.
const filters = document.getElementById("supervision-filters");
if (filters) {
  filters.addEventListener("change", () => filters.requestSubmit());
}

for (const form of document.querySelectorAll("form[data-once]")) {
  form.addEventListener("submit", (event) => {
    const button = event.submitter;
    const note = form.querySelector("textarea[name=note]");
    // The reason is required only for 排除; the browser's own check cannot tell the buttons apart.
    if (button && button.hasAttribute("data-needs-reason") && note && !note.value.trim()) {
      event.preventDefault();
      note.setCustomValidity(note.dataset.reasonMessage || "请填写排除的理由。");
      note.reportValidity();
      note.addEventListener("input", () => note.setCustomValidity(""), { once: true });
      return;
    }
    if (form.dataset.sent === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "true";
    // A disabled button would drop its name=value from the post, so keep it and mark it busy instead.
    for (const other of form.querySelectorAll("button")) other.setAttribute("aria-busy", "true");
  });
}
