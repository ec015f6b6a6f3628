// Small helpers every page may use. Pages add their own behaviour in a script file of their
// own: the Content-Security-Policy allows no inline script, on*= attribute or javascript: URL.
"use strict";
const Stockline = {
  csrf() { return document.querySelector('meta[name="csrf-token"]').content; },

  // fetch() for the JSON API with the session cookie; unsafe methods carry the CSRF token.
  async api(path, options = {}) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (options.body !== undefined && typeof options.body !== "string") {
      headers["Content-Type"] = "application/json";
      options = { ...options, body: JSON.stringify(options.body) };
    }
    if (options.method && !["GET", "HEAD"].includes(options.method)) headers["X-CSRF-Token"] = Stockline.csrf();
    const response = await fetch(path, { credentials: "same-origin", ...options, headers });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, data };
  },

  // Fetch `url` as HTML and swap the element `selector` of this page for the fetched one.
  async swap(url, selector) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = html.querySelector(selector);
    const current = document.querySelector(selector);
    if (fresh && current) current.replaceWith(fresh);
    return fresh;
  },

  debounce(fn, ms = 250) {
    let timer;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  },

  money(value) {
    const n = Number(value);
    return Number.isFinite(n) ? n.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : "—";
  },
};

document.addEventListener("DOMContentLoaded", () => {
  // A form marked data-once disables its submit buttons after the first submit (double-submit safe).
  document.querySelectorAll("form[data-once]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      // disabled after the form data is taken, so the pressed button's value still goes
      setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
    });
  });
  // A link marked data-history-back goes back a page (its href is where it goes without script).
  document.querySelectorAll("a[data-history-back]").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
  // A form or button with data-confirm asks first.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    const target = el.tagName === "FORM" ? el : el.form;
    if (!target) return;
    target.addEventListener("submit", (event) => {
      if (!window.confirm(el.dataset.confirm)) { event.preventDefault(); event.stopImmediatePropagation(); }
    }, { capture: true });
  });
});
