"""`stockline check` proves the stock side's invariants: purchase order lines against the
receipts naming them, purchase order status against their lines, a batch's quarantine flag
against its status history, no sale of a batch while it was on hold, recalled batches on
hold, movements under a recall only of its batches, closed recalls emptied. Each is shown
holding on consistent rows and reporting a row broken on purpose."""

from __future__ import annotations

from stockline.invariants import check_invariants

STOCK_SIDE = {"po_received_mismatch", "po_status_mismatch", "receipt_on_closed_po", "batch_status_mismatch",
              "sale_while_quarantined", "recalled_batch_not_quarantined", "recall_movement_outside_recall",
              "closed_recall_holding_stock", "recall_destroyed_beyond_held"}


def broken(conn) -> dict[str, list]:
    return {r.name: r.offenders for r in check_invariants(conn) if not r.holds}


def purchase_order(conn, status: str, sku_id: int, ordered: int, received: int) -> int:
    supplier = conn.execute("INSERT INTO Suppliers (name) VALUES ('Supplier ' || %s || ' ' || "
                            "(SELECT count(*) FROM Suppliers)) RETURNING supplier_id", (status,)).fetchone()["supplier_id"]
    po_id = conn.execute(
        "INSERT INTO Purchase_Orders (supplier_id, status, sent_at) VALUES (%s, %s, "
        "CASE WHEN %s NOT IN ('draft', 'cancelled') THEN now() END) RETURNING po_id",
        (supplier, status, status)).fetchone()["po_id"]
    line = conn.execute("INSERT INTO Purchase_Order_Lines (po_id, sku_id, quantity_ordered, unit_cost, "
                        "quantity_received) VALUES (%s, %s, %s, 1.00, %s) RETURNING po_line_id",
                        (po_id, sku_id, ordered, received)).fetchone()["po_line_id"]
    if received:
        batch = conn.execute("INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand) "
                             "VALUES (%s, 'PO-' || %s, current_date + 400, %s) RETURNING batch_id",
                             (sku_id, line, received)).fetchone()["batch_id"]
        conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, po_line_id) "
                     "VALUES (%s, %s, 'receipt', %s)", (batch, received, line))
    return po_id


def quarantine(conn, batch_id: int, recall_id: int | None = None) -> None:
    """What inventory.batches.status writes: the flag, and the history row at the batch's
    place in its ledger."""
    conn.execute("UPDATE Inventory_Batches SET quarantined = true WHERE batch_id = %s", (batch_id,))
    conn.execute("INSERT INTO Batch_Status_Changes (batch_id, quarantined, reason, recall_id, ledger_position) "
                 "SELECT %s, true, 'suspected contamination', %s, coalesce(max(movement_id), 0) "
                 "FROM Stock_Movements WHERE batch_id = %s", (batch_id, recall_id, batch_id))


def recall(conn, batch_ids: list[int], status: str = "open") -> int:
    recall_id = conn.execute(
        "INSERT INTO Recalls (recall_no, recall_class, reason, status, closed_at) "
        "VALUES ((SELECT document_no FROM stockline_take_document_number('RCL', current_date)), 2, 'label misprint', %s, "
        "CASE WHEN %s = 'closed' THEN now() END) RETURNING recall_id", (status, status)).fetchone()["recall_id"]
    for batch_id in batch_ids:
        conn.execute("INSERT INTO Recall_Batches (recall_id, batch_id, on_hand_at_recall) "
                     "SELECT %s, batch_id, quantity_on_hand FROM Inventory_Batches WHERE batch_id = %s",
                     (recall_id, batch_id))
    return recall_id


def place(conn, sku_id: int, quantity: int) -> dict:
    return conn.execute("SELECT stockline_place_order(1, 1, ARRAY[%s], ARRAY[%s], NULL, current_date, "
                        "current_date)::jsonb AS answer", (sku_id, quantity)).fetchone()["answer"]


