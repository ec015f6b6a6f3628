"""Reorder suggestions, and draft purchase orders made from them.

The reorder rule is written once, in suggestions.sql (`reorder_suggestions`): a SKU on sale
that sold in the last SALES_WINDOW_DAYS days is suggested when its available units plus its
incoming units (open purchase orders, the Incoming_Stock view) cover less than COVER_DAYS
days plus its preferred supplier's lead time at that rate (what sells while the order is on
its way must be covered too); the suggested quantity makes up the difference. The reorder
report (reporting.service) and `draft_from_suggestions` both read it through
`suggestion_rows`.

Drafting makes one draft purchase order per preferred supplier, each suggested SKU a line at
that supplier's cost; SKUs without an active preferred supplier are answered as skipped.
Drafts count as incoming at once, and runs are serialised by an advisory lock, so a second
run right after the first suggests, and drafts, nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.config import Settings
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after, utc_midnight, window_start
from stockline.kernel.identity import CurrentUser
from stockline.purchasing.purchase_orders import order_summaries
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__, "suggestions.sql")

SALES_WINDOW_DAYS = 30  # the sales rate is read over this many days, today included
COVER_DAYS = 30  # ... and stock plus incoming should last this many days beyond the lead time
DRAFT_NOTE = "Drafted from reorder suggestions"


async def suggestion_rows(conn: psycopg.AsyncConnection, settings: Settings, today: date, *,
                          limit: int | None, offset: int = 0,
                          sku_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The suggestions as one statement answers them: the first row carries total_items and
    total_suggested, every row one SKU (its columns None when the page is past the end);
    limit None: every row. sku_ids: only those SKUs."""
    return await db.fetch_all(conn, Q["reorder_suggestions"], {
        "from": utc_midnight(window_start(today, SALES_WINDOW_DAYS)), "window_days": SALES_WINDOW_DAYS,
        "cover_days": COVER_DAYS, "sellable_after": sellable_after(settings, today),
        "sku_ids": None if sku_ids is None else list(sku_ids), "limit": limit, "offset": offset})


def _skipped(row: dict[str, Any]) -> dict[str, Any]:
    return {"sku_id": row["sku_id"], "sku_code": row["sku_code"],
            "suggested_quantity": row["suggested_quantity"], "reason": "no_preferred_supplier"}


async def draft_from_suggestions(ctx: Context, actor: CurrentUser,
                                 sku_ids: Sequence[int] | None) -> dict[str, Any]:
    """One draft purchase order per preferred supplier of the suggested SKUs (only `sku_ids`
    when given): {"created": the drafts, "skipped": suggested SKUs without a supplier}."""
    async def work(conn: psycopg.AsyncConnection) -> tuple[list[int], list[dict[str, Any]]]:
        await db.send(conn, Q["lock_drafting"])
        rows = [row for row in await suggestion_rows(conn, ctx.settings, business_day(), limit=None,
                                                     sku_ids=sku_ids) if row["sku_id"] is not None]
        wanted = [row for row in rows if row["supplier_id"] is not None]
        if not wanted:
            return [], [_skipped(row) for row in rows]
        drafts = await db.fetch_all(conn, Q["insert_drafts"], {
            "supplier_ids": [row["supplier_id"] for row in wanted],
            "sku_ids": [row["sku_id"] for row in wanted],
            "quantities": [row["suggested_quantity"] for row in wanted], "note": DRAFT_NOTE,
            "user_id": actor.user_id})
        await audit.record_many(conn, actor, "purchase_order.create", [
            audit.Change(draft["po_id"], None, {
                "supplier_id": draft["supplier_id"], "status": "draft", "note": DRAFT_NOTE,
                "lines": draft["lines"]})
            for draft in drafts])
        skipped = [_skipped(row) for row in rows if row["supplier_id"] is None]
        return [draft["po_id"] for draft in drafts], skipped

    async def read_back(conn: psycopg.AsyncConnection,
                        outcome: tuple[list[int], list[dict[str, Any]]]) -> dict[str, Any]:
        po_ids, skipped = outcome
        return {"created": await order_summaries(conn, po_ids) if po_ids else [], "skipped": skipped}

    return await ctx.transaction(work, after_commit=read_back)
