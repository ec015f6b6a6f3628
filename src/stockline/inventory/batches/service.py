"""Batch management: receive, adjust, write off, edit and delete. Every stock change goes
through the ledger (`ledger.lock_skus` first, then `ledger.record_movements`), and the
catalog version is bumped after commit so every worker's catalog shows the new stock. Each
of these changes stock figures only (quantities, an expiry, a batch), never which SKUs a
listing shows or their prices, so the listing version stays (`announce_change`, not
`announce_listing_change`: cached listing skeletons survive, see kernel/catalog_version.py).
Every change is recorded in the audit log (stockline.audit) in its own transaction: the
batch's columns before and after, and the note the change carried.

Quarantine (status.py does the change inside a transaction): a batch on hold keeps its stock
and is never sold. While a batch is in an open recall, nothing here moves or edits it (409
`batch_under_recall`): the recall's returns and destructions account for its units. A batch
that was ever on hold is never deleted: its status history stays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.errors import Conflict, DomainError, NotFound, ValidationFailed
from stockline.inventory import ledger
from stockline.inventory.batches import status
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, expired
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import CENT, money
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


@dataclass(frozen=True)
class Receipt:
    batch_no: str
    quantity: int
    expiry_date: date
    cost_price: Decimal
    sku_id: int | None = None
    sku_code: str | None = None
    note: str | None = None
    po_line_id: int | None = None  # received against this purchase order line


AUDITED = ("batch_id", "sku_id", "batch_no", "expiry_date", "cost_price", "quantity_on_hand")


def audited(batch: Mapping[str, Any], note: str | None = None, **changed: Any) -> dict[str, Any]:
    """A batch as the audit log records it, with `changed` columns' new values and the
    change's note, if any."""
    return {key: batch[key] for key in AUDITED} | changed | ({"note": note} if note else {})


def batch_document(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "batch_id": row["batch_id"],
        "batch_no": row["batch_no"],
        "expiry_date": row["expiry_date"].isoformat(),
        "quantity_on_hand": row["quantity_on_hand"],
        "cost_price": money(row["cost_price"]),
        "stock_value": money(row["cost_price"] * row["quantity_on_hand"]),
        "received_at": row["received_at"].isoformat(),
        "sku_id": row["sku_id"],
        "sku_code": row["sku_code"],
        "package_size": row["package_size"],
        "unit_type": row["unit_type"],
        "product_id": row["product_id"],
        "product_name": row["product_name"],
        "manufacturer": row["manufacturer"],
        "expired": expired(row["expiry_date"], business_day()),
        "quarantined": row["quarantined"],
    }


def _open_recall(row: dict[str, Any]) -> dict[str, Any] | None:
    if row["open_recall_id"] is None:
        return None
    return {"recall_id": row["open_recall_id"], "recall_no": row["open_recall_no"]}


def _refuse_under_recall(batch: dict[str, Any], doing: str) -> None:
    """A batch in an open recall is moved only by the recall (its returns and destructions),
    so every unit of it is accounted for there; nor is it edited (a new expiry must not make
    it look sellable, nor a cost rewrite what was recalled)."""
    if batch["open_recall_id"] is not None:
        raise Conflict(
            f"Batch {batch['batch_no']} is recalled ({batch['open_recall_no']}); it cannot be {doing}: "
            "its units are returned and destroyed under the recall",
            code="batch_under_recall",
            details={"batch_id": batch["batch_id"], "recall_id": batch["open_recall_id"]},
        )


async def _locked_batch(conn: psycopg.AsyncConnection, batch_id: int) -> dict[str, Any]:
    """The batch, with its SKU locked (so its stock cannot move under us until commit)."""
    batch = await db.fetch_one(conn, Q["batch_by_id"], {"batch_id": batch_id})
    if batch is None:
        raise NotFound(f"No batch {batch_id}")
    await ledger.lock_skus(conn, [batch["sku_id"]])
    return await db.fetch_one(conn, Q["batch_by_id"], {"batch_id": batch_id})  # re-read under the lock


