"""A batch's traceability (GET /api/admin/inventory/batches/{id}/trace), read from the ledger.

Backward: where the batch came from — its SKU and product, and each `receipt` movement with
the purchase order line it names (the order, its status, the supplier, the unit cost).
Forward: where its units went — the whole ledger of the batch, oldest first, each movement
with the order and customer it names and the units the batch held after it; per customer the
units they hold (sold - cancelled - returned); the movements summed by reason. With the
batch's status history and the recalls it is in. A fixed number of statements whatever the
batch's history: the ledger is answered a page at a time (MAX_PAGE_SIZE rows at most), and
its CSV in one statement (every movement of one batch: at most one per unit it ever held)."""

from __future__ import annotations

from typing import Any

from stockline import db
from stockline.errors import NotFound
from stockline.inventory.batches import service as batches
from stockline.kernel.context import Context
from stockline.kernel.export import Column, csv_text, item
from stockline.pagination import PageRequest
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

RECEIPTS_LIMIT = 500  # receipts of one batch: a handful in practice; the count says if more

# a movement as the JSON answer and the CSV show it, in this order
MOVEMENT_COLUMNS = (
    Column("movement_id", "int"), Column("created_at", "timestamp"), Column("reason"),
    Column("quantity_delta", "int"), Column("balance", "int"), Column("order_id", "int"),
    Column("order_date", "timestamp"), Column("order_status"), Column("customer_id", "int"),
    Column("customer_name"), Column("recall_id", "int"), Column("recall_no"), Column("po_line_id", "int"),
    Column("po_id", "int"), Column("user_id", "int"), Column("username"), Column("note"),
)
CUSTOMER_COLUMNS = (
    Column("customer_id", "int"), Column("customer_name"), Column("orders", "int"), Column("sold", "int"),
    Column("cancelled", "int"), Column("returned", "int"), Column("recall_returned", "int"),
    Column("units_held", "int"), Column("last_order_date", "timestamp"),
)
RECEIPT_COLUMNS = (
    Column("movement_id", "int"), Column("created_at", "timestamp"), Column("quantity", "int"),
    Column("note"), Column("user_id", "int"), Column("username"), Column("po_line_id", "int"),
    Column("po_id", "int"), Column("po_status"), Column("quantity_ordered", "int"),
    Column("unit_cost", "money"), Column("supplier_id", "int"), Column("supplier_name"),
)
RECALL_COLUMNS = (
    Column("recall_id", "int"), Column("recall_no"), Column("recall_class", "int"), Column("reason"),
    Column("status"), Column("initiated_at", "timestamp"), Column("closed_at", "timestamp"),
    Column("on_hand_at_recall", "int"),
)


async def _read(ctx: Context, batch_id: int, limit: int | None, offset: int) -> dict[str, Any]:
    params = {"batch_id": batch_id}
    # one snapshot, so the receipts, the ledger page, the per-customer units and the totals agree
    async with ctx.pool.connection() as conn, conn.transaction():
        await db.execute(conn, Q["snapshot"])
        batch = await batches.detail(conn, batch_id)
        if batch is None:
            raise NotFound(f"No batch {batch_id}")
        return {
            "batch": batch,
            "receipts": await db.fetch_all(conn, Q["receipts"], params | {"limit": RECEIPTS_LIMIT}),
            "ledger": await db.fetch_all(conn, Q["movements"], params | {"limit": limit, "offset": offset}),
            "customers": await db.fetch_all(conn, Q["customers"], params),
            "totals": await db.fetch_one(conn, Q["totals"], params),
            "recalls": await db.fetch_all(conn, Q["recalls"], params),
        }


async def trace(ctx: Context, batch_id: int, paging: PageRequest) -> dict[str, Any]:
    """The batch's trace with one page of its ledger; 404 when there is no such batch."""
    read = await _read(ctx, batch_id, paging.limit, paging.offset)
    batch, ledger, receipts = read["batch"], read["ledger"], read["receipts"]
    history = batch.pop("status_history")
    return {
        "batch": batch,
        "backward": {
            "receipts": [item(r, RECEIPT_COLUMNS) for r in receipts],
            "total_receipts": receipts[0]["total_items"] if receipts else 0,
        },
        "forward": {
            "movements": paging.envelope([item(r, MOVEMENT_COLUMNS) for r in ledger if r["movement_id"]],
                                         ledger[0]["total_items"]),
            "customers": [item(r, CUSTOMER_COLUMNS) for r in read["customers"]],
            "totals": read["totals"] | {"on_hand": batch["quantity_on_hand"]},
        },
        "status_history": history,
        "recalls": [item(r, RECALL_COLUMNS) for r in read["recalls"]],
    }


async def movements_csv(ctx: Context, batch_id: int) -> str:
    """Every movement of the batch, oldest first, as CSV (the columns of the trace's ledger)."""
    async with ctx.pool.connection() as conn:
        if not (await db.fetch_one(conn, Q["batch_exists"], {"batch_id": batch_id}))["found"]:
            raise NotFound(f"No batch {batch_id}")
        rows = await db.fetch_all(conn, Q["movements"], {"batch_id": batch_id, "limit": None, "offset": 0})
    return csv_text([r for r in rows if r["movement_id"]], MOVEMENT_COLUMNS)


def csv_filename(batch_id: int) -> str:
    return f"batch-{batch_id}-movements.csv"
