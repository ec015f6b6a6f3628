"""Credit limits: an order that would take the customer's exposure (unpaid invoice balances
plus the gross of orders not yet invoiced) over their limit is refused with 409
credit_limit_exceeded and changes nothing, checked under the customer's row lock so
concurrent orders can never overshoot it."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.conftest import serve
from tests.ordering_world import bearer, receive, stock


def limit(conn, customer_id: int, amount: str | None) -> None:
    conn.execute("UPDATE Customers SET credit_limit = %s WHERE customer_id = %s", (amount, customer_id))


def exposure(conn, customer_id: int) -> Decimal:
    return conn.execute("SELECT stockline_customer_exposure(%s) AS e", (customer_id,)).fetchone()["e"]


def orders_of(conn, customer_id: int) -> int:
    return conn.execute("SELECT count(*) AS n FROM Orders WHERE customer_id = %s", (customer_id,)).fetchone()["n"]


async def test_an_order_over_the_limit_is_refused_with_the_figures_and_changes_nothing(client, conn, world):
    limit(conn, 2, "100.00")
    cust2 = await bearer(client, "cust_2")
    first = await client.post("/api/orders", json={"sku_id": 2, "quantity": 3}, headers=cust2)  # 90.00
    assert first.status_code == 201, first.text
    before = stock(conn, world["b"])
    refused = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust2)  # 30.00 more
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"]["code"] == "credit_limit_exceeded"
    assert body["error"]["details"] == {"limit": "100.00", "exposure": "90.00", "order_total": "30.00"}
    assert stock(conn, world["b"]) == before and orders_of(conn, 2) == 1
    # an order that fits exactly is taken: the limit is inclusive
    conn.execute("UPDATE Product_SKUs SET base_price = 10.00 WHERE sku_id = 2")
    exact = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust2)
    assert exact.status_code == 201, exact.text
    assert exposure(conn, 2) == Decimal("100.00")


async def test_the_limit_counts_tax_and_checkout_is_refused_too(client, conn, world):
    conn.execute("INSERT INTO Tax_Classes (tax_class, name) VALUES ('standard', 'Standard')")
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES ('standard', '-infinity', 20)")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id = 2")
    limit(conn, 2, "100.00")
    cust2 = await bearer(client, "cust_2")
    await client.post("/api/cart", json={"sku_id": 2, "quantity": 3}, headers=cust2)  # 90.00 net, 108.00 gross
    refused = await client.post("/api/checkout", headers=cust2)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["order_total"] == "108.00"
    assert len((await client.get("/api/cart", headers=cust2)).json()["items"]) == 1  # the cart is kept


async def test_paying_shipping_and_cancelling_move_the_exposure(client, conn, world):
    limit(conn, 2, "60.00")
    cust2, staff = await bearer(client, "cust_2"), await bearer(client, "staffer")
    order_id = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 2}, headers=cust2)).json()["order_id"]
    assert exposure(conn, 2) == Decimal("60.00")
    for status in ("processed", "shipped"):  # invoiced: the same amount, now as an unpaid invoice
        moved = await client.post(f"/api/admin/orders/{order_id}/status", json={"status": status}, headers=staff)
        assert moved.status_code == 200, moved.text
    assert exposure(conn, 2) == Decimal("60.00")
    assert (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust2)).status_code == 409
    conn.execute("UPDATE Invoices SET amount_paid = 30.00 WHERE order_id = %s", (order_id,))
    assert exposure(conn, 2) == Decimal("30.00")
    second = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust2)
    assert second.status_code == 201
    cancelled = await client.post(f"/api/my-orders/{second.json()['order_id']}/cancel", headers=cust2)
    assert cancelled.status_code == 200
    # an over-payment is credit: it lowers the exposure below what is owed on other invoices
    conn.execute("UPDATE Invoices SET amount_paid = 70.00 WHERE order_id = %s", (order_id,))
    assert exposure(conn, 2) == Decimal("-10.00")
    account = (await client.get("/api/my-account", headers=cust2)).json()
    assert (account["exposure"], account["unallocated_credit"], account["available_credit"]) == (
        "-10.00", "10.00", "70.00")


async def test_no_limit_means_unlimited_and_another_customers_limit_does_not_apply(client, conn, world):
    limit(conn, 1, "1.00")
    cust2 = await bearer(client, "cust_2")
    assert (await client.post("/api/orders", json={"sku_id": 2, "quantity": 20}, headers=cust2)).status_code == 201


async def test_concurrent_orders_of_one_customer_never_overshoot_the_limit(settings, conn, world):
    """50 orders of 10.00 at once, each of another SKU (so no SKU lock puts them in a row),
    against a limit of 125.00: exactly 12 are placed."""
    concurrent = 50
    skus = [row["sku_id"] for row in conn.execute(
        "INSERT INTO Product_SKUs (product_id, sku_code, base_price) "
        "SELECT 2, 'CREDIT-' || n, 10.00 FROM generate_series(1, %s) AS n RETURNING sku_id", (concurrent,))]
    for sku_id in skus:
        receive(conn, sku_id, f"LOT-{sku_id}", 300, 5)
    limit(conn, 1, "125.00")
    async with serve(settings.with_overrides(db_pool_max=20)) as client:
        users = [await bearer(client, "cust_1"), await bearer(client, "cust_1b")]
        answers = await asyncio.gather(*(
            client.post("/api/orders", json={"sku_id": sku_id, "quantity": 1}, headers=users[n % 2])
            for n, sku_id in enumerate(skus)))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] * 12 + [409] * (concurrent - 12), [a.text for a in answers if a.status_code >= 500]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"credit_limit_exceeded"}
    assert exposure(conn, 1) == Decimal("120.00") and orders_of(conn, 1) == 12


async def test_staff_set_terms_and_limits_through_the_customer_api(client, conn, world):
    boss = await bearer(client, "boss")
    changed = await client.patch("/api/admin/customers/2", headers=boss,
                                 json={"credit_limit": "5000.50", "payment_terms_days": 14, "tax_id": "GB 123 456"})
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()[k] for k in ("credit_limit", "payment_terms_days", "tax_id")} == {
        "credit_limit": "5000.50", "payment_terms_days": 14, "tax_id": "GB 123 456"}
    entry = conn.execute("SELECT before, after FROM Audit_Log WHERE action = 'customer.update'").fetchone()
    assert entry["before"]["credit_limit"] is None and entry["after"]["credit_limit"] == "5000.50"
    for bad in ({"credit_limit": -1}, {"credit_limit": "10.001"}, {"credit_limit": "lots"},
                {"payment_terms_days": 366}, {"payment_terms_days": -1}, {"payment_terms_days": None},
                {"credit_limit": "1e20"}):
        refused = await client.patch("/api/admin/customers/2", headers=boss, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    cleared = await client.patch("/api/admin/customers/2", headers=boss, json={"credit_limit": None})
    assert cleared.json()["credit_limit"] is None
    staff = await bearer(client, "staffer")
    assert (await client.patch("/api/admin/customers/2", headers=staff, json={"credit_limit": 1})).status_code == 403
    account = await client.get("/api/admin/customers/2/account", headers=staff)
    assert account.status_code == 200 and account.json()["payment_terms_days"] == 14
    cust1 = await bearer(client, "cust_1")
    assert (await client.get("/api/admin/customers/2/account", headers=cust1)).status_code == 403