async def _write(ctx: Context, work) -> dict:
    """Run a stock-changing transaction; after commit, bump the catalog version and read the
    batch back as the inventory view shows it."""

    async def after_commit(conn: psycopg.AsyncConnection, outcome: tuple[int, dict]) -> dict:
        batch_id, extra = outcome
        await ctx.versions.announce_change(conn)
        row = await db.fetch_one(conn, Q["batch_views"], {"batch_ids": [batch_id]})
        return batch_document(row) | extra

    return await ctx.transaction(work, after_commit=after_commit)


class ReceiptRefused(DomainError):
    """`receive_many` refused one of its receipts, so it received none. `index` is that
    receipt's place in the list (from 0); `cause` is the refusal itself, whose status, code,
    message and details this error carries too."""

    def __init__(self, index: int, cause: DomainError) -> None:
        super().__init__(cause.message, details=cause.details, code=cause.code, headers=cause.headers)
        self.status = cause.status
        self.index = index
        self.cause = cause


async def _sku_of(conn: psycopg.AsyncConnection, receipt: Receipt) -> int:
    sku = await db.fetch_one(conn, Q["find_sku"], {"sku_id": receipt.sku_id, "sku_code": receipt.sku_code})
    if sku is None:
        raise NotFound(f"No SKU {receipt.sku_id or receipt.sku_code!r}")
    return sku["sku_id"]


async def receive_into(
    conn: psycopg.AsyncConnection, user: CurrentUser, receipt: Receipt, sku_id: int
) -> tuple[int, bool]:
    """One receipt, inside the caller's transaction, its SKU already locked (`ledger.lock_skus`):
    a new batch, or more of the batch with that number (same expiry; another cost moves the
    batch's cost to the weighted average). A receipt against a purchase order line names it
    (`receipt.po_line_id`) on its movement. Returns (batch_id, whether the batch is new)."""
    before = await db.fetch_one(conn, Q["batch_by_number"], {"sku_id": sku_id, "batch_no": receipt.batch_no})
    created = before is None
    if created:
        batch = await db.fetch_one(
            conn,
            Q["insert_batch"],
            {
                "sku_id": sku_id,
                "batch_no": receipt.batch_no,
                "expiry_date": receipt.expiry_date,
                "cost_price": receipt.cost_price,
            },
        )
        batch_id, cost = batch["batch_id"], batch["cost_price"]
    else:
        batch, cost = before, before["cost_price"]
        batch_id = batch["batch_id"]
        _refuse_under_recall(batch, "received into")
        if batch["expiry_date"] != receipt.expiry_date:
            raise Conflict(
                f"Batch {receipt.batch_no} of this SKU expires on {batch['expiry_date'].isoformat()}, "
                f"not {receipt.expiry_date.isoformat()}; check the batch number or the date",
                code="batch_expiry_mismatch",
                details={"batch_id": batch_id, "expiry_date": batch["expiry_date"].isoformat()},
            )
        if batch["cost_price"] != receipt.cost_price:
            units = batch["quantity_on_hand"] + receipt.quantity
            average = (
                (batch["cost_price"] * batch["quantity_on_hand"] + receipt.cost_price * receipt.quantity)
                / units
            ).quantize(CENT, ROUND_HALF_UP)
            await _edit(conn, batch, "cost_price", average, user, "weighted average after a receipt")
            cost = average
    await ledger.record_movements(
        conn,
        [ledger.Movement(batch_id, receipt.quantity, "receipt", user_id=user.user_id, note=receipt.note,
                         po_line_id=receipt.po_line_id)],
    )
    after = audited(batch, receipt.note, cost_price=cost,
                    quantity_on_hand=batch["quantity_on_hand"] + receipt.quantity)
    await audit.record(conn, user, "batch.receive", batch_id, audited(before) if before else None, after)
    return batch_id, created


