"""Every main page, in a real browser, as its users see it: it loads without a console error,
has one h1, labels every form control, gives every piece of text WCAG AA contrast against
what is behind it, fits a laptop and a tablet without sideways scrolling, and can be worked
from the keyboard (skip link, focusable navigation)."""

from __future__ import annotations

from tests.ordering_world import PASSWORD
from tests.web_support import sign_in

CUSTOMER_PAGES = ["/catalog", "/catalog/1", "/cart", "/orders", "/orders/{order_id}", "/quick-order",
                  "/account/password", "/account", "/invoices", "/returns"]
STAFF_PAGES = ["/staff", "/staff/inventory", "/staff/inventory/receive", "/staff/batches/{batch_id}",
               "/staff/inventory/entry", "/staff/products", "/staff/products/1", "/staff/products/1/skus/new",
               "/staff/reports", "/staff/orders", "/staff/orders/{order_id}", "/staff/pricing",
               "/staff/customers", "/staff/customers/1", "/staff/users", "/staff/finance", "/staff/invoices",
               "/staff/returns", "/staff/tax", "/staff/tax/zero"]
WIDTHS = (1280, 800)

# Text below WCAG AA contrast: for each visible element with text of its own (outside SVG,
# not disabled), its colour against the first opaque background behind it; 4.5:1, or 3:1
# for large text (24px, or 18.66px bold).
LOW_CONTRAST = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                                       .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') || el.disabled || !el.getClientRects().length) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || style.visibility === 'hidden' || el.closest('.visually-hidden')) continue;
    const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(behind(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) found.push(`${ratio.toFixed(2)}:1 "${el.textContent.trim().slice(0, 40)}"`);
  }
  return found;
}"""

# Controls without a label: a form control that is not hidden, not a button, and has neither a
# <label for>, a wrapping <label>, aria-label nor aria-labelledby.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => !['hidden', 'submit', 'button'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""


def _check_pages(page, base_url: str, paths: list[str], path_ids: dict) -> list[str]:
    problems: list[str] = []
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for template in paths:
            path = template.format(**path_ids)
            errors.clear()
            response = page.goto(base_url + path)
            where = f"{path} at {width}px"
            if response is None or response.status != 200:
                problems.append(f"{where}: HTTP {response.status if response else '?'}")
                continue
            page.wait_for_load_state("networkidle")
            if page.locator("h1").count() != 1:
                problems.append(f"{where}: {page.locator('h1').count()} h1 elements")
            problems += [f"{where}: unlabelled control {html}" for html in page.evaluate(UNLABELLED)]
            problems += [f"{where}: low contrast {text}" for text in page.evaluate(LOW_CONTRAST)]
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                problems.append(f"{where}: {overflow}px of sideways scrolling")
            problems += [f"{where}: console error {text}" for text in errors]
    return problems


def _check_keyboard(page, base_url: str, path: str) -> None:
    page.goto(base_url + path)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(base_url + path)
    reached = set()
    for _ in range(page.locator("header a, header button").count() + 2):  # the skip link, then the top bar
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.getAttribute('href')"))
    assert {"/", "/account/password"} <= reached


def test_customer_pages_are_accessible_and_fit(path_ids, live_url, page):
    sign_in(page, live_url, "cust_1", PASSWORD)
    assert _check_pages(page, live_url, CUSTOMER_PAGES, path_ids) == []
    _check_keyboard(page, live_url, "/catalog")


def test_staff_pages_are_accessible_and_fit(path_ids, live_url, page):
    sign_in(page, live_url, "boss", PASSWORD)
    assert _check_pages(page, live_url, STAFF_PAGES, path_ids) == []
    _check_keyboard(page, live_url, "/staff")
