"""Suppliers, purchase orders and reorder suggestions through the real app on a real
PostgreSQL: supplier CRUD, its validation and audit; the one preferred supplier per SKU; a
purchase order's lifecycle (draft, edit, send, cancel, close short) and every illegal move;
reorder suggestions with lead time and incoming stock, drafts made from them (one per
preferred supplier, skipped SKUs, nothing twice); incoming stock in the low-stock and reorder
reports; customers refused everywhere. Receiving is tests/test_purchase_receiving.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.ordering_world import TODAY, bearer
from tests.purchasing_world import (
    line_ids,
    ok,
    purchase_order,
    receipt,
    sent_order,
    staff,
    supplier,
    supplies,
)
from tests.returns_world import broken


def audit_entries(conn, action_prefix: str) -> list[dict]:
    return conn.execute("SELECT action, entity_id, before, after, actor_username FROM Audit_Log "
                        "WHERE action LIKE %s ORDER BY audit_id", (action_prefix + "%",)).fetchall()


# --- suppliers -----------------------------------------------------------------------------

async def test_staff_add_read_and_change_a_supplier_and_each_change_is_audited(client, world, conn):
    headers = await staff(client)
    created = await supplier(client, headers, "Alpha Pharma", 10, contact_name="Ann Alpha",
                             email="orders@alpha.example", phone="+44 20 7946 0000", address="1 Dock Road")
    assert (created["name"], created["lead_time_days"], created["is_active"], created["skus"]) == \
        ("Alpha Pharma", 10, True, [])
    supplier_id = created["supplier_id"]
    changed = await ok(await client.patch(f"/api/admin/suppliers/{supplier_id}",
                                          json={"lead_time_days": 12, "phone": None}, headers=headers))
    assert (changed["lead_time_days"], changed["phone"], changed["email"]) == (12, None, "orders@alpha.example")
    listing = await ok(await client.get("/api/admin/suppliers", headers=headers))
    assert [(s["supplier_id"], s["name"], s["sku_count"], s["open_orders"]) for s in listing["items"]] == \
        [(supplier_id, "Alpha Pharma", 0, 0)]
    entries = audit_entries(conn, "supplier.")
    assert [(e["action"], e["entity_id"], e["actor_username"]) for e in entries] == \
        [("supplier.create", supplier_id, "staffer"), ("supplier.update", supplier_id, "staffer")]
    assert (entries[1]["before"]["lead_time_days"], entries[1]["after"]["lead_time_days"]) == (10, 12)
    assert (entries[1]["before"]["phone"], entries[1]["after"]["phone"]) == ("+44 20 7946 0000", None)


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"name": "alpha PHARMA"}, 409, "supplier_name_taken"),
    ({"name": "Beta", "lead_time_days": 366}, 422, "validation_error"),
    ({"name": "Beta", "lead_time_days": -1}, 422, "validation_error"),
    ({"name": "Beta", "email": "not-an-email"}, 422, "validation_error"),
    ({"name": "   "}, 422, "validation_error"),
    ({"name": "Beta", "colour": "red"}, 422, "validation_error"),
])
async def test_a_bad_supplier_is_refused_and_nothing_is_written(client, world, conn, body, status, code):
    headers = await staff(client)
    await supplier(client, headers, "Alpha Pharma")
    answer = await client.post("/api/admin/suppliers", json=body, headers=headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert conn.execute("SELECT count(*) AS n FROM Suppliers").fetchone()["n"] == 1
    assert len(audit_entries(conn, "supplier.")) == 1


async def test_a_supplier_update_is_refused_for_a_taken_name_a_cleared_required_field_or_no_supplier(client, world):
    headers = await staff(client)
    await supplier(client, headers, "Alpha Pharma")
    beta = await supplier(client, headers, "Beta Supplies")
    path = f"/api/admin/suppliers/{beta['supplier_id']}"
    taken = await client.patch(path, json={"name": "ALPHA pharma"}, headers=headers)
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "supplier_name_taken")
    assert (await client.patch(path, json={"name": None}, headers=headers)).status_code == 422
    assert (await client.patch(path, json={"lead_time_days": None}, headers=headers)).status_code == 422
    assert (await client.patch("/api/admin/suppliers/999", json={"lead_time_days": 3}, headers=headers)
            ).status_code == 404
    renamed = await ok(await client.patch(path, json={"name": "beta supplies"}, headers=headers))
    assert renamed["name"] == "beta supplies"  # its own name in another case is not "taken"


async def test_a_deactivated_supplier_keeps_its_history_and_gets_no_new_orders(client, world, conn):
    headers = await staff(client)
    alpha = await supplier(client, headers)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20")
    draft = await purchase_order(client, headers, alpha["supplier_id"], {3: 10})
    await ok(await client.patch(f"/api/admin/suppliers/{alpha['supplier_id']}", json={"is_active": False},
                                headers=headers))
    refused = await client.post("/api/admin/purchase-orders", json={
        "supplier_id": alpha["supplier_id"], "lines": [{"sku_id": 3, "quantity": 1}]}, headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "supplier_inactive")
    unsent = await client.post(f"/api/admin/purchase-orders/{draft['po_id']}/send", headers=headers)
    assert (unsent.status_code, unsent.json()["error"]["code"]) == (409, "supplier_inactive")
    kept = await ok(await client.get(f"/api/admin/suppliers/{alpha['supplier_id']}", headers=headers))
    assert (kept["is_active"], kept["open_orders"], [s["sku_id"] for s in kept["skus"]]) == (False, 1, [3])
    assert conn.execute("SELECT count(*) AS n FROM Purchase_Orders").fetchone()["n"] == 1


async def test_a_sku_has_one_preferred_supplier_and_preferring_another_unprefers_the_first(client, world, conn):
    headers = await staff(client)
    alpha, beta = await supplier(client, headers, "Alpha"), await supplier(client, headers, "Beta")
    first = await supplies(client, headers, alpha["supplier_id"], 3, "1.20", preferred=True)
    assert [(s["sku_id"], s["unit_cost"], s["is_preferred"], s["sku_code"]) for s in first["skus"]] == \
        [(3, "1.20", True, "PARA-3")]
    await supplies(client, headers, beta["supplier_id"], 3, "1.10", preferred=True)
    rows = conn.execute("SELECT supplier_id, is_preferred FROM Supplier_SKUs ORDER BY supplier_id").fetchall()
    assert [(r["supplier_id"], r["is_preferred"]) for r in rows] == \
        [(alpha["supplier_id"], False), (beta["supplier_id"], True)]
    entries = audit_entries(conn, "supplier.set_sku")
    assert [(e["entity_id"], e["before"].get("is_preferred"), e["after"]["is_preferred"]) for e in entries] == [
        (alpha["supplier_id"], None, True), (alpha["supplier_id"], True, False), (beta["supplier_id"], None, True)]
    assert entries[0]["before"] == {"sku_id": 3, "supplied": False}
    removed = await ok(await client.delete(f"/api/admin/suppliers/{beta['supplier_id']}/skus/3", headers=headers))
    assert removed["skus"] == []
    assert audit_entries(conn, "supplier.remove_sku")[0]["after"] == {"sku_id": 3, "supplied": False}
    again = await client.delete(f"/api/admin/suppliers/{beta['supplier_id']}/skus/3", headers=headers)
    assert again.status_code == 404
    assert (await client.put(f"/api/admin/suppliers/{beta['supplier_id']}/skus/999", json={"unit_cost": "1"},
                             headers=headers)).status_code == 404


async def test_two_suppliers_made_preferred_at_once_leave_exactly_one_preferred(client, world, conn):
    headers = await staff(client)
    ids = [(await supplier(client, headers, f"Supplier {n}"))["supplier_id"] for n in range(4)]
    answers = await asyncio.gather(*(client.put(f"/api/admin/suppliers/{s}/skus/2", json={
        "unit_cost": "18.00", "is_preferred": True}, headers=headers) for s in ids))
    assert [a.status_code for a in answers] == [200] * 4
    preferred = conn.execute("SELECT count(*) AS n FROM Supplier_SKUs WHERE sku_id = 2 AND is_preferred").fetchone()
    assert preferred["n"] == 1


# --- purchase orders -----------------------------------------------------------------------

async def test_a_draft_takes_the_supplier_cost_unless_given_and_is_edited_then_sent(client, world, conn):
    headers = await staff(client)
    alpha = await supplier(client, headers, "Alpha", 10)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20")
    draft = await ok(await client.post("/api/admin/purchase-orders", json={
        "supplier_id": alpha["supplier_id"], "note": "urgent",
        "lines": [{"sku_id": 3, "quantity": 10}, {"sku_id": 2, "quantity": 4, "unit_cost": "19.5"}]},
        headers=headers), 201)
    assert (draft["status"], draft["note"], draft["total_cost"], draft["created_by"]) == \
        ("draft", "urgent", "90.00", "staffer")
    assert [(ln["sku_id"], ln["unit_cost"], ln["ordered"], ln["received"], ln["outstanding"]) for ln in draft["lines"]] == \
        [(3, "1.20", 10, 0, 10), (2, "19.50", 4, 0, 4)]
    assert all(isinstance(ln["po_line_id"], int) for ln in draft["lines"])
    path = f"/api/admin/purchase-orders/{draft['po_id']}"
    edited = await ok(await client.patch(path, json={"lines": [{"sku_id": 3, "quantity": 12}], "note": None},
                                         headers=headers))
    assert ([(ln["sku_id"], ln["ordered"]) for ln in edited["lines"]], edited["note"]) == ([(3, 12)], None)
    sent = await ok(await client.post(f"{path}/send", headers=headers))
    assert (sent["status"], sent["expected_on"]) == ("sent", (TODAY + timedelta(days=10)).isoformat())
    assert sent["sent_at"] is not None
    late_edit = await client.patch(path, json={"note": "too late"}, headers=headers)
    assert (late_edit.status_code, late_edit.json()["error"]["code"]) == (409, "invalid_transition")
    assert late_edit.json()["error"]["details"] == {"from": "sent", "to": "edited", "allowed": ["draft"]}
    entries = audit_entries(conn, "purchase_order.")
    assert [e["action"] for e in entries] == ["purchase_order.create", "purchase_order.update",
                                              "purchase_order.send"]
    assert entries[1]["before"]["lines"] == [{"sku_id": 3, "quantity": 10, "unit_cost": "1.20"},
                                             {"sku_id": 2, "quantity": 4, "unit_cost": "19.50"}]
    assert entries[1]["after"] == {"status": "draft", "note": None,
                                   "lines": [{"sku_id": 3, "quantity": 12, "unit_cost": "1.20"}]}


@pytest.mark.parametrize(("lines", "status", "code"), [
    ([{"sku_id": 2, "quantity": 1}], 422, "unit_cost_required"),  # Alpha has no cost for SKU 2
    ([{"sku_id": 999, "quantity": 1, "unit_cost": "1"}], 422, "unknown_sku"),
    ([{"sku_id": 3, "quantity": 1}, {"sku_id": 3, "quantity": 2}], 422, "validation_error"),
    ([{"sku_id": 3, "quantity": 0}], 422, "validation_error"),
    ([{"sku_id": 3, "quantity": 1, "unit_cost": "1.234"}], 422, "validation_error"),
    ([], 422, "validation_error"),
])
async def test_a_bad_purchase_order_is_refused_and_nothing_is_written(client, world, conn, lines, status, code):
    headers = await staff(client)
    alpha = await supplier(client, headers)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20")
    answer = await client.post("/api/admin/purchase-orders", json={"supplier_id": alpha["supplier_id"],
                                                                   "lines": lines}, headers=headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert conn.execute("SELECT count(*) AS n FROM Purchase_Orders").fetchone()["n"] == 0
    unknown = await client.post("/api/admin/purchase-orders", json={
        "supplier_id": 999, "lines": [{"sku_id": 3, "quantity": 1, "unit_cost": "1"}]}, headers=headers)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_supplier")


async def test_cancel_a_draft_or_a_sent_order_but_nothing_received_or_finished(client, world, conn):
    headers = await staff(client)
    alpha = await supplier(client, headers)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20")
    draft = await purchase_order(client, headers, alpha["supplier_id"], {3: 5})
    cancelled = await ok(await client.post(f"/api/admin/purchase-orders/{draft['po_id']}/cancel",
                                           json={"note": "ordered by phone"}, headers=headers))
    assert (cancelled["status"], cancelled["note"], cancelled["closed_at"] is not None) == \
        ("cancelled", "ordered by phone", True)
    sent = await sent_order(client, headers, alpha["supplier_id"], {3: 5})
    assert (await ok(await client.post(f"/api/admin/purchase-orders/{sent['po_id']}/cancel", headers=headers))
            )["status"] == "cancelled"
    partly = await sent_order(client, headers, alpha["supplier_id"], {3: 5})
    await ok(await client.post(f"/api/admin/purchase-orders/{partly['po_id']}/receive",
                               json=receipt([(line_ids(partly)[3], "P-1", 2)]), headers=headers))
    for po_id, move in ((partly["po_id"], "cancel"), (draft["po_id"], "cancel"), (draft["po_id"], "send"),
                        (draft["po_id"], "close"), (sent["po_id"], "receive")):
        body = receipt([(line_ids(partly)[3], "P-1", 1)]) if move == "receive" else None
        answer = await client.post(f"/api/admin/purchase-orders/{po_id}/{move}", json=body, headers=headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (409, "invalid_transition"), (po_id, move)
    assert (await client.post("/api/admin/purchase-orders/999/cancel", headers=headers)).status_code == 404


async def test_closing_short_finishes_a_partly_received_order_and_its_rest_stops_being_incoming(client, world, conn):
    headers = await staff(client)
    alpha = await supplier(client, headers)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20")
    order = await sent_order(client, headers, alpha["supplier_id"], {3: 10})
    path = f"/api/admin/purchase-orders/{order['po_id']}"
    await ok(await client.post(f"{path}/receive", json=receipt([(line_ids(order)[3], "P-1", 4)]), headers=headers))
    assert conn.execute("SELECT incoming FROM Incoming_Stock WHERE sku_id = 3").fetchone()["incoming"] == 6
    closed = await ok(await client.post(f"{path}/close", json={"note": "supplier out of stock"}, headers=headers))
    assert (closed["status"], closed["closed_short"], closed["lines"][0]["outstanding"]) == ("received", True, 6)
    assert conn.execute("SELECT incoming FROM Incoming_Stock WHERE sku_id = 3").fetchone() is None
    entry = audit_entries(conn, "purchase_order.close")[0]
    assert entry["after"]["short"] == [{"po_line_id": line_ids(order)[3], "sku_id": 3, "units": 6}]
    assert broken(conn) == {}


async def test_the_list_filters_by_status_and_supplier_newest_first(client, world):
    headers = await staff(client)
    alpha, beta = await supplier(client, headers, "Alpha"), await supplier(client, headers, "Beta")
    for one in (alpha, beta):
        await supplies(client, headers, one["supplier_id"], 3, "1.20")
    first = await purchase_order(client, headers, alpha["supplier_id"], {3: 5})
    second = await sent_order(client, headers, beta["supplier_id"], {3: 7})
    third = await purchase_order(client, headers, alpha["supplier_id"], {3: 2})

    async def ids(**params) -> list[int]:
        page = await ok(await client.get("/api/admin/purchase-orders", params=params, headers=headers))
        return [item["po_id"] for item in page["items"]]

    assert await ids() == [third["po_id"], second["po_id"], first["po_id"]]
    assert await ids(status="draft") == [third["po_id"], first["po_id"]]
    assert await ids(supplier_id=beta["supplier_id"]) == [second["po_id"]]
    assert await ids(limit=1, page=2) == [second["po_id"]]
    page = await ok(await client.get("/api/admin/purchase-orders", params={"status": "sent"}, headers=headers))
    assert [(i["supplier_name"], i["units_ordered"], i["total_cost"], i["line_count"]) for i in page["items"]] == \
        [("Beta", 7, "8.40", 1)]
    assert (await client.get("/api/admin/purchase-orders", params={"status": "lost"}, headers=headers)
            ).status_code == 422


# --- reorder suggestions, drafts from them, incoming in the reports ------------------------

async def _sales(client) -> None:
    """Customer 1 buys SKU 1 x 20 (5 left), SKU 2 x 20 (10 left) and SKU 3 x 3 (1 left)."""
    headers = await bearer(client, "cust_1")
    for sku_id, quantity in ((1, 20), (2, 20), (3, 3)):
        await ok(await client.post("/api/orders", json={"sku_id": sku_id, "quantity": quantity}, headers=headers),
                 201)


async def _report(client, headers, name: str) -> dict:
    return await ok(await client.get(f"/api/admin/reports/{name}", headers=headers))


def _suggested(page: dict) -> dict[int, tuple]:
    return {i["sku_id"]: (i["available"], i["incoming"], i["lead_time_days"], i["supplier_name"],
                          i["suggested_quantity"]) for i in page["items"]}


async def test_suggestions_cover_the_lead_time_and_count_incoming_stock(client, world):
    headers = await staff(client)
    await _sales(client)
    # no suppliers: 30 days of cover. SKU 1: 20 sold, 5 left -> 15; SKU 2: 20 sold, 10 left -> 10;
    # SKU 3: 3 sold, 1 left -> 2
    assert _suggested(await _report(client, headers, "reorder-suggestions")) == {
        1: (5, 0, 0, None, 15), 2: (10, 0, 0, None, 10), 3: (1, 0, 0, None, 2)}
    alpha, beta = await supplier(client, headers, "Alpha", 10), await supplier(client, headers, "Beta", 15)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20", preferred=True)
    await supplies(client, headers, beta["supplier_id"], 2, "18.00", preferred=True)
    await supplies(client, headers, beta["supplier_id"], 3, "1.10")  # not preferred: its lead time is not used
    # SKU 2: 20 sold x (30 + 15) days / 30 = 30 needed, 10 left -> 20; SKU 3: 3 x 40 / 30 = 4, 1 left -> 3
    assert _suggested(await _report(client, headers, "reorder-suggestions")) == {
        1: (5, 0, 0, None, 15), 2: (10, 0, 15, "Beta", 20), 3: (1, 0, 10, "Alpha", 3)}
    await purchase_order(client, headers, beta["supplier_id"], {2: 5})  # a draft is incoming too
    page = await _report(client, headers, "reorder-suggestions")
    assert _suggested(page)[2] == (10, 5, 15, "Beta", 15)
    assert (page["total_suggested"], page["cover_days"]) == (33, 30)
    assert page["items"][0]["supplier_id"] is None and "incoming" in page["items"][0]


async def test_drafts_from_suggestions_one_per_preferred_supplier_and_nothing_twice(client, world, conn):
    headers = await staff(client)
    await _sales(client)
    alpha, beta = await supplier(client, headers, "Alpha", 10), await supplier(client, headers, "Beta", 15)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20", preferred=True)
    await supplies(client, headers, beta["supplier_id"], 2, "18.00", preferred=True)
    made = await ok(await client.post("/api/admin/purchase-orders/from-suggestions", headers=headers))
    assert [(c["supplier_id"], c["status"], c["units_ordered"], c["total_cost"]) for c in made["created"]] == \
        [(alpha["supplier_id"], "draft", 3, "3.60"), (beta["supplier_id"], "draft", 20, "360.00")]
    assert made["skipped"] == [{"sku_id": 1, "sku_code": "AMOX-1", "suggested_quantity": 15,
                                "reason": "no_preferred_supplier"}]
    drafted = await ok(await client.get(f"/api/admin/purchase-orders/{made['created'][1]['po_id']}",
                                        headers=headers))
    assert [(ln["sku_id"], ln["ordered"], ln["unit_cost"]) for ln in drafted["lines"]] == [(2, 20, "18.00")]
    again = await ok(await client.post("/api/admin/purchase-orders/from-suggestions", json={}, headers=headers))
    assert (again["created"], [s["sku_id"] for s in again["skipped"]]) == ([], [1])
    assert conn.execute("SELECT count(*) AS n FROM Purchase_Orders").fetchone()["n"] == 2
    assert [e["entity_id"] for e in audit_entries(conn, "purchase_order.create")] == \
        [c["po_id"] for c in made["created"]]
    assert audit_entries(conn, "purchase_order.create")[1]["after"]["lines"] == \
        [{"sku_id": 2, "quantity": 20, "unit_cost": "18.00"}]
    assert set(_suggested(await _report(client, headers, "reorder-suggestions"))) == {1}


async def test_drafts_from_suggestions_may_be_limited_to_some_skus(client, world):
    headers = await staff(client)
    await _sales(client)
    alpha = await supplier(client, headers, "Alpha", 10)
    for sku_id in (2, 3):
        await supplies(client, headers, alpha["supplier_id"], sku_id, "2.00", preferred=True)
    made = await ok(await client.post("/api/admin/purchase-orders/from-suggestions", json={"sku_ids": [3]},
                                      headers=headers))
    assert [(c["supplier_id"], c["line_count"], c["units_ordered"]) for c in made["created"]] == \
        [(alpha["supplier_id"], 1, 3)]
    assert made["skipped"] == []
    bad = await client.post("/api/admin/purchase-orders/from-suggestions", json={"sku_ids": [3, 3]},
                            headers=headers)
    assert bad.status_code == 422


async def test_two_drafting_runs_at_once_draft_each_suggestion_once(client, world, conn):
    headers = await staff(client)
    await _sales(client)
    alpha = await supplier(client, headers, "Alpha", 10)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20", preferred=True)
    answers = await asyncio.gather(*(client.post("/api/admin/purchase-orders/from-suggestions", headers=headers)
                                     for _ in range(3)))
    assert sorted(len(a.json()["created"]) for a in answers) == [0, 0, 1]
    assert conn.execute("SELECT sum(quantity_ordered) AS n FROM Purchase_Order_Lines").fetchone()["n"] == 3


async def test_low_stock_shows_what_is_on_order(client, world):
    headers = await staff(client)
    alpha = await supplier(client, headers)
    await supplies(client, headers, alpha["supplier_id"], 3, "1.20")
    before = await _report(client, headers, "low-stock")
    assert [(i["sku_id"], i["shortfall"], i["incoming"], i["shortfall_after_incoming"]) for i in before["items"]] \
        == [(3, 6, 0, 6)]
    await sent_order(client, headers, alpha["supplier_id"], {3: 4})
    await purchase_order(client, headers, alpha["supplier_id"], {3: 10})
    cancelled = await purchase_order(client, headers, alpha["supplier_id"], {3: 50})
    await ok(await client.post(f"/api/admin/purchase-orders/{cancelled['po_id']}/cancel", headers=headers))
    after = await _report(client, headers, "low-stock")  # still low: it is not on the shelf yet
    assert [(i["sku_id"], i["shortfall"], i["incoming"], i["shortfall_after_incoming"]) for i in after["items"]] \
        == [(3, 6, 14, 0)]


# --- who may call --------------------------------------------------------------------------

ROUTES = [("GET", "/api/admin/suppliers"), ("POST", "/api/admin/suppliers"), ("GET", "/api/admin/suppliers/1"),
          ("PATCH", "/api/admin/suppliers/1"), ("PUT", "/api/admin/suppliers/1/skus/1"),
          ("DELETE", "/api/admin/suppliers/1/skus/1"), ("GET", "/api/admin/purchase-orders"),
          ("POST", "/api/admin/purchase-orders"), ("POST", "/api/admin/purchase-orders/from-suggestions"),
          ("GET", "/api/admin/purchase-orders/1"), ("PATCH", "/api/admin/purchase-orders/1"),
          ("POST", "/api/admin/purchase-orders/1/send"), ("POST", "/api/admin/purchase-orders/1/cancel"),
          ("POST", "/api/admin/purchase-orders/1/close"), ("POST", "/api/admin/purchase-orders/1/receive")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_customers_and_strangers_are_refused_every_purchasing_route(client, world, conn, method, path):
    customer = await bearer(client, "cust_1")
    assert (await client.request(method, path, json={}, headers=customer)).status_code == 403
    assert (await client.request(method, path, json={})).status_code == 401
    assert conn.execute("SELECT count(*) AS n FROM Audit_Log").fetchone()["n"] == 0
