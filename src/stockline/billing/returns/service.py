"""Returns: a customer asks to send back delivered units of their order; staff approve or
reject the request.

- Only a delivered (shipped) and invoiced order can be returned against, and only by the
  customer it belongs to (another's order is 404, as if it did not exist).
- Per order item, the units requested or approved on its returns never exceed what was
  delivered; a rejected return frees its units. The order's row is locked first, so two
  requests for the same units run one after the other and the second sees the first.
- Only a requested return is decided, once: its row is locked, so of two decisions at once
  the second waits and then finds it decided. Approving gives each line a disposition and,
  in one transaction: puts the units back into the batch they left (`return` movements, the
  order named) and, for a write-off, takes them out again (`write_off`), so the ledger shows
  they came back and were destroyed; issues the credit note (credit_notes), which credits the
  order's invoice; and records the decision in the audit log. Rejecting records why.
- Under a recall (`record_recall_return`, called by recalls.service), staff record units a
  customer sent back: the same locks and caps, only items of the recalled batches, approved at
  once, the units back into their batch on hold (`recall_return`), credited when invoiced.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, get_args

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.billing.returns.credit_notes import CreditLine, credit_line, issue_credit_note
from stockline.billing.returns.schemas import Disposition, DispositionLine, ReturnLineRequest, ReturnStatus
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.inventory import ledger
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.pagination import PageRequest
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

STATUSES: tuple[str, ...] = get_args(ReturnStatus)
DISPOSITIONS: tuple[str, ...] = get_args(Disposition)


# --- reading -------------------------------------------------------------------------------

def _credit_note(row: dict[str, Any]) -> dict[str, Any] | None:
    if row["credit_note_id"] is None:
        return None
    return {"credit_note_id": row["credit_note_id"], "credit_note_no": row["credit_note_no"],
            "gross_amount": money(row["credit_gross"])}


def _line(row: dict[str, Any]) -> dict[str, Any]:
    return {"order_item_id": row["order_item_id"], "sku_id": row["sku_id"], "sku_code": row["sku_code"],
            "product_name": row["product_name"], "package_size": row["package_size"],
            "unit_type": row["unit_type"], "batch_id": row["batch_id"], "batch_no": row["batch_no"],
            "expiry_date": row["expiry_date"].isoformat(), "quantity": row["quantity"],
            "reason": row["reason"], "disposition": row["disposition"],
            "unit_price": money(row["unit_price"]), "net_amount": money(row["net_amount"])}


async def read_return(conn: psycopg.AsyncConnection, return_id: int, *,
                      customer_id: int | None) -> dict[str, Any]:
    """A return with its lines. A customer (customer_id set) sees only their own: another's
    return is 404."""
    header = await db.send(conn, Q["return_header"], {"return_id": return_id, "customer_id": customer_id})
    lines = await db.send(conn, Q["return_lines"], {"return_id": return_id})
    row = await header.one()
    if row is None:
        raise NotFound(f"No return {return_id}")
    rows = await lines.all()
    return {
        "return_id": row["return_id"], "order_id": row["order_id"], "customer_id": row["customer_id"],
        "customer_name": row["customer_name"], "status": row["status"], "recall_id": row["recall_id"],
        "requested_by": row["requested_by"],
        "requested_at": row["requested_at"].isoformat(), "note": row["request_note"],
        # which of the distributor's staff decided is theirs to know, not the customer's
        "decided_by": row["decided_by"] if customer_id is None else None,
        "decided_at": row["decided_at"] and row["decided_at"].isoformat(),
        "decision_note": row["decision_note"], "invoice_id": row["invoice_id"],
        "invoice_no": row["invoice_no"], "total_units": sum(line["quantity"] for line in rows),
        "net_amount": money(sum((line["net_amount"] for line in rows), Decimal("0.00"))),
        "credit_note": _credit_note(row), "lines": [_line(line) for line in rows],
    }


async def get_return(ctx: Context, return_id: int, *, customer_id: int | None) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await read_return(conn, return_id, customer_id=customer_id)


async def list_returns(ctx: Context, paging: PageRequest, *, customer_id: int | None,
                       status: str | None = None, order_id: int | None = None) -> dict[str, Any]:
    """Returns, requested ones first, then newest first; a customer's own with customer_id."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["returns_page"], {
            "status": status, "customer_id": customer_id, "order_id": order_id,
            "limit": paging.limit, "offset": paging.offset})
    items = [{"return_id": r["return_id"], "order_id": r["order_id"], "customer_id": r["customer_id"],
              "customer_name": r["customer_name"], "status": r["status"],
              "requested_at": r["requested_at"].isoformat(),
              "decided_at": r["decided_at"] and r["decided_at"].isoformat(), "line_count": r["line_count"],
              "units": r["units"], "credit_note": _credit_note(r)}
             for r in rows if r["return_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"])


