"""Receiving goods against purchase orders through the real app on a real PostgreSQL: each
line a batch receipt at the order line's cost with a `receipt` movement naming the line;
partial deliveries, several batches of one line, topping up a batch already in stock;
over-delivery refused, then accepted; unsellable expiry dates and lines of other orders
refused with nothing written; a refused line refuses the whole delivery; and two staff
receiving the same delivery at once, which receives it exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest

from stockline.kernel.expiry import business_day
from tests.ordering_world import TODAY, stock
from tests.purchasing_world import line_ids, ok, receipt, sent_order, staff, supplier, supplies
from tests.races import wait_until_waiting
from tests.returns_world import broken


@pytest.fixture
async def order(client, world) -> dict:
    """A sent order to Alpha (lead time 10): SKU 3 x 10 at Alpha's 1.20, SKU 2 x 4 at 19.50."""
    headers = await staff(client)
    alpha = await supplier(client, headers, "Alpha", 10)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20")
    await supplies(client, headers, alpha["supplier_id"], 2, "19.50")
    return await sent_order(client, headers, alpha["supplier_id"], {3: 10, 2: 4})


def receipts(conn) -> list[tuple]:
    rows = conn.execute("SELECT m.po_line_id, b.batch_no, m.quantity_delta, m.reason, m.note FROM Stock_Movements m "
                        "JOIN Inventory_Batches b USING (batch_id) WHERE m.po_line_id IS NOT NULL "
                        "ORDER BY m.movement_id").fetchall()
    return [(r["po_line_id"], r["batch_no"], r["quantity_delta"], r["reason"], r["note"]) for r in rows]


def batch(conn, sku_id: int, batch_no: str) -> dict:
    return conn.execute("SELECT batch_id, expiry_date, quantity_on_hand, cost_price::text AS cost FROM "
                        "Inventory_Batches WHERE sku_id = %s AND batch_no = %s", (sku_id, batch_no)).fetchone()


def nothing_received(conn) -> bool:
    lines = conn.execute("SELECT sum(quantity_received) AS n FROM Purchase_Order_Lines").fetchone()["n"]
    return lines == 0 and receipts(conn) == []


async def test_receiving_in_parts_creates_batches_at_the_line_cost_until_the_order_is_received(client, conn, order):
    headers, lines = await staff(client), line_ids(order)
    path = f"/api/admin/purchase-orders/{order['po_id']}/receive"
    first = await ok(await client.post(path, json=receipt([(lines[3], "P-1", 6), (lines[2], "Q-1", 4)],
                                                          note="pallet 1"), headers=headers))
    assert first["status"] == "partly_received"
    assert [(ln["sku_id"], ln["received"], ln["outstanding"]) for ln in first["lines"]] == [(3, 6, 4), (2, 4, 0)]
    assert (batch(conn, 3, "P-1")["quantity_on_hand"], batch(conn, 3, "P-1")["cost"]) == (6, "1.20")
    assert (batch(conn, 2, "Q-1")["quantity_on_hand"], batch(conn, 2, "Q-1")["cost"]) == (4, "19.50")
    assert receipts(conn) == [(lines[3], "P-1", 6, "receipt", f"purchase order #{order['po_id']}: pallet 1"),
                              (lines[2], "Q-1", 4, "receipt", f"purchase order #{order['po_id']}: pallet 1")]
    # the rest, in two batches of the same line, one of them the batch already received
    done = await ok(await client.post(path, json=receipt([(lines[3], "P-1", 1), (lines[3], "P-2", 3)]),
                                      headers=headers))
    assert (done["status"], done["closed_at"] is not None) == ("received", True)
    assert [(ln["received"], ln["outstanding"], ln["over_delivered"]) for ln in done["lines"]] == [(10, 0, 0), (4, 0, 0)]
    assert (batch(conn, 3, "P-1")["quantity_on_hand"], batch(conn, 3, "P-2")["quantity_on_hand"]) == (7, 3)
    assert conn.execute("SELECT incoming FROM Incoming_Stock").fetchall() == []
    entries = conn.execute("SELECT action, entity_id, after FROM Audit_Log WHERE action IN "
                           "('purchase_order.receive', 'batch.receive') ORDER BY audit_id").fetchall()
    assert [e["action"] for e in entries] == ["batch.receive", "batch.receive", "purchase_order.receive",
                                              "batch.receive", "batch.receive", "purchase_order.receive"]
    assert (entries[2]["after"]["status"], [r["batch_no"] for r in entries[2]["after"]["received"]]) == \
        ("partly_received", ["P-1", "Q-1"])
    # a received order takes more only as an accepted over-delivery
    again = await client.post(path, json=receipt([(lines[3], "P-3", 1)]), headers=headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "over_delivery")
    extra = await ok(await client.post(path, json=receipt([(lines[3], "P-3", 1)], accept_over_delivery=True),
                                       headers=headers))
    assert (extra["status"], extra["closed_at"], extra["lines"][0]["over_delivered"]) == \
        ("received", done["closed_at"], 1)
    assert broken(conn) == {}


