"""Read-only inventory views for staff: batches with their SKU's stock, and the ledger."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from stockline import db
from stockline.inventory.batches.service import batch_document
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after
from stockline.pagination import PageRequest
from stockline.response_cache import CachedResponse
from stockline.search import search_patterns
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


async def inventory_page(
    ctx: Context,
    paging: PageRequest,
    *,
    filter_: str | None,
    search: str | None,
    sku_id: int | None,
    sort: str,
    flags: bool = False,
) -> CachedResponse:
    """One page of batches, rendered, with an ETag over the whole body, so the ETag changes
    whenever any listed field does. Each item carries its SKU's available units, reorder level
    and incoming units (what open purchase orders still bring). `flags`: each item also says
    whether its SKU is low on stock (`low_stock`, by stockline_low_stock), for the staff page;
    the API answers without."""
    today = business_day()
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(
            conn,
            Q["inventory_page"],
            {
                "today": today,
                "sellable_after": sellable_after(ctx.settings, today),
                "expiring_by": today + timedelta(days=ctx.settings.expiring_soon_days),
                "patterns": search_patterns(search),
                "sku_id": sku_id,
                "filter": filter_,
                "sort": sort,
                "limit": paging.limit,
                "offset": paging.offset,
            },
        )
    items = [
        batch_document(row) | {"sku_available": row["available"], "reorder_level": row["reorder_level"],
                               "sku_incoming": row["incoming"]}
        | ({"low_stock": row["low_stock"]} if flags else {})
        for row in rows
        if row["batch_id"] is not None
    ]
    document = paging.envelope(items, rows[0]["total_items"], filter=filter_, search=search, sort=sort)
    return CachedResponse.of(json.dumps(document, separators=(",", ":")).encode())


async def movements_page(
    ctx: Context,
    paging: PageRequest,
    *,
    batch_id: int | None,
    sku_id: int | None,
    order_id: int | None,
    reason: str | None,
    created_from: datetime | None,
    created_before: datetime | None,
) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(
            conn,
            Q["movements_page"],
            {
                "batch_id": batch_id,
                "sku_id": sku_id,
                "order_id": order_id,
                "reason": reason,
                "created_from": created_from,
                "created_before": created_before,
                "limit": paging.limit,
                "offset": paging.offset,
            },
        )
    items = [
        {
            "movement_id": r["movement_id"],
            "batch_id": r["batch_id"],
            "batch_no": r["batch_no"],
            "sku_id": r["sku_id"],
            "sku_code": r["sku_code"],
            "product_name": r["product_name"],
            "quantity_delta": r["quantity_delta"],
            "reason": r["reason"],
            "order_id": r["order_id"],
            "user_id": r["user_id"],
            "username": r["username"],
            "note": r["note"],
            "created_at": r["created_at"].isoformat(),
        }
        for r in rows
        if r["movement_id"] is not None
    ]
    return paging.envelope(items, rows[0]["total_items"])