def _returnable(row: dict[str, Any]) -> dict[str, Any]:
    return {"order_item_id": row["order_item_id"], "sku_id": row["sku_id"], "sku_code": row["sku_code"],
            "product_name": row["product_name"], "package_size": row["package_size"],
            "unit_type": row["unit_type"], "batch_id": row["batch_id"], "batch_no": row["batch_no"],
            "expiry_date": row["expiry_date"].isoformat(), "unit_price": money(row["sale_price"]),
            "delivered": row["delivered"], "already_returned": row["already_returned"],
            "returnable": row["delivered"] - row["already_returned"]}


def _refuse_unless_returnable(order: dict[str, Any] | None, order_id: int) -> None:
    if order is None:
        raise NotFound(f"No order {order_id}")
    if order["status"] != "shipped":
        raise Conflict(f"Order {order_id} is {order['status']}: only delivered (shipped) orders can be "
                       "returned", code="order_not_delivered",
                       details={"order_id": order_id, "status": order["status"]})
    if order["invoice_id"] is None:
        raise Conflict(f"Order {order_id} has no invoice to credit, so it cannot be returned here; "
                       "please contact us", code="order_not_invoiced", details={"order_id": order_id})


async def returnable_items(ctx: Context, order_id: int, *, customer_id: int) -> list[dict[str, Any]]:
    """What of the customer's order may still be returned, item by item (each batch it was
    filled from): delivered, already returned (requested or approved) and returnable. 404
    for another's order, 409 when the order cannot be returned at all."""
    async with ctx.pool.connection() as conn:
        order = await db.send(conn, Q["order_for_return"], {"order_id": order_id, "customer_id": customer_id})
        items = await db.send(conn, Q["returnable_items"], {"order_id": order_id})
        _refuse_unless_returnable(await order.one(), order_id)
        return [_returnable(row) for row in await items.all()]


# --- requesting ----------------------------------------------------------------------------

async def request_return(ctx: Context, actor: CurrentUser, order_id: int,
                         lines: Sequence[ReturnLineRequest], note: str | None) -> dict[str, Any]:
    """Ask to return units of the customer's own delivered order (lines: each order item at
    most once, quantity >= 1; the request model checks that)."""
    customer_id = actor.customer_id

    async def work(conn: psycopg.AsyncConnection) -> int:
        order = await db.fetch_one(conn, Q["lock_order_for_return"],
                                   {"order_id": order_id, "customer_id": customer_id})
        _refuse_unless_returnable(order, order_id)
        items = {row["order_item_id"]: row
                 for row in await db.fetch_all(conn, Q["returnable_items"], {"order_id": order_id})}
        unknown = [line.order_item_id for line in lines if line.order_item_id not in items]
        if unknown:
            raise ValidationFailed(f"Order {order_id} has no item {', '.join(map(str, unknown))}",
                                   code="unknown_order_item", details={"order_item_ids": unknown})
        over = []
        for line in lines:
            item = items[line.order_item_id]
            if item["already_returned"] + line.quantity > item["delivered"]:
                over.append({"order_item_id": line.order_item_id, "delivered": item["delivered"],
                             "already_returned": item["already_returned"], "requested": line.quantity})
        if over:
            raise Conflict("More units are asked back than were delivered and not yet returned",
                           code="return_exceeds_delivered", details={"lines": over})
        created = await db.fetch_one(conn, Q["insert_return"], {
            "order_id": order_id, "customer_id": order["customer_id"], "user_id": actor.user_id, "note": note,
            "order_item_ids": [line.order_item_id for line in lines],
            "quantities": [line.quantity for line in lines], "reasons": [line.reason for line in lines]})
        return created["return_id"]

    async def read_back(conn: psycopg.AsyncConnection, return_id: int) -> dict[str, Any]:
        return await read_return(conn, return_id, customer_id=customer_id)

    return await ctx.transaction(work, after_commit=read_back)


# --- deciding ------------------------------------------------------------------------------

async def _lock_requested(conn: psycopg.AsyncConnection, return_id: int) -> dict[str, Any]:
    """The return, locked, if it is still requested."""
    locked = await db.fetch_one(conn, Q["lock_return"], {"return_id": return_id})
    if locked is None:
        raise NotFound(f"No return {return_id}")
    if locked["status"] != "requested":
        raise Conflict(f"Return {return_id} is already {locked['status']}", code="return_already_decided",
                       details={"return_id": return_id, "status": locked["status"]})
    return locked