async def test_an_order_closed_short_receives_nothing_more(client, conn, order):
    headers, lines = await staff(client), line_ids(order)
    path = f"/api/admin/purchase-orders/{order['po_id']}"
    await ok(await client.post(f"{path}/receive", json=receipt([(lines[3], "P-1", 2)]), headers=headers))
    await ok(await client.post(f"{path}/close", headers=headers))
    late = await client.post(f"{path}/receive", json=receipt([(lines[3], "P-1", 8)], accept_over_delivery=True),
                             headers=headers)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "invalid_transition")
    assert batch(conn, 3, "P-1")["quantity_on_hand"] == 2


async def test_a_delivery_tops_up_a_batch_in_stock_at_the_weighted_average_cost(client, conn, order, world):
    c1 = batch(conn, 3, "C-1")  # 4 units at 1.00, expiring in 30 days
    answer = await client.post(f"/api/admin/purchase-orders/{order['po_id']}/receive", json={"lines": [{
        "po_line_id": line_ids(order)[3], "batch_no": "C-1", "expiry_date": c1["expiry_date"].isoformat(),
        "quantity": 4}]}, headers=await staff(client))
    await ok(answer)
    assert (stock(conn, world["c"]), batch(conn, 3, "C-1")["cost"]) == (8, "1.10")
    assert receipts(conn)[0][:3] == (line_ids(order)[3], "C-1", 4)
    assert broken(conn) == {}


async def test_over_delivery_is_refused_unless_accepted(client, conn, order):
    headers, lines = await staff(client), line_ids(order)
    path = f"/api/admin/purchase-orders/{order['po_id']}/receive"
    await ok(await client.post(path, json=receipt([(lines[3], "P-1", 8)]), headers=headers))
    refused = await client.post(path, json=receipt([(lines[3], "P-1", 2), (lines[3], "P-2", 1),
                                                    (lines[2], "Q-1", 4)]), headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "over_delivery")
    assert refused.json()["error"]["details"] == {"lines": [
        {"po_line_id": lines[3], "sku_id": 3, "ordered": 10, "received": 8, "arriving": 3}]}
    assert batch(conn, 2, "Q-1") is None and batch(conn, 3, "P-1")["quantity_on_hand"] == 8
    accepted = await ok(await client.post(path, json=receipt([(lines[3], "P-1", 2), (lines[3], "P-2", 1),
                                                              (lines[2], "Q-1", 4)], accept_over_delivery=True),
                                          headers=headers))
    assert accepted["status"] == "received"
    assert [(ln["received"], ln["outstanding"], ln["over_delivered"]) for ln in accepted["lines"]] == \
        [(11, 0, 1), (4, 0, 0)]
    assert broken(conn) == {}