async def receive_many(
    ctx: Context,
    user: CurrentUser,
    receipts: Sequence[Receipt],
) -> list[dict[str, Any]]:
    """Several receipts, in order, in ONE transaction: all are received or, when any is
    refused (ReceiptRefused naming which), none. Every SKU is locked at once, in the ledger's
    order, before any batch is read; then each receipt is received as `receive` does. Returns
    each receipt's batch as the inventory view shows it after commit, with `created`."""
    if not receipts:
        raise ValidationFailed("Give at least one receipt", code="nothing_to_change")

    async def work(conn: psycopg.AsyncConnection) -> list[tuple[int, bool]]:
        sku_ids = []
        for index, receipt in enumerate(receipts):
            try:
                sku_ids.append(await _sku_of(conn, receipt))
            except DomainError as exc:
                raise ReceiptRefused(index, exc) from exc
        await ledger.lock_skus(conn, sku_ids)
        received = []
        for index, (receipt, sku_id) in enumerate(zip(receipts, sku_ids, strict=True)):
            try:
                received.append(await receive_into(conn, user, receipt, sku_id))
            except DomainError as exc:
                raise ReceiptRefused(index, exc) from exc
        return received

    async def after_commit(conn: psycopg.AsyncConnection, received: list[tuple[int, bool]]) -> list[dict]:
        await ctx.versions.announce_change(conn)
        batch_ids = [batch_id for batch_id, _ in received]
        rows = await db.fetch_all(conn, Q["batch_views"], {"batch_ids": batch_ids})
        by_id = {row["batch_id"]: batch_document(row) for row in rows}
        return [by_id[batch_id] | {"created": created} for batch_id, created in received]

    return await ctx.transaction(work, after_commit=after_commit)


async def receive(
    ctx: Context,
    user: CurrentUser,
    receipt: Receipt,
) -> dict[str, Any]:
    """A new batch, or more of an existing one (same SKU and batch number, same expiry). More
    of a batch at another cost moves its cost to the weighted average of old and new units.
    The one-receipt case of `receive_many`, refused with the receipt's own error."""
    try:
        [result] = await receive_many(ctx, user, [receipt])
    except ReceiptRefused as exc:
        raise exc.cause from None
    return result


async def adjust(
    ctx: Context,
    user: CurrentUser,
    *,
    batch_id: int,
    delta: int | None,
    new_quantity: int | None,
    reason: str,
    note: str | None,
) -> dict[str, Any]:
    """Correct a batch's stock by `delta` or to `new_quantity` (an `adjustment` movement).
    Never below zero; safe against concurrent checkouts (the SKU lock orders them)."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, dict]:
        batch = await _locked_batch(conn, batch_id)
        _refuse_under_recall(batch, "adjusted")
        change = delta if delta is not None else new_quantity - batch["quantity_on_hand"]
        await _adjust_locked(conn, user, batch, change, reason, note)
        return batch_id, {"delta": change}

    return await _write(ctx, work)


async def _adjust_locked(conn: psycopg.AsyncConnection, user: CurrentUser, batch: dict[str, Any],
                         change: int, reason: str, note: str | None) -> None:
    """The adjustment movement of `change` units on a batch whose SKU this transaction locked."""
    if change == 0:
        raise Conflict(
            f"Batch {batch['batch_no']} already holds {batch['quantity_on_hand']} units",
            code="nothing_to_change",
        )
    if batch["quantity_on_hand"] + change < 0:
        raise Conflict(
            f"Batch {batch['batch_no']} holds {batch['quantity_on_hand']} units; it cannot lose "
            f"{-change}",
            code="stock_below_zero",
            details={"quantity_on_hand": batch["quantity_on_hand"], "delta": change},
        )
    movement_note = f"{reason}: {note}" if note else reason
    await ledger.record_movements(
        conn,
        [ledger.Movement(batch["batch_id"], change, "adjustment", user_id=user.user_id, note=movement_note)],
    )
    await audit.record(conn, user, "batch.adjust", batch["batch_id"], audited(batch), audited(
        batch, movement_note, quantity_on_hand=batch["quantity_on_hand"] + change))


async def write_off(
    ctx: Context,
    user: CurrentUser,
    *,
    batch_id: int,
    note: str | None,
) -> dict[str, Any]:
    """Write off everything an expired batch still holds (a `write_off` movement)."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, dict]:
        batch = await _locked_batch(conn, batch_id)
        _refuse_under_recall(batch, "written off")
        if not expired(batch["expiry_date"], business_day()):
            raise Conflict(
                f"Batch {batch['batch_no']} has not expired (it expires on "
                f"{batch['expiry_date'].isoformat()}); use an adjustment for damaged stock",
                code="not_expired",
            )
        if batch["quantity_on_hand"] == 0:
            raise Conflict(f"Batch {batch['batch_no']} holds no stock", code="nothing_to_change")
        units = batch["quantity_on_hand"]
        await ledger.record_movements(
            conn,
            [ledger.Movement(batch_id, -units, "write_off", user_id=user.user_id, note=note or "expired")],
        )
        await audit.record(conn, user, "batch.write_off", batch_id, audited(batch),
                           audited(batch, note or "expired", quantity_on_hand=0))
        return batch_id, {"written_off": units, "written_off_value": money(units * batch["cost_price"])}

    return await _write(ctx, work)


