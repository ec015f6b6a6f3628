"""Quarantine through the real app on a real PostgreSQL: staff put a batch on hold and release
it (status history, audit, the ledger untouched); a batch in an open recall is moved only by
the recall; and a quarantined batch is never sellable on any path (catalog, cached listing
included, cart, checkout, direct and staff orders, PharmAssist's batch orders, quick order,
reports), from the moment the quarantine commits, even against an order racing it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest

from stockline.invariants import check_invariants
from tests.conftest import serve
from tests.ordering_world import PASSWORD, TODAY, bearer, receive, stock
from tests.races import wait_until_waiting
from tests.web_support import HTML, sign_in_by_form

QUARANTINE = "/api/admin/inventory/batches/{}/quarantine"
RELEASE = "/api/admin/inventory/batches/{}/release"
BATCH = "/api/admin/inventory/batches/{}"


@pytest.fixture
async def staff(client, world):
    return await bearer(client, "staffer")


def broken(conn) -> dict[str, list]:
    return {r.name: r.offenders for r in check_invariants(conn) if not r.holds}


def history(conn, batch_id: int) -> list[tuple]:
    rows = conn.execute("SELECT quarantined, reason, user_id, recall_id FROM Batch_Status_Changes "
                        "WHERE batch_id = %s ORDER BY change_id", (batch_id,)).fetchall()
    return [(r["quarantined"], r["reason"], r["user_id"], r["recall_id"]) for r in rows]


def audit_entries(conn, action: str) -> list[dict]:
    return conn.execute("SELECT * FROM Audit_Log WHERE action = %s ORDER BY audit_id", (action,)).fetchall()


def movement_count(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM Stock_Movements").fetchone()["n"]


def recall(conn, batch_id: int) -> int:
    """A batch recalled as the recall service does it: an open recall (numbered in its gapless
    series) naming the batch, the batch on hold with a status row naming the recall."""
    recall_id = conn.execute(
        "INSERT INTO Recalls (recall_no, recall_class, reason, initiated_by) "
        "SELECT document_no, 2, 'contaminated', 4 FROM stockline_take_document_number('RCL', %s) "
        "RETURNING recall_id", (TODAY,)).fetchone()["recall_id"]
    conn.execute("INSERT INTO Recall_Batches (recall_id, batch_id, on_hand_at_recall) "
                 "SELECT %s, batch_id, quantity_on_hand FROM Inventory_Batches WHERE batch_id = %s",
                 (recall_id, batch_id))
    conn.execute("UPDATE Inventory_Batches SET quarantined = true WHERE batch_id = %s", (batch_id,))
    conn.execute("INSERT INTO Batch_Status_Changes (batch_id, quarantined, reason, recall_id, user_id, ledger_position) "
                 "SELECT %s, true, 'recall', %s, 4, coalesce(max(movement_id), 0) FROM Stock_Movements "
                 "WHERE batch_id = %s",
                 (batch_id, recall_id, batch_id))
    return recall_id


# --- quarantine and release ----------------------------------------------------------------

async def test_quarantine_holds_the_batch_records_who_and_why_and_leaves_the_ledger(client, staff, conn, world):
    moves = movement_count(conn)
    response = await client.post(QUARANTINE.format(world["a_later"]), json={"reason": "  Temperature excursion "},
                                 headers=staff)
    assert response.status_code == 200, response.text
    batch = response.json()
    assert (batch["batch_id"], batch["batch_no"], batch["quarantined"], batch["quantity_on_hand"],
            batch["open_recall"]) == (world["a_later"], "A-LATER", True, 20, None)
    [change] = batch["status_history"]["items"]
    assert (change["quarantined"], change["reason"], change["username"], change["recall_id"]) \
        == (True, "Temperature excursion", "staffer", None)
    assert batch["status_history"]["total_items"] == 1
    assert history(conn, world["a_later"]) == [(True, "Temperature excursion", 4, None)]
    assert (movement_count(conn), stock(conn, world["a_later"])) == (moves, 20)  # the ledger does not move
    [entry] = audit_entries(conn, "batch.quarantine")
    assert (entry["entity_type"], entry["entity_id"], entry["actor_username"]) == ("batch", world["a_later"], "staffer")
    assert (entry["before"]["quarantined"], entry["after"]["quarantined"], entry["after"]["reason"]) \
        == (False, True, "Temperature excursion")
    assert (await client.get(BATCH.format(world["a_later"]), headers=staff)).json() == batch
    assert broken(conn) == {}


async def test_release_makes_it_sellable_again_and_the_history_keeps_both(client, staff, conn, world):
    await client.post(QUARANTINE.format(world["b"]), json={"reason": "Damaged outer cartons"}, headers=staff)
    response = await client.post(RELEASE.format(world["b"]), json={"reason": "Inspected: fine"}, headers=staff)
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["quarantined"] is False
    assert [(c["quarantined"], c["reason"]) for c in batch["status_history"]["items"]] \
        == [(False, "Inspected: fine"), (True, "Damaged outer cartons")]  # newest first
    [entry] = audit_entries(conn, "batch.release")
    assert (entry["before"]["quarantined"], entry["after"]["quarantined"]) == (True, False)
    customer = await bearer(client, "cust_2")
    placed = await client.post("/api/orders", json={"sku_id": 2, "quantity": 3}, headers=customer)
    assert placed.status_code == 201, placed.text
    assert broken(conn) == {}


async def test_holding_a_held_batch_or_releasing_a_free_one_is_409_and_writes_nothing(client, staff, conn, world):
    free = await client.post(RELEASE.format(world["b"]), json={"reason": "why not"}, headers=staff)
    assert (free.status_code, free.json()["error"]["code"]) == (409, "batch_not_quarantined")
    await client.post(QUARANTINE.format(world["b"]), json={"reason": "first"}, headers=staff)
    again = await client.post(QUARANTINE.format(world["b"]), json={"reason": "second"}, headers=staff)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "batch_already_quarantined")
    assert history(conn, world["b"]) == [(True, "first", 4, None)]
    assert len(audit_entries(conn, "batch.quarantine")) == 1
    assert audit_entries(conn, "batch.release") == []


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501},
                                  {"reason": "nul \u0000"}, {"reason": "ok", "extra": 1}, {"reason": 5}])
async def test_a_reason_is_required_plain_and_short(client, staff, conn, world, body):
    for path in (QUARANTINE, RELEASE):
        response = await client.post(path.format(world["b"]), json=body, headers=staff)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"]
    assert history(conn, world["b"]) == []


async def test_unknown_batches_are_404(client, staff):
    for path in (QUARANTINE, RELEASE):
        response = await client.post(path.format(999), json={"reason": "x"}, headers=staff)
        assert response.status_code == 404
    assert (await client.get(BATCH.format(999), headers=staff)).status_code == 404


async def test_only_staff_hold_release_or_read_a_batch(client, world, conn):
    customer = await bearer(client, "cust_1")
    for method, path in (("POST", QUARANTINE), ("POST", RELEASE), ("GET", BATCH)):
        body = {"reason": "x"} if method == "POST" else None
        assert (await client.request(method, path.format(world["b"]), json=body, headers=customer)).status_code == 403
        assert (await client.request(method, path.format(world["b"]), json=body)).status_code == 401
    admin = await bearer(client, "boss")
    assert (await client.post(QUARANTINE.format(world["b"]), json={"reason": "x"}, headers=admin)).status_code == 200
    assert history(conn, world["b"]) == [(True, "x", 5, None)]


async def test_the_batch_list_says_which_batches_are_held(client, staff, world):
    await client.post(QUARANTINE.format(world["a_soon"]), json={"reason": "x"}, headers=staff)
    page = (await client.get("/api/admin/inventory?sku_id=1&limit=50", headers=staff)).json()
    held = {item["batch_no"]: item["quarantined"] for item in page["items"]}
    assert held["A-SOON"] is True and held["A-LATER"] is False


# --- a recalled batch: released never, moved only by the recall ----------------------------

async def test_a_recalled_batch_is_never_released_adjusted_written_off_edited_received_or_deleted(
        client, staff, conn, world):
    recall_id = recall(conn, world["a_later"])
    batch = (await client.get(BATCH.format(world["a_later"]), headers=staff)).json()
    recall_no = f"RCL-{TODAY.year}-000001"
    assert (batch["quarantined"], batch["open_recall"]) == (True, {"recall_id": recall_id, "recall_no": recall_no})
    assert batch["status_history"]["items"][0]["recall_no"] == recall_no
    path = f"/api/admin/inventory/batches/{world['a_later']}"
    attempts = {
        "release": await client.post(f"{path}/release", json={"reason": "x"}, headers=staff),
        "adjust": await client.post(f"{path}/adjust", json={"delta": -2, "reason": "damaged"}, headers=staff),
        "edit": await client.patch(path, json={"expiry_date": str(TODAY + timedelta(days=900))}, headers=staff),
        "receive": await client.post("/api/admin/inventory/batches", headers=staff, json={
            "sku_id": 1, "batch_no": "A-LATER", "quantity": 5, "cost_price": "7.00",
            "expiry_date": str(TODAY + timedelta(days=100))}),
        "delete": await client.delete(path, headers=staff),
    }
    codes = {name: (r.status_code, r.json()["error"]["code"]) for name, r in attempts.items()}
    assert codes == {"release": (409, "batch_recalled"), "adjust": (409, "batch_under_recall"),
                     "edit": (409, "batch_under_recall"), "receive": (409, "batch_under_recall"),
                     "delete": (409, "batch_quarantined")}
    assert stock(conn, world["a_later"]) == 20
    assert conn.execute("SELECT count(*) AS n FROM Batch_Edits").fetchone()["n"] == 0
    assert broken(conn) == {}


async def test_a_batch_stays_on_hold_after_its_recall_closed(client, staff, conn, world):
    recall_id = recall(conn, world["a_empty"])  # holds nothing, so its recall may close
    conn.execute("UPDATE Recalls SET status = 'closed', closed_at = now() WHERE recall_id = %s", (recall_id,))
    refused = await client.post(f"/api/admin/inventory/batches/{world['a_empty']}/release", json={"reason": "x"},
                                headers=staff)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "batch_recalled")
    assert conn.execute("SELECT quarantined FROM Inventory_Batches WHERE batch_id = %s",
                        (world["a_empty"],)).fetchone()["quarantined"] is True


async def test_an_expired_recalled_batch_is_left_to_the_recall_by_every_write_off(client, staff, conn, world):
    recall(conn, world["a_expired"])
    path = f"/api/admin/inventory/batches/{world['a_expired']}/write-off"
    refused = await client.post(path, json={}, headers=staff)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "batch_under_recall")
    bulk = await client.post("/api/admin/inventory/write-off-expired", json={}, headers=staff)
    assert bulk.status_code == 200
    assert world["a_expired"] not in bulk.json()["batch_ids"]
    assert stock(conn, world["a_expired"]) == 50


async def test_a_held_batch_may_be_counted_and_corrected_but_never_deleted(client, staff, conn, world):
    await client.post(QUARANTINE.format(world["d"]), json={"reason": "check"}, headers=staff)
    path = f"/api/admin/inventory/batches/{world['d']}"
    adjusted = await client.post(f"{path}/adjust", json={"new_quantity": 8, "reason": "count_correction"},
                                 headers=staff)
    assert adjusted.status_code == 200 and adjusted.json()["quarantined"] is True
    deleted = await client.delete(path, headers=staff)
    assert (deleted.status_code, deleted.json()["error"]["code"]) == (409, "batch_quarantined")
    fresh = receive(conn, 4, "D-2", 50, 3)
    await client.post(QUARANTINE.format(fresh), json={"reason": "check"}, headers=staff)
    await client.post(RELEASE.format(fresh), json={"reason": "fine"}, headers=staff)
    kept = await client.delete(f"/api/admin/inventory/batches/{fresh}", headers=staff)
    assert (kept.status_code, kept.json()["error"]["code"]) == (409, "batch_in_use")  # its history stays


# --- never sellable, on any path ------------------------------------------------------------

def _item(page: dict, sku_id: int) -> dict:
    return next(item for item in page["items"] if item["sku_id"] == sku_id)


async def test_the_catalog_and_its_cached_listing_drop_the_held_stock_at_once(client, staff, world):
    customer = await bearer(client, "cust_1")
    listing = (await client.get("/api/products", headers=customer)).json()
    cached = await client.get("/api/products", headers=customer)
    etag = cached.headers["etag"]
    assert (await client.get("/api/products", headers=customer | {"If-None-Match": etag})).status_code == 304
    detail = (await client.get("/api/products/1", headers=customer)).json()
    assert "A-LATER" in [b["batch_no"] for b in detail["batches"]]

    await client.post(QUARANTINE.format(world["a_later"]), json={"reason": "x"}, headers=staff)
    fresh = await client.get("/api/products", headers=customer | {"If-None-Match": etag})
    assert fresh.status_code == 200  # the version moved: the cached answer is not served
    assert _item(fresh.json(), 1)["total_on_hand"] == _item(listing, 1)["total_on_hand"] - 20
    detail = (await client.get("/api/products/1", headers=customer)).json()
    assert "A-LATER" not in [b["batch_no"] for b in detail["batches"]]
    assert detail["total_on_hand"] == _item(listing, 1)["total_on_hand"] - 20

    await client.post(RELEASE.format(world["a_later"]), json={"reason": "x"}, headers=staff)
    back = (await client.get("/api/products", headers=customer)).json()
    assert _item(back, 1)["total_on_hand"] == _item(listing, 1)["total_on_hand"]


async def test_cart_checkout_and_direct_orders_never_take_a_held_batch(client, staff, conn, world):
    await client.post(QUARANTINE.format(world["b"]), json={"reason": "x"}, headers=staff)  # SKU 2's only batch
    customer = await bearer(client, "cust_2")
    cart = await client.post("/api/cart", json={"sku_id": 2, "quantity": 1}, headers=customer)
    assert (cart.status_code, cart.json()["error"]["code"]) == (409, "insufficient_stock")
    direct = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=customer)
    assert (direct.status_code, direct.json()["error"]["code"]) == (409, "insufficient_stock")
    for_customer = await client.post("/api/orders", json={"sku_id": 2, "quantity": 1, "customer_id": 2},
                                     headers=staff)
    assert (for_customer.status_code, for_customer.json()["error"]["code"]) == (409, "insufficient_stock")

    # a cart filled before the hold: the checkout takes the other batches, first expiry first
    assert (await client.post("/api/cart", json={"sku_id": 1, "quantity": 8}, headers=customer)).status_code == 200
    await client.post(QUARANTINE.format(world["a_soon"]), json={"reason": "x"}, headers=staff)
    placed = await client.post("/api/checkout", headers=customer)
    assert placed.status_code == 201, placed.text
    assert {item["batch_no"] for item in placed.json()["items"]} == {"A-LATER"}
    assert (await client.post("/api/cart", json={"sku_id": 1, "quantity": 13}, headers=customer)).status_code == 409
    assert (stock(conn, world["a_soon"]), stock(conn, world["b"])) == (5, 30)


async def test_pharmassist_batch_orders_refuse_a_held_batch_as_unavailable(settings, world, conn):
    async with serve(settings.with_overrides(pharmassist_compat=True)) as api:
        staff = await bearer(api, "staffer")
        customer = await bearer(api, "cust_2")
        await api.post(QUARANTINE.format(world["b"]), json={"reason": "x"}, headers=staff)
        refused = await api.post("/api/orders", json={"batch_id": world["b"], "quantity": 1}, headers=customer)
        assert refused.status_code == 409, refused.text
        await api.post(RELEASE.format(world["b"]), json={"reason": "x"}, headers=staff)
        placed = await api.post("/api/orders", json={"batch_id": world["b"], "quantity": 1}, headers=customer)
        assert placed.status_code == 201, placed.text
    assert stock(conn, world["b"]) == 29


async def test_pharmassist_batch_updates_leave_a_recalled_batch_alone(settings, world, conn):
    recall(conn, world["b"])
    async with serve(settings.with_overrides(pharmassist_compat=True)) as api:
        staff = await bearer(api, "staffer")
        update = await api.put(BATCH.format(world["b"]), json={"quantity_on_hand": 0}, headers=staff)
        assert update.status_code == 409, update.text
    assert stock(conn, world["b"]) == 30


async def test_quick_order_counts_a_held_batch_out_of_stock(client, staff, world):
    await client.post(QUARANTINE.format(world["b"]), json={"reason": "x"}, headers=staff)
    csrf = await sign_in_by_form(client, "cust_2", PASSWORD)
    answer = await client.post("/quick-order", headers=HTML,
                               data={"lines": "AMOX-2 2", "action": "add", "csrf_token": csrf})
    assert answer.status_code == 422
    assert "Out of stock" in answer.text


async def test_reports_count_a_held_batch_as_unavailable(client, staff, world):
    before = (await client.get("/api/admin/reports/low-stock", headers=staff)).json()
    assert 2 not in [item["sku_id"] for item in before["items"]]
    await client.post(QUARANTINE.format(world["b"]), json={"reason": "x"}, headers=staff)
    after = (await client.get("/api/admin/reports/low-stock", headers=staff)).json()
    assert _item(after, 2)["available"] == 0
    valuation = (await client.get("/api/admin/reports/stock-valuation", headers=staff)).json()
    row = _item(valuation, 2)
    assert (row["units_on_hand"], row["sellable_units"]) == (30, 0)
    assert (row["quarantined_units"], row["quarantined_value"]) == (30, "600.00")  # at 20.00 a unit
    assert valuation["total_quarantined_value"] == "600.00"


# --- the race: an order racing the quarantine committed before it or cannot take the batch ---

def _sold_before_the_hold(conn, batch_id: int, received: int) -> int:
    """The units sold from the batch, proven to be exactly those sold before the quarantine
    read it under the SKU lock. The quarantine's audit entry says what the batch held at that moment; the race is right
    when every sale of the batch is counted in it and none came after."""
    [entry] = conn.execute("SELECT before FROM Audit_Log WHERE action = 'batch.quarantine' AND entity_id = %s",
                           (batch_id,)).fetchall()
    sold = conn.execute("SELECT coalesce(-sum(quantity_delta), 0)::int AS n FROM Stock_Movements "
                        "WHERE batch_id = %s AND reason = 'sale'", (batch_id,)).fetchone()["n"]
    assert stock(conn, batch_id) == entry["before"]["quantity_on_hand"] == received - sold
    return sold


@pytest.mark.parametrize("first", ["checkout", "quarantine"])
async def test_an_order_queued_behind_the_sku_lock_with_a_quarantine(client, staff, conn, clean_db, world, first):
    """Both wait for a rival holding SKU 2's lock; whichever the lock lets in first, the
    order took the batch only if it committed before the quarantine read it."""
    customer = await bearer(client, "cust_2")
    assert (await client.post("/api/cart", json={"sku_id": 2, "quantity": 4}, headers=customer)).status_code == 200
    racing = receive(conn, 2, "B-RACE", 100, 6)  # expires before B-1: the order's first choice
    requests = {"checkout": lambda: client.post("/api/checkout", headers=customer),
                "quarantine": lambda: client.post(QUARANTINE.format(racing), json={"reason": "x"}, headers=staff)}
    second = "quarantine" if first == "checkout" else "checkout"
    with psycopg.connect(clean_db) as rival:
        rival.execute("SELECT * FROM stockline_lock_skus(ARRAY[2])")
        tasks = {first: asyncio.create_task(requests[first]())}
        await wait_until_waiting(clean_db, 1, tuple(tasks.values()))
        tasks[second] = asyncio.create_task(requests[second]())
        await wait_until_waiting(clean_db, 2, tuple(tasks.values()))
        rival.commit()
        answers = {name: await task for name, task in tasks.items()}
    assert answers["checkout"].status_code == 201, answers["checkout"].text
    assert answers["quarantine"].status_code == 200, answers["quarantine"].text
    sold = _sold_before_the_hold(conn, racing, 6)
    # waiters for one row lock are let in in the order they came (PostgreSQL's tuple lock)
    assert sold == (4 if first == "checkout" else 0)
    taken = {item["batch_no"]: item["quantity"] for item in answers["checkout"].json()["items"]}
    assert taken == ({"B-RACE": 4} if sold else {"B-1": 4})
    assert broken(conn) == {}


async def test_orders_and_quarantines_racing_freely_never_sell_held_stock(client, staff, conn, world):
    """Rounds of a direct order and a quarantine sent at once: every round, the batch's sales
    are exactly those counted before the quarantine took the lock, and none after."""
    customer = await bearer(client, "cust_2")
    receive(conn, 2, "B-BIG", 300, 1000)
    for round_no in range(20):
        racing = receive(conn, 2, f"R-{round_no}", 100, 3)
        order, held = await asyncio.gather(
            client.post("/api/orders", json={"sku_id": 2, "quantity": 2}, headers=customer),
            client.post(QUARANTINE.format(racing), json={"reason": "x"}, headers=staff))
        assert (order.status_code, held.status_code) == (201, 200), (order.text, held.text)
        sold = _sold_before_the_hold(conn, racing, 3)
        taken = {item["batch_no"] for item in order.json()["items"]}
        assert (f"R-{round_no}" in taken) == bool(sold) and sold in (0, 2)
    assert broken(conn) == {}
