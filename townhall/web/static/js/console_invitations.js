// The console's invitations page: copy a new invitation link with one button (or select it
// for the keyboard shortcut where the clipboard is not available).

import { t } from "./labels.js";

for (const button of document.querySelectorAll("[data-copy]")) {
  const input = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".copy-status");
  input.addEventListener("focus", () => input.select());
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = t("Copied.");
    } catch {
      input.focus();
      input.select();
      status.textContent = t("Selected: press Ctrl+C (⌘C on a Mac) to copy.");
    }
  });
}
