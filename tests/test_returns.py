"""Returns through the real ASGI app: a customer asks to send back delivered units, staff
approve (restock or write off, the credit note issued, the invoice credited) or reject; with
the stock, the ledger, the invoice and the audit log read back from the database. The world
and its figures: tests/returns_world.py."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import psycopg
import pytest

from tests.ordering_world import TODAY, bearer, ledger_rows, stock
from tests.races import wait_until_blocked
from tests.returns_world import (
    approve,
    broken,
    exposure,
    invoice,
    request,
    requested,
    shipped_order,
    taxed,
)


@pytest.fixture
async def world_taxed(world, conn):
    taxed(conn)
    return world


@pytest.fixture
async def cust1(client, world_taxed):
    return await bearer(client, "cust_1")


@pytest.fixture
async def staff(client, world_taxed):
    return await bearer(client, "staffer")


# --- the whole flow ------------------------------------------------------------------------

async def test_a_return_approved_puts_units_back_writes_off_the_rest_and_credits_the_invoice(
        client, conn, world_taxed, cust1, staff):
    world = world_taxed
    order = await shipped_order(client, conn)
    order_id, items = order["order_id"], order["by_batch"]
    assert (order["net_amount"], order["tax_amount"], order["gross_amount"]) == ("63.50", "11.58", "75.08")
    assert exposure(conn) == Decimal("75.08")

    created = await request(client, cust1, order_id, [(items["A-SOON"], 2), (items["A-LATER"], 2), (items["C-1"], 1)],
                            note="Two boxes crushed in transit")
    assert created.status_code == 201, created.text
    ret = created.json()
    assert ret["status"] == "requested" and ret["order_id"] == order_id and ret["customer_id"] == 1
    assert ret["requested_by"] == "cust_1" and ret["note"] == "Two boxes crushed in transit"
    assert ret["credit_note"] is None and ret["total_units"] == 5 and ret["net_amount"] == "34.50"
    assert [(line["batch_no"], line["quantity"], line["reason"], line["disposition"], line["unit_price"])
            for line in ret["lines"]] == [("A-SOON", 2, "Damaged", None, "8.00"), ("A-LATER", 2, "Damaged", None, "8.00"),
                                          ("C-1", 1, "Damaged", None, "2.50")]
    # asking changes no stock and credits nothing yet
    assert (stock(conn, world["a_soon"]), stock(conn, world["a_later"]), stock(conn, world["c"])) == (0, 18, 1)
    assert invoice(conn, order_id)["amount_credited"] == 0

    approved = await approve(client, staff, ret["return_id"], {items["A-SOON"]: "restock", items["A-LATER"]: "write_off",
                                                               items["C-1"]: "restock"}, note="Checked on arrival")
    assert approved.status_code == 200, approved.text
    ret = approved.json()
    assert ret["status"] == "approved" and ret["decided_by"] == "staffer" and ret["decided_at"] is not None
    assert ret["decision_note"] == "Checked on arrival"
    assert [line["disposition"] for line in ret["lines"]] == ["restock", "write_off", "restock"]
    year = TODAY.year
    assert ret["credit_note"]["credit_note_no"] == f"CN-{year}-000001" and ret["credit_note"]["gross_amount"] == "41.03"

    # stock back in the batches the units came from; the write-off came back and left again
    assert (stock(conn, world["a_soon"]), stock(conn, world["a_later"]), stock(conn, world["c"])) == (2, 18, 2)
    assert ledger_rows(conn, order_id)[3:] == [
        (world["a_soon"], 2, "return"), (world["a_later"], 2, "return"), (world["a_later"], -2, "write_off"),
        (world["c"], 1, "return")]
    notes = [row["note"] for row in conn.execute(
        "SELECT note FROM Stock_Movements WHERE order_id = %s AND reason IN ('return', 'write_off') "
        "ORDER BY movement_id", (order_id,)).fetchall()]
    assert notes[2] == f"written off on return #{ret['return_id']}" and notes[0] == f"return #{ret['return_id']}"

    # the credit note: the invoice's lines at the price and rate sold, tax per line
    note = (await client.get(f"/api/my-credit-notes/{ret['credit_note']['credit_note_id']}", headers=cust1)).json()
    assert note["kind"] == "credit_note" and note["number"] == f"CN-{year}-000001"
    assert note["issued_on"] == TODAY.isoformat() and note["due_on"] is None and note["payment"] is None
    invoice_no = conn.execute("SELECT invoice_no FROM Invoices WHERE order_id = %s", (order_id,)).fetchone()["invoice_no"]
    assert note["references"] == [["Credits invoice", invoice_no], ["Order", str(order_id)],
                                  ["Return", str(ret["return_id"])]]
    assert note["buyer"]["name"] == "First Pharmacy" and note["seller"]["name"] == "Stockline Distribution"
    assert [(line["batch_no"], line["quantity"], line["unit_price"], line["net_amount"], line["tax_rate"],
             line["tax_amount"]) for line in note["lines"]] == [
        ("A-SOON", 2, "8.00", "16.00", "20.00", "3.20"), ("A-LATER", 2, "8.00", "16.00", "20.00", "3.20"),
        ("C-1", 1, "2.50", "2.50", "5.00", "0.13")]
    assert (note["net_amount"], note["tax_amount"], note["gross_amount"]) == ("34.50", "6.53", "41.03")
    assert note["tax_summary"] == [{"tax_rate": "5.00", "net_amount": "2.50", "tax_amount": "0.13"},
                                   {"tax_rate": "20.00", "net_amount": "32.00", "tax_amount": "6.40"}]

    # the invoice is credited: balance, status and the customer's exposure go down
    credited = invoice(conn, order_id)
    assert (credited["amount_credited"], credited["balance"], credited["status"]) == \
        (Decimal("41.03"), Decimal("34.05"), "partly_paid")
    assert exposure(conn) == Decimal("34.05")
    account = (await client.get("/api/my-account", headers=cust1)).json()
    assert account["exposure"] == "34.05"

    entry = conn.execute("SELECT actor_username, entity_type, entity_id, before, after FROM Audit_Log "
                         "WHERE action = 'return.approve'").fetchone()
    assert (entry["actor_username"], entry["entity_type"], entry["entity_id"]) == ("staffer", "return", ret["return_id"])
    assert entry["before"] == {"status": "requested"}
    assert entry["after"]["credit_note_no"] == f"CN-{year}-000001" and entry["after"]["written_off_units"] == 2
    assert broken(conn) == {}


async def test_the_return_that_completes_an_item_credits_exactly_the_tax_left(client, conn, cust1, staff):
    """3 units at 2.50 taxed 5 %: 0.38 for the three, 0.13 for one alone. Returned one by one,
    the first two credit 0.13 each; the last credits the 0.12 left, so the item's credited tax
    is what was invoiced, not 0.39."""
    order = await shipped_order(client, conn, lines={3: 3})
    item = order["by_batch"]["C-1"]
    taxes = []
    for number in (1, 2, 3):
        ret = await requested(client, cust1, order["order_id"], [(item, 1)])
        answer = await approve(client, staff, ret["return_id"], {item: "restock"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["credit_note"]["credit_note_no"].endswith(f"-{number:06d}")  # gapless, in order
        note = (await client.get(f"/api/admin/credit-notes/{answer.json()['credit_note']['credit_note_id']}",
                                 headers=staff)).json()
        taxes.append(note["lines"][0]["tax_amount"])
    assert taxes == ["0.13", "0.13", "0.12"]
    credited = invoice(conn, order["order_id"])
    assert credited["amount_credited"] == credited["gross_amount"] == Decimal("7.88")
    assert (credited["balance"], credited["status"]) == (Decimal("0.00"), "paid")
    assert exposure(conn) == 0
    assert broken(conn) == {}


async def test_credited_tax_never_runs_ahead_of_the_items_tax(client, conn, world_taxed, staff):
    """A tiny unit price makes every single unit round up (0.10 at 5 % is 0.005 -> 0.01), while
    five units together are taxed 0.03: the fourth and fifth single returns credit nothing more."""
    conn.execute("UPDATE Product_SKUs SET base_price = 0.10 WHERE sku_id = 3")
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = 10 WHERE batch_id = %s", (world_taxed["c"],))
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, 6, 'receipt')",
                 (world_taxed["c"],))
    cust2 = await bearer(client, "cust_2")
    order = await shipped_order(client, conn, customer="cust_2", lines={3: 5})
    assert order["tax_amount"] == "0.03"
    item = order["by_batch"]["C-1"]
    taxes = []
    for _ in range(5):
        ret = await requested(client, cust2, order["order_id"], [(item, 1)])
        answer = (await approve(client, staff, ret["return_id"], {item: "write_off"})).json()
        note = (await client.get(f"/api/my-credit-notes/{answer['credit_note']['credit_note_id']}", headers=cust2)).json()
        taxes.append(note["tax_amount"])
    assert taxes == ["0.01", "0.01", "0.01", "0.00", "0.00"]
    assert broken(conn) == {}


# --- what may be asked back ----------------------------------------------------------------

async def test_more_than_was_delivered_is_refused_with_the_figures_per_line(client, conn, cust1, staff):
    order = await shipped_order(client, conn)
    items = order["by_batch"]
    await requested(client, cust1, order["order_id"], [(items["A-SOON"], 2)])
    answer = await request(client, cust1, order["order_id"], [(items["A-SOON"], 4), (items["C-1"], 3)])
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "return_exceeds_delivered"
    assert error["details"] == {"lines": [{"order_item_id": items["A-SOON"], "delivered": 5, "already_returned": 2,
                                           "requested": 4}]}
    assert conn.execute("SELECT count(*) AS n FROM Returns").fetchone()["n"] == 1  # nothing of the refused one
    # the other user of the same customer sees the same account of what is left
    other = await bearer(client, "cust_1b")
    assert (await request(client, other, order["order_id"], [(items["A-SOON"], 3)])).status_code == 201
    assert (await request(client, other, order["order_id"], [(items["A-SOON"], 1)])).status_code == 409


async def test_a_rejected_return_frees_its_units(client, conn, cust1, staff):
    order = await shipped_order(client, conn)
    item = order["by_batch"]["A-SOON"]
    ret = await requested(client, cust1, order["order_id"], [(item, 5)])
    assert (await request(client, cust1, order["order_id"], [(item, 1)])).status_code == 409
    rejected = await client.post(f"/api/admin/returns/{ret['return_id']}/reject",
                                 json={"note": "Opened packs cannot be taken back"}, headers=staff)
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert (body["status"], body["decision_note"], body["decided_by"], body["credit_note"]) == \
        ("rejected", "Opened packs cannot be taken back", "staffer", None)
    assert (await request(client, cust1, order["order_id"], [(item, 5)])).status_code == 201
    assert invoice(conn, order["order_id"])["amount_credited"] == 0  # a rejection credits nothing
    assert ledger_rows(conn, order["order_id"])[-1][2] == "sale"  # nor moves stock
    entry = conn.execute("SELECT after FROM Audit_Log WHERE action = 'return.reject'").fetchone()
    assert entry["after"] == {"status": "rejected", "note": "Opened packs cannot be taken back"}
    assert broken(conn) == {}


async def test_only_delivered_and_invoiced_orders_can_be_returned(client, conn, cust1, staff):
    placed = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 3}, headers=cust1)).json()
    item = placed["items"][0]["order_item_id"]
    answer = await request(client, cust1, placed["order_id"], [(item, 1)])
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "order_not_delivered"
    assert answer.json()["error"]["details"] == {"order_id": placed["order_id"], "status": "pending"}
    # an order shipped before invoices existed (the seed's history) has none to credit
    conn.execute("UPDATE Orders SET status = 'shipped' WHERE order_id = %s", (placed["order_id"],))
    answer = await request(client, cust1, placed["order_id"], [(item, 1)])
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "order_not_invoiced"
    assert conn.execute("SELECT count(*) AS n FROM Returns").fetchone()["n"] == 0


@pytest.mark.parametrize(("lines", "code"), [
    ([], "validation_error"),                                  # nothing to return
    ([("A-SOON", 0)], "validation_error"),                     # quantity below 1
    ([("A-SOON", 1), ("A-SOON", 1)], "validation_error"),      # the same item twice
    ([("A-SOON", 1.5)], "validation_error"),
    ([("other", 1)], "unknown_order_item"),                    # an item of another order
])
async def test_bad_return_lines_are_422(client, conn, cust1, lines, code):
    order = await shipped_order(client, conn)
    other = (await client.post("/api/orders", json={"sku_id": 2, "quantity": 1}, headers=cust1)).json()
    ids = order["by_batch"] | {"other": other["items"][0]["order_item_id"]}
    body = {"lines": [{"order_item_id": ids[name], "quantity": quantity, "reason": "Damaged"}
                      for name, quantity in lines]}
    answer = await client.post(f"/api/my-orders/{order['order_id']}/returns", json=body, headers=cust1)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == code


@pytest.mark.parametrize("body", [
    {"lines": [{"order_item_id": 1, "quantity": 1, "reason": "  "}]},    # a blank reason
    {"lines": [{"order_item_id": 1, "quantity": 1}]},                    # no reason
    {"lines": [{"order_item_id": 1, "quantity": 1, "reason": "x", "refund": "99"}]},
    {"lines": [{"order_item_id": 1, "quantity": 1, "reason": "x\u0000"}]},
    {"lines": [{"order_item_id": 1, "quantity": 1, "reason": "x"}], "note": "n" * 2001},
])
async def test_malformed_requests_are_422_and_write_nothing(client, conn, cust1, body):
    order = await shipped_order(client, conn)
    answer = await client.post(f"/api/my-orders/{order['order_id']}/returns", json=body, headers=cust1)
    assert answer.status_code == 422
    assert set(answer.json()["error"]) == {"code", "message", "details"}
    assert conn.execute("SELECT count(*) AS n FROM Returns").fetchone()["n"] == 0


# --- deciding ------------------------------------------------------------------------------

async def test_approval_needs_one_disposition_per_line_and_nothing_else(client, conn, cust1, staff):
    order = await shipped_order(client, conn)
    items = order["by_batch"]
    ret = await requested(client, cust1, order["order_id"], [(items["A-SOON"], 1), (items["C-1"], 1)])
    missing = await approve(client, staff, ret["return_id"], {items["A-SOON"]: "restock"})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "dispositions_mismatch"
    assert missing.json()["error"]["details"] == {"missing": [items["C-1"]], "unknown": []}
    extra = await approve(client, staff, ret["return_id"], {items["A-SOON"]: "restock", items["C-1"]: "restock",
                                                            items["A-LATER"]: "write_off"})
    assert extra.json()["error"]["details"] == {"missing": [], "unknown": [items["A-LATER"]]}
    for body in ({"lines": [{"order_item_id": items["A-SOON"], "disposition": "resell"},
                            {"order_item_id": items["C-1"], "disposition": "restock"}]},
                 {"lines": [{"order_item_id": items["A-SOON"], "disposition": "restock"}] * 2},
                 {"lines": []}):
        answer = await client.post(f"/api/admin/returns/{ret['return_id']}/approve", json=body, headers=staff)
        assert answer.status_code == 422, body
    assert (await client.post(f"/api/admin/returns/{ret['return_id']}/reject", json={"note": " "},
                              headers=staff)).status_code == 422
    assert (await client.post(f"/api/admin/returns/{ret['return_id']}/reject", json={},
                              headers=staff)).status_code == 422
    status = conn.execute("SELECT status FROM Returns WHERE return_id = %s", (ret["return_id"],)).fetchone()
    assert status["status"] == "requested"
    assert conn.execute("SELECT count(*) AS n FROM Credit_Notes").fetchone()["n"] == 0


async def test_a_decided_return_cannot_be_decided_again(client, conn, cust1, staff):
    order = await shipped_order(client, conn)
    item = order["by_batch"]["A-SOON"]
    ret = await requested(client, cust1, order["order_id"], [(item, 1)])
    assert (await approve(client, staff, ret["return_id"], {item: "restock"})).status_code == 200
    for answer in (await approve(client, staff, ret["return_id"], {item: "write_off"}),
                   await client.post(f"/api/admin/returns/{ret['return_id']}/reject", json={"note": "no"},
                                     headers=staff)):
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "return_already_decided"
        assert answer.json()["error"]["details"]["status"] == "approved"
    assert (await approve(client, staff, 999, {item: "restock"})).status_code == 404
    assert stock(conn, order_stock_batch(conn, item)) == 1  # restocked once


def order_stock_batch(conn, order_item_id: int) -> int:
    return conn.execute("SELECT batch_id FROM Order_Items WHERE order_item_id = %s",
                        (order_item_id,)).fetchone()["batch_id"]


# --- concurrency ---------------------------------------------------------------------------

async def test_a_request_waits_for_another_on_the_same_order_and_then_sees_it(client, conn, clean_db, cust1):
    """Deterministic form of two requests for the same units: another transaction holds the
    order's lock and has asked for 4 of A-SOON's 5 units, not yet committed. The request for 3
    must wait for it, then see those 4, and be refused."""
    order = await shipped_order(client, conn)
    item = order["by_batch"]["A-SOON"]
    with psycopg.connect(clean_db) as rival:  # not autocommit: holds its locks until commit
        rival.execute("SELECT 1 FROM Orders WHERE order_id = %s FOR UPDATE", (order["order_id"],))
        return_id = rival.execute("INSERT INTO Returns (order_id, customer_id) VALUES (%s, 1) RETURNING return_id",
                                  (order["order_id"],)).fetchone()[0]
        rival.execute("INSERT INTO Return_Lines (return_id, order_item_id, quantity, reason) "
                      "VALUES (%s, %s, 4, 'Damaged')", (return_id, item))
        asking = asyncio.create_task(request(client, cust1, order["order_id"], [(item, 3)]))
        await wait_until_blocked(clean_db, rival.info.backend_pid, asking)
        rival.commit()
        answer = await asking
    assert answer.status_code == 409
    assert answer.json()["error"]["details"]["lines"][0]["already_returned"] == 4


async def test_concurrent_requests_for_the_same_units_let_exactly_one_through(client, conn, cust1):
    order = await shipped_order(client, conn)
    item = order["by_batch"]["A-SOON"]
    others = await bearer(client, "cust_1b")
    answers = await asyncio.gather(*(request(client, headers, order["order_id"], [(item, 3)])
                                     for headers in (cust1, others, cust1, others)))
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409]
    assert conn.execute("SELECT sum(quantity) AS n FROM Return_Lines").fetchone()["n"] == 3
    assert broken(conn) == {}


async def test_an_approval_waits_for_a_decision_in_flight_and_then_refuses(client, conn, clean_db, cust1, staff):
    """Another transaction has locked the return and rejected it, not yet committed: the
    approval must wait for it, then find the return decided, and change nothing."""
    order = await shipped_order(client, conn)
    item = order["by_batch"]["A-SOON"]
    ret = await requested(client, cust1, order["order_id"], [(item, 2)])
    with psycopg.connect(clean_db) as rival:
        rival.execute("SELECT 1 FROM Returns WHERE return_id = %s FOR UPDATE", (ret["return_id"],))
        rival.execute("UPDATE Returns SET status = 'rejected', decided_at = now(), decision_note = 'no' "
                      "WHERE return_id = %s", (ret["return_id"],))
        approving = asyncio.create_task(approve(client, staff, ret["return_id"], {item: "restock"}))
        await wait_until_blocked(clean_db, rival.info.backend_pid, approving)
        rival.commit()
        answer = await approving
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "return_already_decided"
    assert conn.execute("SELECT count(*) AS n FROM Credit_Notes").fetchone()["n"] == 0
    assert ledger_rows(conn, order["order_id"])[-1][2] == "sale"
    assert broken(conn) == {}


async def test_concurrent_approvals_of_one_return_issue_one_credit_note(client, conn, cust1, staff):
    order = await shipped_order(client, conn)
    item = order["by_batch"]["A-LATER"]
    ret = await requested(client, cust1, order["order_id"], [(item, 2)])
    boss = await bearer(client, "boss")
    answers = await asyncio.gather(*(approve(client, headers, ret["return_id"], {item: disposition})
                                     for headers, disposition in ((staff, "restock"), (boss, "write_off"),
                                                                  (staff, "write_off"), (boss, "restock"))))
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409]
    assert conn.execute("SELECT count(*) AS n FROM Credit_Notes").fetchone()["n"] == 1
    assert len([row for row in ledger_rows(conn, order["order_id"]) if row[2] == "return"]) == 1
    assert broken(conn) == {}


async def test_approvals_of_one_items_returns_run_one_after_the_other(client, conn, clean_db, cust1, staff):
    """Two returns of the last units of one item, approved at once: each waits for the order's
    lock, so the second sees the first's credit note and credits the tax left (0.12), never a
    second 0.13 (credited tax 0.39 > the 0.38 invoiced)."""
    order = await shipped_order(client, conn, lines={3: 3})
    item = order["by_batch"]["C-1"]
    first = await requested(client, cust1, order["order_id"], [(item, 1)])
    assert (await approve(client, staff, first["return_id"], {item: "restock"})).status_code == 200
    second = await requested(client, cust1, order["order_id"], [(item, 1)])
    third = await requested(client, cust1, order["order_id"], [(item, 1)])
    with psycopg.connect(clean_db) as rival:  # the order held: both approvals wait for it, after their returns
        # (NO KEY UPDATE: what only the approval's own lock waits for, not a foreign key's check)
        rival.execute("SELECT 1 FROM Orders WHERE order_id = %s FOR NO KEY UPDATE", (order["order_id"],))
        approving = [asyncio.create_task(approve(client, staff, ret["return_id"], {item: "restock"}))
                     for ret in (second, third)]
        await wait_until_blocked(clean_db, rival.info.backend_pid, approving[0])
        rival.commit()
        assert [(await task).status_code for task in approving] == [200, 200]
    taxes = [row["tax_amount"] for row in conn.execute(
        "SELECT tax_amount FROM Credit_Note_Lines ORDER BY credit_note_id").fetchall()]
    assert taxes == [Decimal("0.13"), Decimal("0.13"), Decimal("0.12")]
    assert broken(conn) == {}


# --- who sees what -------------------------------------------------------------------------

async def test_customers_see_only_their_own_orders_returns_and_credit_notes(client, conn, cust1, staff):
    order = await shipped_order(client, conn)
    item = order["by_batch"]["A-SOON"]
    ret = await requested(client, cust1, order["order_id"], [(item, 1)])
    note_id = (await approve(client, staff, ret["return_id"], {item: "restock"})).json()["credit_note"]["credit_note_id"]
    cust2 = await bearer(client, "cust_2")
    assert (await request(client, cust2, order["order_id"], [(item, 1)])).status_code == 404
    for path in (f"/api/my-returns/{ret['return_id']}", f"/api/my-credit-notes/{note_id}",
                 f"/api/my-credit-notes/{note_id}/pdf"):
        answer = await client.get(path, headers=cust2)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"
    assert (await client.get("/api/my-returns", headers=cust2)).json()["items"] == []
    assert (await client.get("/api/my-credit-notes", headers=cust2)).json()["items"] == []
    # the same customer's other user sees them
    other = await bearer(client, "cust_1b")
    seen = (await client.get(f"/api/my-returns/{ret['return_id']}", headers=other)).json()
    assert (seen["status"], seen["credit_note"]["credit_note_id"]) == ("approved", note_id)
    assert seen["decided_by"] is None  # which staff member decided is not the customer's to know
    assert (await client.get(f"/api/admin/returns/{ret['return_id']}", headers=staff)).json()["decided_by"] == "staffer"
    assert (await client.get(f"/api/my-credit-notes/{note_id}", headers=other)).status_code == 200


async def test_returns_and_credit_notes_routes_are_for_their_roles_only(client, conn, cust1, staff):
    customer_routes = [("POST", "/api/my-orders/1/returns"), ("GET", "/api/my-returns"), ("GET", "/api/my-returns/1"),
                       ("GET", "/api/my-credit-notes"), ("GET", "/api/my-credit-notes/1"),
                       ("GET", "/api/my-credit-notes/1/pdf")]
    staff_routes = [("GET", "/api/admin/returns"), ("GET", "/api/admin/returns/1"),
                    ("POST", "/api/admin/returns/1/approve"), ("POST", "/api/admin/returns/1/reject"),
                    ("GET", "/api/admin/credit-notes"), ("GET", "/api/admin/credit-notes/1"),
                    ("GET", "/api/admin/credit-notes/1/pdf")]
    for method, path in customer_routes + staff_routes:
        assert (await client.request(method, path)).status_code == 401, path
    for method, path in customer_routes:
        assert (await client.request(method, path, headers=staff)).status_code == 403, path
    for method, path in staff_routes:
        assert (await client.request(method, path, headers=cust1)).status_code == 403, path


async def test_return_lists_filter_and_put_requested_returns_first(client, conn, cust1, staff):
    order = await shipped_order(client, conn)
    items = order["by_batch"]
    first = await requested(client, cust1, order["order_id"], [(items["A-SOON"], 1)])
    second = await requested(client, cust1, order["order_id"], [(items["A-LATER"], 1)])
    await approve(client, staff, first["return_id"], {items["A-SOON"]: "restock"})
    third = await requested(client, cust1, order["order_id"], [(items["C-1"], 2)])
    other_order = await shipped_order(client, conn, customer="cust_2", lines={2: 2})
    fourth = await requested(client, await bearer(client, "cust_2"), other_order["order_id"],
                             [(other_order["by_batch"]["B-1"], 1)])

    every = (await client.get("/api/admin/returns", headers=staff)).json()
    assert [r["return_id"] for r in every["items"]] == [fourth["return_id"], third["return_id"], second["return_id"],
                                                        first["return_id"]]
    assert every["total_items"] == 4 and every["items"][-1]["credit_note"] is not None
    assert every["items"][1]["units"] == 2 and every["items"][1]["line_count"] == 1
    by = {"status": "approved"}, {"customer_id": 2}, {"order_id": order["order_id"], "status": "requested"}
    expected = [[first["return_id"]], [fourth["return_id"]], [third["return_id"], second["return_id"]]]
    for params, ids in zip(by, expected, strict=True):
        listed = (await client.get("/api/admin/returns", params=params, headers=staff)).json()
        assert [r["return_id"] for r in listed["items"]] == ids, params
    page = (await client.get("/api/admin/returns", params={"limit": 3, "page": 2}, headers=staff)).json()
    assert [r["return_id"] for r in page["items"]] == [first["return_id"]] and page["total_pages"] == 2
    mine = (await client.get("/api/my-returns", params={"status": "requested"}, headers=cust1)).json()
    assert [r["return_id"] for r in mine["items"]] == [third["return_id"], second["return_id"]]
    assert (await client.get("/api/admin/returns", params={"status": "lost"}, headers=staff)).status_code == 422
    assert (await client.get("/api/my-returns/999", headers=cust1)).status_code == 404
