"""The stock ledger and the locks that guard it: the one way stock changes.

Every change of quantity_on_hand is written here or by the SQL functions this module
calls: receipts, adjustments and write-offs (inventory.batches), cancellations
(`restock_order`), returns (billing.returns: `return`, and a `write_off` of
units destroyed on return), the seed's opening stock and simulated history (`record_opening_receipts`,
`copy_movements`); sales are written by `stockline_place_order()` in db/schema.sql with the
same `stockline_record_movements()`.

Rules every caller follows, inside its own transaction (both are SQL functions in
db/schema.sql, so placing an order, which runs whole in `stockline_place_order()`, follows
the very same ones):
1. `lock_skus` the SKUs whose batches will move, before reading or writing any batch. Locks
   go in ascending sku_id order, so concurrent stock changes never deadlock, and quantities
   read after the lock are the truth until commit.
2. `record_movements` writes the movements and changes quantity_on_hand together, in one
   statement, so for every batch quantity_on_hand = sum of its movements, always.
Side effects such as the catalog version bump happen after commit, in the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import psycopg

from stockline import db
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

Reason = Literal["receipt", "sale", "cancel", "adjustment", "write_off", "return", "recall_return"]


@dataclass(frozen=True)
class Movement:
    batch_id: int
    quantity_delta: int
    reason: Reason
    order_id: int | None = None
    user_id: int | None = None
    note: str | None = None
    po_line_id: int | None = None  # a receipt against a purchase order line
    recall_id: int | None = None  # a recall_return, or a write_off destroying recalled units


async def lock_skus(conn: psycopg.AsyncConnection, sku_ids: Iterable[int]) -> db.Pending:
    """Lock these SKUs (ascending sku_id) until commit. The answer, read when wanted, is a
    row per SKU that exists: sku_id, is_active (on sale), sku_code, product_name,
    package_size, unit_type. Statements sent after this one run once the locks are held."""
    return await db.send(conn, Q["lock_skus"], {"sku_ids": sorted(set(sku_ids))})


async def available_stock(conn: psycopg.AsyncConnection, sku_id: int, sellable_after: date) -> db.Pending:
    """One SKU's {sku_id, is_active, available} (no row: no such SKU), read when wanted."""
    return await db.send(conn, Q["available_stock"], {"sku_id": sku_id, "sellable_after": sellable_after})


async def record_movements(conn: psycopg.AsyncConnection, movements: Sequence[Movement]) -> None:
    """Apply and record `movements` (the caller holds the SKU locks). Stock going below zero
    or a movement of a batch that does not exist is an error (a check or foreign key
    constraint) and the caller's transaction rolls back: in a pipeline, at its next read or
    at COMMIT, before anything is committed."""
    if not movements:
        return
    await db.send(conn, Q["record_movements"], {
        "batch_ids": [m.batch_id for m in movements], "deltas": [m.quantity_delta for m in movements],
        "reasons": [m.reason for m in movements], "order_ids": [m.order_id for m in movements],
        "user_ids": [m.user_id for m in movements], "notes": [m.note for m in movements],
        "po_line_ids": [m.po_line_id for m in movements], "recall_ids": [m.recall_id for m in movements],
    })


async def restock_order(conn: psycopg.AsyncConnection, order_id: int, *, user_id: int, note: str) -> None:
    """Give a cancelled order's units back to the batches they were taken from (`cancel`
    movements), under the SKU locks."""
    allocations = await db.fetch_all(conn, Q["order_allocations"], {"order_id": order_id})
    await lock_skus(conn, (a["sku_id"] for a in allocations))
    await record_movements(conn, [Movement(a["batch_id"], a["quantity"], "cancel", order_id, user_id, note)
                                  for a in allocations])


# --- bulk paths of the seed (synchronous, one COPY per chunk) ------------------------------

HistoricMovement = tuple[int, int, Reason, int | None, int | None, str | None, datetime]
"""(batch_id, quantity_delta, reason, order_id, user_id, note, created_at)"""

_STAGE_COPY = ("COPY ledger_movement_stage (batch_id, quantity_delta, reason, order_id, user_id, note, "
               "created_at) FROM STDIN (FORMAT BINARY)",
               ["int4", "int4", "text", "int8", "int4", "text", "timestamptz"])


def record_opening_receipts(conn: psycopg.Connection, batch_ids: Sequence[int], note: str,
                            movement_ids: Sequence[int] | None = None) -> None:
    """The `receipt` of batches just created holding their opening stock (their
    quantity_on_hand already counts it), dated when each was received; under reserved
    movement ids when given."""
    conn.execute(Q["record_opening_receipts"].sql, {
        "batch_ids": list(batch_ids), "note": note,
        "movement_ids": list(movement_ids) if movement_ids is not None else [None] * len(batch_ids)})


def copy_movements(conn: psycopg.Connection, movements: Sequence[HistoricMovement]) -> None:
    """Apply and record dated movements in bulk (the seed's simulated history): COPY into a
    session stage, then one statement writes them and moves each batch by their sum, as
    `record_movements` does. The caller's transaction holds the database to itself."""
    if not movements:
        return
    conn.execute(Q["create_movement_stage"].sql)
    statement, types = _STAGE_COPY
    with conn.cursor() as cur, cur.copy(statement) as copier:
        copier.set_types(types)
        for row in movements:
            copier.write_row(row)
    conn.execute(Q["apply_staged_movements"].sql)
