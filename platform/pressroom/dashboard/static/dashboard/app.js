// Small progressive enhancements; every page works without them.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.innerText.trim());
    button.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});
// Inline validation: tell the server which field was just left, so it can speak about it
// even when it is now empty (the form, not the field, carries hx-post).
document.addEventListener("htmx:configRequest", (event) => {
  const source = event.detail.triggeringEvent && event.detail.triggeringEvent.target;
  if (source && source.name) event.detail.parameters["_touched"] = source.name;
});
