"""Purchase orders: draft -> sent -> partly_received -> received, or cancelled.

- A new order is a draft for an active supplier; each SKU at most once; a line's unit cost is
  the one given or else the supplier's cost for the SKU (422 `unit_cost_required` when
  neither). Only a draft's note and lines change (PATCH).
- Sending (draft only) stamps sent_at and expects the goods on today + the supplier's lead
  time; an inactive supplier gets nothing new (409 `supplier_inactive`).
- Cancelling: a draft or a sent order (nothing received yet). Closing short: a partly
  received order the supplier will not complete becomes received with closed_short, so its
  outstanding units stop counting as incoming stock. Any other move is 409
  `invalid_transition` naming the statuses it is allowed from.
- Receiving is receiving.py. Every change locks the order's row first and is audited
  (purchase_order.*), entity: the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import CENT, money
from stockline.pagination import PageRequest
from stockline.purchasing.schemas import PoLineRequest
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__, "purchase_orders.sql")

# the statuses each move is allowed from
SEND_FROM = ("draft",)
CANCEL_FROM = ("draft", "sent")
CLOSE_FROM = ("partly_received",)
EDIT_FROM = ("draft",)


# --- reading -------------------------------------------------------------------------------

def _line(row: dict[str, Any]) -> dict[str, Any]:
    ordered, received = row["quantity_ordered"], row["quantity_received"]
    return {"po_line_id": row["po_line_id"], "sku_id": row["sku_id"], "sku_code": row["sku_code"],
            "product_name": row["product_name"], "package_size": row["package_size"],
            "unit_type": row["unit_type"], "supplier_sku_code": row["supplier_sku_code"],
            "unit_cost": money(row["unit_cost"]), "ordered": ordered, "received": received,
            "outstanding": max(ordered - received, 0), "over_delivered": max(received - ordered, 0),
            "line_cost": money(ordered * row["unit_cost"])}


def summary(row: dict[str, Any]) -> dict[str, Any]:
    return {"po_id": row["po_id"], "supplier_id": row["supplier_id"], "supplier_name": row["supplier_name"],
            "status": row["status"], "closed_short": row["closed_short"],
            "created_at": row["created_at"].isoformat(),
            "sent_at": row["sent_at"] and row["sent_at"].isoformat(),
            "expected_on": row["expected_on"] and row["expected_on"].isoformat(),
            "line_count": row["line_count"], "units_ordered": row["units_ordered"],
            "units_received": row["units_received"], "total_cost": money(row["total_cost"])}


async def read_order(conn: psycopg.AsyncConnection, po_id: int) -> dict[str, Any]:
    header = await db.send(conn, Q["order_header"], {"po_id": po_id})
    lines = await db.send(conn, Q["order_lines"], {"po_id": po_id})
    row = await header.one()
    if row is None:
        raise NotFound(f"No purchase order {po_id}")
    rows = await lines.all()
    return {
        "po_id": row["po_id"], "supplier_id": row["supplier_id"], "supplier_name": row["supplier_name"],
        "status": row["status"], "closed_short": row["closed_short"], "note": row["note"],
        "created_by": row["created_by"], "created_at": row["created_at"].isoformat(),
        "sent_at": row["sent_at"] and row["sent_at"].isoformat(),
        "expected_on": row["expected_on"] and row["expected_on"].isoformat(),
        "closed_at": row["closed_at"] and row["closed_at"].isoformat(),
        "total_cost": money(sum((r["quantity_ordered"] * r["unit_cost"] for r in rows), Decimal("0"))),
        "lines": [_line(r) for r in rows],
    }


async def get_order(ctx: Context, po_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await read_order(conn, po_id)


async def list_orders(ctx: Context, paging: PageRequest, *, status: str | None = None,
                      supplier_id: int | None = None) -> dict[str, Any]:
    """Purchase orders, newest first."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["orders_page"], {
            "status": status, "supplier_id": supplier_id, "limit": paging.limit, "offset": paging.offset})
    items = [summary(row) for row in rows if row["po_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"])


