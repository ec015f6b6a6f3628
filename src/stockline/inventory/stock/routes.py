"""Back-office stock views (staff or admin): batches with their SKU's stock, and the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from stockline.auth.dependencies import StaffUser
from stockline.inventory.ledger import Reason
from stockline.inventory.stock import service as stock
from stockline.inventory.stock.schemas import InventoryFilter, InventorySort
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import MaybeText
from stockline.pagination import Paging

router = APIRouter(prefix="/api/admin", tags=["inventory"])


@router.get("/inventory", summary="Batches with their SKU's stock; ETag / If-None-Match")
async def inventory(
    request: Request, ctx: Ctx,
    user: StaffUser,
    paging: Paging,
    filter: Annotated[
        InventoryFilter | None, Query(description="low_stock, critical, expiring, expired, recent")
    ] = None,
    search: Annotated[
        MaybeText, Query(max_length=200, description="product, package, batch number or SKU code")
    ] = None,
    sku_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    sort: InventorySort = InventorySort.expiry,
) -> Response:
    rendered = await stock.inventory_page(
        ctx,
        paging,
        filter_=filter.value if filter else None,
        search=(search or "").strip() or None,
        sku_id=sku_id,
        sort=sort.value,
    )
    headers = {"ETag": rendered.etag, "Cache-Control": "private, no-cache"}
    if rendered.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)


@router.get("/stock-movements", summary="The stock ledger, newest first")
async def stock_movements(
    ctx: Ctx,
    user: StaffUser,
    paging: Paging,
    batch_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    sku_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    order_id: Annotated[int | None, Query(ge=1, le=9_223_372_036_854_775_807)] = None,
    reason: Reason | None = None,
    created_from: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    created_before: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
) -> dict:
    return await stock.movements_page(
        ctx,
        paging,
        batch_id=batch_id,
        sku_id=sku_id,
        order_id=order_id,
        reason=reason,
        created_from=created_from,
        created_before=created_before,
    )
