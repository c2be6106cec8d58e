// The header's role menu (dispatch/_user_menu.html): a new role applies on change.
document.querySelectorAll(".role-switch select").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
// Logging out forgets the field page's cached shell: it shows the person who was logged in.
document.querySelectorAll("form.logout").forEach((form) => {
  form.addEventListener("submit", () => {
    if (window.caches) {
      caches.keys().then((keys) => keys.filter((k) => k.startsWith("shehui-field")).forEach((k) => caches.delete(k)));
    }
  });
});