@pytest.mark.parametrize(("line", "status", "code"), [
    ({"expiry_date": TODAY.isoformat()}, 422, "expiry_not_sellable"),
    ({"expiry_date": (TODAY - timedelta(days=3)).isoformat()}, 422, "expiry_not_sellable"),
    ({"po_line_id": 999_999}, 422, "unknown_po_line"),
    ({"quantity": 0}, 422, "validation_error"),
    ({"batch_no": "-bad"}, 422, "validation_error"),
    ({"batch_no": "C-1"}, 409, "batch_expiry_mismatch"),  # SKU 3's C-1 expires in 30 days, not 365
])
async def test_a_refused_line_refuses_the_whole_delivery(client, conn, order, line, status, code):
    lines = line_ids(order)
    good = {"po_line_id": lines[2], "batch_no": "Q-1", "expiry_date": (TODAY + timedelta(days=365)).isoformat(),
            "quantity": 2}
    bad = good | {"po_line_id": lines[3], "batch_no": "P-1"} | line
    answer = await client.post(f"/api/admin/purchase-orders/{order['po_id']}/receive",
                               json={"lines": [good, bad]}, headers=await staff(client))
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
    assert nothing_received(conn) and batch(conn, 2, "Q-1") is None
    assert conn.execute("SELECT status FROM Purchase_Orders").fetchone()["status"] == "sent"


async def test_the_minimum_shelf_life_sets_the_first_acceptable_expiry(settings, world, conn):
    from tests.conftest import serve

    async with serve(settings.with_overrides(min_shelf_life_days=60)) as http:
        headers = await staff(http)
        alpha = await supplier(http, headers)
        await supplies(http, headers, alpha["supplier_id"], 3, "1.20")
        order = await sent_order(http, headers, alpha["supplier_id"], {3: 5})
        path = f"/api/admin/purchase-orders/{order['po_id']}/receive"
        short = await http.post(path, json=receipt([(line_ids(order)[3], "P-1", 5)], days=60), headers=headers)
        assert (short.status_code, short.json()["error"]["details"]["sellable_after"]) == \
            (422, (business_day() + timedelta(days=60)).isoformat())
        await ok(await http.post(path, json=receipt([(line_ids(order)[3], "P-1", 5)], days=61), headers=headers))


async def test_two_staff_receiving_the_same_delivery_at_once_receive_it_once(client, conn, order, clean_db):
    headers, lines = await staff(client), line_ids(order)
    body = receipt([(lines[3], "P-1", 10), (lines[2], "Q-1", 4)])
    path = f"/api/admin/purchase-orders/{order['po_id']}/receive"
    # a rival holds the order's row, so both requests are sure to be in flight and queued on it
    with psycopg.connect(clean_db) as rival:
        rival.execute("SELECT 1 FROM Purchase_Orders WHERE po_id = %s FOR UPDATE", (order["po_id"],))
        requests = [asyncio.create_task(client.post(path, json=body, headers=headers)) for _ in range(2)]
        await wait_until_waiting(clean_db, 2, tuple(requests))
        rival.commit()
        answers = await asyncio.gather(*requests)
    assert sorted(a.status_code for a in answers) == [200, 409]
    [refused] = [a for a in answers if a.status_code == 409]
    assert refused.json()["error"]["code"] == "over_delivery"
    received = conn.execute("SELECT po_line_id, quantity_received FROM Purchase_Order_Lines ORDER BY po_line_id"
                            ).fetchall()
    assert [(r["po_line_id"], r["quantity_received"]) for r in received] == [(lines[3], 10), (lines[2], 4)]
    ledger = conn.execute("SELECT po_line_id, sum(quantity_delta)::int AS units FROM Stock_Movements "
                          "WHERE po_line_id IS NOT NULL GROUP BY po_line_id ORDER BY po_line_id").fetchall()
    assert [(r["po_line_id"], r["units"]) for r in ledger] == [(lines[3], 10), (lines[2], 4)]
    assert (batch(conn, 3, "P-1")["quantity_on_hand"], batch(conn, 2, "Q-1")["quantity_on_hand"]) == (10, 4)
    assert broken(conn) == {}