async def order_summaries(conn: psycopg.AsyncConnection, po_ids: Sequence[int]) -> list[dict[str, Any]]:
    return [summary(row) for row in await db.fetch_all(conn, Q["order_summaries"], {"po_ids": list(po_ids)})]


# --- drafting ------------------------------------------------------------------------------

def _audited_lines(skus: Sequence[int], quantities: Sequence[int], costs: Sequence[Decimal]) -> list[dict]:
    return [{"sku_id": sku_id, "quantity": quantity, "unit_cost": cost}
            for sku_id, quantity, cost in zip(skus, quantities, costs, strict=True)]


async def _priced_lines(conn: psycopg.AsyncConnection, supplier_id: int,
                        lines: Sequence[PoLineRequest]) -> list[dict[str, Any]]:
    """Each line with its unit cost: the one given, else the supplier's for the SKU. 422 for
    an unknown SKU or a line with neither cost."""
    sku_ids = [line.sku_id for line in lines]
    terms = {row["sku_id"]: row for row in await db.fetch_all(
        conn, Q["line_terms"], {"sku_ids": sku_ids, "supplier_id": supplier_id})}
    unknown = [sku_id for sku_id in sku_ids if not terms[sku_id]["sku_exists"]]
    if unknown:
        raise ValidationFailed(f"No SKU {', '.join(map(str, unknown))}", code="unknown_sku",
                               details={"sku_ids": unknown})
    unpriced = [line.sku_id for line in lines
                if line.unit_cost is None and terms[line.sku_id]["supplier_cost"] is None]
    if unpriced:
        raise ValidationFailed("Give a unit cost for every SKU the supplier has no cost for: "
                               + ", ".join(map(str, unpriced)), code="unit_cost_required",
                               details={"sku_ids": unpriced})
    return _audited_lines(sku_ids, [line.quantity for line in lines],
                          [line.unit_cost.quantize(CENT) if line.unit_cost is not None
                           else terms[line.sku_id]["supplier_cost"] for line in lines])


async def _insert_lines(conn: psycopg.AsyncConnection, po_id: int, lines: list[dict[str, Any]]) -> None:
    await db.send(conn, Q["insert_lines"], {
        "po_id": po_id, "sku_ids": [line["sku_id"] for line in lines],
        "quantities": [line["quantity"] for line in lines],
        "unit_costs": [line["unit_cost"] for line in lines]})


def refuse_inactive(supplier: dict[str, Any]) -> None:
    if not supplier["is_active"]:
        raise Conflict(f"Supplier {supplier['name']} is inactive: it gets no new purchase orders",
                       code="supplier_inactive", details={"supplier_id": supplier["supplier_id"]})


async def create_order(ctx: Context, actor: CurrentUser, supplier_id: int, lines: Sequence[PoLineRequest],
                       note: str | None) -> dict[str, Any]:
    """A draft purchase order for an active supplier."""
    async def work(conn: psycopg.AsyncConnection) -> int:
        supplier = await db.fetch_one(conn, Q["lock_supplier_for_order"], {"supplier_id": supplier_id})
        if supplier is None:
            raise ValidationFailed(f"No supplier {supplier_id}", code="unknown_supplier",
                                   details={"field": "supplier_id"})
        refuse_inactive(supplier)
        priced = await _priced_lines(conn, supplier_id, lines)
        created = await db.fetch_one(conn, Q["insert_order"],
                                     {"supplier_id": supplier_id, "note": note, "user_id": actor.user_id})
        po_id = created["po_id"]
        await _insert_lines(conn, po_id, priced)
        await audit.record(conn, actor, "purchase_order.create", po_id, None, {
            "supplier_id": supplier_id, "status": "draft", "note": note, "lines": priced})
        return po_id

    async def read_back(conn: psycopg.AsyncConnection, po_id: int) -> dict[str, Any]:
        return await read_order(conn, po_id)

    return await ctx.transaction(work, after_commit=read_back)


