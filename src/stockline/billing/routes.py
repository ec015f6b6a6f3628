"""The customer's invoices and their PDFs (no SQL here). A customer's user reaches only their
own customer's invoices: another's is 404, as if it did not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from stockline.auth.dependencies import CustomerUser
from stockline.billing import invoices
from stockline.billing.pdf import Pdf
from stockline.billing.schemas import Invoice, InvoicePage, InvoiceStatus
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import INT8_MAX
from stockline.pagination import Paging

router = APIRouter(prefix="/api", tags=["invoices"])
InvoiceId = Annotated[int, Path(ge=1, le=INT8_MAX)]
PDF = {200: {"content": {"application/pdf": {}}, "description": "the invoice as an A4 PDF"},
       404: {"description": "no such invoice of yours"}}


def pdf_response(pdf: Pdf) -> Response:
    """A PDF the browser shows (inline), saved under the document's number."""
    return Response(pdf.content, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{pdf.filename}"', "Cache-Control": "private, no-store"})


@router.get("/my-invoices", summary="Your customer's invoices, newest first, with balance and status")
async def my_invoices(ctx: Ctx, user: CustomerUser, paging: Paging,
                      status: Annotated[InvoiceStatus | None, Query()] = None) -> InvoicePage:
    return await invoices.customer_invoices(ctx, user.customer_id, paging, status)


@router.get("/my-invoices/{invoice_id}",
            summary="One of your invoices: lines with batch and expiry, tax per rate, payments, balance",
            responses={404: {"description": "no such invoice of yours"}})
async def my_invoice(invoice_id: InvoiceId, ctx: Ctx, user: CustomerUser) -> Invoice:
    return await invoices.get_invoice(ctx, invoice_id, customer_id=user.customer_id)


@router.get("/my-invoices/{invoice_id}/pdf", summary="One of your invoices as a PDF",
            response_class=Response, responses=PDF)
async def my_invoice_pdf(invoice_id: InvoiceId, ctx: Ctx, user: CustomerUser) -> Response:
    return pdf_response(await invoices.invoice_pdf(ctx, invoice_id, customer_id=user.customer_id))
