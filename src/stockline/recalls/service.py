"""Recalls: batches withdrawn from sale and from customers (the rules; progress.py reads them).

- Starting a recall, in one transaction: the recall takes its number (RCL series, gapless);
  its batches are put on hold through inventory.batches.status.quarantine, which takes their
  SKUs' locks, the very locks an order takes before it reads batches, so an order racing the
  recall either committed before it (and is in the trace) or cannot take the batch; what each
  batch held is read under those locks (on_hand_at_recall). A batch already in an open recall
  is refused (409 batch_already_recalled): one open recall per batch, so every returned or
  destroyed unit counts towards exactly one. A batch of a closed recall may be recalled again.
- Returns and destructions hold the recall (FOR SHARE) and refuse a closed one; closing takes
  it FOR UPDATE, so a recall never closes while units are being recorded against it.
- Returns are billing.returns' (`record_recall_return`): one place for the rules of taking
  units back and crediting them. Destruction writes off units held in a recalled batch
  (`write_off` naming the recall), never more than it holds.
- Closing: only when nothing is outstanding (progress.outstanding_now). An admin may force it
  while customers still have units (some never send them back), and the audit entry records
  what each still had; never while a recalled batch holds stock or an unshipped order holds
  recalled units: those are the warehouse's to destroy or cancel first.
Every change is audited in its transaction (recall.create, .return, .destroy, .close).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.billing.returns.service import record_recall_return
from stockline.errors import Conflict, Forbidden, NotFound
from stockline.inventory import ledger
from stockline.inventory.batches import status
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.kernel.identity import CurrentUser
from stockline.pagination import PageRequest
from stockline.recalls import progress
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


async def get_recall(ctx: Context, recall_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await progress.read_recall(conn, recall_id)


async def list_recalls(ctx: Context, paging: PageRequest, *, status: str | None) -> dict[str, Any]:
    """Recalls, open ones first, then newest first."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["recalls_page"], {
            "status": status, "limit": paging.limit, "offset": paging.offset})
    items = [{"recall_id": r["recall_id"], "recall_no": r["recall_no"], "recall_class": r["recall_class"],
              "reason": r["reason"], "status": r["status"], "initiated_at": r["initiated_at"].isoformat(),
              "closed_at": r["closed_at"] and r["closed_at"].isoformat(), "batch_count": r["batch_count"],
              "customers": r["customers"], "delivered": r["delivered"], "outstanding": r["outstanding"]}
             for r in rows if r["recall_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"], status=status)


async def _read_back(conn: psycopg.AsyncConnection, recall_id: int) -> dict[str, Any]:
    return await progress.read_recall(conn, recall_id)


# --- starting ------------------------------------------------------------------------------

async def create_recall(ctx: Context, actor: CurrentUser, batch_ids: Sequence[int], reason: str,
                        recall_class: int) -> dict[str, Any]:
    """Recall the batches (each once; the request model checks that): the recall with its trace."""
    async def work(conn: psycopg.AsyncConnection) -> int:
        created = await db.fetch_one(conn, Q["create_recall"], {
            "day": business_day(), "recall_class": recall_class, "reason": reason, "user_id": actor.user_id})
        recall_id, recall_no = created["recall_id"], created["recall_no"]
        before = await status.quarantine(conn, actor, batch_ids, f"recall {recall_no}: {reason}",
                                         recall_id=recall_id)
        already = [b for b in before if b["open_recall_id"] is not None]
        if already:
            raise Conflict("A batch is already in an open recall: add to that recall's work instead",
                           code="batch_already_recalled",
                           details={"batch_ids": [b["batch_id"] for b in already],
                                    "recall_nos": sorted({b["open_recall_no"] for b in already})})
        await db.send(conn, Q["insert_recall_batches"], {
            "recall_id": recall_id, "batch_ids": [b["batch_id"] for b in before],
            "on_hand": [b["quantity_on_hand"] for b in before]})
        await audit.record(conn, actor, "recall.create", recall_id, None, {
            "recall_no": recall_no, "class": recall_class, "reason": reason,
            "batches": [{"batch_id": b["batch_id"], "batch_no": b["batch_no"],
                         "on_hand_at_recall": b["quantity_on_hand"]} for b in before]})
        return recall_id

    async def after_commit(conn: psycopg.AsyncConnection, recall_id: int) -> dict[str, Any]:
        await ctx.versions.announce_change(conn)  # the batches left sellable stock
        return await progress.read_recall(conn, recall_id)

    return await ctx.transaction(work, after_commit=after_commit)


async def _hold_open(conn: psycopg.AsyncConnection, recall_id: int) -> dict[str, Any]:
    recall = await db.fetch_one(conn, Q["lock_recall"], {"recall_id": recall_id})
    if recall is None:
        raise NotFound(f"No recall {recall_id}")
    if recall["status"] != "open":
        raise Conflict(f"Recall {recall['recall_no']} is closed", code="recall_closed",
                       details={"recall_id": recall_id})
    return recall


# --- units coming back and destroyed -------------------------------------------------------

