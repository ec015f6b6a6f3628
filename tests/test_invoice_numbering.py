"""Invoices are issued when an order ships, in the same transaction, numbered per year
without gaps or duplicates however many ship at once; a rolled-back number is given back."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from tests.conftest import serve
from tests.ordering_world import TODAY, bearer, receive
from tests.races import wait_until_blocked


def processed_orders(conn, count: int) -> list[int]:
    """`count` processed orders of customer 2, one unit of SKU 2 each, written as placing
    them would (items and sale movements), quickly."""
    batch_id = receive(conn, 2, "B-MANY", 300, count)
    ids = [row["order_id"] for row in conn.execute(
        "INSERT INTO Orders (customer_id, user_id, status, total_amount) "
        "SELECT 2, 3, 'processed', 30.00 FROM generate_series(1, %s) RETURNING order_id", (count,))]
    conn.execute("INSERT INTO Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, sale_price) "
                 "SELECT o, 2, %s, 1, 30.00, 30.00 FROM unnest(%s::bigint[]) AS o", (batch_id, ids))
    conn.execute("SELECT stockline_record_movements(array_fill(%s, ARRAY[%s]), array_fill(-1, ARRAY[%s]), "
                 "array_fill('sale'::text, ARRAY[%s]), %s::bigint[], array_fill(3, ARRAY[%s]), "
                 "array_fill(NULL::text, ARRAY[%s]))", (batch_id, count, count, count, ids, count, count))
    return ids


async def test_a_hundred_orders_shipped_at_once_get_a_hundred_consecutive_numbers(settings, conn, world):
    ids = processed_orders(conn, 100)
    async with serve(settings.with_overrides(db_pool_max=20)) as client:
        staff = await bearer(client, "staffer")
        answers = await asyncio.gather(*(
            client.post(f"/api/admin/orders/{order_id}/status", json={"status": "shipped"}, headers=staff)
            for order_id in ids))
    assert [a.status_code for a in answers] == [200] * 100, [a.text for a in answers if a.status_code != 200]
    assert all(a.json()["invoice_id"] is not None for a in answers)
    rows = conn.execute("SELECT invoice_no, series_year, series_number, order_id FROM Invoices "
                        "ORDER BY series_number").fetchall()
    year = TODAY.year
    assert [r["series_number"] for r in rows] == list(range(1, 101))
    assert [r["invoice_no"] for r in rows] == [f"INV-{year}-{n:06d}" for n in range(1, 101)]
    assert sorted(r["order_id"] for r in rows) == sorted(ids)
    assert conn.execute("SELECT last_number FROM Document_Counters WHERE series = 'INV' AND year = %s",
                        (year,)).fetchone()["last_number"] == 100


async def test_shipping_one_order_twice_at_once_issues_one_invoice(settings, conn, world):
    [order_id] = processed_orders(conn, 1)
    async with serve(settings.with_overrides(db_pool_max=5)) as client:
        staff = await bearer(client, "staffer")
        answers = await asyncio.gather(*(
            client.post(f"/api/admin/orders/{order_id}/status", json={"status": "shipped"}, headers=staff)
            for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert conn.execute("SELECT count(*) AS n FROM Invoices").fetchone()["n"] == 1
    assert conn.execute("SELECT last_number FROM Document_Counters").fetchone()["last_number"] == 1


async def test_the_invoice_copies_the_order_its_lines_and_the_terms(client, conn, world, settings):
    conn.execute("UPDATE Customers SET payment_terms_days = 14, tax_id = 'DE123', address = 'Main St 1' "
                 "WHERE customer_id = 1")
    cust1, staff = await bearer(client, "cust_1"), await bearer(client, "staffer")
    order = (await client.post("/api/orders", json={"sku_id": 1, "quantity": 7}, headers=cust1)).json()
    for status in ("processed", "shipped"):
        await client.post(f"/api/admin/orders/{order['order_id']}/status", json={"status": status}, headers=staff)
    invoice = conn.execute("SELECT * FROM Invoices").fetchone()
    assert (invoice["issued_on"], (invoice["due_on"] - invoice["issued_on"]).days) == (TODAY, 14)
    assert (str(invoice["net_amount"]), str(invoice["tax_amount"]), str(invoice["gross_amount"])) == (
        order["net_amount"], order["tax_amount"], order["gross_amount"])
    assert invoice["buyer"] == {"customer_id": 1, "name": "First Pharmacy", "address": "Main St 1",
                                "email": None, "tax_id": "DE123"}
    assert invoice["seller"] == {"name": settings.seller_name, "address": None, "tax_id": None}
    lines = conn.execute("SELECT line_no, batch_no, expiry_date, quantity, net_amount FROM Invoice_Lines "
                         "ORDER BY line_no").fetchall()
    assert [(line["line_no"], line["batch_no"], line["quantity"], str(line["net_amount"])) for line in lines] == [
        (1, "A-SOON", 5, "40.00"), (2, "A-LATER", 2, "16.00")]
    # the customer's later changes do not reach the issued invoice
    conn.execute("UPDATE Customers SET name = 'Renamed' WHERE customer_id = 1")
    assert conn.execute("SELECT buyer->>'name' AS name FROM Invoices").fetchone()["name"] == "First Pharmacy"


def test_a_number_taken_by_a_transaction_that_rolls_back_is_given_back(database_url, clean_db):
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT stockline_next_document_number('INV', 2031)").fetchone()[0] == 1
        conn.rollback()
        assert conn.execute("SELECT stockline_next_document_number('INV', 2031)").fetchone()[0] == 1
        conn.commit()
        assert conn.execute("SELECT stockline_next_document_number('INV', 2031)").fetchone()[0] == 2
        # each series and year counts on its own
        assert conn.execute("SELECT stockline_next_document_number('CN', 2031)").fetchone()[0] == 1
        assert conn.execute("SELECT stockline_next_document_number('INV', 2032)").fetchone()[0] == 1
        conn.commit()


async def test_an_issued_invoice_and_its_lines_cannot_be_changed_or_deleted(client, conn, world):
    [order_id] = processed_orders(conn, 1)
    staff = await bearer(client, "staffer")
    await client.post(f"/api/admin/orders/{order_id}/status", json={"status": "shipped"}, headers=staff)
    for statement in ("UPDATE Invoices SET gross_amount = 1, net_amount = 1, tax_amount = 0",
                      "UPDATE Invoices SET buyer = '{}'", "DELETE FROM Invoices",
                      "UPDATE Invoice_Lines SET quantity = 2", "DELETE FROM Invoice_Lines",
                      "DELETE FROM Orders"):
        with pytest.raises(psycopg.errors.Error):
            conn.execute(statement)
    # what is paid and credited against it moves
    conn.execute("UPDATE Invoices SET amount_paid = 10.00")
    assert conn.execute("SELECT amount_paid FROM Invoices").fetchone()["amount_paid"] == 10


async def test_a_second_issuer_waits_for_the_first_and_gets_the_number_it_gave_back(database_url, clean_db):
    async with await psycopg.AsyncConnection.connect(database_url) as first, \
            await psycopg.AsyncConnection.connect(database_url) as second:
        taken = await (await first.execute("SELECT stockline_next_document_number('INV', 2040)")).fetchone()
        assert taken[0] == 1
        waiting = asyncio.create_task(second.execute("SELECT stockline_next_document_number('INV', 2040)"))
        await wait_until_blocked(database_url, first.info.backend_pid, waiting)
        await first.rollback()
        assert (await (await waiting).fetchone())[0] == 1
        await second.commit()
