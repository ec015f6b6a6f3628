"""Reading a recall: the trace (every order item drawn from its batches) and its progress,
per batch, per customer and in total, from the ledger.

- Delivered: units of shipped orders. Units of pending or processed orders are *held*: they
  are still in the warehouse and are never shipped (shipping refuses quarantined stock), so
  staff cancel those orders, which puts the units back into the batch on hold.
- Returned: units a customer sent back under the recall (its `recall_return` movements for
  the order and batch). Units an ordinary approved return took back count against what is
  outstanding too (`returned_otherwise`): they came back before or beside the recall.
- Outstanding: delivered minus both, per item; a cancelled order's items are listed, never
  counted.
- Destroyed: units written off under the recall (its `write_off` movements).
A recall can be closed when no recalled batch holds stock and nothing is outstanding or held.
"""

from __future__ import annotations

from typing import Any

import psycopg

from stockline import db
from stockline.errors import NotFound
from stockline.kernel.export import Column, csv_text
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

HELD = ("pending", "processed")
CUSTOMER_COLUMNS = (
    Column("customer_id", "int"), Column("customer_name"), Column("orders", "int"),
    Column("delivered", "int"), Column("returned", "int"), Column("returned_otherwise", "int"),
    Column("outstanding", "int"), Column("held", "int"),
)


def _trace_item(row: dict[str, Any]) -> dict[str, Any]:
    shipped = row["status"] == "shipped"
    outstanding = max(row["quantity"] - row["returned"] - row["returned_otherwise"], 0) if shipped else 0
    return {"order_item_id": row["order_item_id"], "order_id": row["order_id"],
            "order_date": row["order_date"].isoformat(), "status": row["status"],
            "customer_id": row["customer_id"], "customer_name": row["customer_name"], "sku_id": row["sku_id"],
            "sku_code": row["sku_code"], "product_name": row["product_name"], "batch_id": row["batch_id"],
            "batch_no": row["batch_no"], "expiry_date": row["expiry_date"].isoformat(),
            "quantity": row["quantity"], "counted": row["status"] != "cancelled", "returned": row["returned"],
            "returned_otherwise": row["returned_otherwise"], "outstanding": outstanding}


def _per_customer(trace: list[dict[str, Any]]) -> list[dict[str, Any]]:
    customers: dict[int, dict[str, Any]] = {}
    orders: dict[int, set[int]] = {}
    for item in trace:
        if not item["counted"]:
            continue
        row = customers.setdefault(item["customer_id"], {
            "customer_id": item["customer_id"], "customer_name": item["customer_name"], "orders": 0,
            "delivered": 0, "returned": 0, "returned_otherwise": 0, "outstanding": 0, "held": 0})
        orders.setdefault(item["customer_id"], set()).add(item["order_id"])
        if item["status"] == "shipped":
            row["delivered"] += item["quantity"]
            row["returned"] += item["returned"]
            row["returned_otherwise"] += item["returned_otherwise"]
            row["outstanding"] += item["outstanding"]
        else:
            row["held"] += item["quantity"]
    for customer_id, row in customers.items():
        row["orders"] = len(orders[customer_id])
    return list(customers.values())


