"""A customer's recalls (/api/my-recalls): what of their orders is recalled; no SQL here.
The customer is the token's, never the request's: another customer's recall is 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from stockline.auth.dependencies import CustomerUser
from stockline.billing.routes import pdf_response
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import INT4_MAX
from stockline.recalls import notices, service
from stockline.recalls.schemas import MyRecall, MyRecalls

router = APIRouter(prefix="/api", tags=["recalls"])

RecallId = Annotated[int, Path(ge=1, le=INT4_MAX)]
_NOT_YOURS = {404: {"description": "no such recall concerning your orders"}}


@router.get("/my-recalls", response_model=MyRecalls,
            summary="Recalls of batches your orders were filled from: what to send back")
async def my_recalls(ctx: Ctx, user: CustomerUser) -> Any:
    return await service.my_recalls(ctx, user.customer_id)


@router.get("/my-recalls/{recall_id}", response_model=MyRecall, summary="One recall concerning your orders",
            responses=_NOT_YOURS)
async def my_recall(recall_id: RecallId, ctx: Ctx, user: CustomerUser) -> Any:
    return await service.my_recall(ctx, user.customer_id, recall_id)


@router.get("/my-recalls/{recall_id}/notice", response_class=Response, summary="Your recall notice as a PDF",
            responses=_NOT_YOURS | {200: {"content": {"application/pdf": {}}, "description": "the notice"}})
async def my_notice(recall_id: RecallId, ctx: Ctx, user: CustomerUser) -> Response:
    return pdf_response(await notices.notice_pdf(ctx, recall_id, user.customer_id))
