"""Putting batches on hold (quarantine) and releasing them, inside the caller's transaction.

A quarantined batch is never sellable: `stockline_sellable()` in db/schema.sql says so, and
every query that counts available stock uses it. The change takes the batches' SKU locks
first (`ledger.lock_skus`, the ledger's order), the very locks `stockline_place_order()`
takes before it reads batches, so an order racing a quarantine either committed before it
(and its units are in the recall's trace) or reads the batch already on hold. The ledger
does not move; each change is a row of Batch_Status_Changes (who, when, why, which recall)
and an audit entry. The caller bumps the catalog version after commit (`announce_change`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.errors import Conflict, NotFound
from stockline.inventory import ledger
from stockline.kernel.identity import CurrentUser
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__, "status.sql")


async def _locked(conn: psycopg.AsyncConnection, batch_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The batches, read again under their SKUs' locks; 404 naming any that does not exist."""
    wanted = sorted(set(batch_ids))
    found = await db.fetch_all(conn, Q["batch_skus"], {"batch_ids": wanted})
    missing = sorted(set(wanted) - {row["batch_id"] for row in found})
    if missing:
        raise NotFound(f"No batch {', '.join(map(str, missing))}", code="no_batch",
                       details={"batch_ids": missing})
    await ledger.lock_skus(conn, (row["sku_id"] for row in found))
    return await db.fetch_all(conn, Q["batch_states"], {"batch_ids": wanted})


async def quarantine(conn: psycopg.AsyncConnection, user: CurrentUser, batch_ids: Sequence[int], reason: str,
                     *, recall_id: int | None = None) -> list[dict[str, Any]]:
    """Put the batches on hold. A batch already on hold stays so; under a recall it still
    gets a status row naming the recall, so its history shows why it can never be released
    while the recall is open. Returns the batches as they were before (with
    `quarantined` then), in batch_id order."""
    batches = await _locked(conn, batch_ids)
    changing = [b for b in batches if not b["quarantined"] or recall_id is not None]
    await db.send(conn, Q["set_quarantined"], {
        "batch_ids": [b["batch_id"] for b in changing], "quarantined": True, "reason": reason,
        "recall_id": recall_id, "user_id": user.user_id})
    await audit.record_many(conn, user, "batch.quarantine", [
        audit.Change(b["batch_id"], _state(b), _state(b) | {"quarantined": True, "reason": reason}
                     | ({"recall_id": recall_id} if recall_id is not None else {}))
        for b in changing])
    return batches


async def release(conn: psycopg.AsyncConnection, user: CurrentUser, batch_id: int,
                  reason: str) -> dict[str, Any]:
    """Release a batch from quarantine: sellable again from commit (if in date and in stock).
    Refused while the batch is not on hold, or when it was ever recalled (recalled stock is
    returned and destroyed, never sold, even after its recall closed)."""
    [batch] = await _locked(conn, [batch_id])
    if not batch["quarantined"]:
        raise Conflict(f"Batch {batch['batch_no']} is not quarantined", code="batch_not_quarantined",
                       details={"batch_id": batch_id})
    if batch["last_recall_id"] is not None:
        raise Conflict(f"Batch {batch['batch_no']} was recalled; recalled stock is destroyed, never released",
                       code="batch_recalled",
                       details={"batch_id": batch_id, "recall_id": batch["last_recall_id"]})
    await db.send(conn, Q["set_quarantined"], {
        "batch_ids": [batch_id], "quarantined": False, "reason": reason, "recall_id": None,
        "user_id": user.user_id})
    await audit.record(conn, user, "batch.release", batch_id, _state(batch),
                       _state(batch) | {"quarantined": False, "reason": reason})
    return batch


def history_document(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows of the `status_history` query as the API shows them: {"items": newest first,
    "total_items": how many changes there are in all}."""
    items = [{"change_id": r["change_id"], "quarantined": r["quarantined"], "reason": r["reason"],
              "changed_at": r["changed_at"].isoformat(), "user_id": r["user_id"], "username": r["username"],
              "recall_id": r["recall_id"], "recall_no": r["recall_no"]} for r in rows]
    return {"items": items, "total_items": rows[0]["total_items"] if rows else 0}


def _state(batch: dict[str, Any]) -> dict[str, Any]:
    return {"batch_id": batch["batch_id"], "sku_id": batch["sku_id"], "batch_no": batch["batch_no"],
            "quantity_on_hand": batch["quantity_on_hand"], "quarantined": batch["quarantined"]}