def _batches(rows: list[dict[str, Any]], trace: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_batch: dict[int, list[dict[str, Any]]] = {}
    for item in trace:  # once over the trace, however many batches the recall has
        by_batch.setdefault(item["batch_id"], []).append(item)
    batches = []
    for row in rows:
        mine = by_batch.get(row["batch_id"], [])
        batches.append({
            "batch_id": row["batch_id"], "batch_no": row["batch_no"], "sku_id": row["sku_id"],
            "sku_code": row["sku_code"], "product_name": row["product_name"],
            "package_size": row["package_size"], "unit_type": row["unit_type"],
            "expiry_date": row["expiry_date"].isoformat(), "quarantined": row["quarantined"],
            "on_hand_at_recall": row["on_hand_at_recall"], "on_hand": row["on_hand"],
            "delivered": sum(item["quantity"] for item in mine if item["status"] == "shipped"),
            "held": sum(item["quantity"] for item in mine if item["status"] in HELD),
            "returned": row["returned"], "destroyed": row["destroyed"]})
    return batches


def _totals(batches: list[dict[str, Any]], customers: list[dict[str, Any]]) -> dict[str, int]:
    def total(rows: list[dict[str, Any]], key: str) -> int:
        return sum(row[key] for row in rows)
    return {"on_hand_at_recall": total(batches, "on_hand_at_recall"), "on_hand": total(batches, "on_hand"),
            "delivered": total(batches, "delivered"), "held": total(batches, "held"),
            "returned": total(batches, "returned"),
            "returned_otherwise": total(customers, "returned_otherwise"),
            "destroyed": total(batches, "destroyed"), "outstanding": total(customers, "outstanding"),
            "customers": len(customers)}


def outstanding_now(recall: dict[str, Any]) -> dict[str, int]:
    """What stands between the recall and its closing: stock held, units with customers,
    units of unshipped orders."""
    totals = recall["totals"]
    return {"on_hand": totals["on_hand"], "outstanding": totals["outstanding"], "held": totals["held"]}


async def read_recall(conn: psycopg.AsyncConnection, recall_id: int) -> dict[str, Any]:
    """A recall with its batches, trace, per-customer progress and totals (three statements)."""
    header = await db.send(conn, Q["recall_header"], {"recall_id": recall_id})
    batch_rows = await db.send(conn, Q["recall_batches"], {"recall_id": recall_id})
    item_rows = await db.send(conn, Q["recall_items"], {"recall_id": recall_id, "customer_id": None})
    row = await header.one()
    if row is None:
        raise NotFound(f"No recall {recall_id}")
    trace = [_trace_item(item) for item in await item_rows.all()]
    customers = _per_customer(trace)
    batches = _batches(await batch_rows.all(), trace)
    totals = _totals(batches, customers)
    recall = {
        "recall_id": row["recall_id"], "recall_no": row["recall_no"], "recall_class": row["recall_class"],
        "reason": row["reason"], "status": row["status"], "initiated_by": row["initiated_by"],
        "initiated_at": row["initiated_at"].isoformat(), "closed_by": row["closed_by"],
        "closed_at": row["closed_at"] and row["closed_at"].isoformat(), "close_note": row["close_note"],
        "batches": batches, "customers": customers, "trace": trace,
        "held_orders": [item for item in trace if item["status"] in HELD], "totals": totals}
    recall["can_close"] = row["status"] == "open" and not any(outstanding_now(recall).values())
    return recall


def customers_csv(recall: dict[str, Any]) -> str:
    """The per-customer progress as CSV (formula-safe cells)."""
    return csv_text(recall["customers"], CUSTOMER_COLUMNS)


def customer_recalls(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A customer's recalled items grouped by recall, with their units: delivered, returned,
    outstanding (shipped orders) and held (not shipped)."""
    recalls: dict[int, dict[str, Any]] = {}
    for row in rows:
        recall = recalls.setdefault(row["recall_id"], {
            "recall_id": row["recall_id"], "recall_no": row["recall_no"], "recall_class": row["recall_class"],
            "reason": row["reason"], "status": row["recall_status"],
            "initiated_at": row["initiated_at"].isoformat(),
            "closed_at": row["closed_at"] and row["closed_at"].isoformat(),
            "delivered": 0, "returned": 0, "outstanding": 0, "held": 0, "items": []})
        shipped = row["status"] == "shipped"
        outstanding = max(row["quantity"] - row["returned"], 0) if shipped else 0
        recall["items"].append({
            "order_id": row["order_id"], "order_date": row["order_date"].isoformat(), "status": row["status"],
            "order_item_id": row["order_item_id"], "sku_code": row["sku_code"],
            "product_name": row["product_name"], "package_size": row["package_size"],
            "unit_type": row["unit_type"], "batch_no": row["batch_no"],
            "expiry_date": row["expiry_date"].isoformat(), "quantity": row["quantity"],
            "returned": row["returned"], "outstanding": outstanding})
        if shipped:
            recall["delivered"] += row["quantity"]
            recall["returned"] += row["returned"]
            recall["outstanding"] += outstanding
        else:
            recall["held"] += row["quantity"]
    return list(recalls.values())


def needs_action(recall: dict[str, Any]) -> bool:
    """An open recall the customer still has units of (or unshipped orders of)."""
    return recall["status"] == "open" and (recall["outstanding"] > 0 or recall["held"] > 0)