async def write_off_expired(
    ctx: Context,
    user: CurrentUser,
    note: str | None,
) -> dict[str, Any]:
    """Write off every expired batch that still holds stock, in one transaction."""

    async def work(conn: psycopg.AsyncConnection) -> dict[str, Any]:
        today = business_day()
        candidates = await db.fetch_all(conn, Q["expired_with_stock"], {"today": today})
        await ledger.lock_skus(conn, (b["sku_id"] for b in candidates))
        batches = await db.fetch_all(conn, Q["expired_with_stock"], {"today": today})  # under the locks
        await ledger.record_movements(
            conn,
            [
                ledger.Movement(
                    b["batch_id"],
                    -b["quantity_on_hand"],
                    "write_off",
                    user_id=user.user_id,
                    note=note or "expired",
                )
                for b in batches
            ],
        )
        await audit.record_many(conn, user, "batch.write_off", [
            audit.Change(b["batch_id"], audited(b), audited(b, note or "expired", quantity_on_hand=0))
            for b in batches])
        return {
            "batches": len(batches),
            "units": sum(b["quantity_on_hand"] for b in batches),
            "value": money(sum((b["quantity_on_hand"] * b["cost_price"] for b in batches), Decimal(0))),
            "batch_ids": [b["batch_id"] for b in batches],
        }

    async def after_commit(conn: psycopg.AsyncConnection, summary: dict[str, Any]) -> dict[str, Any]:
        if summary["batches"]:
            await ctx.versions.announce_change(conn)
        return summary

    return await ctx.transaction(work, after_commit=after_commit)


_SETTERS = {"cost_price": "set_batch_cost", "expiry_date": "set_batch_expiry"}


def _as_text(value: date | Decimal) -> str:
    return value.isoformat() if isinstance(value, date) else money(value)


async def _edit(
    conn: psycopg.AsyncConnection,
    batch: dict[str, Any],
    field: str,
    value: date | Decimal,
    user: CurrentUser,
    note: str | None,
) -> None:
    """Change one field of a batch and record who changed it from what to what."""
    await db.execute(conn, Q[_SETTERS[field]], {"batch_id": batch["batch_id"], field: value})
    await db.execute(
        conn,
        Q["record_batch_edit"],
        {
            "batch_id": batch["batch_id"],
            "field": field,
            "old_value": _as_text(batch[field]),
            "new_value": _as_text(value),
            "user_id": user.user_id,
            "note": note,
        },
    )


