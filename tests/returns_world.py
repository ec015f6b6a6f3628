"""Returns' world: the ordering world (tests/ordering_world.py) with tax on SKUs 1 and 3, and
helpers that ship an order and request, approve and read back returns through the API.

Tax: SKU 1 (8.00 for customer 1) at 20 %, SKU 3 (2.50) at 5 %. `shipped_order`'s default is
7 units of SKU 1 (A-SOON 5, A-LATER 2: tax 8.00 and 3.20) and 3 of SKU 3 (C-1: 7.50 net,
0.375 -> 0.38 tax), shipped and invoiced: net 63.50, tax 11.58, gross 75.08."""

from __future__ import annotations

from decimal import Decimal

from stockline.invariants import check_invariants
from tests.ordering_world import bearer


def broken(conn) -> dict[str, list]:
    return {r.name: r.offenders for r in check_invariants(conn) if not r.holds}


def taxed(conn) -> None:
    conn.execute("INSERT INTO Tax_Classes (tax_class, name) VALUES ('standard', 'Standard'), ('reduced', 'Reduced')")
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES "
                 "('standard', '-infinity', 20), ('reduced', '-infinity', 5)")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id = 1")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'reduced' WHERE sku_id = 3")


async def ship(client, order_id: int) -> dict:
    staff = await bearer(client, "staffer")
    for status in ("processed", "shipped"):
        answer = await client.post(f"/api/admin/orders/{order_id}/status", json={"status": status}, headers=staff)
        assert answer.status_code == 200, answer.text
    return answer.json()


async def shipped_order(client, conn, customer: str = "cust_1", lines: dict[int, int] | None = None) -> dict:
    """An order checked out by `customer`, shipped (so invoiced): its items by batch number."""
    headers = await bearer(client, customer)
    for sku_id, quantity in (lines or {1: 7, 3: 3}).items():
        answer = await client.post("/api/cart", json={"sku_id": sku_id, "quantity": quantity}, headers=headers)
        assert answer.status_code == 200, answer.text
    placed = await client.post("/api/checkout", headers=headers)
    assert placed.status_code == 201, placed.text
    order = await ship(client, placed.json()["order_id"])
    order["by_batch"] = {item["batch_no"]: item["order_item_id"] for item in order["items"]}
    return order


async def request(client, headers, order_id: int, lines: list[tuple[int, int]], reason: str = "Damaged",
                  note: str | None = None):
    body = {"lines": [{"order_item_id": item, "quantity": quantity, "reason": reason} for item, quantity in lines]}
    if note is not None:
        body["note"] = note
    return await client.post(f"/api/my-orders/{order_id}/returns", json=body, headers=headers)


async def requested(client, headers, order_id: int, lines: list[tuple[int, int]]) -> dict:
    answer = await request(client, headers, order_id, lines)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def approve(client, headers, return_id: int, dispositions: dict[int, str], note: str | None = None):
    body = {"lines": [{"order_item_id": item, "disposition": d} for item, d in dispositions.items()]}
    if note is not None:
        body["note"] = note
    return await client.post(f"/api/admin/returns/{return_id}/approve", json=body, headers=headers)


def invoice(conn, order_id: int) -> dict:
    return conn.execute(
        "SELECT invoice_id, gross_amount, amount_credited, gross_amount - amount_paid - amount_credited AS balance, "
        "stockline_invoice_status(gross_amount, amount_paid, amount_credited, due_on, current_date) AS status "
        "FROM Invoices WHERE order_id = %s", (order_id,)).fetchone()


def exposure(conn, customer_id: int = 1) -> Decimal:
    return conn.execute("SELECT stockline_customer_exposure(%s) AS e", (customer_id,)).fetchone()["e"]
