"""Back-office inventory routes (staff or admin): receive, adjust, write off, edit and
delete batches; the inventory view and the stock ledger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from stockline.auth.dependencies import StaffUser
from stockline.inventory import batches, views
from stockline.inventory.schemas import BatchAdjust, BatchEdit, BatchReceive, BatchWriteOff
from stockline.pagination import Paging

router = APIRouter(prefix="/api/admin", tags=["inventory"])
BatchId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class InventoryFilter(StrEnum):
    low_stock = "low_stock"
    critical = "critical"
    expiring = "expiring"
    expired = "expired"
    recent = "recent"


class InventorySort(StrEnum):
    expiry = "expiry"
    received = "received"
    quantity = "quantity"
    product = "product"


@router.post(
    "/inventory/batches",
    status_code=201,
    summary="Receive stock: a new batch, or more of one",
    responses={
        200: {"description": "more stock for an existing batch"},
        404: {"description": "no such SKU"},
        409: {"description": "the batch number exists with another expiry date"},
    },
)
async def receive_batch(body: BatchReceive, request: Request, response: Response, user: StaffUser) -> dict:
    state = request.app.state
    receipt = batches.Receipt(**body.model_dump())
    result = await batches.receive(state.pool, state.catalog_version, state.settings, user, receipt)
    response.status_code = 201 if result["created"] else 200
    return result


@router.post(
    "/inventory/batches/{batch_id}/adjust",
    summary="Correct a batch's stock (never below zero)",
    responses={404: {"description": "no such batch"}, 409: {"description": "below zero, or no change"}},
)
async def adjust_batch(batch_id: BatchId, body: BatchAdjust, request: Request, user: StaffUser) -> dict:
    state = request.app.state
    return await batches.adjust(
        state.pool,
        state.catalog_version,
        state.settings,
        user,
        batch_id=batch_id,
        delta=body.delta,
        new_quantity=body.new_quantity,
        reason=body.reason,
        note=body.note,
    )


@router.post(
    "/inventory/batches/{batch_id}/write-off",
    summary="Write off what an expired batch still holds",
    responses={404: {"description": "no such batch"}, 409: {"description": "not expired, or nothing left"}},
)
async def write_off_batch(
    batch_id: BatchId, request: Request, user: StaffUser, body: BatchWriteOff | None = None
) -> dict:
    state = request.app.state
    return await batches.write_off(
        state.pool,
        state.catalog_version,
        state.settings,
        user,
        batch_id=batch_id,
        note=body.note if body else None,
    )


@router.post("/inventory/write-off-expired", summary="Write off every expired batch that holds stock")
async def write_off_expired(request: Request, user: StaffUser, body: BatchWriteOff | None = None) -> dict:
    state = request.app.state
    return await batches.write_off_expired(
        state.pool, state.catalog_version, state.settings, user, body.note if body else None
    )


@router.patch(
    "/inventory/batches/{batch_id}",
    summary="Correct a batch's cost or expiry (recorded)",
    responses={
        404: {"description": "no such batch"},
        409: {"description": "no change, or an expiry before a day it was sold"},
    },
)
async def edit_batch(batch_id: BatchId, body: BatchEdit, request: Request, user: StaffUser) -> dict:
    state = request.app.state
    return await batches.edit(
        state.pool,
        state.catalog_version,
        state.settings,
        user,
        batch_id=batch_id,
        cost_price=body.cost_price,
        expiry_date=body.expiry_date,
        note=body.note,
    )


@router.delete(
    "/inventory/batches/{batch_id}",
    status_code=204,
    summary="Delete a batch entered by mistake",
    responses={
        404: {"description": "no such batch"},
        409: {"description": "sold or moved: it stays for traceability"},
    },
)
async def delete_batch(batch_id: BatchId, request: Request, user: StaffUser) -> Response:
    state = request.app.state
    await batches.delete(state.pool, state.catalog_version, state.settings, batch_id)
    return Response(status_code=204)


@router.get("/inventory", summary="Batches with their SKU's stock; ETag / If-None-Match")
async def inventory(
    request: Request,
    user: StaffUser,
    paging: Paging,
    filter: Annotated[
        InventoryFilter | None, Query(description="low_stock, critical, expiring, expired, recent")
    ] = None,
    search: Annotated[
        str | None, Query(max_length=200, description="product, package, batch number or SKU code")
    ] = None,
    sku_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    sort: InventorySort = InventorySort.expiry,
) -> Response:
    state = request.app.state
    rendered = await views.inventory_page(
        state.pool,
        state.settings,
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
    request: Request,
    user: StaffUser,
    paging: Paging,
    batch_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    sku_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    order_id: Annotated[int | None, Query(ge=1)] = None,
    reason: Literal["receipt", "sale", "cancel", "adjustment", "write_off"] | None = None,
    created_from: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    created_before: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
) -> dict:
    return await views.movements_page(
        request.app.state.pool,
        paging,
        batch_id=batch_id,
        sku_id=sku_id,
        order_id=order_id,
        reason=reason,
        created_from=created_from,
        created_before=created_before,
    )
