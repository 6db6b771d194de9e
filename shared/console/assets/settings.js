// Herald console, Settings: the Copy button of a key shown once. Without
// this script the button stays hidden and the field is selectable.
for (const button of document.querySelectorAll("button.copy-button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) continue;
  const status = button.parentElement.querySelector(".copy-status");
  const say = (text) => {
    if (status) status.textContent = text;
  };
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(field.value);
      say("Copied to the clipboard.");
    } catch {
      // Some browsers refuse the clipboard (no permission, no https):
      // the key is selected instead, for the keyboard's copy.
      field.focus();
      field.select();
      say("Selected: press Ctrl+C (⌘C on a Mac) to copy it.");
    }
  });
}
