"""Back-office inventory: receiving, adjusting, writing off, editing and deleting batches;
the inventory view with its ETag; the stock ledger list. The ledger invariant is checked
after every kind of change."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from stockline.errors import Conflict, ValidationFailed
from stockline.invariants import check_invariants
from stockline.inventory.batches import service as batches
from stockline.kernel.identity import CurrentUser
from tests.ordering_world import TODAY, bearer, stock
from tests.races import wait_until_blocked

RECEIPT = {"sku_id": 3, "batch_no": "C-NEW-1", "quantity": 40, "expiry_date": str(TODAY + timedelta(days=400)),
           "cost_price": "1.10"}


@pytest.fixture
async def staff(client, world):
    return await bearer(client, "staffer")


def assert_ledger_holds(conn) -> None:
    broken = {r.name: r.offenders for r in check_invariants(conn) if not r.holds}
    assert broken == {}


def movements(conn, batch_id: int) -> list[tuple]:
    rows = conn.execute("SELECT quantity_delta, reason, user_id, note FROM Stock_Movements WHERE batch_id = %s "
                        "ORDER BY movement_id", (batch_id,)).fetchall()
    return [(r["quantity_delta"], r["reason"], r["user_id"], r["note"]) for r in rows]


# --- receive -------------------------------------------------------------------------------

async def test_receiving_a_new_batch_writes_its_receipt(client, staff, conn):
    response = await client.post("/api/admin/inventory/batches", json=RECEIPT, headers=staff)
    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["batch_no"], batch["quantity_on_hand"], batch["cost_price"], batch["sku_code"], batch["created"]) \
        == ("C-NEW-1", 40, "1.10", "PARA-3", True)
    assert movements(conn, batch["batch_id"]) == [(40, "receipt", 4, None)]
    assert_ledger_holds(conn)


async def test_receiving_more_of_a_batch_by_sku_code_adds_stock(client, staff, conn, world):
    first = (await client.post("/api/admin/inventory/batches", json=RECEIPT, headers=staff)).json()
    more = RECEIPT | {"sku_id": None, "sku_code": "PARA-3", "quantity": 10, "cost_price": "1.60"}
    response = await client.post("/api/admin/inventory/batches", json=more, headers=staff)
    assert response.status_code == 200
    batch = response.json()
    assert (batch["batch_id"], batch["quantity_on_hand"], batch["created"]) == (first["batch_id"], 50, False)
    assert batch["cost_price"] == "1.20"  # (40 x 1.10 + 10 x 1.60) / 50
    edits = conn.execute("SELECT field, old_value, new_value FROM Batch_Edits").fetchall()
    assert [(e["field"], e["old_value"], e["new_value"]) for e in edits] == [("cost_price", "1.10", "1.20")]
    assert_ledger_holds(conn)


async def test_receiving_a_known_batch_number_with_another_expiry_is_refused(client, staff, conn):
    await client.post("/api/admin/inventory/batches", json=RECEIPT, headers=staff)
    other = RECEIPT | {"expiry_date": str(TODAY + timedelta(days=500))}
    response = await client.post("/api/admin/inventory/batches", json=other, headers=staff)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "batch_expiry_mismatch"
    assert conn.execute("SELECT sum(quantity_on_hand) AS n FROM Inventory_Batches WHERE sku_id = 3").fetchone()["n"] == 44


@pytest.mark.parametrize(("change", "status"), [
    ({"quantity": 0}, 422), ({"quantity": -5}, 422), ({"cost_price": "-1"}, 422), ({"cost_price": "1.005"}, 422),
    ({"expiry_date": "31/01/2029"}, 422), ({"expiry_date": "2029-02-30"}, 422), ({"batch_no": ""}, 422),
    ({"batch_no": "; DROP TABLE x"}, 422), ({"sku_id": None}, 422), ({"sku_code": "PARA-3"}, 422),
    ({"sku_id": 999}, 404), ({"extra": 1}, 422), ({"quantity": "many"}, 422),
])
async def test_bad_receipts_are_refused_and_change_nothing(client, staff, conn, change, status):
    before = conn.execute("SELECT count(*) AS n FROM Stock_Movements").fetchone()["n"]
    response = await client.post("/api/admin/inventory/batches", json=RECEIPT | change, headers=staff)
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert conn.execute("SELECT count(*) AS n FROM Stock_Movements").fetchone()["n"] == before


async def test_received_stock_is_in_the_catalog_at_once(client, staff):
    before = (await client.get("/api/products/3")).json()["total_on_hand"]
    await client.post("/api/admin/inventory/batches", json=RECEIPT, headers=staff)
    assert (await client.get("/api/products/3")).json()["total_on_hand"] == before + 40


# --- receive several at once (the plain-words entry's confirm) ----------------------------

STAFFER = CurrentUser(user_id=4, username="staffer", role="staff", customer_id=None, must_change_password=False)
LATER = TODAY + timedelta(days=400)


def _receive_many(client, receipts: list[batches.Receipt]):
    state = client._transport.app.state
    return batches.receive_many(state.context, STAFFER, receipts)


def _written(conn) -> dict[str, int]:
    return conn.execute("SELECT (SELECT count(*) FROM Inventory_Batches)::int AS batches, "
                        "(SELECT count(*) FROM Stock_Movements)::int AS moves, "
                        "(SELECT count(*) FROM Batch_Edits)::int AS edits, "
                        "(SELECT sum(quantity_on_hand) FROM Inventory_Batches)::int AS units").fetchone()


async def test_receive_many_receives_every_receipt_in_one_transaction(client, conn, world):
    receipts = [  # SKUs out of order; the same new batch twice; more of B-1 at another cost
        batches.Receipt("NEW-3", 10, LATER, Decimal("1.00"), sku_id=3, note="line 1"),
        batches.Receipt("B-1", 10, TODAY + timedelta(days=200), Decimal("24.00"), sku_code="AMOX-2"),
        batches.Receipt("NEW-1", 4, LATER, Decimal("2.00"), sku_id=1),
        batches.Receipt("NEW-3", 5, LATER, Decimal("1.00"), sku_id=3),
    ]
    results = await _receive_many(client, receipts)
    assert [(r["batch_no"], r["sku_code"], r["created"]) for r in results] == [
        ("NEW-3", "PARA-3", True), ("B-1", "AMOX-2", False), ("NEW-1", "AMOX-1", True), ("NEW-3", "PARA-3", False)]
    assert results[0]["quantity_on_hand"] == results[3]["quantity_on_hand"] == 15  # read back after commit
    assert (results[1]["quantity_on_hand"], results[1]["cost_price"]) == (40, "21.00")  # (30 x 20 + 10 x 24) / 40
    assert movements(conn, results[0]["batch_id"]) == [(10, "receipt", 4, "line 1"), (5, "receipt", 4, None)]
    stamps = conn.execute("SELECT DISTINCT created_at FROM Stock_Movements WHERE user_id = 4").fetchall()
    assert len(stamps) == 1  # now() is the transaction's start: all four movements were one transaction
    assert_ledger_holds(conn)


@pytest.mark.parametrize(("refused", "index", "status", "code"), [
    (batches.Receipt("A-SOON", 3, LATER, Decimal("6.00"), sku_id=1), 1, 409, "batch_expiry_mismatch"),
    (batches.Receipt("X-1", 3, LATER, Decimal("6.00"), sku_code="NOPE-9"), 1, 404, "not_found"),
])
async def test_receive_many_writes_nothing_when_one_receipt_is_refused(client, conn, world, refused, index,
                                                                       status, code):
    before = _written(conn)
    receipts = [
        batches.Receipt("B-1", 10, TODAY + timedelta(days=200), Decimal("24.00"), sku_id=2),  # a cost edit too
        refused,
        batches.Receipt("NEW-9", 5, LATER, Decimal("1.00"), sku_id=3),
    ]
    with pytest.raises(batches.ReceiptRefused) as refusal:
        await _receive_many(client, receipts)
    assert (refusal.value.index, refusal.value.status, refusal.value.code) == (index, status, code)
    assert refusal.value.message == refusal.value.cause.message
    assert _written(conn) == before  # no batch, no movement, no cost edit, no unit
    assert conn.execute("SELECT count(*) AS n FROM Inventory_Batches WHERE batch_no = 'NEW-9'").fetchone()["n"] == 0
    assert stock(conn, world["b"]) == 30
    assert_ledger_holds(conn)


async def test_receive_refuses_with_the_receipts_own_error(client, conn, world):
    state = client._transport.app.state
    with pytest.raises(Conflict) as refusal:
        await batches.receive(state.context, STAFFER,
                              batches.Receipt("A-SOON", 3, LATER, Decimal("6.00"), sku_id=1))
    assert not isinstance(refusal.value, batches.ReceiptRefused)
    assert refusal.value.code == "batch_expiry_mismatch"
    with pytest.raises(ValidationFailed):
        await _receive_many(client, [])


# --- adjust, write off ---------------------------------------------------------------------

async def test_adjusting_by_delta_and_to_a_count(client, staff, conn, world):
    batch_id = world["b"]
    response = await client.post(f"/api/admin/inventory/batches/{batch_id}/adjust",
                                 json={"delta": -3, "reason": "damaged", "note": "crushed box"}, headers=staff)
    assert response.status_code == 200 and response.json()["quantity_on_hand"] == 27
    response = await client.post(f"/api/admin/inventory/batches/{batch_id}/adjust",
                                 json={"new_quantity": 31, "reason": "count_correction"}, headers=staff)
    assert response.json()["quantity_on_hand"] == 31 and response.json()["delta"] == 4
    assert movements(conn, batch_id)[1:] == [(-3, "adjustment", 4, "damaged: crushed box"),
                                             (4, "adjustment", 4, "count_correction")]
    assert_ledger_holds(conn)


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"delta": -31, "reason": "damaged"}, 409, "stock_below_zero"),
    ({"new_quantity": 30, "reason": "count_correction"}, 409, "nothing_to_change"),
    ({"delta": 0, "reason": "other"}, 409, "nothing_to_change"),
    ({"delta": 1, "new_quantity": 2, "reason": "other"}, 422, "validation_error"),
    ({"reason": "other"}, 422, "validation_error"),
    ({"delta": 1, "reason": "because"}, 422, "validation_error"),
    ({"new_quantity": -1, "reason": "other"}, 422, "validation_error"),
])
async def test_bad_adjustments_are_refused(client, staff, conn, world, body, status, code):
    response = await client.post(f"/api/admin/inventory/batches/{world['b']}/adjust", json=body, headers=staff)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert stock(conn, world["b"]) == 30


async def test_adjusting_a_missing_batch_is_404(client, staff):
    response = await client.post("/api/admin/inventory/batches/9999/adjust", json={"delta": 1, "reason": "found"},
                                 headers=staff)
    assert response.status_code == 404


async def test_concurrent_adjustments_and_checkouts_never_lose_a_unit(client, staff, conn, world):
    customers = [await bearer(client, name) for name in ("cust_1", "cust_1b", "cust_2")]
    calls = []
    for round_no in range(6):
        calls.append(client.post(f"/api/admin/inventory/batches/{world['b']}/adjust",
                                 json={"delta": -2 if round_no % 2 else 3, "reason": "count_correction"},
                                 headers=staff))
        calls.append(client.post("/api/orders", json={"sku_id": 2, "quantity": 2},
                                 headers=customers[round_no % 3]))
    responses = await asyncio.gather(*calls)
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses if r.status_code >= 300]
    sold = conn.execute("SELECT sum(quantity_ordered) AS n FROM Order_Items WHERE batch_id = %s",
                        (world["b"],)).fetchone()["n"]
    assert stock(conn, world["b"]) == 30 + 3 * 3 - 2 * 3 - sold
    assert_ledger_holds(conn)


async def test_adjustment_waits_for_a_checkout_holding_the_sku(client, staff, conn, clean_db, world):
    with psycopg.connect(clean_db) as rival:
        rival.execute("SELECT 1 FROM Product_SKUs WHERE sku_id = 2 FOR NO KEY UPDATE")
        adjusting = asyncio.create_task(client.post(f"/api/admin/inventory/batches/{world['b']}/adjust",
                                                    json={"new_quantity": 0, "reason": "recall"}, headers=staff))
        await wait_until_blocked(clean_db, rival.info.backend_pid, adjusting)
        rival.execute("UPDATE Inventory_Batches SET quantity_on_hand = 25 WHERE batch_id = %s", (world["b"],))
        rival.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, -5, 'adjustment')",
                      (world["b"],))
        rival.commit()
        response = await adjusting
    assert response.json()["delta"] == -25  # computed from what the rival left, not from 30
    assert stock(conn, world["b"]) == 0
    assert_ledger_holds(conn)


async def test_writing_off_an_expired_batch(client, staff, conn, world):
    response = await client.post(f"/api/admin/inventory/batches/{world['a_expired']}/write-off", headers=staff)
    assert response.status_code == 200
    assert (response.json()["written_off"], response.json()["written_off_value"]) == (50, "50.00")
    assert movements(conn, world["a_expired"])[-1] == (-50, "write_off", 4, "expired")
    again = await client.post(f"/api/admin/inventory/batches/{world['a_expired']}/write-off", headers=staff)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "nothing_to_change")
    fresh = await client.post(f"/api/admin/inventory/batches/{world['b']}/write-off", headers=staff)
    assert (fresh.status_code, fresh.json()["error"]["code"]) == (409, "not_expired")
    assert_ledger_holds(conn)


async def test_bulk_write_off_takes_every_expired_batch_with_stock(client, staff, conn, world):
    response = await client.post("/api/admin/inventory/write-off-expired", json={"note": "quarterly"}, headers=staff)
    assert response.status_code == 200
    summary = response.json()
    # A-EXPIRED (50 units) and A-TODAY (7: it expires at the start of today)
    assert (summary["batches"], summary["units"], summary["value"]) == (2, 57, "57.00")
    assert stock(conn, world["a_expired"]) == 0 and stock(conn, world["a_today"]) == 0
    assert (await client.post("/api/admin/inventory/write-off-expired", headers=staff)).json()["batches"] == 0
    assert_ledger_holds(conn)


# --- edit, delete --------------------------------------------------------------------------

async def test_editing_cost_and_expiry_is_recorded(client, staff, conn, world):
    new_expiry = str(TODAY + timedelta(days=250))
    response = await client.patch(f"/api/admin/inventory/batches/{world['b']}",
                                  json={"cost_price": "21.50", "expiry_date": new_expiry, "note": "supplier fix"},
                                  headers=staff)
    assert response.status_code == 200
    assert (response.json()["cost_price"], response.json()["expiry_date"]) == ("21.50", new_expiry)
    edits = conn.execute("SELECT field, old_value, new_value, user_id, note FROM Batch_Edits ORDER BY edit_id").fetchall()
    assert [(e["field"], e["new_value"], e["user_id"], e["note"]) for e in edits] == [
        ("expiry_date", new_expiry, 4, "supplier fix"), ("cost_price", "21.50", 4, "supplier fix")]
    same = await client.patch(f"/api/admin/inventory/batches/{world['b']}", json={"cost_price": "21.50"},
                              headers=staff)
    assert same.status_code == 409
    empty = await client.patch(f"/api/admin/inventory/batches/{world['b']}", json={}, headers=staff)
    assert empty.status_code == 422


async def test_expiry_cannot_move_before_a_day_the_batch_was_sold(client, staff, conn, world):
    customer = await bearer(client, "cust_2")
    assert (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=customer)).status_code == 201
    response = await client.patch(f"/api/admin/inventory/batches/{world['b']}", json={"expiry_date": str(TODAY)},
                                  headers=staff)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "expiry_before_sale")
    assert_ledger_holds(conn)


async def test_only_an_untouched_batch_can_be_deleted(client, staff, conn, world):
    new = (await client.post("/api/admin/inventory/batches", json=RECEIPT, headers=staff)).json()
    assert (await client.delete(f"/api/admin/inventory/batches/{new['batch_id']}", headers=staff)).status_code == 204
    assert conn.execute("SELECT count(*) AS n FROM Inventory_Batches WHERE batch_id = %s",
                        (new["batch_id"],)).fetchone()["n"] == 0
    customer = await bearer(client, "cust_2")
    await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=customer)
    sold = await client.delete(f"/api/admin/inventory/batches/{world['b']}", headers=staff)
    assert (sold.status_code, sold.json()["error"]["code"]) == (409, "batch_in_use")
    assert "sold" in sold.json()["error"]["message"]
    await client.post(f"/api/admin/inventory/batches/{world['c']}/adjust", json={"delta": 1, "reason": "found"},
                      headers=staff)
    moved = await client.delete(f"/api/admin/inventory/batches/{world['c']}", headers=staff)
    assert moved.status_code == 409
    assert (await client.delete("/api/admin/inventory/batches/9999", headers=staff)).status_code == 404
    assert_ledger_holds(conn)


# --- views ---------------------------------------------------------------------------------

async def test_inventory_view_filters_searches_and_sorts(client, staff, world):
    async def batch_nos(**params):
        response = await client.get("/api/admin/inventory", params=params, headers=staff)
        assert response.status_code == 200, response.text
        return [b["batch_no"] for b in response.json()["items"]]

    assert await batch_nos(filter="expired") == ["A-EXPIRED", "A-TODAY"]
    assert await batch_nos(filter="expiring") == ["A-SOON", "C-1"]  # 10 and 30 days: inside the window
    assert await batch_nos(filter="low_stock") == ["C-1"]  # SKU 3: 4 available, reorder level 10
    assert await batch_nos(filter="critical") == ["C-1"]
    assert len(await batch_nos(filter="recent")) == 8
    assert await batch_nos(search="amox", sort="quantity") == [
        "A-EMPTY", "A-SOON", "A-TODAY", "A-LATER", "B-1", "A-EXPIRED"]
    assert await batch_nos(search="amox 3x10 later") == ["A-LATER"]
    assert await batch_nos(sku_id=2) == ["B-1"]
    page = (await client.get("/api/admin/inventory", params={"limit": 3, "page": 2}, headers=staff)).json()
    assert (page["total_items"], page["total_pages"], len(page["items"])) == (8, 3, 3)
    item = page["items"][0]
    assert {"sku_available", "reorder_level", "stock_value", "expired"} <= set(item)
    for bad in ({"filter": "bogus"}, {"sort": "price"}, {"limit": 0}, {"sku_id": "x"}):
        assert (await client.get("/api/admin/inventory", params=bad, headers=staff)).status_code == 422


async def test_inventory_etag_changes_with_quantity_and_expiry(client, staff, world):
    first = await client.get("/api/admin/inventory", headers=staff)
    etag = first.headers["etag"]
    assert (await client.get("/api/admin/inventory", headers=staff | {"If-None-Match": etag})).status_code == 304
    await client.post(f"/api/admin/inventory/batches/{world['b']}/adjust", json={"delta": -1, "reason": "damaged"},
                      headers=staff)
    after_quantity = await client.get("/api/admin/inventory", headers=staff | {"If-None-Match": etag})
    assert after_quantity.status_code == 200 and after_quantity.headers["etag"] != etag
    etag = after_quantity.headers["etag"]
    await client.patch(f"/api/admin/inventory/batches/{world['b']}",
                       json={"expiry_date": str(TODAY + timedelta(days=201))}, headers=staff)
    after_expiry = await client.get("/api/admin/inventory", headers=staff | {"If-None-Match": etag})
    assert after_expiry.status_code == 200 and after_expiry.headers["etag"] != etag


async def test_stock_movements_list_filters(client, staff, world):
    customer = await bearer(client, "cust_2")
    order = (await client.post("/api/orders", json={"sku_id": 1, "quantity": 7}, headers=customer)).json()
    by_order = (await client.get("/api/admin/stock-movements", params={"order_id": order["order_id"]},
                                 headers=staff)).json()
    assert [(m["batch_no"], m["quantity_delta"], m["reason"], m["username"]) for m in by_order["items"]] == [
        ("A-LATER", -2, "sale", "cust_2"), ("A-SOON", -5, "sale", "cust_2")]
    receipts = (await client.get("/api/admin/stock-movements", params={"reason": "receipt", "sku_id": 1},
                                 headers=staff)).json()
    assert receipts["total_items"] == 4
    by_batch = (await client.get("/api/admin/stock-movements", params={"batch_id": world["a_soon"]},
                                 headers=staff)).json()
    assert [m["reason"] for m in by_batch["items"]] == ["sale", "receipt"]
    future = (await client.get("/api/admin/stock-movements", params={"created_from": "2999-01-01T00:00:00Z"},
                               headers=staff)).json()
    assert future["total_items"] == 0
    for bad in ({"reason": "theft"}, {"created_from": "yesterday"}, {"batch_id": 0}):
        assert (await client.get("/api/admin/stock-movements", params=bad, headers=staff)).status_code == 422


# --- roles ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/admin/inventory/batches"), ("POST", "/api/admin/inventory/batches/1/adjust"),
    ("POST", "/api/admin/inventory/batches/1/write-off"), ("POST", "/api/admin/inventory/write-off-expired"),
    ("PATCH", "/api/admin/inventory/batches/1"), ("DELETE", "/api/admin/inventory/batches/1"),
    ("GET", "/api/admin/inventory"), ("GET", "/api/admin/stock-movements"),
])
async def test_inventory_routes_are_for_staff_only(client, world, conn, method, path):
    before = conn.execute("SELECT count(*) AS n FROM Stock_Movements").fetchone()["n"]
    assert (await client.request(method, path, json={})).status_code == 401
    customer = await bearer(client, "cust_1")
    response = await client.request(method, path, json={}, headers=customer)
    assert response.status_code == 403
    assert conn.execute("SELECT count(*) AS n FROM Stock_Movements").fetchone()["n"] == before