async def edit(
    ctx: Context,
    user: CurrentUser,
    *,
    batch_id: int,
    cost_price: Decimal | None,
    expiry_date: date | None,
    note: str | None,
) -> dict[str, Any]:
    """Correct a batch's cost or expiry; each change is recorded in Batch_Edits. An expiry
    may not move to or before a day the batch was already sold on."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, dict]:
        batch = await _locked_batch(conn, batch_id)
        _refuse_under_recall(batch, "edited")
        changed = await _edit_locked(conn, user, batch, cost_price, expiry_date, note)
        if not changed:
            raise Conflict("Nothing to change: the batch already has these values", code="nothing_to_change")
        return batch_id, {"changed": changed}

    return await _write(ctx, work)


async def _edit_locked(conn: psycopg.AsyncConnection, user: CurrentUser, batch: dict[str, Any],
                       cost_price: Decimal | None, expiry_date: date | None, note: str | None) -> list[str]:
    """Batch edits of the fields given that differ, on a batch whose SKU this transaction
    locked, with their audit entry; the names of the fields changed."""
    new: dict[str, Any] = {}
    if expiry_date is not None and expiry_date != batch["expiry_date"]:
        sold = await db.fetch_one(conn, Q["last_sale_day"], {"batch_id": batch["batch_id"]})
        if sold["day"] is not None and expired(expiry_date, sold["day"]):
            raise Conflict(
                f"Batch {batch['batch_no']} was sold on {sold['day'].isoformat()}; its expiry "
                "must stay after that day",
                code="expiry_before_sale",
            )
        await _edit(conn, batch, "expiry_date", expiry_date, user, note)
        new["expiry_date"] = expiry_date
    if cost_price is not None and cost_price != batch["cost_price"]:
        await _edit(conn, batch, "cost_price", cost_price, user, note)
        new["cost_price"] = cost_price.quantize(CENT)  # as the column holds it
    if new:
        await audit.record(conn, user, "batch.edit", batch["batch_id"], audited(batch),
                           audited(batch, note, **new))
    return list(new)


async def correct(
    ctx: Context,
    user: CurrentUser,
    *,
    batch_id: int,
    quantity_on_hand: int | None,
    cost_price: Decimal | None,
    expiry_date: date | None,
    note: str | None,
) -> dict[str, Any]:
    """Cost, expiry and stock count corrected together, all or nothing: the fields given that
    differ become batch edits, a new count an adjustment (count_correction). Nothing that
    differs: nothing is written."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, dict]:
        batch = await _locked_batch(conn, batch_id)
        _refuse_under_recall(batch, "edited")
        changed = await _edit_locked(conn, user, batch, cost_price, expiry_date, note)
        if quantity_on_hand is not None and quantity_on_hand != batch["quantity_on_hand"]:
            batch = await db.fetch_one(conn, Q["batch_by_id"], {"batch_id": batch_id})  # as edited
            await _adjust_locked(conn, user, batch, quantity_on_hand - batch["quantity_on_hand"],
                                 "count_correction", note)
            changed.append("quantity_on_hand")
        return batch_id, {"changed": changed}

    return await _write(ctx, work)


def _deletion_refusal(batch: dict[str, Any], history: dict[str, int]) -> Conflict | None:
    """Why a batch with this history may not be deleted; None when it may (nothing but its
    receipt ever touched it, and it was never on hold)."""
    batch_no = batch["batch_no"]
    if batch["quarantined"]:
        return Conflict(f"Batch {batch_no} is quarantined, so it stays with its status history",
                        code="batch_quarantined")
    if history["status_changes"]:
        return Conflict(f"Batch {batch_no} has been quarantined before, so it stays with its status history",
                        code="batch_in_use")
    if history["items"]:
        return Conflict(
            f"Batch {batch_no} has been sold, so it stays for traceability; "
            "write it off or adjust it instead",
            code="batch_in_use",
        )
    if history["moves"]:
        return Conflict(
            f"Batch {batch_no} has stock movements besides its receipt; adjust it instead",
            code="batch_in_use",
        )
    return None


async def deletion_refusal(ctx: Context, batch_id: int) -> str | None:
    """What `delete` would answer for this batch now: the refusal's message, or None when it
    would delete it (the staff batch page offers Delete only then)."""
    async with ctx.pool.connection() as conn:
        batch = await db.fetch_one(conn, Q["batch_by_id"], {"batch_id": batch_id})
        if batch is None:
            raise NotFound(f"No batch {batch_id}")
        history = await db.fetch_one(conn, Q["batch_history"], {"batch_id": batch_id})
    refusal = _deletion_refusal(batch, history)
    return refusal.message if refusal else None


async def was_sold(ctx: Context, batch_id: int) -> bool:
    """Whether any order drew from the batch (then it is never deleted)."""
    async with ctx.pool.connection() as conn:
        history = await db.fetch_one(conn, Q["batch_history"], {"batch_id": batch_id})
    return bool(history["items"])


async def delete(
    ctx: Context, user: CurrentUser, batch_id: int
) -> None:
    """Delete a batch entered by mistake: only while nothing but its receipt ever touched it."""

    async def work(conn: psycopg.AsyncConnection) -> None:
        batch = await _locked_batch(conn, batch_id)
        history = await db.fetch_one(conn, Q["batch_history"], {"batch_id": batch_id})
        refusal = _deletion_refusal(batch, history)
        if refusal:
            raise refusal
        await db.execute(conn, Q["delete_batch"], {"batch_id": batch_id})
        await audit.record(conn, user, "batch.delete", batch_id, audited(batch), None)

    async def after_commit(conn: psycopg.AsyncConnection, _: None) -> None:
        await ctx.versions.announce_change(conn)

    await ctx.transaction(work, after_commit=after_commit)


