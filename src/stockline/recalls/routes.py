"""Recalls (/api/admin/recalls): staff only; no SQL here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from stockline.auth.dependencies import StaffUser
from stockline.billing.routes import pdf_response
from stockline.kernel.context import Ctx
from stockline.kernel.export import attachment
from stockline.kernel.inputs import INT4_MAX
from stockline.pagination import Paging
from stockline.recalls import notices, progress, service
from stockline.recalls.schemas import (
    DestructionCreate,
    ExportFormat,
    Recall,
    RecallClose,
    RecallCreate,
    RecallPage,
    RecallReturnCreate,
    RecallReturnRecorded,
    RecallStatus,
)

router = APIRouter(prefix="/api/admin", tags=["recalls"])

RecallId = Annotated[int, Path(ge=1, le=INT4_MAX)]
CustomerId = Annotated[int, Path(ge=1, le=INT4_MAX)]
_NO_RECALL = {404: {"description": "no such recall"}}
_CLOSED = {409: {"description": "the recall is closed (recall_closed)"}}


@router.post("/recalls", status_code=201, response_model=Recall, response_model_by_alias=True,
             summary="Recall batches: they are quarantined at once; the answer is the trace",
             responses={404: {"description": "no such batch (no_batch, with batch_ids)"},
                        409: {"description": "a batch is already in an open recall "
                                             "(batch_already_recalled)"}})
async def create_recall(body: RecallCreate, ctx: Ctx, user: StaffUser) -> Any:
    return await service.create_recall(ctx, user, body.batch_ids, body.reason, body.recall_class)


@router.get("/recalls", response_model=RecallPage, summary="Recalls: open ones first, then newest first")
async def list_recalls(ctx: Ctx, user: StaffUser, paging: Paging, status: RecallStatus | None = None) -> Any:
    return await service.list_recalls(ctx, paging, status=status)


@router.get("/recalls/{recall_id}", response_model=Recall,
            summary="One recall: trace and progress per batch and per customer",
            responses=_NO_RECALL | {200: {"content": {"text/csv": {}}, "description": (
                "the recall as JSON, or its per-customer rows as CSV")}})
async def get_recall(
    recall_id: RecallId, ctx: Ctx, user: StaffUser,
    export: Annotated[ExportFormat, Query(alias="format", description=(
        "csv: the per-customer progress as text/csv, for download"))] = ExportFormat.json,
) -> Any:
    recall = await service.get_recall(ctx, recall_id)
    if export is ExportFormat.csv:
        return Response(progress.customers_csv(recall), media_type="text/csv",
                        headers=attachment(f"{recall['recall_no']}-customers.csv"))
    return recall


@router.post("/recalls/{recall_id}/returns", status_code=201, response_model=RecallReturnRecorded,
             summary="Record units a customer sent back under the recall; their invoice is credited",
             responses=_NO_RECALL | {409: {"description": (
                 "the recall is closed (recall_closed), the order is not shipped (order_not_delivered), an "
                 "item is not drawn from the recalled batches (item_not_recalled), or more units than "
                 "delivered and not yet returned (return_exceeds_delivered)")},
                 422: {"description": "a line names an item of another order (unknown_order_item)"}})
async def record_return(recall_id: RecallId, body: RecallReturnCreate, ctx: Ctx, user: StaffUser) -> Any:
    lines = [(line.order_item_id, line.quantity) for line in body.lines]
    return await service.record_return(ctx, user, recall_id, body.order_id, lines, body.note)


@router.post("/recalls/{recall_id}/destructions", status_code=201, response_model=Recall,
             summary="Destroy units held in a recalled batch (a write-off naming the recall)",
             responses={404: {"description": "no such recall, or the batch is not in it "
                                             "(batch_not_recalled)"},
                        409: {"description": "the recall is closed (recall_closed), or more units than the "
                                             "batch holds (destruction_exceeds_stock)"}})
async def destroy(recall_id: RecallId, body: DestructionCreate, ctx: Ctx, user: StaffUser) -> Any:
    return await service.destroy(ctx, user, recall_id, body.batch_id, body.quantity, body.note)


@router.post("/recalls/{recall_id}/close", response_model=Recall,
             summary="Close the recall once nothing is outstanding (an admin may force it)",
             responses=_NO_RECALL | {
                 403: {"description": "force by someone who is not an admin (admin_only)"},
                 409: {"description": "already closed (recall_closed), or units outstanding "
                                      "(recall_outstanding: on_hand, outstanding, held; force forgives only "
                                      "outstanding)"}})
async def close_recall(recall_id: RecallId, body: RecallClose, ctx: Ctx, user: StaffUser) -> Any:
    return await service.close_recall(ctx, user, recall_id, body.note, body.force)


@router.get("/recalls/{recall_id}/notices/{customer_id}", response_class=Response,
            summary="The recall notice for one customer, as a PDF to print or send",
            responses={404: {"description": "no such recall, or it concerns none of the customer's orders"},
                       200: {"content": {"application/pdf": {}}, "description": "the notice as a PDF"}})
async def notice(recall_id: RecallId, customer_id: CustomerId, ctx: Ctx, user: StaffUser) -> Response:
    return pdf_response(await notices.notice_pdf(ctx, recall_id, customer_id))
