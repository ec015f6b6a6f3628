"""The Content-Security-Policy in a real browser: a walk through the customer's and the
staff's pages (their scripts at work: search as you type, live prices, the live cart, the
SKU suggestions), the error page and Swagger UI meets no violation, and loads nothing from
another origin. A first check proves the violations would be seen."""

from __future__ import annotations

from stockline import security_headers
from tests.ordering_world import PASSWORD
from tests.test_web_quality import CUSTOMER_PAGES, STAFF_PAGES
from tests.web_support import sign_in

# every violation the page reports to itself, from the moment the document exists
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
                           + `at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`);
});
"""


class Watch:
    """A tab's CSP violations, as the console reports them ('Refused to ...') and as the page's
    securitypolicyviolation events do, and every request it makes to another origin."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.console: list[str] = []
        self.foreign: list[str] = []
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", self._console)
        page.on("request", self._request)

    def _console(self, message) -> None:
        if "Refused to" in message.text or "Content Security Policy" in message.text:
            self.console.append(f"{self.page.url}: {message.text}")

    def _request(self, request) -> None:
        if not request.url.startswith((self.base_url + "/", "data:")):
            self.foreign.append(request.url)

    def visit(self, path: str) -> None:
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 500, path
        assert response.headers["content-security-policy"] == security_headers.CONTENT_SECURITY_POLICY
        self.page.wait_for_load_state("networkidle")
        self.collect()

    def collect(self) -> None:
        self.console += [f"{self.page.url}: {text}" for text in self.page.evaluate("window.__violations")]
        self.page.evaluate("window.__violations = []")

    def problems(self) -> list[str]:
        self.collect()
        return self.console + [f"request to another origin: {url}" for url in self.foreign]


def test_the_watch_sees_a_violation(world, live_url, page):
    watch = Watch(page, live_url)
    watch.visit("/login")
    page.evaluate("""document.body.insertAdjacentHTML("beforeend",
        '<img src="data:," onerror="window.ran = 1"><p style="color: red">x</p>')""")
    page.wait_for_timeout(300)
    seen = " ".join(watch.problems())
    assert "script-src-attr" in seen and "style-src-attr" in seen
    assert page.evaluate("window.ran") is None


def test_no_page_meets_a_csp_violation(path_ids, live_url, page):
    watch = Watch(page, live_url)
    watch.visit("/login")
    watch.visit("/docs")  # Swagger UI, its assets served by the app
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator(".opblock-summary").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.locator(".execute").first.click()
    page.locator(".responses-wrapper .live-responses-table").first.wait_for()
    watch.collect()

    sign_in(page, live_url, "cust_1", PASSWORD)
    for path in CUSTOMER_PAGES:
        watch.visit(path.format(**path_ids))
    watch.visit("/catalog")
    with page.expect_response(lambda response: "/catalog?" in response.url):
        page.get_by_label("Search").fill("capsules")  # the results swap in
    page.wait_for_function("() => !document.querySelector('#results').textContent.includes('PARA-3')")
    watch.visit("/catalog/1")
    with page.expect_response(lambda response: "/api/products/" in response.url):
        page.get_by_label("Quantity").fill("12")  # prices from the API
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_load_state("networkidle")
    watch.visit("/cart")
    page.get_by_label("Quantity of Amoxicillin 500 mg capsules 3x10").fill("10")  # saved at once
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    watch.visit("/no-such-page")  # the error page
    watch.visit("/orders")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("networkidle")
    watch.collect()

    sign_in(page, live_url, "boss", PASSWORD)
    for path in [*STAFF_PAGES, "/staff/audit"]:
        watch.visit(path.format(**path_ids))
    watch.visit("/staff/inventory")
    page.get_by_label("Search").fill("A-LATER")  # the results swap in
    page.wait_for_function("() => document.querySelectorAll('#inventory-results tbody tr').length === 1")
    watch.visit("/staff/inventory/receive")
    page.get_by_label("SKU code").fill("amox")  # suggestions from the API
    page.wait_for_function("() => document.querySelectorAll('#sku-options option').length === 2")
    watch.collect()

    assert watch.problems() == []
