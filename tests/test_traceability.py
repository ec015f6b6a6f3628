"""A batch's traceability through the real app: backward to its receipts, purchase orders and
supplier; forward through every movement of its ledger to the orders and customers it went
to and came back from, with the running balance, per-customer units, the status history and
recalls; a page of the ledger at a time, every movement as CSV, a fixed number of queries."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import timedelta

import pytest

from tests.conftest import serve
from tests.ordering_world import TODAY, bearer, stock
from tests.returns_world import approve, requested, ship

TRACE = "/api/admin/inventory/batches/{}/trace"


def purchase_order(conn) -> dict[str, int]:
    """A supplier and a sent purchase order for 10 units of SKU 2 at 18.00 (rows written
    directly: the purchasing API is another module's)."""
    supplier = conn.execute("INSERT INTO Suppliers (name, lead_time_days) VALUES ('Northwind Pharma', 5) "
                            "RETURNING supplier_id").fetchone()["supplier_id"]
    po = conn.execute("INSERT INTO Purchase_Orders (supplier_id, status, sent_at, created_by) "
                      "VALUES (%s, 'sent', now(), 4) RETURNING po_id", (supplier,)).fetchone()["po_id"]
    line = conn.execute("INSERT INTO Purchase_Order_Lines (po_id, sku_id, quantity_ordered, unit_cost) "
                        "VALUES (%s, 2, 10, 18.00) RETURNING po_line_id", (po,)).fetchone()["po_line_id"]
    return {"supplier_id": supplier, "po_id": po, "po_line_id": line}


def received_against(conn, po_line_id: int) -> int:
    """Batch T-1 of SKU 2 (expiring before B-1, so orders draw from it first), received
    against the purchase order line: its receipt names the line."""
    batch_id = conn.execute(
        "INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price) "
        "VALUES (2, 'T-1', %s, 0, 18.00) RETURNING batch_id", (TODAY + timedelta(days=100),)).fetchone()["batch_id"]
    conn.execute("SELECT stockline_record_movements(ARRAY[%s], ARRAY[10], ARRAY['receipt'], ARRAY[NULL::bigint], "
                 "ARRAY[4], ARRAY['delivery note 77'], ARRAY[%s], ARRAY[NULL::int])", (batch_id, po_line_id))
    conn.execute("UPDATE Purchase_Order_Lines SET quantity_received = 10 WHERE po_line_id = %s", (po_line_id,))
    return batch_id


@pytest.fixture
async def traced(client, conn, world):
    """T-1's life: received against a PO (10) and topped up by hand (5, a note like a formula);
    customer 1 buys 4, then 2 more and cancels them; customer 2 buys 3, has them shipped and
    returns 1; staff adjust 1 away as damaged; then the batch goes on hold."""
    po = purchase_order(conn)
    batch_id = received_against(conn, po["po_line_id"])
    staff = await bearer(client, "staffer")
    topped = await client.post("/api/admin/inventory/batches", headers=staff, json={
        "sku_id": 2, "batch_no": "T-1", "quantity": 5, "cost_price": "18.00", "note": "=1+1",
        "expiry_date": str(TODAY + timedelta(days=100))})
    assert topped.status_code == 200, topped.text
    first, second = await bearer(client, "cust_1"), await bearer(client, "cust_2")
    orders = {}
    for name, headers, quantity in (("first", first, 4), ("second", second, 3), ("cancelled", first, 2)):
        placed = await client.post("/api/orders", json={"sku_id": 2, "quantity": quantity}, headers=headers)
        assert placed.status_code == 201, placed.text
        orders[name] = placed.json()
    assert (await client.post(f"/api/my-orders/{orders['cancelled']['order_id']}/cancel",
                              headers=first)).status_code == 200
    shipped = await ship(client, orders["second"]["order_id"])
    [item] = shipped["items"]
    returned = await requested(client, second, shipped["order_id"], [(item["order_item_id"], 1)])
    assert (await approve(client, staff, returned["return_id"], {item["order_item_id"]: "restock"})).status_code == 200
    adjusted = await client.post(f"/api/admin/inventory/batches/{batch_id}/adjust", headers=staff,
                                 json={"delta": -1, "reason": "damaged"})
    assert adjusted.status_code == 200, adjusted.text
    held = await client.post(f"/api/admin/inventory/batches/{batch_id}/quarantine", headers=staff,
                             json={"reason": "Supplier notice"})
    assert held.status_code == 200
    return {"batch_id": batch_id, "staff": staff, "orders": {k: v["order_id"] for k, v in orders.items()}} | po


async def test_backward_the_receipts_name_their_purchase_order_and_supplier(client, traced):
    trace = (await client.get(TRACE.format(traced["batch_id"]), headers=traced["staff"])).json()
    batch = trace["batch"]
    assert (batch["batch_no"], batch["sku_code"], batch["product_name"], batch["quarantined"]) \
        == ("T-1", "AMOX-2", "Amoxicillin 500 mg capsules", True)
    receipts = trace["backward"]["receipts"]
    assert trace["backward"]["total_receipts"] == 2
    assert [(r["quantity"], r["username"], r["note"], r["po_id"], r["po_status"], r["supplier_id"],
             r["supplier_name"], r["unit_cost"]) for r in receipts] == [
        (10, "staffer", "delivery note 77", traced["po_id"], "sent", traced["supplier_id"], "Northwind Pharma",
         "18.00"),
        (5, "staffer", "=1+1", None, None, None, None, None)]
    assert receipts[0]["po_line_id"] == traced["po_line_id"]


async def test_forward_every_movement_with_its_order_customer_and_running_balance(client, traced, conn):
    trace = (await client.get(TRACE.format(traced["batch_id"]) + "?limit=50", headers=traced["staff"])).json()
    orders = traced["orders"]
    rows = [(m["reason"], m["quantity_delta"], m["balance"], m["order_id"], m["customer_name"])
            for m in trace["forward"]["movements"]["items"]]
    assert rows == [
        ("receipt", 10, 10, None, None),
        ("receipt", 5, 15, None, None),
        ("sale", -4, 11, orders["first"], "First Pharmacy"),
        ("sale", -3, 8, orders["second"], "Second Pharmacy"),
        ("sale", -2, 6, orders["cancelled"], "First Pharmacy"),
        ("cancel", 2, 8, orders["cancelled"], "First Pharmacy"),
        ("return", 1, 9, orders["second"], "Second Pharmacy"),
        ("adjustment", -1, 8, None, None),
    ]
    assert stock(conn, traced["batch_id"]) == 8
    statuses = {m["order_id"]: m["order_status"] for m in trace["forward"]["movements"]["items"] if m["order_id"]}
    assert statuses == {orders["first"]: "pending", orders["second"]: "shipped", orders["cancelled"]: "cancelled"}
    customers = [(c["customer_name"], c["orders"], c["sold"], c["cancelled"], c["returned"], c["units_held"])
                 for c in trace["forward"]["customers"]]
    assert customers == [("First Pharmacy", 2, 6, 2, 0, 4), ("Second Pharmacy", 1, 3, 0, 1, 2)]
    assert trace["forward"]["totals"] == {"received": 15, "sold": 9, "cancelled": 2, "returned": 1,
                                          "recall_returned": 0, "written_off": 0, "adjusted": -1, "on_hand": 8}
    assert [(c["quarantined"], c["reason"]) for c in trace["status_history"]["items"]] == [(True, "Supplier notice")]
    assert trace["recalls"] == []


async def test_the_ledger_comes_a_page_at_a_time_with_its_running_balance(client, traced):
    page = (await client.get(TRACE.format(traced["batch_id"]) + "?limit=3&page=2",
                             headers=traced["staff"])).json()["forward"]["movements"]
    assert (page["total_items"], page["total_pages"], page["current_page"]) == (8, 3, 2)
    assert [(m["reason"], m["balance"]) for m in page["items"]] == [("sale", 8), ("sale", 6), ("cancel", 8)]
    past = (await client.get(TRACE.format(traced["batch_id"]) + "?limit=3&page=9",
                             headers=traced["staff"])).json()["forward"]["movements"]
    assert (past["items"], past["total_items"]) == ([], 8)


async def test_recalls_and_recall_returns_are_in_the_trace(client, traced, conn):
    recall_id = conn.execute("INSERT INTO Recalls (recall_no, recall_class, reason) VALUES "
                             "('RCL-2099-000007', 1, 'sterility') RETURNING recall_id").fetchone()["recall_id"]
    conn.execute("INSERT INTO Recall_Batches (recall_id, batch_id, on_hand_at_recall) VALUES (%s, %s, 8)",
                 (recall_id, traced["batch_id"]))
    conn.execute("SELECT stockline_record_movements(ARRAY[%s], ARRAY[1], ARRAY['recall_return'], ARRAY[%s::bigint], "
                 "ARRAY[4], ARRAY[NULL::text], ARRAY[NULL::int], ARRAY[%s])",
                 (traced["batch_id"], traced["orders"]["second"], recall_id))
    trace = (await client.get(TRACE.format(traced["batch_id"]) + "?limit=50", headers=traced["staff"])).json()
    assert [(r["recall_no"], r["recall_class"], r["status"], r["on_hand_at_recall"]) for r in trace["recalls"]] \
        == [("RCL-2099-000007", 1, "open", 8)]
    last = trace["forward"]["movements"]["items"][-1]
    assert (last["reason"], last["recall_no"], last["customer_name"], last["balance"]) \
        == ("recall_return", "RCL-2099-000007", "Second Pharmacy", 9)
    second = trace["forward"]["customers"][1]
    assert (second["customer_name"], second["recall_returned"], second["units_held"]) == ("Second Pharmacy", 1, 1)
    assert trace["batch"]["open_recall"] == {"recall_id": recall_id, "recall_no": "RCL-2099-000007"}


async def test_the_csv_has_every_movement_formula_safe(client, traced):
    response = await client.get(TRACE.format(traced["batch_id"]) + "?format=csv&limit=1", headers=traced["staff"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="batch-{traced["batch_id"]}-movements.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["reason"], r["quantity_delta"], r["balance"]) for r in rows][-2:] == [("return", "1", "9"),
                                                                                      ("adjustment", "-1", "8")]
    assert len(rows) == 8
    assert (rows[1]["note"], rows[1]["username"]) == ("'=1+1", "staffer")  # a spreadsheet shows it as text


async def test_unknown_batches_are_404_and_only_staff_may_trace(client, world):
    staff = await bearer(client, "staffer")
    for suffix in ("", "?format=csv"):
        assert (await client.get(TRACE.format(999) + suffix, headers=staff)).status_code == 404
        assert (await client.get(TRACE.format(world["b"]) + suffix,
                                 headers=await bearer(client, "cust_1"))).status_code == 403
        assert (await client.get(TRACE.format(world["b"]) + suffix)).status_code == 401
    bad = await client.get(TRACE.format(world["b"]) + "?format=xml", headers=staff)
    assert bad.status_code == 422
    empty = (await client.get(TRACE.format(world["a_empty"]), headers=staff)).json()
    assert (empty["forward"]["movements"]["items"], empty["forward"]["customers"], empty["backward"]["receipts"]) \
        == ([], [], [])


def _queries(response) -> int:
    assert response.status_code == 200, response.text
    return int(re.search(r'desc="(\d+) queries"', response.headers["server-timing"]).group(1))


async def test_a_trace_costs_the_same_queries_however_long_the_history(world, settings, conn):
    async with serve(dataclasses.replace(settings, log_timing=True)) as client:
        staff = await bearer(client, "staffer")
        customer = await bearer(client, "cust_2")
        await client.get(TRACE.format(world["b"]), headers=staff)  # the user's state, cached from now on
        few = _queries(await client.get(TRACE.format(world["b"]), headers=staff))
        for _ in range(12):
            assert (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1},
                                      headers=customer)).status_code == 201
        assert _queries(await client.get(TRACE.format(world["b"]) + "?limit=100", headers=staff)) == few
    assert few <= 8  # the snapshot setting and the 7 reads
