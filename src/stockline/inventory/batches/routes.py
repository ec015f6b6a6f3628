"""Back-office batch routes (staff or admin): receive, adjust, write off, edit and delete
batches; read one with its status history; put it on hold (quarantine) and release it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from stockline.auth.dependencies import StaffUser
from stockline.inventory.batches import service as batches
from stockline.inventory.batches.schemas import BatchAdjust, BatchEdit, BatchHold, BatchReceive, BatchWriteOff
from stockline.kernel.context import Ctx

router = APIRouter(prefix="/api/admin", tags=["inventory"])
BatchId = Annotated[int, Path(ge=1, le=2_147_483_647)]


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
async def receive_batch(body: BatchReceive, ctx: Ctx, response: Response, user: StaffUser) -> dict:
    receipt = batches.Receipt(**body.model_dump())
    result = await batches.receive(ctx, user, receipt)
    response.status_code = 201 if result["created"] else 200
    return result


@router.post(
    "/inventory/batches/{batch_id}/adjust",
    summary="Correct a batch's stock (never below zero)",
    responses={404: {"description": "no such batch"}, 409: {"description": "below zero, or no change"}},
)
async def adjust_batch(batch_id: BatchId, body: BatchAdjust, ctx: Ctx, user: StaffUser) -> dict:
    return await batches.adjust(
        ctx,
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
    batch_id: BatchId, ctx: Ctx, user: StaffUser, body: BatchWriteOff | None = None
) -> dict:
    return await batches.write_off(
        ctx,
        user,
        batch_id=batch_id,
        note=body.note if body else None,
    )


@router.post("/inventory/write-off-expired", summary="Write off every expired batch that holds stock")
async def write_off_expired(ctx: Ctx, user: StaffUser, body: BatchWriteOff | None = None) -> dict:
    return await batches.write_off_expired(
        ctx, user, body.note if body else None
    )


@router.patch(
    "/inventory/batches/{batch_id}",
    summary="Correct a batch's cost or expiry (recorded)",
    responses={
        404: {"description": "no such batch"},
        409: {"description": "no change, or an expiry before a day it was sold"},
    },
)
async def edit_batch(batch_id: BatchId, body: BatchEdit, ctx: Ctx, user: StaffUser) -> dict:
    return await batches.edit(
        ctx,
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
async def delete_batch(batch_id: BatchId, ctx: Ctx, user: StaffUser) -> Response:
    await batches.delete(ctx, user, batch_id)
    return Response(status_code=204)


@router.get(
    "/inventory/batches/{batch_id}",
    summary="One batch: its stock, whether it is on hold, its open recall and status history",
    responses={404: {"description": "no such batch"}},
)
async def get_batch(batch_id: BatchId, ctx: Ctx, user: StaffUser) -> dict:
    return await batches.batch_detail(ctx, batch_id)


@router.post(
    "/inventory/batches/{batch_id}/quarantine",
    summary="Put a batch on hold: never sold from the moment this commits (stock unchanged)",
    responses={404: {"description": "no such batch"}, 409: {"description": "already quarantined"}},
)
async def quarantine_batch(batch_id: BatchId, body: BatchHold, ctx: Ctx, user: StaffUser) -> dict:
    return await batches.quarantine(ctx, user, batch_id, body.reason)


@router.post(
    "/inventory/batches/{batch_id}/release",
    summary="Release a batch from quarantine: sellable again if in date and in stock",
    responses={404: {"description": "no such batch"},
               409: {"description": "not quarantined, or in an open recall"}},
)
async def release_batch(batch_id: BatchId, body: BatchHold, ctx: Ctx, user: StaffUser) -> dict:
    return await batches.release(ctx, user, batch_id, body.reason)
