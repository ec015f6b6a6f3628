"""Invoices and payments for staff (no SQL here): every customer's invoices with filters and
a CSV export, one invoice with its payments and credit notes, its PDF, and recording a
payment."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from stockline.auth.dependencies import StaffUser
from stockline.billing import invoices, payments
from stockline.billing.routes import PDF, pdf_response
from stockline.billing.schemas import InvoiceStatus, PaymentCreate, StaffInvoice, StaffInvoicePage
from stockline.kernel.context import Ctx
from stockline.kernel.export import attachment
from stockline.kernel.inputs import INT4_MAX, INT8_MAX
from stockline.pagination import Paging

router = APIRouter(prefix="/api/admin", tags=["invoices"])
InvoiceId = Annotated[int, Path(ge=1, le=INT8_MAX)]
_CSV = {200: {"content": {"text/csv": {}}, "description": "a page as JSON, or with format=csv every "
                                                          "matching invoice as text/csv"},
        422: {"description": "a filter is not valid"}}


@router.get("/invoices", response_model=StaffInvoicePage, responses=_CSV,
            summary="Every customer's invoices, newest first: by status, customer, issue days, number")
async def list_invoices(
    ctx: Ctx, user: StaffUser, paging: Paging,
    status: Annotated[InvoiceStatus | None, Query()] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=INT4_MAX)] = None,
    date_from: Annotated[date | None, Query(description="first issue day, inclusive")] = None,
    date_to: Annotated[date | None, Query(description="last issue day, inclusive")] = None,
    search: Annotated[str | None, Query(max_length=invoices.MAX_SEARCH_LENGTH,
                                        description="part of the invoice number (INV-2026-0001)")] = None,
    export: Annotated[str, Query(alias="format", pattern="^(json|csv)$",
                                 description="csv: every matching invoice (not one page)")] = "json",
) -> Any:
    filters = invoices.InvoiceFilters(status=status, customer_id=customer_id, date_from=date_from,
                                      date_to=date_to, search=search)
    if export == "csv":
        return Response(await invoices.invoices_csv(ctx, filters), media_type="text/csv",
                        headers=attachment(invoices.csv_filename()))
    return await invoices.list_invoices(ctx, filters, paging)


@router.get("/invoices/{invoice_id}", summary="One invoice: lines, tax per rate, payments with who "
                                              "recorded them, credit notes, balance and status",
            responses={404: {"description": "not found"}})
async def get_invoice(invoice_id: InvoiceId, ctx: Ctx, user: StaffUser) -> StaffInvoice:
    return await invoices.get_invoice(ctx, invoice_id, customer_id=None, staff=True)


@router.get("/invoices/{invoice_id}/pdf", summary="One invoice as a PDF", response_class=Response,
            responses=PDF | {404: {"description": "not found"}})
async def invoice_pdf(invoice_id: InvoiceId, ctx: Ctx, user: StaffUser) -> Response:
    return pdf_response(await invoices.invoice_pdf(ctx, invoice_id, customer_id=None))


@router.post("/invoices/{invoice_id}/payments", status_code=201,
             summary="Record a payment: partial, exact or more (an over-payment is the customer's credit)",
             responses={404: {"description": "not found"},
                        409: {"description": "this bank reference is already recorded on the invoice "
                                             "(duplicate_payment, naming the first)"},
                        422: {"description": "amount not above 0 with at most two decimals, date in the "
                                             "future or before the invoice, or reference blank"}})
async def record_payment(invoice_id: InvoiceId, body: PaymentCreate, ctx: Ctx,
                         user: StaffUser) -> StaffInvoice:
    return await payments.record_payment(ctx, user, invoice_id, body)
