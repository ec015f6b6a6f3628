"""A batch's traceability, from the ledger (/api/admin/inventory/batches/{id}/trace); no SQL here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from stockline.auth.dependencies import StaffUser
from stockline.inventory.trace import service
from stockline.inventory.trace.schemas import TraceFormat
from stockline.kernel.context import Ctx
from stockline.kernel.export import attachment
from stockline.pagination import Paging

router = APIRouter(prefix="/api/admin", tags=["inventory"])
BatchId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get(
    "/inventory/batches/{batch_id}/trace",
    summary="Where a batch came from (receipts, purchase orders, suppliers) and where its units went "
            "(every movement, orders, customers), from the ledger",
    responses={404: {"description": "no such batch"},
               200: {"content": {"text/csv": {}},
                     "description": "the trace with a page of the ledger, or every movement as CSV"}},
)
async def batch_trace(
    batch_id: BatchId, ctx: Ctx, user: StaffUser, paging: Paging,
    export: Annotated[TraceFormat, Query(alias="format", description=(
        "csv: every movement of the batch (not one page) as text/csv, for download"))] = TraceFormat.json,
) -> Any:
    if export is TraceFormat.csv:
        text = await service.movements_csv(ctx, batch_id)
        return Response(text, media_type="text/csv", headers=attachment(service.csv_filename(batch_id)))
    return await service.trace(ctx, batch_id, paging)
