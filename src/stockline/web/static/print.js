// The printable document's Print button (web/templates/billing/document.html). It is hidden
// until this script shows it, so a browser without script never offers a dead button.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
});