async def record_return(ctx: Context, actor: CurrentUser, recall_id: int, order_id: int,
                        lines: Sequence[tuple[int, int]], note: str | None) -> dict[str, Any]:
    """Units a customer sent back under the recall ((order_item_id, quantity) lines)."""
    async def work(conn: psycopg.AsyncConnection) -> dict[str, Any]:
        recall = await _hold_open(conn, recall_id)
        recorded = await record_recall_return(conn, actor, recall_id=recall_id, order_id=order_id,
                                              lines=lines, note=note, seller=ctx.settings.seller)
        await audit.record(conn, actor, "recall.return", recall_id, None, {
            "recall_no": recall["recall_no"], "order_id": order_id, "customer_id": recorded["customer_id"],
            "return_id": recorded["return_id"], "units": recorded["units"],
            "lines": [{"order_item_id": item_id, "quantity": quantity} for item_id, quantity in lines],
            "credit_note_no": recorded["credit_note_no"], "credit_gross": recorded["credit_gross"],
            "note": note})
        return recorded

    async def after_commit(conn: psycopg.AsyncConnection, recorded: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in recorded.items() if key != "customer_id"} | {
            "recall": await progress.read_recall(conn, recall_id)}

    return await ctx.transaction(work, after_commit=after_commit)


async def destroy(ctx: Context, actor: CurrentUser, recall_id: int, batch_id: int, quantity: int,
                  note: str | None) -> dict[str, Any]:
    """Write off units held in a batch of the recall (never more than it holds: 409)."""
    async def work(conn: psycopg.AsyncConnection) -> int:
        recall = await _hold_open(conn, recall_id)
        batch = await db.fetch_one(conn, Q["recall_batch_for_destruction"],
                                   {"recall_id": recall_id, "batch_id": batch_id})
        if batch is None:
            raise NotFound(f"Batch {batch_id} is not in recall {recall['recall_no']}",
                           code="batch_not_recalled", details={"batch_id": batch_id})
        await ledger.lock_skus(conn, [batch["sku_id"]])
        held = (await db.fetch_one(conn, Q["batch_on_hand"], {"batch_id": batch_id}))["quantity_on_hand"]
        if quantity > held:
            raise Conflict(f"Batch {batch['batch_no']} holds {held} units; {quantity} cannot be destroyed",
                           code="destruction_exceeds_stock",
                           details={"batch_id": batch_id, "on_hand": held, "requested": quantity})
        await ledger.record_movements(conn, [ledger.Movement(
            batch_id, -quantity, "write_off", None, actor.user_id,
            note or f"destroyed under recall {recall['recall_no']}", recall_id=recall_id)])
        await audit.record(conn, actor, "recall.destroy", recall_id, None, {
            "recall_no": recall["recall_no"], "batch_id": batch_id, "batch_no": batch["batch_no"],
            "quantity": quantity, "on_hand_before": held, "note": note})
        return recall_id

    return await ctx.transaction(work, after_commit=_read_back)


# --- closing -------------------------------------------------------------------------------

async def close_recall(ctx: Context, actor: CurrentUser, recall_id: int, note: str,
                       force: bool) -> dict[str, Any]:
    """Close the recall once nothing is outstanding (409 recall_outstanding, saying what);
    with `force`, an admin closes it although customers still have units, and the audit
    entry keeps what each had."""
    if force and not actor.is_admin:
        raise Forbidden("Only an admin may close a recall with units outstanding", code="admin_only")

    async def work(conn: psycopg.AsyncConnection) -> int:
        locked = await db.fetch_one(conn, Q["lock_recall_to_close"], {"recall_id": recall_id})
        if locked is None:
            raise NotFound(f"No recall {recall_id}")
        if locked["status"] != "open":
            raise Conflict(f"Recall {locked['recall_no']} is already closed", code="recall_closed",
                           details={"recall_id": recall_id})
        recall = await progress.read_recall(conn, recall_id)
        left = progress.outstanding_now(recall)
        # force forgives only units customers never sent back; what the warehouse holds, or
        # holds for unshipped orders, is ours to destroy first
        if left["on_hand"] or left["held"] or (left["outstanding"] and not force):
            raise Conflict(f"Recall {locked['recall_no']} still has units outstanding: {left['on_hand']} "
                           f"held in the warehouse, {left['outstanding']} with customers, {left['held']} in "
                           "orders not shipped", code="recall_outstanding", details=left)
        await db.send(conn, Q["close_recall"],
                      {"recall_id": recall_id, "user_id": actor.user_id, "note": note})
        await audit.record(conn, actor, "recall.close", recall_id, {"status": "open"}, {
            "status": "closed", "recall_no": locked["recall_no"], "note": note, "forced": bool(force),
            "outstanding_at_close": left,
            "customers_outstanding": [{"customer_id": c["customer_id"], "outstanding": c["outstanding"]}
                                      for c in recall["customers"] if c["outstanding"]]})
        return recall_id

    return await ctx.transaction(work, after_commit=_read_back)


# --- the customer's ------------------------------------------------------------------------

async def my_recalls(ctx: Context, customer_id: int) -> dict[str, Any]:
    """The recalls touching the customer's orders (not cancelled ones), open ones first."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["customer_recall_items"],
                                  {"customer_id": customer_id, "recall_id": None})
    recalls = progress.customer_recalls(rows)
    return {"items": recalls, "open_count": sum(1 for recall in recalls if progress.needs_action(recall))}


async def my_recall(ctx: Context, customer_id: int, recall_id: int) -> dict[str, Any]:
    """One recall as it touches the customer; 404 when it touches none of their orders."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["customer_recall_items"],
                                  {"customer_id": customer_id, "recall_id": recall_id})
    if not rows:
        raise NotFound(f"No recall {recall_id} concerns your orders")
    return progress.customer_recalls(rows)[0]
