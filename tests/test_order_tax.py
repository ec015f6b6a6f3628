"""Tax at sale: each order line stores its SKU's tax class's rate of the day and its tax
(net x rate, half-up to the cent, per line); orders carry net, tax and gross. Catalog and
cart stay net."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from stockline.tax.rules import line_tax
from tests.ordering_world import TODAY, bearer


def tax_class(conn, code: str, rate: str, *, since=None) -> None:
    conn.execute("INSERT INTO Tax_Classes (tax_class, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                 (code, code.title()))
    conn.execute("INSERT INTO Tax_Rates (tax_class, valid_from, rate) VALUES (%s, %s, %s)",
                 (code, since or "-infinity", rate))


async def test_each_allocation_is_taxed_at_its_skus_rate_and_the_order_sums_the_lines(client, conn, world):
    tax_class(conn, "standard", "20.00")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id = 1")
    cust1 = await bearer(client, "cust_1")
    # 7 units of SKU 1 at 8.00 (customer 1's 20 % off 10.00): 5 from A-SOON, 2 from A-LATER
    placed = await client.post("/api/orders", json={"sku_id": 1, "quantity": 7}, headers=cust1)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert [(i["batch_id"], i["line_total"], i["tax_rate"], i["tax_amount"], i["line_gross"])
            for i in order["items"]] == [(world["a_soon"], "40.00", "20.00", "8.00", "48.00"),
                                         (world["a_later"], "16.00", "20.00", "3.20", "19.20")]
    assert (order["total_amount"], order["net_amount"], order["tax_amount"], order["gross_amount"]) == (
        "56.00", "56.00", "11.20", "67.20")
    assert order["invoice_id"] is None
    # read back, the same figures from the stored rows
    again = (await client.get(f"/api/my-orders/{order['order_id']}", headers=cust1)).json()
    assert {key: again[key] for key in ("net_amount", "tax_amount", "gross_amount")} == {
        "net_amount": "56.00", "tax_amount": "11.20", "gross_amount": "67.20"}
    stored = conn.execute("SELECT tax_amount FROM Orders WHERE order_id = %s", (order["order_id"],)).fetchone()
    assert stored["tax_amount"] == Decimal("11.20")


async def test_a_sku_without_a_class_is_zero_rated_and_the_cart_stays_net(client, conn, world):
    cust1 = await bearer(client, "cust_1")
    await client.post("/api/cart", json={"sku_id": 2, "quantity": 2}, headers=cust1)
    cart = (await client.get("/api/cart", headers=cust1)).json()
    assert cart["total_amount"] == "60.00"
    placed = (await client.post("/api/checkout", headers=cust1)).json()
    assert (placed["net_amount"], placed["tax_amount"], placed["gross_amount"]) == ("60.00", "0.00", "60.00")
    assert placed["items"][0]["tax_rate"] == "0.00"


async def test_tax_is_rounded_half_up_per_line(client, conn, world):
    # 1 unit at 1.00 taxed at 0.50 % is 0.005: half-up gives 0.01 (banker's rounding would give 0.00)
    tax_class(conn, "tiny", "0.50")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'tiny', base_price = 1.00 WHERE sku_id = 2")
    cust2 = await bearer(client, "cust_2")
    one = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust2)).json()
    assert (one["tax_amount"], one["gross_amount"]) == ("0.01", "1.01")
    three = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 3}, headers=cust2)).json()
    assert three["items"][0]["tax_amount"] == "0.02"  # 0.015 -> 0.02


async def test_the_rate_of_the_orders_day_applies_and_a_scheduled_change_does_not_touch_today(
        client, conn, world):
    tax_class(conn, "standard", "20.00")
    tax_class(conn, "standard", "25.00", since=TODAY + timedelta(days=1))
    tax_class(conn, "reduced", "10.00")
    tax_class(conn, "reduced", "5.00", since=TODAY)
    conn.execute("UPDATE Product_SKUs SET tax_class = 'standard' WHERE sku_id = 2")
    conn.execute("UPDATE Product_SKUs SET tax_class = 'reduced' WHERE sku_id = 3")
    cust2 = await bearer(client, "cust_2")
    standard = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust2)).json()
    reduced = (await client.post("/api/orders", json={"sku_id": 3, "quantity": 1}, headers=cust2)).json()
    assert standard["items"][0]["tax_rate"] == "20.00"
    assert reduced["items"][0]["tax_rate"] == "5.00"
    rates = conn.execute("SELECT stockline_tax_rate('standard', %s) AS today, "
                         "stockline_tax_rate('standard', %s) AS tomorrow", (TODAY, TODAY + timedelta(days=1))
                         ).fetchone()
    assert (rates["today"], rates["tomorrow"]) == (Decimal("20.00"), Decimal("25.00"))


@pytest.mark.parametrize(("net", "rate", "tax"), [("1.00", "0.50", "0.01"), ("0.10", "5.00", "0.01"),
                                                  ("0.30", "5.00", "0.02"), ("10.05", "10.00", "1.01")])
def test_line_tax_rounds_half_up(net, rate, tax):
    assert line_tax(Decimal(net), Decimal(rate)) == Decimal(tax)
