"""Recalls through the real HTTP API on a real PostgreSQL: starting one quarantines its batches
and answers the trace (two customers, a split allocation, a pending and a cancelled order);
shipping refuses recalled stock; destruction, progress, closing, the CSV and the notice; a
checkout racing the recall; the customer's view of their recalls and orders."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from stockline.audit import record as audit
from tests.ordering_world import bearer, stock
from tests.races import wait_until_blocked, wait_until_waiting
from tests.returns_world import broken, ship, taxed


async def _order(client, customer: str, lines: dict[int, int]) -> dict:
    headers = await bearer(client, customer)
    for sku_id, quantity in lines.items():
        answer = await client.post("/api/cart", json={"sku_id": sku_id, "quantity": quantity}, headers=headers)
        assert answer.status_code == 200, answer.text
    placed = await client.post("/api/checkout", headers=headers)
    assert placed.status_code == 201, placed.text
    return placed.json()


async def recall_world(client, conn, world) -> dict:
    """cust_1: order 1 shipped, 7 of SKU 1 (A-SOON 5, A-LATER 2) and 1 of SKU 3; order 3 pending,
    2 of A-LATER. cust_2: order 2 shipped, 3 of A-LATER; order 4 of 1 cancelled. Then A-SOON and
    A-LATER are recalled (A-LATER holds 13)."""
    taxed(conn)
    first = await ship(client, (await _order(client, "cust_1", {1: 7, 3: 1}))["order_id"])
    second = await ship(client, (await _order(client, "cust_2", {1: 3}))["order_id"])
    pending = await _order(client, "cust_1", {1: 2})
    cancelled = await _order(client, "cust_2", {1: 1})
    staff = await bearer(client, "staffer")
    moved = await client.post(f"/api/admin/orders/{cancelled['order_id']}/status", json={"status": "cancelled"},
                              headers=staff)
    assert moved.status_code == 200, moved.text
    created = await client.post("/api/admin/recalls", json={
        "batch_ids": [world["a_later"], world["a_soon"]], "reason": "Capsules may contain glass particles",
        "class": 1}, headers=staff)
    assert created.status_code == 201, created.text
    return {"staff": staff, "recall": created.json(), "first": first, "second": second, "pending": pending,
            "cancelled": cancelled,
            "items": {(item["batch_no"]): item["order_item_id"] for item in first["items"]}}


async def test_a_recall_quarantines_its_batches_and_answers_the_trace(client, conn, world):
    w = await recall_world(client, conn, world)
    recall = w["recall"]
    assert recall["recall_no"].startswith("RCL-") and recall["recall_no"].endswith("-000001")
    assert recall["class"] == 1 and recall["status"] == "open"
    quarantined = conn.execute("SELECT batch_id, quarantined FROM Inventory_Batches WHERE batch_id = ANY(%s) "
                               "ORDER BY batch_id", ([world["a_soon"], world["a_later"]],)).fetchall()
    assert all(row["quarantined"] for row in quarantined)
    history = conn.execute("SELECT batch_id, recall_id FROM Batch_Status_Changes ORDER BY batch_id").fetchall()
    assert {(r["batch_id"], r["recall_id"]) for r in history} == {
        (world["a_soon"], recall["recall_id"]), (world["a_later"], recall["recall_id"])}

    batches = {b["batch_no"]: b for b in recall["batches"]}
    assert {k: (b["on_hand_at_recall"], b["on_hand"], b["delivered"], b["held"]) for k, b in batches.items()} == {
        "A-SOON": (0, 0, 5, 0), "A-LATER": (13, 13, 5, 2)}
    trace = {(t["order_id"], t["batch_no"]): (t["customer_id"], t["status"], t["quantity"], t["counted"])
             for t in recall["trace"]}
    first, second = w["first"]["order_id"], w["second"]["order_id"]
    pending, cancelled = w["pending"]["order_id"], w["cancelled"]["order_id"]
    assert trace == {(first, "A-SOON"): (1, "shipped", 5, True), (first, "A-LATER"): (1, "shipped", 2, True),
                     (second, "A-LATER"): (2, "shipped", 3, True), (pending, "A-LATER"): (1, "pending", 2, True),
                     (cancelled, "A-LATER"): (2, "cancelled", 1, False)}
    customers = {c["customer_id"]: (c["orders"], c["delivered"], c["outstanding"], c["held"])
                 for c in recall["customers"]}
    assert customers == {1: (2, 7, 7, 2), 2: (1, 3, 3, 0)}
    assert [(h["order_id"], h["quantity"]) for h in recall["held_orders"]] == [(pending, 2)]
    assert recall["totals"] | {} == {"on_hand_at_recall": 13, "on_hand": 13, "delivered": 10, "held": 2,
                                     "returned": 0, "returned_otherwise": 0, "destroyed": 0, "outstanding": 10,
                                     "customers": 2}
    assert recall["can_close"] is False

    # the catalog no longer counts the batches, and nobody can order them
    product = await client.get("/api/products/1", headers=await bearer(client, "cust_2"))
    assert product.json()["total_on_hand"] == 0
    refused = await client.post("/api/orders", json={"sku_id": 1, "quantity": 1},
                                headers=await bearer(client, "cust_2"))
    assert refused.status_code == 409, refused.text

    entry = conn.execute("SELECT entity_type, entity_id, after FROM Audit_Log WHERE action = 'recall.create'"
                         ).fetchone()
    assert entry["entity_type"] == "recall" and entry["entity_id"] == recall["recall_id"]
    assert entry["after"]["class"] == 1 and len(entry["after"]["batches"]) == 2
    assert broken(conn) == {}


async def test_recall_input_is_checked_and_nothing_changes(client, conn, world):
    staff = await bearer(client, "staffer")
    for body in ({"batch_ids": [], "reason": "x", "class": 1},
                 {"batch_ids": [world["a_soon"], world["a_soon"]], "reason": "x", "class": 1},
                 {"batch_ids": [world["a_soon"]], "reason": "   ", "class": 1},
                 {"batch_ids": [world["a_soon"]], "reason": "x" * 501, "class": 1},
                 {"batch_ids": [world["a_soon"]], "reason": "x", "class": 4},
                 {"batch_ids": [0], "reason": "x", "class": 2},
                 {"batch_ids": [world["a_soon"]], "reason": "x"}):
        answer = await client.post("/api/admin/recalls", json=body, headers=staff)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["code"] == "validation_error"
    missing = await client.post("/api/admin/recalls", json={"batch_ids": [world["a_soon"], 999_999],
                                                           "reason": "x", "class": 2}, headers=staff)
    assert missing.status_code == 404 and missing.json()["error"]["details"] == {"batch_ids": [999_999]}
    customer = await client.post("/api/admin/recalls", json={"batch_ids": [world["a_soon"]], "reason": "x",
                                                            "class": 2}, headers=await bearer(client, "cust_1"))
    assert customer.status_code == 403
    assert conn.execute("SELECT count(*) AS n FROM Recalls").fetchone()["n"] == 0
    assert not conn.execute("SELECT bool_or(quarantined) AS q FROM Inventory_Batches").fetchone()["q"]
    # the number a refused recall took was given back
    first = await client.post("/api/admin/recalls", json={"batch_ids": [world["a_soon"]], "reason": "x",
                                                         "class": 3}, headers=staff)
    assert first.json()["recall_no"].endswith("-000001")
    again = await client.post("/api/admin/recalls", json={"batch_ids": [world["a_later"], world["a_soon"]],
                                                         "reason": "y", "class": 3}, headers=staff)
    assert again.status_code == 409 and again.json()["error"]["code"] == "batch_already_recalled"
    assert again.json()["error"]["details"]["batch_ids"] == [world["a_soon"]]
    assert not conn.execute("SELECT quarantined FROM Inventory_Batches WHERE batch_id = %s",
                            (world["a_later"],)).fetchone()["quarantined"]


async def test_shipping_is_refused_for_recalled_stock_and_cancelling_restocks_the_hold(client, conn, world):
    w = await recall_world(client, conn, world)
    staff, pending = w["staff"], w["pending"]["order_id"]
    processed = await client.post(f"/api/admin/orders/{pending}/status", json={"status": "processed"},
                                  headers=staff)
    assert processed.status_code == 200
    shipped = await client.post(f"/api/admin/orders/{pending}/status", json={"status": "shipped"}, headers=staff)
    assert shipped.status_code == 409, shipped.text
    assert shipped.json()["error"]["code"] == "quarantined_stock"
    assert shipped.json()["error"]["details"] == {"batch_ids": [world["a_later"]]}
    assert conn.execute("SELECT status FROM Orders WHERE order_id = %s", (pending,)).fetchone()["status"] == "processed"
    assert conn.execute("SELECT count(*) AS n FROM Invoices WHERE order_id = %s", (pending,)).fetchone()["n"] == 0
    cancelled = await client.post(f"/api/admin/orders/{pending}/status", json={"status": "cancelled"},
                                  headers=staff)
    assert cancelled.status_code == 200
    assert stock(conn, world["a_later"]) == 15
    recall = (await client.get(f"/api/admin/recalls/{w['recall']['recall_id']}", headers=staff)).json()
    assert recall["held_orders"] == [] and recall["totals"]["held"] == 0 and recall["totals"]["on_hand"] == 15


async def test_progress_destruction_and_closing(client, conn, world):
    w = await recall_world(client, conn, world)
    staff, recall_id = w["staff"], w["recall"]["recall_id"]
    url = f"/api/admin/recalls/{recall_id}"
    boss = await bearer(client, "boss")

    refused = await client.post(f"{url}/close", json={"note": "done"}, headers=staff)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "recall_outstanding"
    assert refused.json()["error"]["details"] == {"on_hand": 13, "outstanding": 10, "held": 2}
    not_admin = await client.post(f"{url}/close", json={"note": "done", "force": True}, headers=staff)
    assert not_admin.status_code == 403

    too_many = await client.post(f"{url}/destructions", json={"batch_id": world["a_later"], "quantity": 14},
                                 headers=staff)
    assert too_many.status_code == 409 and too_many.json()["error"]["code"] == "destruction_exceeds_stock"
    elsewhere = await client.post(f"{url}/destructions", json={"batch_id": world["b"], "quantity": 1},
                                  headers=staff)
    assert elsewhere.status_code == 404 and elsewhere.json()["error"]["code"] == "batch_not_recalled"
    destroyed = await client.post(f"{url}/destructions", json={"batch_id": world["a_later"], "quantity": 13,
                                                               "note": "incinerated, certificate 77"}, headers=staff)
    assert destroyed.status_code == 201, destroyed.text
    batch = {b["batch_no"]: b for b in destroyed.json()["batches"]}["A-LATER"]
    assert (batch["on_hand"], batch["destroyed"]) == (0, 13)
    assert stock(conn, world["a_later"]) == 0
    movement = conn.execute("SELECT quantity_delta, reason, recall_id, order_id FROM Stock_Movements "
                            "WHERE recall_id IS NOT NULL").fetchone()
    assert movement == {"quantity_delta": -13, "reason": "write_off", "recall_id": recall_id, "order_id": None}

    # force forgives units with customers, never stock the warehouse holds for an unshipped order
    held = await client.post(f"{url}/close", json={"note": "x", "force": True}, headers=boss)
    assert held.status_code == 409 and held.json()["error"]["details"] == {"on_hand": 0, "outstanding": 10,
                                                                           "held": 2}
    cancelled = await client.post(f"/api/admin/orders/{w['pending']['order_id']}/status",
                                  json={"status": "cancelled"}, headers=staff)
    assert cancelled.status_code == 200
    assert (await client.post(f"{url}/destructions", json={"batch_id": world["a_later"], "quantity": 2},
                              headers=staff)).status_code == 201
    forced = await client.post(f"{url}/close", json={"note": "Customers confirmed destruction on site",
                                                      "force": True}, headers=boss)
    assert forced.status_code == 200, forced.text
    assert forced.json()["status"] == "closed" and forced.json()["close_note"].startswith("Customers")
    entry = conn.execute("SELECT after FROM Audit_Log WHERE action = 'recall.close'").fetchone()["after"]
    assert entry["forced"] is True and entry["outstanding_at_close"] == {"on_hand": 0, "outstanding": 10,
                                                                         "held": 0}
    assert {c["customer_id"]: c["outstanding"] for c in entry["customers_outstanding"]} == {1: 7, 2: 3}
    closed = await client.post(f"{url}/destructions", json={"batch_id": world["a_later"], "quantity": 1},
                               headers=staff)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "recall_closed"
    again = await client.post(f"{url}/close", json={"note": "again"}, headers=boss)
    assert again.status_code == 409 and again.json()["error"]["code"] == "recall_closed"
    actions = [r["action"] for r in conn.execute("SELECT action FROM Audit_Log WHERE entity_type = 'recall' "
                                                 "ORDER BY audit_id")]
    assert actions == ["recall.create", "recall.destroy", "recall.destroy", "recall.close"]


async def test_list_csv_and_notice(client, conn, world):
    w = await recall_world(client, conn, world)
    staff, recall = w["staff"], w["recall"]
    conn.execute("UPDATE Customers SET name = '=HYPERLINK(1)' WHERE customer_id = 2")
    listed = await client.get("/api/admin/recalls?status=open", headers=staff)
    assert listed.status_code == 200
    [row] = listed.json()["items"]
    assert (row["recall_no"], row["class"], row["batch_count"], row["customers"], row["delivered"],
            row["outstanding"]) == (recall["recall_no"], 1, 2, 2, 10, 10)
    assert (await client.get("/api/admin/recalls?status=closed", headers=staff)).json()["items"] == []
    csv = await client.get(f"/api/admin/recalls/{recall['recall_id']}?format=csv", headers=staff)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "customer_id,customer_name,orders,delivered,returned,returned_otherwise,outstanding,held"
    assert sorted(lines[1:]) == sorted(["1,First Pharmacy,2,7,0,0,7,2", "2,'=HYPERLINK(1),1,3,0,0,3,0"])
    notice = await client.get(f"/api/admin/recalls/{recall['recall_id']}/notices/1", headers=staff)
    assert notice.status_code == 200 and notice.headers["content-type"] == "application/pdf"
    assert notice.content.startswith(b"%PDF")
    nobody = await client.post("/api/admin/recalls", json={"batch_ids": [world["c"]], "reason": "z", "class": 3},
                               headers=staff)
    unaffected = await client.get(f"/api/admin/recalls/{recall['recall_id']}/notices/999", headers=staff)
    assert unaffected.status_code == 404
    customer = await client.get(f"/api/admin/recalls/{nobody.json()['recall_id']}/notices/2", headers=staff)
    assert customer.status_code == 404
    assert (await client.get("/api/admin/recalls/999", headers=staff)).status_code == 404


async def test_the_customer_sees_their_recalls_and_never_anothers(client, conn, world):
    w = await recall_world(client, conn, world)
    recall_id = w["recall"]["recall_id"]
    one, two = await bearer(client, "cust_1"), await bearer(client, "cust_2")
    mine = (await client.get("/api/my-recalls", headers=one)).json()
    assert mine["open_count"] == 1
    [recall] = mine["items"]
    assert (recall["class"], recall["delivered"], recall["returned"], recall["outstanding"], recall["held"]) == (
        1, 7, 0, 7, 2)
    assert {item["order_id"] for item in recall["items"]} == {w["first"]["order_id"], w["pending"]["order_id"]}
    theirs = (await client.get(f"/api/my-recalls/{recall_id}", headers=two)).json()
    assert {item["order_id"] for item in theirs["items"]} == {w["second"]["order_id"]}  # not the cancelled one
    assert (theirs["delivered"], theirs["outstanding"]) == (3, 3)
    # another customer's recall, or one touching none of your orders: 404, never its data
    other = await client.post("/api/admin/recalls", json={"batch_ids": [world["b"]], "reason": "z", "class": 2},
                              headers=w["staff"])
    for path in (f"/api/my-recalls/{other.json()['recall_id']}", f"/api/my-recalls/{other.json()['recall_id']}/notice",
                 "/api/my-recalls/999"):
        answer = await client.get(path, headers=one)
        assert answer.status_code == 404 and "First" not in answer.text
    assert (await client.get(f"/api/admin/recalls/{recall_id}", headers=one)).status_code == 403
    pdf = await client.get(f"/api/my-recalls/{recall_id}/notice", headers=two)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    order = (await client.get(f"/api/my-orders/{w['first']['order_id']}", headers=one)).json()
    recalls = {item["batch_no"]: item["recall"] for item in order["items"]}
    assert recalls["C-1"] is None
    assert recalls["A-SOON"] == {"recall_id": recall_id, "recall_no": w["recall"]["recall_no"], "class": 1,
                                 "reason": "Capsules may contain glass particles", "status": "open"}
    listed = {o["order_id"]: o["recalled"] for o in (await client.get("/api/my-orders", headers=one)).json()["items"]}
    assert listed == {w["first"]["order_id"]: True, w["pending"]["order_id"]: True}
    other_order = await client.get(f"/api/my-orders/{w['second']['order_id']}", headers=one)
    assert other_order.status_code == 404


@pytest.mark.parametrize("checkout_first", [True, False])
async def test_a_checkout_racing_the_recall_is_traced_or_cannot_take_the_batch(client, conn, world, clean_db,
                                                                               checkout_first):
    """The SKU's lock is held by a rival; a checkout and a recall both queue behind it (in either
    order); then it is let go. Either the order committed first (it is in the trace and the
    recall counted the batch without its units) or it found the batch on hold."""
    headers, staff = await bearer(client, "cust_2"), await bearer(client, "staffer")
    await client.post("/api/cart", json={"sku_id": 1, "quantity": 4}, headers=headers)
    body = {"batch_ids": [world["a_soon"], world["a_later"]], "reason": "race", "class": 2}
    with psycopg.connect(clean_db) as rival:
        rival.execute("SELECT 1 FROM Product_SKUs WHERE sku_id = 1 FOR NO KEY UPDATE")
        first = asyncio.create_task(client.post("/api/checkout", headers=headers) if checkout_first
                                    else client.post("/api/admin/recalls", json=body, headers=staff))
        await wait_until_blocked(clean_db, rival.info.backend_pid, first)
        second = asyncio.create_task(client.post("/api/admin/recalls", json=body, headers=staff) if checkout_first
                                     else client.post("/api/checkout", headers=headers))
        await wait_until_waiting(clean_db, 2)
        rival.commit()
        answers = await asyncio.gather(first, second)
    placed, recalled = answers if checkout_first else answers[::-1]
    assert recalled.status_code == 201, recalled.text
    recall = recalled.json()
    on_hand = {b["batch_no"]: b["on_hand_at_recall"] for b in recall["batches"]}
    if placed.status_code == 201:
        order_id = placed.json()["order_id"]
        assert {(t["order_id"], t["batch_no"], t["quantity"]) for t in recall["trace"]} == {
            (order_id, "A-SOON", 4)}
        assert on_hand == {"A-SOON": 1, "A-LATER": 20}
    else:
        assert placed.status_code == 409, placed.text  # nothing else of SKU 1 is sellable
        assert recall["trace"] == [] and on_hand == {"A-SOON": 5, "A-LATER": 20}
        assert conn.execute("SELECT count(*) AS n FROM Orders").fetchone()["n"] == 0
    assert broken(conn) == {}


async def test_recall_actions_are_known_to_the_audit_log():
    assert {"recall.create", "recall.return", "recall.destroy", "recall.close"} <= set(audit.ACTIONS)
