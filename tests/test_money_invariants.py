"""`stockline check` proves the money invariants: line tax and order tax, invoices against
their lines and orders, payments against invoices, gapless document numbers. Each is shown
holding after real traffic and reporting a row broken on purpose."""

from __future__ import annotations

from stockline.invariants import check_invariants
from tests.ordering_world import bearer

MONEY = {"order_tax_mismatch", "invoice_total_mismatch", "invoice_payments_mismatch", "document_number_gaps"}


def broken(conn) -> dict[str, list]:
    return {r.name: r.offenders for r in check_invariants(conn) if not r.holds}


async def shipped_invoices(client, conn, count: int) -> list[int]:
    conn.execute("INSERT INTO Tax_Classes (tax_class, name) VALUES ('standard', 'Standard')")
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', '-infinity', 19)")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id = 1")
    cust1, staff = await bearer(client, "cust_1"), await bearer(client, "staffer")
    invoice_ids = []
    for _ in range(count):
        order = (await client.post("/api/orders", json={"sku_id": 1, "quantity": 3}, headers=cust1)).json()
        for status in ("processed", "shipped"):
            answer = await client.post(f"/api/admin/orders/{order['order_id']}/status", json={"status": status},
                                       headers=staff)
        invoice_ids.append(answer.json()["invoice_id"])
    return invoice_ids


async def test_money_invariants_hold_after_orders_invoices_and_payments(client, conn, world):
    invoice_ids = await shipped_invoices(client, conn, 3)
    conn.execute("INSERT INTO Payments (invoice_id, customer_id, amount, paid_on, reference) "
                 "VALUES (%s, 1, 5.00, current_date, 'BANK-1')", (invoice_ids[0],))
    conn.execute("UPDATE Invoices SET amount_paid = 5.00 WHERE invoice_id = %s", (invoice_ids[0],))
    assert broken(conn) == {}


async def test_each_money_invariant_reports_what_breaks_it(client, conn, world):
    invoice_ids = await shipped_invoices(client, conn, 3)
    conn.execute("UPDATE Order_Items SET tax_amount = tax_amount + 0.01 "
                 "WHERE order_item_id = (SELECT min(order_item_id) FROM Order_Items)")
    conn.execute("INSERT INTO Payments (invoice_id, customer_id, amount, paid_on, reference) "
                 "VALUES (%s, 1, 5.00, current_date, 'NOT-BOOKED')", (invoice_ids[0],))
    conn.execute("SET session_replication_role = replica")  # past the immutability triggers (superuser)
    conn.execute("UPDATE Invoices SET net_amount = net_amount + 1, gross_amount = gross_amount + 1 "
                 "WHERE invoice_id = %s", (invoice_ids[2],))
    conn.execute("DELETE FROM Invoice_Lines WHERE invoice_id = %s", (invoice_ids[1],))
    conn.execute("DELETE FROM Invoices WHERE invoice_id = %s", (invoice_ids[1],))
    conn.execute("SET session_replication_role = origin")
    found = broken(conn)
    assert set(found) >= MONEY, found
    assert [row["invoice_id"] for row in found["invoice_payments_mismatch"]] == [invoice_ids[0]]
    # the line, and its order (whose tax no longer sums), are named
    assert {row["order_item_id"] is None for row in found["order_tax_mismatch"]} == {True, False}
    assert [row["invoice_id"] for row in found["invoice_total_mismatch"]] == [invoice_ids[2]]
    assert [(row["first_number"], row["last_number"], row["documents"])
            for row in found["document_number_gaps"]] == [(1, 3, 2)]
