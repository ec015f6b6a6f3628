"""A batch's traceability page for staff (as GET /api/admin/inventory/batches/{id}/trace):
backward to its receipts, purchase orders and supplier, forward through its ledger a page at
a time to the orders and customers its units went to, per-customer units, its status
history and recalls; the whole ledger downloads as CSV from the API route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from stockline.inventory.trace import service as trace
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import INT4_MAX, read_int
from stockline.pagination import PageRequest
from stockline.web.forms import MAX_PAGE
from stockline.web.render import render
from stockline.web.session import StaffPage

router = APIRouter(include_in_schema=False)
BatchId = Annotated[int, Path(ge=1, le=INT4_MAX)]
LEDGER_PAGE_SIZE = 50


@router.get("/staff/batches/{batch_id}/trace")
async def trace_page(batch_id: BatchId, request: Request, ctx: Ctx, user: StaffPage) -> HTMLResponse:
    page = read_int(request.query_params.get("page", ""), minimum=1, maximum=MAX_PAGE) or 1
    data = await trace.trace(ctx, batch_id, PageRequest(page, LEDGER_PAGE_SIZE))
    return render(request, "staff/trace.html", {"section": "inventory", "trace": data,
                                                "batch": data["batch"]})