def _dispositions(rows: list[dict[str, Any]], given: Sequence[DispositionLine]) -> dict[int, str]:
    """A disposition for every line of the return and for nothing else, or 422 naming both."""
    chosen = {line.order_item_id: line.disposition for line in given}
    lines = [row["order_item_id"] for row in rows]
    missing = [item_id for item_id in lines if item_id not in chosen]
    unknown = [item_id for item_id in chosen if item_id not in lines]
    if missing or unknown:
        raise ValidationFailed("Give a disposition (restock or write_off) for every line of the return and "
                               "for no other order item", code="dispositions_mismatch",
                               details={"missing": missing, "unknown": unknown})
    return chosen


def _movements(return_id: int, order_id: int, user_id: int, rows: list[dict[str, Any]],
               chosen: dict[int, str]) -> list[ledger.Movement]:
    """Every returned unit comes back into its batch; a written-off one then leaves it again."""
    movements = []
    for row in rows:
        quantity, batch_id = row["quantity"], row["batch_id"]
        movements.append(ledger.Movement(batch_id, quantity, "return", order_id, user_id,
                                         f"return #{return_id}"))
        if chosen[row["order_item_id"]] == "write_off":
            movements.append(ledger.Movement(batch_id, -quantity, "write_off", order_id, user_id,
                                             f"written off on return #{return_id}"))
    return movements


def _credit_lines(rows: list[dict[str, Any]]) -> list[CreditLine]:
    return [credit_line(order_item_id=row["order_item_id"], quantity=row["quantity"],
                        unit_price=row["sale_price"], tax_rate=row["tax_rate"],
                        item_quantity=row["quantity_ordered"], item_tax=row["item_tax"],
                        credited_units=row["credited_units"], credited_tax=row["credited_tax"])
            for row in rows]


async def approve_return(ctx: Context, actor: CurrentUser, return_id: int,
                         given: Sequence[DispositionLine], note: str | None) -> dict[str, Any]:
    async def work(conn: psycopg.AsyncConnection) -> bool:
        locked = await _lock_requested(conn, return_id)
        order_id, invoice_id = locked["order_id"], locked["invoice_id"]
        await db.send(conn, Q["lock_returned_order"], {"order_id": order_id})
        rows = await db.fetch_all(conn, Q["approval_lines"],
                                  {"return_id": return_id, "invoice_id": invoice_id})
        chosen = _dispositions(rows, given)
        if invoice_id is None or any(row["invoice_line_no"] is None for row in rows):
            raise Conflict(f"Order {order_id} has no invoice line for every returned item, so no credit "
                           "note can be issued", code="order_not_invoiced", details={"order_id": order_id})
        await ledger.lock_skus(conn, (row["sku_id"] for row in rows))
        await ledger.record_movements(conn, _movements(return_id, order_id, actor.user_id, rows, chosen))
        await db.send(conn, Q["approve_return"], {
            "return_id": return_id, "user_id": actor.user_id, "note": note,
            "order_item_ids": list(chosen), "dispositions": list(chosen.values())})
        issued = await issue_credit_note(conn, return_id=return_id, invoice_id=invoice_id,
                                         lines=_credit_lines(rows), issued_on=business_day(),
                                         seller=ctx.settings.seller)
        units = {kind: sum(row["quantity"] for row in rows if chosen[row["order_item_id"]] == kind)
                 for kind in DISPOSITIONS}
        await audit.record(conn, actor, "return.approve", return_id, {"status": "requested"}, {
            "status": "approved", "order_id": order_id, "credit_note_id": issued["credit_note_id"],
            "credit_note_no": issued["credit_note_no"], "credit_gross": issued["gross_amount"],
            "restocked_units": units["restock"], "written_off_units": units["write_off"], "note": note})
        return units["restock"] > 0

    async def after_commit(conn: psycopg.AsyncConnection, restocked: bool) -> dict[str, Any]:
        if restocked:  # sellable stock grew (a write-off's pair leaves every batch as it was)
            await ctx.versions.announce_change(conn)
        return await read_return(conn, return_id, customer_id=None)

    return await ctx.transaction(work, after_commit=after_commit)