async def batch(ctx: Context, batch_id: int) -> dict[str, Any]:
    """One batch as the inventory view shows it (the staff batch page's heading), with the
    open recall it is in (`open_recall`, or None); 404 when there is no such batch."""
    async with ctx.pool.connection() as conn:
        row = await db.fetch_one(conn, Q["batch_views"], {"batch_ids": [batch_id]})
    if row is None:
        raise NotFound(f"No batch {batch_id}")
    return batch_document(row) | {"open_recall": _open_recall(row)}


STATUS_HISTORY_LIMIT = 50


async def detail(conn: psycopg.AsyncConnection, batch_id: int) -> dict[str, Any] | None:
    """The batch, its open recall and its status history (the latest STATUS_HISTORY_LIMIT
    changes, newest first, and how many there are), in two statements; None: no such batch."""
    found = await db.send(conn, Q["batch_views"], {"batch_ids": [batch_id]})
    changes = await db.send(conn, status.Q["status_history"],
                            {"batch_id": batch_id, "limit": STATUS_HISTORY_LIMIT})
    row = await found.one()
    if row is None:
        return None
    return batch_document(row) | {"open_recall": _open_recall(row),
                                  "status_history": status.history_document(await changes.all())}


async def batch_detail(ctx: Context, batch_id: int) -> dict[str, Any]:
    """One batch with its open recall and status history (GET /api/admin/inventory/batches/{id});
    404 when there is no such batch."""
    async with ctx.pool.connection() as conn:
        found = await detail(conn, batch_id)
    if found is None:
        raise NotFound(f"No batch {batch_id}")
    return found


async def _status_change(ctx: Context, work) -> dict[str, Any]:
    """A quarantine or release: after commit, every worker's catalog drops or regains the
    batch's stock (the catalog version), and the answer is the batch as it now is."""

    async def after_commit(conn: psycopg.AsyncConnection, batch_id: int) -> dict[str, Any]:
        await ctx.versions.announce_change(conn)
        return await detail(conn, batch_id)

    return await ctx.transaction(work, after_commit=after_commit)


async def quarantine(ctx: Context, user: CurrentUser, batch_id: int, reason: str) -> dict[str, Any]:
    """Put a batch on hold: from commit no order can take it (status.quarantine). A batch
    already on hold: 409 `batch_already_quarantined`, nothing written."""

    async def work(conn: psycopg.AsyncConnection) -> int:
        [before] = await status.quarantine(conn, user, [batch_id], reason)
        if before["quarantined"]:
            raise Conflict(f"Batch {before['batch_no']} is already quarantined",
                           code="batch_already_quarantined", details={"batch_id": batch_id})
        return batch_id

    return await _status_change(ctx, work)


async def release(ctx: Context, user: CurrentUser, batch_id: int, reason: str) -> dict[str, Any]:
    """Take a batch off hold: sellable again from commit when in date and in stock. Refused
    (409) for a batch not on hold or in an open recall (status.release)."""

    async def work(conn: psycopg.AsyncConnection) -> int:
        await status.release(conn, user, batch_id, reason)
        return batch_id

    return await _status_change(ctx, work)


EDIT_HISTORY_LIMIT = 50


async def edit_history(ctx: Context, batch_id: int) -> dict[str, Any]:
    """The batch's recorded edits (Batch_Edits), newest first: {"items": the latest
    EDIT_HISTORY_LIMIT, "total_items": how many there are in all}."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["batch_edit_history"], {"batch_id": batch_id,
                                                                  "limit": EDIT_HISTORY_LIMIT})
    items = [
        {"field": r["field"], "old_value": r["old_value"], "new_value": r["new_value"],
         "username": r["username"], "note": r["note"], "created_at": r["created_at"].isoformat()}
        for r in rows
    ]
    return {"items": items, "total_items": rows[0]["total_items"] if rows else 0}


async def expired_stock(ctx: Context) -> dict[str, Any]:
    """What `write_off_expired` would write off now: {"batches", "units", "value"}."""
    async with ctx.pool.connection() as conn:
        row = await db.fetch_one(conn, Q["expired_stock_summary"], {"today": business_day()})
    return {"batches": row["batches"], "units": row["units"], "value": money(row["value"])}
