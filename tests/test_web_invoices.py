"""The invoice pages over HTTP: the customer's list (status filter, overdue marked), one
invoice with its PDF and print links, the printable page; staff's list (filters, CSV link),
one invoice with payments and credit notes, the "Record a payment" form (what it writes, what
it refuses and how it says so), the order pages' links to their invoice; and the pages in a
real browser (one h1, labels, no sideways scrolling, no console or CSP error)."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import serve
from tests.invoice_support import issue_on, pay, place, shipped, taxed
from tests.ordering_world import PASSWORD, TODAY, bearer
from tests.test_web_quality import _check_pages
from tests.web_support import HTML, screenshot, sign_in, sign_in_by_form


def _text(html: str) -> str:
    """The page's text with tags and runs of white space collapsed, for phrase checks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def _row(html: str, number: str) -> str:
    """The text of the table row that links to invoice `number`."""
    return _text(re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{number}.*?</tr>", html, re.S).group(0))


async def _follow(client, response):
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"], headers=HTML)


def _day(value) -> str:
    return value.strftime("%d %b %Y")


@pytest.fixture
async def invoices(client, world, conn) -> dict[str, dict]:
    """Customer 1's invoices: `open` (2 x SKU 2: 63.00), `partly_paid` (1 x SKU 3: 2.50, 1.00
    paid) and `overdue` (issued 40 days ago, 1 x SKU 2: 31.50); customer 2's `theirs`. Each
    {invoice_id, invoice_no, order_id}."""
    taxed(conn)
    staff = await bearer(client, "staffer")
    orders = {"open": await shipped(client, "cust_1", {2: 2}, staff),
              "partly_paid": await shipped(client, "cust_1", {3: 1}, staff),
              "theirs": await shipped(client, "cust_2", {3: 1}, staff)}
    found = {name: order["invoice_id"] for name, order in orders.items()}
    late = await place(client, await bearer(client, "cust_1"), {2: 1})
    found["overdue"] = issue_on(conn, late["order_id"], TODAY - timedelta(days=40))
    pay(conn, found["partly_paid"], "1.00")
    rows = conn.execute("SELECT invoice_id, invoice_no, order_id FROM Invoices").fetchall()
    by_id = {row["invoice_id"]: row for row in rows}
    return {name: by_id[invoice_id] for name, invoice_id in found.items()}


# --- the customer's pages ------------------------------------------------------------------

async def test_the_customers_list_shows_their_invoices_with_overdue_marked(client, invoices):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    page = await client.get("/invoices", headers=HTML)
    assert page.status_code == 200 and 'aria-current="page">Invoices' in page.text
    assert invoices["theirs"]["invoice_no"] not in page.text
    open_row = _row(page.text, invoices["open"]["invoice_no"])
    assert _day(TODAY) in open_row and _day(TODAY + timedelta(days=30)) in open_row
    assert "63.00" in open_row and "Open" in open_row
    partly = _row(page.text, invoices["partly_paid"]["invoice_no"])
    assert "2.50" in partly and "1.50" in partly and "Partly paid" in partly
    late = _row(page.text, invoices["overdue"]["invoice_no"])
    assert "10 days overdue" in late and "Overdue" in late and "31.50" in late
    assert re.search(rf'<tr class="overdue">\s*<td class="code"><a href="/invoices/{invoices["overdue"]["invoice_id"]}"',
                     page.text)
    only_late = await client.get("/invoices?status=overdue", headers=HTML)
    assert invoices["overdue"]["invoice_no"] in only_late.text
    assert invoices["open"]["invoice_no"] not in only_late.text
    assert '<option value="overdue" selected>' in only_late.text
    none_paid = _text((await client.get("/invoices?status=paid", headers=HTML)).text)
    assert "No paid invoices" in none_paid
    anything = await client.get("/invoices?status=bogus&page=zz", headers=HTML)  # ignored, not an error
    assert anything.status_code == 200 and invoices["open"]["invoice_no"] in anything.text


async def test_a_customer_without_invoices_is_told_when_they_come(client, world):
    await sign_in_by_form(client, "cust_2", PASSWORD)
    page = _text((await client.get("/invoices", headers=HTML)).text)
    assert "You have no invoices yet" in page and "invoiced when it ships" in page


async def test_the_customers_invoice_page_has_lines_tax_payments_and_its_pdf_and_print(client, invoices):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    invoice = invoices["open"]
    page = await client.get(f"/invoices/{invoice['invoice_id']}", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert f"Invoice {invoice['invoice_no']}" in text and "Open" in text
    assert "B-1" in text and _day(TODAY + timedelta(days=200)) in text and "AMOX-2" in text
    assert "60.00 + 3.00 tax" in text and "63.00" in text
    assert "5.00 60.00 3.00" in text  # the tax per rate
    assert "No payment has been received yet" in text
    assert f'href="/api/my-invoices/{invoice["invoice_id"]}/pdf">Download PDF' in page.text
    assert f'href="/invoices/{invoice["invoice_id"]}/print">Print' in page.text
    assert f'href="/orders/{invoice["order_id"]}"' in page.text
    pdf = await client.get(f"/api/my-invoices/{invoice['invoice_id']}/pdf")  # the session cookie opens it
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    late = _text((await client.get(f"/invoices/{invoices['overdue']['invoice_id']}", headers=HTML)).text)
    assert "was due on" in late and "31.50 is overdue" in late


async def test_another_customers_invoice_is_not_found(client, invoices):
    await sign_in_by_form(client, "cust_2", PASSWORD)
    for path in (f"/invoices/{invoices['open']['invoice_id']}", f"/invoices/{invoices['open']['invoice_id']}/print",
                 "/invoices/999999", "/invoices/abc", "/invoices/99999999999999999999"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 404, path
        assert "Page not found" in page.text and invoices["open"]["invoice_no"] not in page.text


async def test_the_printable_page_is_the_document_without_script_or_inline_style(client, invoices, conn):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    invoice = invoices["partly_paid"]
    page = await client.get(f"/invoices/{invoice['invoice_id']}/print", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    for expected in (f"Invoice {invoice['invoice_no']}", "Stockline Distribution", "Bill to", "First Pharmacy",
                     "Customer no. 1", "PARA-3", "C-1", _day(TODAY + timedelta(days=30)), f"Order {invoice['order_id']}",
                     "Balance due 1.50", "Paid 1.00", "Status: Partly paid", "quoting " + invoice["invoice_no"]):
        assert expected in text, expected
    assert f'href="/api/my-invoices/{invoice["invoice_id"]}/pdf"' in page.text
    assert "style=" not in page.text and not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    assert '<button type="button" class="primary" data-print hidden>Print</button>' in page.text


def test_the_printable_template_prints_a_credit_note_too():
    """The returns side renders billing/document.html with a credit note's document."""
    from stockline.billing.document import build_document
    from stockline.web.render import templates

    header = {"credit_note_no": "CN-2026-000003", "issued_on": TODAY,
              "seller": {"name": "Stockline Distribution", "address": "1 Dock Road\nLeeds", "tax_id": "GB1"},
              "buyer": {"customer_id": 7, "name": "Pharmacie Éclair", "address": None, "email": None, "tax_id": None},
              "net_amount": Decimal("16.00"), "tax_amount": Decimal("3.20"), "gross_amount": Decimal("19.20")}
    lines = [{"line_no": 1, "sku_code": "AMOX-1", "description": "Amoxicillin", "batch_no": "A-SOON",
              "expiry_date": TODAY, "quantity": 2, "unit_price": Decimal("8.00"), "net_amount": Decimal("16.00"),
              "tax_rate": Decimal("20.00"), "tax_amount": Decimal("3.20")}]
    document = build_document("credit_note", header, lines, references=[["Credits invoice", "INV-2026-000007"]])
    html = templates.get_template("billing/document.html").render(
        document=document, user=None, csrf_token="x", flashes=[], back_url="/returns/12", back_label="Back")
    text = _text(html)
    for expected in ("Credit note CN-2026-000003", "Credited to", "Pharmacie Éclair", "Credits invoice INV-2026-000007",
                     "A-SOON", "Total credited 19.20", "Leeds"):
        assert expected in text, expected
    assert "Bill to" not in text and "Due" not in text and "Balance due" not in text and "Download PDF" not in text


async def test_staff_cannot_open_the_customers_pages_nor_customers_the_staff_ones(client, invoices):
    await sign_in_by_form(client, "staffer", PASSWORD)
    assert (await client.get("/invoices", headers=HTML)).status_code == 403
    client.cookies.clear()  # signed out: another user signs in
    await sign_in_by_form(client, "cust_1", PASSWORD)
    invoice_id = invoices["open"]["invoice_id"]
    for path in ("/staff/invoices", f"/staff/invoices/{invoice_id}", f"/staff/invoices/{invoice_id}/print"):
        assert (await client.get(path, headers=HTML)).status_code == 403, path


async def test_anonymous_visitors_are_sent_to_sign_in(client, invoices):
    for path in ("/invoices", "/staff/invoices"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


# --- staff's pages -------------------------------------------------------------------------

async def test_staff_list_filters_and_links_a_csv_of_every_match(client, invoices):
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get("/staff/invoices", headers=HTML)
    assert page.status_code == 200
    for invoice in invoices.values():
        assert invoice["invoice_no"] in page.text
    theirs = _row(page.text, invoices["theirs"]["invoice_no"])
    assert "Second Pharmacy" in theirs and "#2" in theirs
    assert 'href="/api/admin/invoices?format=csv"' in page.text
    late = await client.get("/staff/invoices?status=overdue&customer_id=1", headers=HTML)
    assert invoices["overdue"]["invoice_no"] in late.text and invoices["open"]["invoice_no"] not in late.text
    assert "10 days overdue" in _row(late.text, invoices["overdue"]["invoice_no"])
    csv_url = re.search(r'href="(/api/admin/invoices\?[^"]+)" download', late.text).group(1).replace("&amp;", "&")
    assert csv_url == "/api/admin/invoices?status=overdue&customer_id=1&format=csv"
    exported = await client.get(csv_url)
    assert exported.status_code == 200 and exported.text.count("\n") == 2  # the header and the one invoice
    found = await client.get(f"/staff/invoices?search={invoices['theirs']['invoice_no'][-6:]}", headers=HTML)
    assert invoices["theirs"]["invoice_no"] in found.text and invoices["open"]["invoice_no"] not in found.text
    nothing = _text((await client.get("/staff/invoices?status=paid", headers=HTML)).text)
    assert "No invoices match these filters" in nothing


async def test_staff_list_explains_bad_filters_instead_of_failing(client, invoices):
    await sign_in_by_form(client, "staffer", PASSWORD)
    for query, said in (("customer_id=abc", "Customer number must be a whole number"),
                        ("date_from=2026-13-01", "From must be a date"),
                        ("status=bogus", "Status must be one of the choices offered"),
                        (f"date_from={TODAY}&date_to={TODAY - timedelta(days=1)}", "date_from must not be after")):
        page = await client.get(f"/staff/invoices?{query}", headers=HTML)
        assert page.status_code == 422, query
        assert said in _text(page.text), query
        assert "Download CSV" not in page.text


async def test_staff_invoice_page_shows_payments_credit_notes_and_the_payment_form(client, invoices, conn):
    invoice = invoices["partly_paid"]
    await sign_in_by_form(client, "staffer", PASSWORD)
    page = await client.get(f"/staff/invoices/{invoice['invoice_id']}", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert f"Invoice {invoice['invoice_no']}" in text and "Partly paid" in text and "First Pharmacy" in text
    assert "SQL-1.00" in text and "Paid in all 1.00" in text  # the payment, its reference
    assert "No credit note has been issued" in text and "Record a payment" in text
    assert f'href="/staff/orders/{invoice["order_id"]}"' in page.text
    assert f'href="/api/admin/invoices/{invoice["invoice_id"]}/pdf"' in page.text
    assert f'value="{TODAY.isoformat()}"' in page.text  # the payment day starts as today
    printed = await client.get(f"/staff/invoices/{invoice['invoice_id']}/print", headers=HTML)
    assert printed.status_code == 200 and f'href="/staff/invoices/{invoice["invoice_id"]}"' in printed.text
    assert (await client.get("/staff/invoices/999999", headers=HTML)).status_code == 404


async def test_recording_a_payment_through_the_form(client, invoices, conn):
    invoice_id = invoices["open"]["invoice_id"]  # 63.00
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    url = f"/staff/invoices/{invoice_id}/payments"
    sent = await client.post(url, headers=HTML, data={"csrf_token": csrf, "amount": "50.00",
                                                      "paid_on": TODAY.isoformat(), "reference": "BANK-42"})
    after = _text((await _follow(client, sent)).text)
    assert f"Payment of 50.00 (BANK-42) recorded on {invoices['open']['invoice_no']}. 13.00 is still to pay." in after
    assert "BANK-42" in after and "staffer" in after
    rest = await client.post(url, headers=HTML, data={"csrf_token": csrf, "amount": "20",
                                                      "paid_on": TODAY.isoformat(), "reference": "BANK-43"})
    over = _text((await _follow(client, rest)).text)
    assert "It is overpaid by 7.00: that is the customer's credit." in over
    assert "7.00 overpaid (credit)" in over and "Paid" in over
    stored = conn.execute("SELECT amount_paid FROM Invoices WHERE invoice_id = %s", (invoice_id,)).fetchone()
    assert stored["amount_paid"] == Decimal("70.00")


@pytest.mark.parametrize(("form", "status", "field", "said"), [
    ({"amount": "0", "reference": "R"}, 422, "amount", "Amount must be more than 0"),
    ({"amount": "12.345", "reference": "R"}, 422, "amount", "Amount may have at most 2 decimal places"),
    ({"amount": "1e3", "reference": "R"}, 422, "amount", "Amount must be an amount like 12.50"),
    ({"amount": "", "reference": "R"}, 422, "amount", "Amount is required"),
    ({"amount": "5", "reference": ""}, 422, "reference", "Bank reference is required"),
    ({"amount": "5", "reference": "R", "paid_on": "tomorrow"}, 422, "paid_on", "Payment date must be a date"),
    ({"amount": "5", "reference": "R", "paid_on": "FUTURE"}, 422, "paid_on", "is in the future"),
    ({"amount": "5", "reference": "SQL-1.00"}, 409, "reference", "already has a payment with reference"),
])
async def test_the_payment_form_says_what_to_correct_and_records_nothing(client, invoices, conn, form, status,
                                                                         field, said):
    invoice_id = invoices["partly_paid"]["invoice_id"]
    csrf = await sign_in_by_form(client, "staffer", PASSWORD)
    paid_on = form.get("paid_on", TODAY.isoformat())
    data = {"csrf_token": csrf, **form, "paid_on": (TODAY + timedelta(days=1)).isoformat()
            if paid_on == "FUTURE" else paid_on}
    page = await client.post(f"/staff/invoices/{invoice_id}/payments", headers=HTML, data=data)
    assert page.status_code == status
    assert said in _text(page.text)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page.text), field
    assert f'value="{form["reference"]}"' in page.text  # what was typed is kept
    count = conn.execute("SELECT count(*) AS n FROM Payments WHERE invoice_id = %s", (invoice_id,)).fetchone()["n"]
    assert count == 1  # only the one from before


async def test_the_payment_form_needs_staff_and_its_csrf_token(client, invoices, conn):
    invoice_id = invoices["open"]["invoice_id"]
    body = {"amount": "5.00", "paid_on": TODAY.isoformat(), "reference": "R"}
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    refused = await client.post(f"/staff/invoices/{invoice_id}/payments", headers=HTML, data={"csrf_token": csrf, **body})
    assert refused.status_code == 403
    client.cookies.clear()
    await sign_in_by_form(client, "staffer", PASSWORD)
    forged = await client.post(f"/staff/invoices/{invoice_id}/payments", headers=HTML, data=body)
    assert forged.status_code == 403 and "did not come from Stockline" in forged.text
    assert conn.execute("SELECT count(*) AS n FROM Payments WHERE invoice_id = %s", (invoice_id,)).fetchone()["n"] == 0


async def test_an_orders_pages_link_to_its_invoice(client, invoices):
    invoice = invoices["open"]
    await sign_in_by_form(client, "cust_1", PASSWORD)
    mine = await client.get(f"/orders/{invoice['order_id']}", headers=HTML)
    assert f'href="/invoices/{invoice["invoice_id"]}"' in mine.text
    client.cookies.clear()
    await sign_in_by_form(client, "staffer", PASSWORD)
    theirs = await client.get(f"/staff/orders/{invoice['order_id']}", headers=HTML)
    assert f'href="/staff/invoices/{invoice["invoice_id"]}"' in theirs.text


def _queries(response) -> int:
    assert response.status_code == 200, response.text
    return int(re.search(r'desc="(\d+) queries"', response.headers["server-timing"]).group(1))


async def test_invoice_pages_run_a_fixed_number_of_queries(world, settings, conn):
    """However many invoices, lines and payments there are, a page costs the same queries."""
    taxed(conn)
    async with serve(dataclasses.replace(settings, log_timing=True)) as client:
        staff = await bearer(client, "staffer")
        first = (await shipped(client, "cust_1", {3: 1}, staff))["invoice_id"]
        pages = {"/invoices": "cust_1", "/invoices/{i}": "cust_1", "/invoices/{i}/print": "cust_1",
                 "/staff/invoices": "staffer", "/staff/invoices/{i}": "staffer", "/staff/invoices/{i}/print": "staffer"}

        async def count(invoice_id: int) -> dict[str, int]:
            counts = {}
            for username in ("cust_1", "staffer"):
                client.cookies.clear()
                await sign_in_by_form(client, username, PASSWORD)
                for page, who in pages.items():
                    if who == username:
                        counts[page] = _queries(await client.get(page.format(i=invoice_id), headers=HTML))
            return counts

        few = await count(first)
        for _ in range(8):
            await shipped(client, "cust_1", {2: 1}, staff)
        many_lines = (await shipped(client, "cust_1", {1: 25, 2: 5, 3: 3}, staff))["invoice_id"]
        for n in range(5):
            pay(conn, many_lines, f"0.0{n + 1}")
        assert await count(many_lines) == few
    assert max(few.values()) <= 5, few


# --- in a browser ----------------------------------------------------------------------------

@pytest.fixture
def browser_invoices(world, conn, live_url) -> dict[str, int]:
    """An open and an overdue invoice of customer 1, made over real HTTP."""
    import httpx

    taxed(conn)

    def headers(username: str) -> dict[str, str]:
        token = httpx.post(f"{live_url}/api/login", json={"username": username, "password": PASSWORD}).json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    cust1, staff = headers("cust_1"), headers("staffer")
    orders = [httpx.post(f"{live_url}/api/orders", json={"sku_id": sku_id, "quantity": 2}, headers=cust1).json()
              for sku_id in (1, 2)]
    for status in ("processed", "shipped"):
        httpx.post(f"{live_url}/api/admin/orders/{orders[0]['order_id']}/status", json={"status": status},
                   headers=staff)
    shipped_one = conn.execute("SELECT invoice_id FROM Invoices").fetchone()["invoice_id"]
    return {"open": shipped_one, "overdue": issue_on(conn, orders[1]["order_id"], TODAY - timedelta(days=40))}


def test_the_customers_invoice_pages_in_a_browser(browser_invoices, live_url, page):
    sign_in(page, live_url, "cust_1", PASSWORD)
    ids = {"i": browser_invoices["open"], "late": browser_invoices["overdue"]}
    paths = ["/invoices", "/invoices/{i}", "/invoices/{late}", "/invoices/{i}/print"]
    assert _check_pages(page, live_url, paths, ids) == []
    page.goto(f"{live_url}/invoices")
    screenshot(page, "customer-invoices")
    page.goto(f"{live_url}/invoices/{ids['late']}")
    screenshot(page, "customer-invoice-overdue")
    page.goto(f"{live_url}/invoices/{ids['i']}/print")
    assert page.get_by_role("button", name="Print").is_visible()  # print.js showed it
    screenshot(page, "invoice-print")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible() and not page.get_by_role("button", name="Print").is_visible()
    assert page.get_by_role("heading", level=1).is_visible()
    screenshot(page, "invoice-print-paper")


def test_staff_record_a_payment_in_a_browser(browser_invoices, live_url, page, conn):
    sign_in(page, live_url, "staffer", PASSWORD)
    ids = {"i": browser_invoices["open"]}
    assert _check_pages(page, live_url, ["/staff/invoices", "/staff/invoices/{i}", "/staff/invoices/{i}/print"],
                        ids) == []
    page.goto(f"{live_url}/staff/invoices/{ids['i']}")
    page.get_by_label("Amount").fill("10.00")
    page.get_by_label("Bank reference").fill("BROWSER-1")
    page.get_by_role("button", name="Record payment").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Payment of 10.00 (BROWSER-1) recorded" in page.locator(".flash-notice").inner_text()
    screenshot(page, "staff-invoice")
    page.goto(f"{live_url}/staff/invoices")
    screenshot(page, "staff-invoices")
    paid = conn.execute("SELECT amount, reference FROM Payments").fetchall()
    assert [(row["amount"], row["reference"]) for row in paid] == [(Decimal("10.00"), "BROWSER-1")]
