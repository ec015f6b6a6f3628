// Staff stock pages: search-as-you-type on the inventory list, SKU suggestions on the receive form.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A GET form marked data-live-results="#id" refreshes that block while the user types or picks.
  document.querySelectorAll("form[data-live-results]").forEach((form) => {
    const selector = form.dataset.liveResults;
    const refresh = Stockline.debounce(async () => {
      const query = new URLSearchParams(new FormData(form));
      const url = `${form.action}?${query}`;
      history.replaceState(null, "", url);
      await Stockline.swap(url, selector);
    }, 300);
    form.querySelectorAll("input[type=search]").forEach((el) => el.addEventListener("input", refresh));
    form.querySelectorAll("select").forEach((el) => el.addEventListener("change", refresh));
  });

  // An input with data-sku-lookup="#datalist" offers matching SKU codes (GET /api/admin/skus).
  document.querySelectorAll("input[data-sku-lookup]").forEach((input) => {
    const list = document.querySelector(input.dataset.skuLookup);
    let asked = "";
    const lookUp = Stockline.debounce(async () => {
      const typed = input.value.trim();
      if (typed.length < 2 || typed === asked) return;
      asked = typed;
      const query = new URLSearchParams({ search: typed, limit: "10", active: "true" });
      const answer = await Stockline.api(`/api/admin/skus?${query}`);
      if (!answer.ok || input.value.trim() !== typed) return;
      list.replaceChildren(...answer.data.items.map((sku) => {
        const option = document.createElement("option");
        option.value = sku.sku_code;
        option.label = `${sku.product_name}, ${sku.package_size} ${sku.unit_type} (${sku.available} available)`;
        return option;
      }));
    }, 250);
    input.addEventListener("input", lookUp);
  });

  // Entry confirm: choosing a line's SKU ticks that line.
  document.querySelectorAll(".entry-line select").forEach((select) => {
    select.addEventListener("change", () => {
      const tick = select.closest(".entry-line").querySelector("input[type=checkbox]");
      if (tick && select.value) tick.checked = true;
    });
  });
});
