"""Receiving goods against a purchase order.

One delivery is received whole or not at all, in one transaction: its lines (several batches
of one order line may arrive at once) each become a receipt exactly as a batch receipt is
(`inventory.batches.service.receive_into`: a new batch or more of the batch of that number,
a `receipt` movement naming the order line), at the order line's unit cost.

Locks, in this order: the order's row (FOR UPDATE), then the SKUs of the lines received (the
ledger's lock, all at once, ascending). The lines' received quantities are read after the
order's lock, and only change under it, so two staff receiving the same delivery at once
run one after the other and the second finds the lines complete: 409 `over_delivery`, never
the units twice. Taking a line above what it ordered is `over_delivery` unless the receipt
accepts over-delivery (so a received order, every line complete, takes only an accepted
over-delivery; one closed short nothing). The order then becomes received when every line
has at least what it ordered, else partly received.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.errors import Conflict, ValidationFailed
from stockline.inventory import ledger
from stockline.inventory.batches.service import Receipt, receive_into
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after
from stockline.kernel.identity import CurrentUser
from stockline.purchasing.purchase_orders import Q, lock_order, read_order
from stockline.purchasing.schemas import PurchaseOrderReceipt

# a received order takes only accepted over-deliveries (every line already has its units);
# one closed short takes nothing more
EXPECTING_GOODS = ("sent", "partly_received")
RECEIVE_FROM = (*EXPECTING_GOODS, "received")


def _refuse_unknown_lines(po_id: int, body: PurchaseOrderReceipt, lines: dict[int, dict[str, Any]]) -> None:
    unknown = sorted({line.po_line_id for line in body.lines if line.po_line_id not in lines})
    if unknown:
        raise ValidationFailed(f"Purchase order {po_id} has no line {', '.join(map(str, unknown))}",
                               code="unknown_po_line", details={"po_line_ids": unknown})


def _refuse_unsellable(ctx: Context, body: PurchaseOrderReceipt) -> None:
    """Goods that could not be sold are not taken into stock: an expiry on or before today
    (plus the minimum shelf life) is refused."""
    bound = sellable_after(ctx.settings, business_day())
    late = [{"po_line_id": line.po_line_id, "batch_no": line.batch_no,
             "expiry_date": line.expiry_date.isoformat()} for line in body.lines if line.expiry_date <= bound]
    if late:
        raise ValidationFailed(f"An expiry date must be after {bound.isoformat()}: goods expiring sooner "
                               "could not be sold", code="expiry_not_sellable",
                               details={"sellable_after": bound.isoformat(), "lines": late})


def _refuse_over_delivery(body: PurchaseOrderReceipt, lines: dict[int, dict[str, Any]]) -> None:
    arriving: dict[int, int] = defaultdict(int)
    for line in body.lines:
        arriving[line.po_line_id] += line.quantity
    over = [{"po_line_id": po_line_id, "sku_id": line["sku_id"], "ordered": line["quantity_ordered"],
             "received": line["quantity_received"], "arriving": units}
            for po_line_id, units in sorted(arriving.items())
            if (line := lines[po_line_id])["quantity_received"] + units > line["quantity_ordered"]]
    if over:
        raise Conflict("More units arrive than the order still expects; accept the over-delivery to take "
                       "them", code="over_delivery", details={"lines": over})


async def receive(ctx: Context, actor: CurrentUser, po_id: int, body: PurchaseOrderReceipt) -> dict[str, Any]:
    """Receive a delivery against a sent or partly received order; answers the order."""
    _refuse_unsellable(ctx, body)
    note = f"purchase order #{po_id}" + (f": {body.note}" if body.note else "")

    async def work(conn: psycopg.AsyncConnection) -> None:
        order = await lock_order(conn, po_id, RECEIVE_FROM, "received")
        if order["closed_short"]:
            raise Conflict(f"Purchase order {po_id} was closed short: nothing more is received against it",
                           code="invalid_transition",
                           details={"from": "received", "to": "received", "allowed": list(EXPECTING_GOODS)})
        rows = await db.fetch_all(conn, Q["locked_lines"], {"po_id": po_id})
        lines = {row["po_line_id"]: row for row in rows}
        _refuse_unknown_lines(po_id, body, lines)
        if not body.accept_over_delivery:
            _refuse_over_delivery(body, lines)
        await ledger.lock_skus(conn, (lines[line.po_line_id]["sku_id"] for line in body.lines))
        batches = []
        for line in body.lines:
            ordered = lines[line.po_line_id]
            batch_id, created = await receive_into(conn, actor, Receipt(
                line.batch_no, line.quantity, line.expiry_date, ordered["unit_cost"],
                sku_id=ordered["sku_id"], note=note, po_line_id=line.po_line_id), ordered["sku_id"])
            batches.append({"po_line_id": line.po_line_id, "batch_id": batch_id, "batch_no": line.batch_no,
                            "quantity": line.quantity, "new_batch": created})
        await db.send(conn, Q["add_received"], {
            "po_id": po_id, "po_line_ids": [line.po_line_id for line in body.lines],
            "quantities": [line.quantity for line in body.lines]})
        settled = await db.fetch_one(conn, Q["settle_status"], {"po_id": po_id})
        await audit.record(conn, actor, "purchase_order.receive", po_id, {"status": order["status"]}, {
            "status": settled["status"], "received": batches,
            "over_delivery_accepted": body.accept_over_delivery, "note": body.note})

    async def after_commit(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        await ctx.versions.announce_change(conn)
        return await read_order(conn, po_id)

    return await ctx.transaction(work, after_commit=after_commit)