async def lock_order(conn: psycopg.AsyncConnection, po_id: int, allowed: Sequence[str],
                     to: str) -> dict[str, Any]:
    """The order, its row locked, if its status is one of `allowed`; else 404 or 409."""
    order = await db.fetch_one(conn, Q["lock_order"], {"po_id": po_id})
    if order is None:
        raise NotFound(f"No purchase order {po_id}")
    if order["status"] not in allowed:
        raise Conflict(f"Purchase order {po_id} is {order['status']}; only a {' or '.join(allowed)} order "
                       f"can become {to}", code="invalid_transition",
                       details={"from": order["status"], "to": to, "allowed": list(allowed)})
    return order


def _audited_order(order: dict[str, Any], lines: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"status": order["status"], "note": order["note"],
            "lines": _audited_lines([r["sku_id"] for r in lines], [r["quantity_ordered"] for r in lines],
                                    [r["unit_cost"] for r in lines])}


async def update_order(ctx: Context, actor: CurrentUser, po_id: int, changes: dict[str, Any],
                       lines: Sequence[PoLineRequest] | None) -> dict[str, Any]:
    """A draft's note (when sent) and lines (when sent: they replace every line)."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        order = await lock_order(conn, po_id, EDIT_FROM, "edited")
        before = _audited_order(order, await db.fetch_all(conn, Q["locked_lines"], {"po_id": po_id}))
        after = dict(before)
        if "note" in changes:
            after["note"] = changes["note"] or None
            await db.send(conn, Q["set_note"], {"po_id": po_id, "note": after["note"]})
        if lines is not None:
            after["lines"] = await _priced_lines(conn, order["supplier_id"], lines)
            await db.send(conn, Q["delete_lines"], {"po_id": po_id})
            await _insert_lines(conn, po_id, after["lines"])
        await audit.record(conn, actor, "purchase_order.update", po_id, before, after)

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await read_order(conn, po_id)

    return await ctx.transaction(work, after_commit=read_back)


# --- moving through the lifecycle ----------------------------------------------------------

async def send_order(ctx: Context, actor: CurrentUser, po_id: int) -> dict[str, Any]:
    """Draft -> sent, expected on today + the supplier's lead time."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        order = await lock_order(conn, po_id, SEND_FROM, "sent")
        refuse_inactive({"is_active": order["supplier_active"], "name": order["supplier_name"],
                         "supplier_id": order["supplier_id"]})
        expected_on = business_day() + timedelta(days=order["lead_time_days"])
        await db.send(conn, Q["send_order"], {"po_id": po_id, "expected_on": expected_on})
        await audit.record(conn, actor, "purchase_order.send", po_id, {"status": order["status"]},
                           {"status": "sent", "expected_on": expected_on})

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await read_order(conn, po_id)

    return await ctx.transaction(work, after_commit=read_back)


async def cancel_order(ctx: Context, actor: CurrentUser, po_id: int, note: str | None) -> dict[str, Any]:
    """A draft, or a sent order nothing of which arrived, is cancelled."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        order = await lock_order(conn, po_id, CANCEL_FROM, "cancelled")
        await db.send(conn, Q["cancel_order"], {"po_id": po_id, "note": note})
        await audit.record(conn, actor, "purchase_order.cancel", po_id, {"status": order["status"]},
                           {"status": "cancelled", "note": note})

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await read_order(conn, po_id)

    return await ctx.transaction(work, after_commit=read_back)


async def close_order(ctx: Context, actor: CurrentUser, po_id: int, note: str | None) -> dict[str, Any]:
    """A partly received order the supplier will not complete: received, closed short."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        order = await lock_order(conn, po_id, CLOSE_FROM, "received (closed short)")
        lines = await db.fetch_all(conn, Q["locked_lines"], {"po_id": po_id})
        await db.send(conn, Q["close_short"], {"po_id": po_id, "note": note})
        await audit.record(conn, actor, "purchase_order.close", po_id, {"status": order["status"]}, {
            "status": "received", "closed_short": True, "note": note,
            "short": [{"po_line_id": r["po_line_id"], "sku_id": r["sku_id"],
                       "units": r["quantity_ordered"] - r["quantity_received"]}
                      for r in lines if r["quantity_received"] < r["quantity_ordered"]]})

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await read_order(conn, po_id)

    return await ctx.transaction(work, after_commit=read_back)
