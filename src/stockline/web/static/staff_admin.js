// Back-office admin pages: SKU and customer look-ups for number fields, search-as-you-type on
// the customer list, and the user form's customer field shown only for customer users.
"use strict";
(() => {
  const SOURCES = {
    sku: {
      list: (q) => `/api/admin/skus?limit=10&search=${encodeURIComponent(q)}`,
      one: (id) => `/api/admin/skus/${id}`,
      id: (item) => item.sku_id,
      label: (item) => `${item.sku_code} · ${item.product_name} (${item.package_size} ${item.unit_type})`,
    },
    customer: {
      list: (q) => `/api/admin/customers?limit=10&search=${encodeURIComponent(q)}`,
      one: (id) => `/api/admin/customers/${id}`,
      id: (item) => item.customer_id,
      label: (item) => item.name,
    },
  };

  function foundNote(input) {
    let note = document.getElementById(`${input.id}-found`);
    if (!note) {
      note = document.createElement("span");
      note.id = `${input.id}-found`;
      note.className = "hint";
      note.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", note);
      input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") || ""} ${note.id}`.trim());
    }
    return note;
  }

  function lookUp(input) {
    const source = SOURCES[input.dataset.lookup];
    const options = input.list;
    const note = foundNote(input);
    const run = Stockline.debounce(async () => {
      const text = input.value.trim();
      if (!text) { note.textContent = ""; return; }
      if (/^\d+$/.test(text)) {
        const answer = await Stockline.api(source.one(text));
        note.textContent = answer.ok ? source.label(answer.data) : `No ${input.dataset.lookup} number ${text}`;
        return;
      }
      if (text.length < 2) return;
      const answer = await Stockline.api(source.list(text));
      if (!answer.ok || !options) return;
      options.replaceChildren(...answer.data.items.map((item) => {
        const option = document.createElement("option");
        option.value = source.id(item);
        option.label = source.label(item);
        option.textContent = source.label(item);
        return option;
      }));
      note.textContent = answer.data.items.length ? "Pick one from the list" : "Nothing found";
    }, 250);
    input.addEventListener("input", run);
    if (input.value.trim()) run();
  }

  function liveSearch(form) {
    const target = form.dataset.liveSearch;
    const field = form.querySelector("input[type=search]");
    field.addEventListener("input", Stockline.debounce(async () => {
      const url = `${form.action}?${new URLSearchParams(new FormData(form))}`;
      await Stockline.swap(url, target);
      history.replaceState(null, "", url);
    }, 300));
  }

  function customerOnlyForCustomers(select) {
    const field = document.querySelector("[data-customer-field]");
    const input = field && field.querySelector("input");
    if (!input) return;
    const sync = () => {
      const needed = select.value === "customer";
      field.hidden = !needed;
      input.disabled = !needed;  // a staff or admin user belongs to no customer
    };
    select.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[data-lookup]").forEach(lookUp);
    document.querySelectorAll("form[data-live-search]").forEach(liveSearch);
    document.querySelectorAll("select[data-role-select]").forEach(customerOnlyForCustomers);
  });
})();