def test_the_stock_side_invariants_hold_on_consistent_rows(conn, world):
    purchase_order(conn, "draft", 1, 10, 0)
    purchase_order(conn, "partly_received", 2, 10, 4)
    purchase_order(conn, "received", 3, 10, 10)
    place(conn, 1, 2)  # sold before the quarantine
    quarantine(conn, world["a_soon"])
    recall(conn, [world["a_soon"]])
    # the quarantined batch is passed over: the order is filled from the next one
    answer = place(conn, 1, 2)
    assert answer["outcome"] == "placed" and answer["items"]["batch_id"] == [world["a_later"]]
    assert broken(conn) == {}


def test_each_stock_side_invariant_reports_what_breaks_it(conn, world):
    over_counted = purchase_order(conn, "partly_received", 2, 10, 4)
    conn.execute("UPDATE Purchase_Order_Lines SET quantity_received = 6 WHERE po_id = %s", (over_counted,))
    received_while_sent = purchase_order(conn, "sent", 3, 10, 3)
    received_then_cancelled = purchase_order(conn, "cancelled", 3, 10, 2)
    conn.execute("UPDATE Inventory_Batches SET quarantined = true WHERE batch_id = %s", (world["b"],))
    quarantine(conn, world["a_soon"])
    sold = conn.execute("INSERT INTO Orders (customer_id, user_id, total_amount) VALUES (1, 1, 0) "
                        "RETURNING order_id").fetchone()["order_id"]
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, order_id) VALUES (%s, -1, 'sale', %s)",
                 (world["a_soon"], sold))
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand - 1 WHERE batch_id = %s",
                 (world["a_soon"],))
    not_on_hold = recall(conn, [world["c"]])
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, recall_id) "
                 "VALUES (%s, -1, 'write_off', %s)", (world["a_later"], not_on_hold))
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand - 1 WHERE batch_id = %s",
                 (world["a_later"],))
    quarantine(conn, world["d"])
    closed = recall(conn, [world["d"]], status="closed")
    # 9 units destroyed under a recall of a batch that held 4 when recalled, nothing since
    over_destroyed = recall(conn, [world["a_soon"]])
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand + 6 WHERE batch_id = %s",
                 (world["a_soon"],))
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, 6, 'adjustment')",
                 (world["a_soon"],))
    conn.execute("INSERT INTO Batch_Status_Changes (batch_id, quarantined, reason, recall_id, ledger_position) "
                 "SELECT %s, true, 'recalled', %s, max(movement_id) FROM Stock_Movements",
                 (world["a_soon"], over_destroyed))
    conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand - 9 WHERE batch_id = %s",
                 (world["a_soon"],))
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, recall_id) "
                 "VALUES (%s, -9, 'write_off', %s)", (world["a_soon"], over_destroyed))
    found = broken(conn)
    assert set(found) >= STOCK_SIDE, found
    assert [row["po_id"] for row in found["po_received_mismatch"]] == [over_counted]
    assert [row["po_id"] for row in found["po_status_mismatch"]] == [received_while_sent, received_then_cancelled]
    assert [row["po_id"] for row in found["receipt_on_closed_po"]] == [received_then_cancelled]
    assert [row["recall_id"] for row in found["recall_destroyed_beyond_held"]] == [over_destroyed]
    assert [row["batch_id"] for row in found["batch_status_mismatch"]] == [world["b"]]
    assert [row["order_id"] for row in found["sale_while_quarantined"]] == [sold]
    assert [row["batch_id"] for row in found["recalled_batch_not_quarantined"]] == [world["c"]]
    assert [row["batch_id"] for row in found["recall_movement_outside_recall"]] == [world["a_later"]]
    assert [row["recall_id"] for row in found["closed_recall_holding_stock"]] == [closed]


def test_a_sale_after_a_release_is_not_a_sale_while_quarantined(conn, world):
    quarantine(conn, world["a_soon"])
    conn.execute("UPDATE Inventory_Batches SET quarantined = false WHERE batch_id = %s", (world["a_soon"],))
    conn.execute("INSERT INTO Batch_Status_Changes (batch_id, quarantined, reason, ledger_position) "
                 "SELECT %s, false, 'cleared by QA', coalesce(max(movement_id), 0) FROM Stock_Movements "
                 "WHERE batch_id = %s", (world["a_soon"], world["a_soon"]))
    answer = place(conn, 1, 2)
    assert answer["outcome"] == "placed" and answer["items"]["batch_id"] == [world["a_soon"]]
    assert broken(conn) == {}
