"""Invoices through the real app: issued when staff ship an order (numbered gaplessly per
year, the order's totals and lines with batch, expiry, rate and tax, due after the customer's
payment terms), read by the customer (their own only) and by staff (filters, CSV), as PDF,
and immutable in the database. tests/invoice_support.py makes the orders and the tax.

World (tests/ordering_world.py, taxed): customer 1 buys SKU 1 at 8.00 (20 % tax; A-SOON 5
units expire first, then A-LATER) and SKU 2 at 30.00 (5 %, batch B-1)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from pypdf import PdfReader

from stockline.billing.document import build_document
from stockline.billing.pdf import latin1, render_pdf
from stockline.config import Settings
from tests.conftest import TEST_SECRET
from tests.invoice_support import issue_on, pay, place, shipped, taxed
from tests.ordering_world import TODAY, bearer

YEAR = TODAY.year


@pytest.fixture
def settings(clean_db: str) -> Settings:
    """The seller printed on invoices, with an address of two lines and a tax number."""
    return Settings(env="test", database_url=clean_db, secret_key=TEST_SECRET, db_pool_min=1, db_pool_max=5,
                    seller_name="Northwind Pharma Wholesale", seller_address="1 Dock Road\nLeeds LS1 1AA",
                    seller_tax_id="GB123456789")


@pytest.fixture
async def staff(client, world):
    return await bearer(client, "staffer")


@pytest.fixture
async def cust1(client, world, conn):
    taxed(conn)
    conn.execute("UPDATE Customers SET tax_id = 'FR-99 001', address = '2 Rue Haute\nLyon', "
                 "email = 'orders@first.example' WHERE customer_id = 1")
    return await bearer(client, "cust_1")


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- issuing -------------------------------------------------------------------------------

async def test_shipping_issues_an_invoice_with_the_orders_totals_lines_and_tax_per_rate(client, conn, staff, cust1):
    order = await place(client, cust1, {1: 7, 2: 2})
    assert order["invoice_id"] is None  # not before it ships
    processed = await client.post(f"/api/admin/orders/{order['order_id']}/status", json={"status": "processed"},
                                  headers=staff)
    assert processed.json()["invoice_id"] is None
    shipped_order = await client.post(f"/api/admin/orders/{order['order_id']}/status", json={"status": "shipped"},
                                      headers=staff)
    invoice_id = shipped_order.json()["invoice_id"]
    assert invoice_id is not None

    invoice = (await client.get(f"/api/my-invoices/{invoice_id}", headers=cust1)).json()
    assert invoice["invoice_no"] == f"INV-{YEAR}-000001"
    assert (invoice["order_id"], invoice["customer_id"], invoice["customer_name"]) == \
        (order["order_id"], 1, "First Pharmacy")
    # the order's own figures: 5 x 8.00 and 2 x 8.00 at 20 %, 2 x 30.00 at 5 %
    assert (order["net_amount"], order["tax_amount"], order["gross_amount"]) == ("116.00", "14.20", "130.20")
    assert {key: invoice[key] for key in ("net_amount", "tax_amount", "gross_amount", "amount_paid",
                                          "amount_credited", "balance", "overpaid", "status")} == {
        "net_amount": "116.00", "tax_amount": "14.20", "gross_amount": "130.20", "amount_paid": "0.00",
        "amount_credited": "0.00", "balance": "130.20", "overpaid": "0.00", "status": "open"}
    assert invoice["issued_on"] == TODAY.isoformat()
    assert invoice["due_on"] == (TODAY + timedelta(days=30)).isoformat()  # the default terms
    a_soon, a_later, b1 = (TODAY + timedelta(days=days) for days in (10, 100, 200))
    assert [(line["line_no"], line["sku_code"], line["batch_no"], line["expiry_date"], line["quantity"],
             line["unit_price"], line["net_amount"], line["tax_rate"], line["tax_amount"])
            for line in invoice["lines"]] == [
        (1, "AMOX-1", "A-SOON", a_soon.isoformat(), 5, "8.00", "40.00", "20.00", "8.00"),
        (2, "AMOX-1", "A-LATER", a_later.isoformat(), 2, "8.00", "16.00", "20.00", "3.20"),
        (3, "AMOX-2", "B-1", b1.isoformat(), 2, "30.00", "60.00", "5.00", "3.00")]
    assert invoice["lines"][0]["description"] == "Amoxicillin 500 mg capsules 3x10 capsule"
    assert invoice["tax_summary"] == [
        {"tax_rate": "5.00", "net_amount": "60.00", "tax_amount": "3.00"},
        {"tax_rate": "20.00", "net_amount": "56.00", "tax_amount": "11.20"}]
    assert invoice["seller"] == {"name": "Northwind Pharma Wholesale", "address": "1 Dock Road\nLeeds LS1 1AA",
                                 "tax_id": "GB123456789", "customer_id": None, "email": None}
    assert invoice["buyer"] == {"customer_id": 1, "name": "First Pharmacy", "address": "2 Rue Haute\nLyon",
                                "email": "orders@first.example", "tax_id": "FR-99 001"}
    assert invoice["payments"] == [] and invoice["credit_notes"] == []
    # the order links to it, for the customer too
    mine = (await client.get(f"/api/my-orders/{order['order_id']}", headers=cust1)).json()
    assert mine["invoice_id"] == invoice_id


async def test_invoices_are_numbered_in_order_per_year_and_due_after_each_customers_terms(
        client, conn, staff, cust1):
    conn.execute("UPDATE Customers SET payment_terms_days = 14 WHERE customer_id = 2")
    first = await shipped(client, "cust_1", {3: 1}, staff)
    second = await shipped(client, "cust_2", {2: 1}, staff)
    third = await shipped(client, "cust_1", {2: 1}, staff)
    numbers = conn.execute("SELECT invoice_id, invoice_no, due_on - issued_on AS terms FROM Invoices "
                           "ORDER BY invoice_id").fetchall()
    assert [(row["invoice_id"], row["invoice_no"], row["terms"]) for row in numbers] == [
        (first["invoice_id"], f"INV-{YEAR}-000001", 30), (second["invoice_id"], f"INV-{YEAR}-000002", 14),
        (third["invoice_id"], f"INV-{YEAR}-000003", 30)]
    cust2 = await bearer(client, "cust_2")
    other = (await client.get(f"/api/my-invoices/{second['invoice_id']}", headers=cust2)).json()
    assert other["due_on"] == (TODAY + timedelta(days=14)).isoformat()


async def test_a_changed_customer_does_not_change_an_issued_invoice(client, conn, staff, cust1):
    order = await shipped(client, "cust_1", {3: 2}, staff)
    conn.execute("UPDATE Customers SET name = 'Renamed Pharmacy', tax_id = NULL WHERE customer_id = 1")
    invoice = (await client.get(f"/api/my-invoices/{order['invoice_id']}", headers=cust1)).json()
    assert invoice["buyer"]["name"] == "First Pharmacy" and invoice["buyer"]["tax_id"] == "FR-99 001"
    assert invoice["customer_name"] == "First Pharmacy"


# --- who sees what -------------------------------------------------------------------------

async def test_a_customer_sees_only_their_own_customers_invoices(client, conn, staff, cust1):
    mine = await shipped(client, "cust_1", {3: 1}, staff)
    theirs = await shipped(client, "cust_2", {2: 1}, staff)
    cust1b, cust2 = await bearer(client, "cust_1b"), await bearer(client, "cust_2")
    # a colleague at the same customer sees it; another customer gets 404 for it, JSON and PDF
    assert (await client.get(f"/api/my-invoices/{mine['invoice_id']}", headers=cust1b)).status_code == 200
    for path in (f"/api/my-invoices/{mine['invoice_id']}", f"/api/my-invoices/{mine['invoice_id']}/pdf"):
        refused = await client.get(path, headers=cust2)
        assert refused.status_code == 404, path
        assert refused.json()["error"]["code"] == "not_found"
    listed = (await client.get("/api/my-invoices", headers=cust2)).json()
    assert [item["invoice_id"] for item in listed["items"]] == [theirs["invoice_id"]]
    assert (await client.get("/api/my-invoices/999999", headers=cust1)).status_code == 404


async def test_each_invoice_route_needs_its_role(client, conn, staff, cust1):
    order = await shipped(client, "cust_1", {3: 1}, staff)
    invoice_id = order["invoice_id"]
    customer_paths = ["/api/my-invoices", f"/api/my-invoices/{invoice_id}", f"/api/my-invoices/{invoice_id}/pdf"]
    staff_paths = ["/api/admin/invoices", f"/api/admin/invoices/{invoice_id}", f"/api/admin/invoices/{invoice_id}/pdf"]
    for path in customer_paths + staff_paths:
        assert (await client.get(path)).status_code == 401, path
    for path in customer_paths:
        assert (await client.get(path, headers=staff)).status_code == 403, path
    for path in staff_paths:
        assert (await client.get(path, headers=cust1)).status_code == 403, path
    paid = await client.post(f"/api/admin/invoices/{invoice_id}/payments", headers=cust1,
                             json={"amount": "1.00", "paid_on": TODAY.isoformat(), "reference": "X"})
    assert paid.status_code == 403
    for path in ("/api/my-invoices/0", "/api/my-invoices/abc", "/api/admin/invoices/99999999999999999999"):
        headers = staff if "admin" in path else cust1
        assert (await client.get(path, headers=headers)).status_code == 422, path


# --- lists and filters ---------------------------------------------------------------------

async def _four_invoices(client, conn, staff) -> dict[str, int]:
    """Customer 1's invoices: open, partly paid, paid, and one issued 40 days ago (due 10 days
    ago: overdue). By status, their ids."""
    ids = {}
    for status in ("open", "partly_paid", "paid"):
        ids[status] = (await shipped(client, "cust_1", {3: 1}, staff))["invoice_id"]  # 2.50 each
    pay(conn, ids["partly_paid"], "1.00")
    pay(conn, ids["paid"], "2.50")
    old = await place(client, await bearer(client, "cust_1"), {2: 1})
    ids["overdue"] = issue_on(conn, old["order_id"], TODAY - timedelta(days=40))
    return ids


async def test_the_customers_list_filters_by_status_and_pages(client, conn, staff, cust1):
    ids = await _four_invoices(client, conn, staff)
    everything = (await client.get("/api/my-invoices", headers=cust1)).json()
    assert everything["total_items"] == 4
    assert {item["invoice_id"]: item["status"] for item in everything["items"]} == {
        invoice_id: status for status, invoice_id in ids.items()}
    assert [item["issued_on"] for item in everything["items"]] == sorted(
        (item["issued_on"] for item in everything["items"]), reverse=True)  # newest first
    overdue = next(item for item in everything["items"] if item["status"] == "overdue")
    assert (overdue["balance"], overdue["due_on"]) == ("31.50", (TODAY - timedelta(days=10)).isoformat())
    for status, invoice_id in ids.items():
        page = (await client.get("/api/my-invoices", params={"status": status}, headers=cust1)).json()
        assert [item["invoice_id"] for item in page["items"]] == [invoice_id], status
        assert page["status"] == status
    paged = (await client.get("/api/my-invoices", params={"limit": 3, "page": 2}, headers=cust1)).json()
    assert (len(paged["items"]), paged["total_items"], paged["total_pages"], paged["current_page"]) == (1, 4, 2, 2)
    assert set(paged) == {"items", "total_items", "total_pages", "current_page", "page_size", "status"}
    bad = await client.get("/api/my-invoices", params={"status": "unpaid"}, headers=cust1)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


async def test_staff_list_filters_by_customer_days_number_and_status(client, conn, staff, cust1):
    ids = await _four_invoices(client, conn, staff)
    theirs = (await shipped(client, "cust_2", {2: 1}, staff))["invoice_id"]

    async def listed(**params) -> list[int]:
        response = await client.get("/api/admin/invoices", params=params, headers=staff)
        assert response.status_code == 200, response.text
        return [item["invoice_id"] for item in response.json()["items"]]

    assert len(await listed()) == 5
    assert await listed(customer_id=2) == [theirs]
    assert await listed(status="overdue") == [ids["overdue"]]
    assert await listed(status="open", customer_id=1) == [ids["open"]]
    assert await listed(date_to=(TODAY - timedelta(days=1)).isoformat()) == [ids["overdue"]]
    assert ids["overdue"] not in await listed(date_from=TODAY.isoformat())
    number = conn.execute("SELECT invoice_no FROM Invoices WHERE invoice_id = %s", (theirs,)).fetchone()["invoice_no"]
    assert await listed(search=number.lower()) == [theirs]  # any case, any part
    assert await listed(search="%") == [] and await listed(search="_") == []  # literally, not as patterns
    item = (await client.get("/api/admin/invoices", params={"customer_id": 2}, headers=staff)).json()["items"][0]
    assert (item["customer_name"], item["gross_amount"], item["tax_amount"]) == ("Second Pharmacy", "31.50", "1.50")
    backwards = await client.get("/api/admin/invoices", headers=staff,
                                 params={"date_from": TODAY.isoformat(), "date_to": (TODAY - timedelta(days=1))})
    assert backwards.status_code == 422 and "date_from" in backwards.json()["error"]["message"]
    for bad in ({"search": "x" * 51}, {"customer_id": 0}, {"date_from": "yesterday"}, {"format": "xml"}):
        assert (await client.get("/api/admin/invoices", params=bad, headers=staff)).status_code == 422, bad


async def test_csv_gives_every_matching_invoice_with_safe_cells(client, conn, staff, cust1):
    conn.execute("UPDATE Customers SET name = '=HYPERLINK(\"http://evil.example\")' WHERE customer_id = 2")
    ids = await _four_invoices(client, conn, staff)
    await shipped(client, "cust_2", {2: 1}, staff)
    response = await client.get("/api/admin/invoices", params={"format": "csv", "limit": 1}, headers=staff)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="invoices-{TODAY}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 5  # every row, whatever the page size
    assert list(rows[0]) == ["invoice_id", "invoice_no", "order_id", "customer_id", "customer_name", "issued_on",
                             "due_on", "net_amount", "tax_amount", "gross_amount", "amount_paid", "amount_credited",
                             "balance", "status"]
    by_id = {int(row["invoice_id"]): row for row in rows}
    assert {key: by_id[ids["partly_paid"]][key] for key in ("gross_amount", "amount_paid", "balance", "status")} == \
        {"gross_amount": "2.50", "amount_paid": "1.00", "balance": "1.50", "status": "partly_paid"}
    evil = next(row for row in rows if row["customer_id"] == "2")
    assert evil["customer_name"] == "'=HYPERLINK(\"http://evil.example\")"
    # the JSON page has the same columns
    page = (await client.get("/api/admin/invoices", params={"customer_id": 2}, headers=staff)).json()
    assert list(page["items"][0]) == list(rows[0])
    filtered = await client.get("/api/admin/invoices", params={"format": "csv", "status": "overdue"}, headers=staff)
    assert [row["invoice_id"] for row in csv.DictReader(io.StringIO(filtered.text))] == [str(ids["overdue"])]


# --- staff's view of one ---------------------------------------------------------------------

async def test_staff_see_payments_with_who_recorded_them_and_credit_notes(client, conn, staff, cust1):
    order = await shipped(client, "cust_1", {2: 2}, staff)  # 60.00 + 3.00 tax
    invoice_id = order["invoice_id"]
    paid = await client.post(f"/api/admin/invoices/{invoice_id}/payments", headers=staff,
                             json={"amount": "20.00", "paid_on": TODAY.isoformat(), "reference": "BANK-1"})
    assert paid.status_code == 201, paid.text
    # a credit note of an approved return of one unit (31.50) against the invoice
    return_id = conn.execute("INSERT INTO Returns (order_id, customer_id, status, decided_at) "
                             "VALUES (%s, 1, 'approved', now()) RETURNING return_id",
                             (order["order_id"],)).fetchone()["return_id"]
    conn.execute("INSERT INTO Credit_Notes (credit_note_no, series_year, series_number, invoice_id, return_id, "
                 "customer_id, issued_on, seller, buyer, net_amount, tax_amount, gross_amount) "
                 "SELECT 'CN-' || %s || '-000001', %s, 1, invoice_id, %s, customer_id, %s, seller, buyer, "
                 "30.00, 1.50, 31.50 FROM Invoices WHERE invoice_id = %s",
                 (YEAR, YEAR, return_id, TODAY, invoice_id))
    conn.execute("UPDATE Invoices SET amount_credited = 31.50 WHERE invoice_id = %s", (invoice_id,))

    invoice = (await client.get(f"/api/admin/invoices/{invoice_id}", headers=staff)).json()
    assert [(p["amount"], p["reference"], p["recorded_by"], p["paid_on"]) for p in invoice["payments"]] == [
        ("20.00", "BANK-1", "staffer", TODAY.isoformat())]
    assert [(n["credit_note_no"], n["return_id"], n["gross_amount"]) for n in invoice["credit_notes"]] == [
        (f"CN-{YEAR}-000001", return_id, "31.50")]
    assert (invoice["amount_paid"], invoice["amount_credited"], invoice["balance"], invoice["status"]) == (
        "20.00", "31.50", "11.50", "partly_paid")
    # the customer sees the same payment, without who recorded it
    mine = (await client.get(f"/api/my-invoices/{invoice_id}", headers=cust1)).json()
    assert "recorded_by" not in mine["payments"][0] and mine["payments"][0]["reference"] == "BANK-1"
    assert mine["credit_notes"] == invoice["credit_notes"] and mine["balance"] == "11.50"
    assert (await client.get("/api/admin/invoices/424242", headers=staff)).status_code == 404


# --- immutability ----------------------------------------------------------------------------

async def test_the_database_refuses_to_change_or_delete_an_issued_invoice_or_its_lines(client, conn, staff, cust1):
    invoice_id = (await shipped(client, "cust_1", {1: 2}, staff))["invoice_id"]
    refused = [
        ("UPDATE Invoices SET gross_amount = 1, net_amount = 1, tax_amount = 0 WHERE invoice_id = %s", "UPDATE"),
        ("UPDATE Invoices SET due_on = due_on + 1 WHERE invoice_id = %s", "UPDATE"),
        ("UPDATE Invoices SET buyer = '{}' WHERE invoice_id = %s", "UPDATE"),
        ("UPDATE Invoice_Lines SET quantity = 1 WHERE invoice_id = %s", "UPDATE"),
        ("DELETE FROM Invoice_Lines WHERE invoice_id = %s", "DELETE"),
        ("DELETE FROM Invoices WHERE invoice_id = %s", "DELETE"),
    ]
    for statement, operation in refused:
        with pytest.raises(psycopg.errors.RestrictViolation, match=f"cannot change: {operation}"):
            conn.execute(statement, (invoice_id,))
    before = conn.execute("SELECT gross_amount FROM Invoices WHERE invoice_id = %s", (invoice_id,)).fetchone()
    assert before["gross_amount"] == Decimal("19.20")  # 2 x 8.00 + 20 %
    # what was paid and credited against it may move
    conn.execute("UPDATE Invoices SET amount_paid = 5 WHERE invoice_id = %s", (invoice_id,))


# --- PDF -------------------------------------------------------------------------------------

async def test_the_invoice_pdf_holds_number_parties_batches_expiry_and_amounts(client, conn, staff, cust1):
    order = await shipped(client, "cust_1", {1: 7, 2: 2}, staff)
    invoice_id = order["invoice_id"]
    await client.post(f"/api/admin/invoices/{invoice_id}/payments", headers=staff,
                      json={"amount": "100.00", "paid_on": TODAY.isoformat(), "reference": "BANK-7"})
    response = await client.get(f"/api/my-invoices/{invoice_id}/pdf", headers=cust1)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    number = f"INV-{YEAR}-000001"
    assert response.headers["content-disposition"] == f'inline; filename="{number}.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    day = lambda value: value.strftime("%d %b %Y")  # noqa: E731 - the PDF's date format
    for expected in (number, "Northwind Pharma Wholesale", "Leeds LS1 1AA", "Tax ID: GB123456789",
                     "First Pharmacy", "2 Rue Haute", "Tax ID: FR-99 001", "Customer no. 1", f"Order: {order['order_id']}",
                     "A-SOON", "A-LATER", "B-1", day(TODAY + timedelta(days=10)), day(TODAY + timedelta(days=100)),
                     f"Issued: {day(TODAY)}", f"Due: {day(TODAY + timedelta(days=30))}", "Payment terms: 30 days",
                     "40.00", "3.20", "116.00", "14.20", "130.20", "20.00 %", "5.00 %", "Amount paid 100.00",
                     "Balance due 30.20", "Status: Partly paid"):
        assert expected in text, expected
    staff_copy = await client.get(f"/api/admin/invoices/{invoice_id}/pdf", headers=staff)
    assert staff_copy.status_code == 200 and number in pdf_text(staff_copy.content)
    assert (await client.get("/api/admin/invoices/777/pdf", headers=staff)).status_code == 404


def _document(descriptions: list[str], *, balance: str = "0.00") -> dict:
    header = {"invoice_no": "INV-2026-000042", "issued_on": TODAY, "due_on": TODAY + timedelta(days=30),
              "seller": {"name": "Stockline Distribution", "address": "1 Dock Road", "tax_id": "GB1"},
              "buyer": {"customer_id": 7, "name": "Pharmacie Éclair", "address": "Ωmega Street 5", "email": None,
                        "tax_id": None},
              "net_amount": Decimal("10.00") * len(descriptions), "tax_amount": Decimal("0.00"),
              "gross_amount": Decimal("10.00") * len(descriptions)}
    lines = [{"line_no": number, "sku_code": f"SKU-{number}", "description": text, "batch_no": f"LOT-{number:04d}",
              "expiry_date": TODAY + timedelta(days=400), "quantity": 1, "unit_price": Decimal("10.00"),
              "net_amount": Decimal("10.00"), "tax_rate": Decimal("0.00"), "tax_amount": Decimal("0.00")}
             for number, text in enumerate(descriptions, start=1)]
    return build_document("invoice", header, lines, references=[["Order", "99"]],
                          payment={"amount_paid": Decimal("0"), "amount_credited": Decimal("0"),
                                   "balance": Decimal(balance), "status": "open"})


UNICODE = ["Insulin 100 µg/ml", "Crème apaisante", "Resistor 10 Ω test kit", "Zäpfchen – 50 mg",
           "\u6f22\u65b9 extract", "💊 pill organiser", "zero\u200bwidth", "combining e\u0301"]


def test_the_pdf_prints_any_unicode_with_the_dejavu_font():
    text = pdf_text(render_pdf(_document(UNICODE)))
    for expected in ("µg/ml", "Crème apaisante", "10 Ω", "Zäpfchen – 50 mg", "Pharmacie Éclair", "Ωmega"):
        assert expected in text, expected
    assert "LOT-0008" in text  # every line, even those with characters the font lacks


def test_without_the_unicode_font_text_is_folded_to_latin1_and_never_fails(tmp_path: Path):
    for font_path in (None, tmp_path / "missing.ttf"):
        text = pdf_text(render_pdf(_document(UNICODE), font_path=font_path))
        for expected in ("µg/ml", "Crème apaisante", "Resistor 10 ? test kit", "Zäpfchen - 50 mg",
                         "Pharmacie Éclair", "?mega Street", "LOT-0008", "INV-2026-000042"):
            assert expected in text, (font_path, expected)
    assert latin1("ﬁne ő “q” €5 \U0001f48a") == 'fine o "q" EUR5 ?'


def test_many_lines_flow_onto_pages_that_each_repeat_the_table_heading():
    document = _document([f"Product number {n} with a description long enough to wrap onto a second line"
                          for n in range(1, 151)], balance="-12.50")
    for font_path in (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), None):
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(document, font_path=font_path))).pages]
        with_lines = [page for page in pages if "LOT-" in page]
        assert len(with_lines) >= 4
        for page in with_lines:
            assert "SKU" in page and "Description" in page and "Unit price" in page, page[:200]
        for number, page in enumerate(pages, start=1):
            assert f"Page {number} of {len(pages)}" in page
        joined = "\n".join(pages)
        assert all(f"LOT-{n:04d}" in joined for n in range(1, 151))
        # the tax summary, totals and payment block are never split across pages
        last = pages[-1]
        assert all(words in last for words in ("Tax rate", "Totals", "Total 1,500.00", "Payment terms",
                                               "Overpaid (your credit) 12.50"))


def test_a_credit_note_prints_without_due_date_or_payments():
    header = {"credit_note_no": "CN-2026-000003", "issued_on": TODAY,
              "seller": {"name": "Stockline Distribution", "address": None, "tax_id": None},
              "buyer": {"customer_id": 7, "name": "Pharmacie Éclair", "address": None, "email": None, "tax_id": None},
              "net_amount": Decimal("16.00"), "tax_amount": Decimal("3.20"), "gross_amount": Decimal("19.20")}
    lines = [{"line_no": 1, "sku_code": "AMOX-1", "description": "Amoxicillin", "batch_no": "A-SOON",
              "expiry_date": TODAY + timedelta(days=10), "quantity": 2, "unit_price": Decimal("8.00"),
              "net_amount": Decimal("16.00"), "tax_rate": Decimal("20.00"), "tax_amount": Decimal("3.20")}]
    document = build_document("credit_note", header, lines,
                              references=[["Credits invoice", "INV-2026-000007"], ["Return", "12"]])
    assert (document["kind"], document["title"], document["due_on"], document["payment"]) == (
        "credit_note", "Credit note", None, None)
    text = pdf_text(render_pdf(document))
    for expected in ("Credit note", "CN-2026-000003", "Credited to", "Credits invoice: INV-2026-000007",
                     "Return: 12", "A-SOON", "Total credited 19.20"):
        assert expected in text, expected
    assert "Due" not in text and "Payment terms" not in text and "Balance" not in text
    with pytest.raises(ValueError, match="invoice or a credit_note"):
        build_document("receipt", header, lines)
