"""Invoices for tests: orders placed and shipped through the real HTTP API (which issues their
invoices), tax classes on the ordering world's SKUs, and an invoice issued on a past day
(the issuing query itself, with an earlier issue day) for overdue ones.

With `taxed(conn)`: SKU 1 AMOX-1 is standard-rated (20 %), SKU 2 AMOX-2 reduced (5 %), SKU 3
PARA-3 zero-rated. Customer 1 pays 8.00 for SKU 1 (its contract), 30.00 for SKU 2.
"""

from __future__ import annotations

import json
from datetime import date

from stockline.billing.invoices import Q as BILLING_Q
from tests.ordering_world import bearer


def taxed(conn) -> None:
    for code, rate in (("standard", "20.00"), ("reduced", "5.00")):
        conn.execute("INSERT INTO Tax_Classes (tax_class, name) VALUES (%s, %s)", (code, code.title()))
        conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES (%s, '-infinity', %s)",
                     (code, rate))
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id = 1")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'reduced' WHERE sku_id = 2")


async def place(client, headers, lines: dict[int, int]) -> dict:
    """An order of the cart's lines (sku_id: quantity), checked out by a customer's user."""
    for sku_id, quantity in lines.items():
        response = await client.post("/api/cart", json={"sku_id": sku_id, "quantity": quantity}, headers=headers)
        assert response.status_code == 200, response.text
    placed = await client.post("/api/checkout", headers=headers)
    assert placed.status_code == 201, placed.text
    return placed.json()


async def ship(client, staff, order_id: int) -> dict:
    """Staff move the order processed, then shipped (which issues its invoice); the order."""
    for status in ("processed", "shipped"):
        moved = await client.post(f"/api/admin/orders/{order_id}/status", json={"status": status}, headers=staff)
        assert moved.status_code == 200, moved.text
    return moved.json()


async def shipped(client, username: str, lines: dict[int, int], staff=None) -> dict:
    """An order placed by `username` and shipped: the order, with its invoice_id."""
    staff = staff or await bearer(client, "staffer")
    order = await place(client, await bearer(client, username), lines)
    return await ship(client, staff, order["order_id"])


def issue_on(conn, order_id: int, issued_on: date) -> int:
    """Ship `order_id` and issue its invoice as if on `issued_on` (a past day): the issuing
    query the shipment runs, with that day. The invoice's id."""
    conn.execute("UPDATE Orders SET status = 'shipped' WHERE order_id = %s", (order_id,))
    row = conn.execute(BILLING_Q["issue_invoice"].sql, {
        "order_id": order_id, "issued_on": issued_on,
        "seller": json.dumps({"name": "Stockline Distribution", "address": None, "tax_id": None})}).fetchone()
    return row["invoice_id"]


def pay(conn, invoice_id: int, amount: str) -> None:
    """A payment written straight to the database (for lists that need a paid invoice)."""
    conn.execute("INSERT INTO Payments (invoice_id, customer_id, amount, paid_on, reference) "
                 "SELECT invoice_id, customer_id, %s, issued_on, 'SQL-' || %s FROM Invoices WHERE invoice_id = %s",
                 (amount, amount, invoice_id))
    conn.execute("UPDATE Invoices SET amount_paid = amount_paid + %s WHERE invoice_id = %s", (amount, invoice_id))
