// The customer's pages: search as you type in the catalog, live prices for a quantity
// (catalog rows and the product page, from GET /api/products/{sku_id}?quantity=N) and live
// cart totals (POST /api/cart). Every form still works without this file.
"use strict";

(() => {
  const percent = (text) => `${String(text).includes(".") ? String(text).replace(/\.?0+$/, "") : text}%`;
  const tierHint = (tier) => (tier ? `Buy ${Number(tier.min_quantity).toLocaleString("en-GB")} or more: `
    + `${Stockline.money(tier.effective_price)} each (${percent(tier.discount_percentage)} off)` : "");
  const field = (scope, name) => scope.querySelector(`[data-field="${name}"]`);
  const setText = (scope, name, text) => { const el = field(scope, name); if (el) el.textContent = text; };

  // Show an item's prices (catalog item or cart line JSON) in the element `scope`.
  function showPrice(scope, item, quantity) {
    setText(scope, "effective_price", Stockline.money(item.effective_price));
    setText(scope, "line_total", Stockline.money(item.line_total));
    setText(scope, "next_tier", tierHint(item.next_tier));
    if (quantity !== undefined) setText(scope, "quantity", Number(quantity).toLocaleString("en-GB"));
    const discounted = Number(item.discount_percentage) > 0;
    const was = field(scope, "base_price");
    if (was) was.hidden = !discounted;
    const badge = field(scope, "discount");
    if (badge) { badge.hidden = !discounted; badge.textContent = `−${percent(item.discount_percentage)}`; }
    const cell = field(scope, "discount_percentage");
    if (cell) cell.textContent = percent(item.discount_percentage);
  }

  // The product page's price ladder: mark the step `quantity` falls on.
  function markLadder(quantity) {
    document.querySelectorAll("tr[data-min]").forEach((row) => {
      const next = row.nextElementSibling;
      const current = quantity >= Number(row.dataset.min) && (!next || quantity < Number(next.dataset.min));
      row.classList.toggle("current", current);
      if (current) row.setAttribute("aria-current", "true"); else row.removeAttribute("aria-current");
    });
  }

  const wholeNumber = (value) => (/^\d+$/.test(value.trim()) ? Number(value) : null);

  // Catalog rows and the product page: a quantity box re-prices its own row or page.
  function watchRepricing() {
    document.addEventListener("input", Stockline.debounce(async (event) => {
      const input = event.target.closest("[data-reprice]");
      if (!input) return;
      const quantity = wholeNumber(input.value);
      if (!quantity || quantity > 1000000) return;
      const scope = input.closest("[data-sku]");
      const { ok, data } = await Stockline.api(`/api/products/${input.dataset.reprice}?quantity=${quantity}`);
      if (ok && wholeNumber(input.value) === quantity) {
        showPrice(scope, data, quantity);
        if (scope.classList.contains("buy")) markLadder(quantity);
      }
    }, 200));
  }

  // Catalog: re-render the results block as the filters change.
  function watchCatalogFilters() {
    const form = document.getElementById("catalog-filters");
    if (!form) return;
    let queue = Promise.resolve();
    const refresh = () => {
      const params = new URLSearchParams();
      for (const [name, value] of new FormData(form)) if (value !== "") params.set(name, value);
      const url = `${form.action}?${params}`;
      history.replaceState(null, "", url);
      queue = queue.then(() => Stockline.swap(url, "#results")).then((fresh) => {
        const status = document.getElementById("results-status");
        if (fresh && status) status.textContent = fresh.dataset.summary;
      }).catch(() => {});
    };
    form.querySelector('input[type="search"]').addEventListener("input", Stockline.debounce(refresh, 300));
    form.querySelectorAll("select, input[type=checkbox]").forEach((el) => el.addEventListener("change", refresh));
    form.querySelector("#quantity").addEventListener("input", Stockline.debounce(() => {
      const quantity = wholeNumber(form.querySelector("#quantity").value);
      if (quantity && quantity <= 1000000) refresh();
    }, 300));
  }

  // Cart: a changed quantity is saved at once and the totals follow.
  function watchCart() {
    const table = document.getElementById("cart-table");
    if (!table) return;
    table.addEventListener("input", Stockline.debounce(async (event) => {
      const input = event.target.closest("[data-live-cart]");
      if (!input) return;
      const row = input.closest("tr");
      const quantity = wholeNumber(input.value);
      if (quantity === null || quantity > 1000000) {
        setText(row, "live-status", "Enter a whole number of units (0 removes the line).");
        return;
      }
      if (quantity === 0) return; // removing stays a deliberate click on Update or Remove
      const skuId = Number(input.dataset.liveCart);
      const { ok, status, data } = await Stockline.api("/api/cart", { method: "POST", body: { sku_id: skuId, quantity } });
      if (!ok) {
        const d = data && data.error && data.error.details && (data.error.details.lines || [])[0];
        const name = row.querySelector("a").textContent;
        setText(row, "live-status", status === 409 && d
          ? `Not enough stock of ${name}: you asked for ${d.requested}, only ${d.available} available.`
          : (data && data.error ? data.error.message : "Could not save; press Update."));
        row.classList.add("problem");
        return;
      }
      row.classList.remove("problem");
      setText(row, "live-status", "Saved.");
      const line = data.items.find((item) => item.sku_id === skuId);
      if (line) {
        showPrice(row, line);
        setText(row, "problem", line.problem ? `Cannot be ordered: ${line.problem}` : "");
      }
      document.querySelectorAll('[data-field="total_amount"]').forEach((el) => { el.textContent = Stockline.money(data.total_amount); });
      setText(document, "total_units", Number(data.total_units).toLocaleString("en-GB"));
    }, 400));
  }

  document.addEventListener("DOMContentLoaded", () => {
    watchRepricing();
    watchCatalogFilters();
    watchCart();
  });
})();
