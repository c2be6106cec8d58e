// Site-wide behaviour of templates/base.html: the language menu applies on change.
document.querySelectorAll(".language-switch select").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
