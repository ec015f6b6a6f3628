"""Credit notes through the real ASGI app: lists and filters, the CSV export, the document and
its PDF (read back with pypdf), immutability; and the invariants `stockline check` adds for
returns and credit notes, each shown holding after real traffic and reporting a row broken on
purpose. The world and its figures: tests/returns_world.py."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import psycopg
import pytest
from pypdf import PdfReader

from tests.ordering_world import TODAY, bearer
from tests.returns_world import approve, broken, requested, shipped_order, taxed

RETURNS = {"returned_beyond_delivered", "return_decision_mismatch", "return_ledger_mismatch",
           "credit_note_total_mismatch", "credit_beyond_invoiced", "invoice_credited_mismatch"}


@pytest.fixture
async def cust1(client, world, conn):
    taxed(conn)
    return await bearer(client, "cust_1")


@pytest.fixture
async def staff(client, cust1):
    return await bearer(client, "staffer")


async def credited(client, conn, customer: str, lines: dict[int, int], returned: dict[str, int],
                   disposition: str = "restock") -> tuple[dict, dict]:
    """A shipped order of `customer` and an approved return of `returned` (units by batch)."""
    order = await shipped_order(client, conn, customer=customer, lines=lines)
    headers = await bearer(client, customer)
    ret = await requested(client, headers, order["order_id"],
                          [(order["by_batch"][batch], units) for batch, units in returned.items()])
    answer = await approve(client, await bearer(client, "staffer"), ret["return_id"],
                           {order["by_batch"][batch]: disposition for batch in returned})
    assert answer.status_code == 200, answer.text
    return order, answer.json()


# --- lists, CSV, detail, PDF ---------------------------------------------------------------

async def test_credit_note_lists_for_the_customer_and_staff_with_filters(client, conn, cust1, staff):
    _, first = await credited(client, conn, "cust_1", {1: 2}, {"A-SOON": 1})
    await credited(client, conn, "cust_2", {2: 3}, {"B-1": 2})
    mine = (await client.get("/api/my-credit-notes", headers=cust1)).json()
    assert [n["credit_note_id"] for n in mine["items"]] == [first["credit_note"]["credit_note_id"]]
    row = mine["items"][0]
    assert row["credit_note_no"] == f"CN-{TODAY.year}-000001" and row["return_id"] == first["return_id"]
    assert (row["net_amount"], row["tax_amount"], row["gross_amount"]) == ("8.00", "1.60", "9.60")
    assert row["invoice_no"].startswith("INV-") and row["issued_on"] == TODAY.isoformat()

    every = (await client.get("/api/admin/credit-notes", headers=staff)).json()
    assert [n["credit_note_no"] for n in every["items"]] == [f"CN-{TODAY.year}-000002", f"CN-{TODAY.year}-000001"]
    assert every["items"][0]["customer_name"] == "Second Pharmacy" and every["items"][0]["gross_amount"] == "60.00"
    only = (await client.get("/api/admin/credit-notes", params={"customer_id": 2}, headers=staff)).json()
    assert [n["customer_id"] for n in only["items"]] == [2]
    today, yesterday = TODAY.isoformat(), (TODAY - timedelta(days=1)).isoformat()
    assert (await client.get("/api/admin/credit-notes", params={"date_from": today, "date_to": today},
                             headers=staff)).json()["total_items"] == 2
    assert (await client.get("/api/admin/credit-notes", params={"date_to": yesterday},
                             headers=staff)).json()["items"] == []
    backwards = await client.get("/api/admin/credit-notes", params={"date_from": today, "date_to": yesterday},
                                 headers=staff)
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "validation_error"
    assert (await client.get("/api/admin/credit-notes", params={"date_from": "soon"},
                             headers=staff)).status_code == 422


async def test_the_csv_has_every_row_in_the_lists_columns_and_is_formula_safe(client, conn, cust1, staff):
    await credited(client, conn, "cust_1", {1: 2}, {"A-SOON": 1})
    await credited(client, conn, "cust_2", {2: 3}, {"B-1": 2})
    conn.execute("UPDATE Customers SET name = '=HYPERLINK(\"http://evil\")' WHERE customer_id = 2")
    answer = await client.get("/api/admin/credit-notes", params={"format": "csv", "limit": 1}, headers=staff)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="credit-notes-')
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    listed = (await client.get("/api/admin/credit-notes", headers=staff)).json()["items"]
    assert list(rows[0]) == list(listed[0])  # the same columns, in the same order
    assert len(rows) == 2  # every row, whatever the page size
    assert rows[0]["customer_name"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1]["gross_amount"] == "9.60" and rows[1]["credit_note_no"] == f"CN-{TODAY.year}-000001"
    filtered = await client.get("/api/admin/credit-notes", params={"format": "csv", "customer_id": 1}, headers=staff)
    assert len(list(csv.DictReader(io.StringIO(filtered.text)))) == 1


async def test_the_credit_note_and_its_pdf(client, conn, cust1, staff):
    conn.execute("UPDATE Customers SET address = '1 Mill Lane\nSpringfield', tax_id = 'GB123456789' "
                 "WHERE customer_id = 1")
    conn.execute("UPDATE Products SET name = 'Amoxicillin 500 µg capsules' WHERE product_id = 1")
    order, ret = await credited(client, conn, "cust_1", {1: 7}, {"A-SOON": 2, "A-LATER": 1}, "write_off")
    note_id = ret["credit_note"]["credit_note_id"]
    staff_view = (await client.get(f"/api/admin/credit-notes/{note_id}", headers=staff)).json()
    customer_view = (await client.get(f"/api/my-credit-notes/{note_id}", headers=cust1)).json()
    assert staff_view == customer_view
    assert staff_view["buyer"] == {"customer_id": 1, "name": "First Pharmacy", "address": "1 Mill Lane\nSpringfield",
                                   "email": None, "tax_id": "GB123456789"}
    assert (staff_view["order_id"], staff_view["return_id"]) == (order["order_id"], ret["return_id"])
    assert [line["line_no"] for line in staff_view["lines"]] == [1, 2]
    assert staff_view["lines"][0]["description"].startswith("Amoxicillin 500 µg capsules")

    for path, headers in ((f"/api/my-credit-notes/{note_id}/pdf", cust1),
                          (f"/api/admin/credit-notes/{note_id}/pdf", staff)):
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["content-disposition"] == f'inline; filename="CN-{TODAY.year}-000001.pdf"'
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
        for expected in (f"CN-{TODAY.year}-000001", staff_view["references"][0][1], "Stockline Distribution",
                         "First Pharmacy", "GB123456789", "A-SOON", "A-LATER", "Amoxicillin 500 µg",
                         "16.00", "8.00", "24.00", "4.80", "28.80"):
            assert expected in text, expected


async def test_a_credit_note_cannot_change_once_issued(client, conn, cust1):
    _, ret = await credited(client, conn, "cust_1", {1: 2}, {"A-SOON": 1})
    note_id = ret["credit_note"]["credit_note_id"]
    for statement in ("UPDATE Credit_Notes SET gross_amount = 0, net_amount = 0, tax_amount = 0 "
                      "WHERE credit_note_id = %s",
                      "DELETE FROM Credit_Notes WHERE credit_note_id = %s",
                      "UPDATE Credit_Note_Lines SET quantity = 9 WHERE credit_note_id = %s",
                      "DELETE FROM Credit_Note_Lines WHERE credit_note_id = %s"):
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute(statement, (note_id,))


async def test_credit_note_ids_that_are_not_there_are_404(client, conn, cust1, staff):
    for path, headers in (("/api/my-credit-notes/99", cust1), ("/api/admin/credit-notes/99", staff),
                          ("/api/admin/credit-notes/99/pdf", staff), ("/api/my-credit-notes/99/pdf", cust1)):
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", path
    assert (await client.get("/api/admin/credit-notes/0", headers=staff)).status_code == 422
    assert (await client.get("/api/admin/credit-notes/abc", headers=staff)).status_code == 422


# --- the invariants ------------------------------------------------------------------------

async def test_the_return_invariants_hold_after_real_traffic(client, conn, cust1, staff):
    await credited(client, conn, "cust_1", {1: 7, 2: 1}, {"A-SOON": 2, "A-LATER": 2}, "write_off")
    order, _ = await credited(client, conn, "cust_2", {3: 2}, {"C-1": 1})
    later = await requested(client, await bearer(client, "cust_2"), order["order_id"], [(order["by_batch"]["C-1"], 1)])
    assert (await client.post(f"/api/admin/returns/{later['return_id']}/reject", json={"note": "Opened"},
                              headers=staff)).status_code == 200
    assert broken(conn) == {}


async def test_each_return_invariant_reports_what_breaks_it(client, conn, cust1, staff):
    first, _ = await credited(client, conn, "cust_1", {1: 7}, {"A-SOON": 2, "A-LATER": 1}, "write_off")
    second, _ = await credited(client, conn, "cust_2", {2: 3}, {"B-1": 1})
    third, third_ret = await credited(client, conn, "cust_2", {3: 2}, {"C-1": 1})
    cust2 = await bearer(client, "cust_2")
    refused = await requested(client, cust2, second["order_id"], [(second["by_batch"]["B-1"], 1)])
    assert (await client.post(f"/api/admin/returns/{refused['return_id']}/reject", json={"note": "No"},
                              headers=staff)).status_code == 200
    pending = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust1)).json()
    open_ret = await requested(client, cust1, first["order_id"], [(first["by_batch"]["A-SOON"], 1)])
    assert broken(conn) == {}

    # more asked back than delivered (the first order); a return of an order not shipped
    conn.execute("UPDATE Return_Lines SET quantity = 9 WHERE return_id = %s", (open_ret["return_id"],))
    stray = conn.execute("INSERT INTO Returns (order_id, customer_id) VALUES (%s, 1) RETURNING return_id",
                         (pending["order_id"],)).fetchone()["return_id"]
    conn.execute("INSERT INTO Return_Lines (return_id, order_item_id, quantity, reason) VALUES (%s, %s, 1, 'x')",
                 (stray, pending["items"][0]["order_item_id"]))
    # a rejected return with a disposition, as if it had been half approved
    conn.execute("UPDATE Return_Lines SET disposition = 'restock' WHERE return_id = %s", (refused["return_id"],))
    # the first order's write-offs vanish from the ledger
    conn.execute("DELETE FROM Stock_Movements WHERE order_id = %s AND reason = 'write_off'", (first["order_id"],))
    # the second order's invoice forgets its credit note
    conn.execute("UPDATE Invoices SET amount_credited = 0 WHERE order_id = %s", (second["order_id"],))
    # the third's credit note line says more tax than its note, and than the item was charged
    conn.execute("SET session_replication_role = replica")  # past the immutability triggers (superuser)
    conn.execute("UPDATE Credit_Note_Lines SET tax_amount = 5.00 WHERE credit_note_id = %s",
                 (third_ret["credit_note"]["credit_note_id"],))
    conn.execute("SET session_replication_role = origin")

    found = broken(conn)
    assert set(found) >= RETURNS, found
    beyond = {(row["order_item_id"], row["order_status"]) for row in found["returned_beyond_delivered"]}
    assert beyond == {(first["by_batch"]["A-SOON"], "shipped"), (pending["items"][0]["order_item_id"], "pending")}
    assert [row["return_id"] for row in found["return_decision_mismatch"]] == [refused["return_id"]]
    assert [(row["order_id"], row["written_off_units"], row["write_off_movements"])
            for row in found["return_ledger_mismatch"]] == [(first["order_id"], 2, 0), (first["order_id"], 1, 0)]
    assert [row["credit_note_id"] for row in found["credit_note_total_mismatch"]] == \
        [third_ret["credit_note"]["credit_note_id"]]
    assert [row["order_item_id"] for row in found["credit_beyond_invoiced"]] == [third["by_batch"]["C-1"]]
    assert [row["invoice_id"] for row in found["invoice_credited_mismatch"]] == [second["invoice_id"]]
    assert json.dumps(found, default=str)  # reportable as `stockline check --json`
