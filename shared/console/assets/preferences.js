// The preference page's enhancement: it says when switches were changed
// and not saved yet, and warns before leaving them. The form works
// without it.
const form = document.querySelector("form[data-prefs]");
if (form) {
  const note = form.querySelector("[data-unsaved]");
  const boxes = Array.from(form.querySelectorAll('input[type="checkbox"]'));
  const saved = boxes.map((b) => b.checked);
  let submitting = false;
  const changed = () => boxes.some((b, i) => b.checked !== saved[i]);
  form.addEventListener("change", () => {
    note.hidden = !changed();
  });
  // Either form's submit leaves the page on purpose.
  document.addEventListener("submit", () => {
    submitting = true;
  });
  window.addEventListener("beforeunload", (e) => {
    if (!submitting && changed()) {
      e.preventDefault();
    }
  });
}