async def reject_return(ctx: Context, actor: CurrentUser, return_id: int, note: str) -> dict[str, Any]:
    """Refuse a requested return, saying why; its units may be asked for again."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        await _lock_requested(conn, return_id)
        await db.send(conn, Q["reject_return"],
                      {"return_id": return_id, "user_id": actor.user_id, "note": note})
        await audit.record(conn, actor, "return.reject", return_id, {"status": "requested"},
                           {"status": "rejected", "note": note})

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await read_return(conn, return_id, customer_id=None)

    return await ctx.transaction(work, after_commit=read_back)


# --- under a recall ------------------------------------------------------------------------

async def record_recall_return(conn: psycopg.AsyncConnection, actor: CurrentUser, *, recall_id: int,
                               order_id: int, lines: Sequence[tuple[int, int]], note: str | None,
                               seller: dict[str, Any]) -> dict[str, Any]:
    """Record units a customer sent back under a recall, inside the caller's transaction
    (which holds the recall): `lines` are (order_item_id, quantity), each item at most once.

    The same rules as any return: only a delivered (shipped) order, the order's row locked
    before the count, and per item never more than delivered minus what is already asked or
    taken back (409 return_exceeds_delivered). Only items drawn from the recall's batches (409
    item_not_recalled). The return is approved at once (the goods are here): its lines' reason
    and disposition are 'recall'; the units go back into the batch they left, which is on hold
    (`recall_return` movements naming the order and the recall), and stay there until they are
    destroyed under the recall; when the order was invoiced, a credit note credits them (an
    order shipped before invoices existed has none to credit)."""
    order = await db.fetch_one(conn, Q["lock_order_for_return"], {"order_id": order_id, "customer_id": None})
    if order is None:
        raise NotFound(f"No order {order_id}")
    if order["status"] != "shipped":
        raise Conflict(f"Order {order_id} is {order['status']}: only delivered (shipped) units come back; "
                       "cancel an order that has not shipped", code="order_not_delivered",
                       details={"order_id": order_id, "status": order["status"]})
    items = {row["order_item_id"]: row for row in await db.fetch_all(
        conn, Q["recall_returnable_items"], {"order_id": order_id, "recall_id": recall_id})}
    unknown = [item_id for item_id, _ in lines if item_id not in items]
    if unknown:
        raise ValidationFailed(f"Order {order_id} has no item {', '.join(map(str, unknown))}",
                               code="unknown_order_item", details={"order_item_ids": unknown})
    not_recalled = [item_id for item_id, _ in lines if not items[item_id]["recalled"]]
    if not_recalled:
        raise Conflict("Only items drawn from the recalled batches come back under the recall",
                       code="item_not_recalled", details={"order_item_ids": not_recalled})
    over = [{"order_item_id": item_id, "delivered": items[item_id]["delivered"],
             "already_returned": items[item_id]["already_returned"], "requested": quantity}
            for item_id, quantity in lines
            if items[item_id]["already_returned"] + quantity > items[item_id]["delivered"]]
    if over:
        raise Conflict("More units are recorded than were delivered and not yet returned or asked back "
                       "(decide a requested return of these units first)",
                       code="return_exceeds_delivered", details={"lines": over})
    created = await db.fetch_one(conn, Q["insert_recall_return"], {
        "order_id": order_id, "customer_id": order["customer_id"], "user_id": actor.user_id, "note": note,
        "recall_id": recall_id, "order_item_ids": [item_id for item_id, _ in lines],
        "quantities": [quantity for _, quantity in lines]})
    return_id = created["return_id"]
    await ledger.lock_skus(conn, (items[item_id]["sku_id"] for item_id, _ in lines))
    await ledger.record_movements(conn, [
        ledger.Movement(items[item_id]["batch_id"], quantity, "recall_return", order_id, actor.user_id,
                        f"return #{return_id} under recall", recall_id=recall_id)
        for item_id, quantity in lines])
    issued = None
    if order["invoice_id"] is not None:
        rows = await db.fetch_all(conn, Q["approval_lines"],
                                  {"return_id": return_id, "invoice_id": order["invoice_id"]})
        if any(row["invoice_line_no"] is None for row in rows):
            raise Conflict(f"Order {order_id}'s invoice has no line for every returned item, so no credit "
                           "note can be issued", code="order_not_invoiced", details={"order_id": order_id})
        issued = await issue_credit_note(conn, return_id=return_id, invoice_id=order["invoice_id"],
                                         lines=_credit_lines(rows), issued_on=business_day(), seller=seller)
    return {"return_id": return_id, "order_id": order_id, "customer_id": order["customer_id"],
            "units": sum(quantity for _, quantity in lines),
            "credit_note_id": issued and issued["credit_note_id"],
            "credit_note_no": issued and issued["credit_note_no"],
            "credit_gross": issued and money(issued["gross_amount"])}
