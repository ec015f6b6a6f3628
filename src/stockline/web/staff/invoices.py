"""Invoice pages for staff (as /api/admin/invoices): every customer's invoices with filters
and a CSV download, one invoice with its payments (and who recorded them) and credit notes,
the "Record a payment" form, and the printable page. The form is checked by the API's own
model (billing.schemas.PaymentCreate) and written by billing.payments, which refuses what
the API refuses; a refusal is shown on the page beside the field it is about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from stockline.billing import invoices, payments
from stockline.billing.schemas import INVOICE_STATUSES, InvoiceStatus, PaymentCreate
from stockline.errors import DomainError
from stockline.kernel.context import Context, Ctx
from stockline.kernel.expiry import business_day
from stockline.kernel.inputs import INT4_MAX, INT8_MAX
from stockline.web.forms import REFUSED, field_errors, paging, texts, validated
from stockline.web.render import money, redirect, render
from stockline.web.session import CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
InvoiceId = Annotated[int, Path(ge=1, le=INT8_MAX)]


class InvoiceFilters(BaseModel):
    """The filters of GET /api/admin/invoices."""
    model_config = ConfigDict(extra="ignore")
    status: InvoiceStatus | None = None
    customer_id: int | None = Field(default=None, ge=1, le=INT4_MAX)
    date_from: date | None = None
    date_to: date | None = None
    search: str | None = Field(default=None, max_length=invoices.MAX_SEARCH_LENGTH)


FILTER_LABELS = {"status": "Status", "customer_id": "Customer number", "date_from": "From", "date_to": "To",
                 "search": "Invoice number"}
PAYMENT_LABELS = {"amount": "Amount", "paid_on": "Payment date", "reference": "Bank reference"}


@router.get("/staff/invoices")
async def invoice_list(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    query = request.query_params
    raw = texts(query, tuple(FILTER_LABELS))
    context: dict[str, Any] = {"section": "invoices", "filters": raw, "statuses": INVOICE_STATUSES,
                               "result": None, "error": None, "csv_url": None}
    status_code = 200
    try:
        chosen = validated(InvoiceFilters, raw, FILTER_LABELS)
        filters = invoices.InvoiceFilters(**chosen.model_dump())
        context["result"] = await invoices.list_invoices(ctx, filters, paging(query.get("page")))
        given = {name: value for name, value in raw.items() if value is not None}
        context["csv_url"] = "/api/admin/invoices?" + urlencode(given | {"format": "csv"})
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    context["filtered"] = any(raw.values())
    return render(request, "staff/invoices.html", context, status_code=status_code)


async def _detail(request: Request, ctx: Context, invoice_id: int, *, error: DomainError | None = None,
                  values: dict[str, Any] | None = None) -> Response:
    invoice = await invoices.get_invoice(ctx, invoice_id, customer_id=None, staff=True)
    today = business_day()
    return render(request, "staff/invoice_detail.html", {
        "section": "invoices", "invoice": invoice, "today": today.isoformat(),
        "values": values or {"paid_on": today.isoformat()},
        "error": error.message if error else None, "problems": field_errors(error) if error else {},
    }, status_code=error.status if error else 200)


@router.get("/staff/invoices/{invoice_id}")
async def invoice_detail(request: Request, ctx: Ctx, invoice_id: InvoiceId, user: StaffPage) -> Response:
    return await _detail(request, ctx, invoice_id)


def _paid_notice(amount: Decimal, reference: str, invoice: dict[str, Any]) -> str:
    said = f"Payment of {money(amount)} ({reference}) recorded on {invoice['invoice_no']}."
    balance = Decimal(invoice["balance"])
    if balance > 0:
        return f"{said} {money(balance)} is still to pay."
    if balance < 0:
        return f"{said} It is overpaid by {money(-balance)}: that is the customer's credit."
    return f"{said} It is paid in full."


@router.post("/staff/invoices/{invoice_id}/payments", dependencies=[CsrfChecked])
async def record_payment(request: Request, ctx: Ctx, invoice_id: InvoiceId, user: StaffPage) -> Response:
    values = texts(await request.form(), tuple(PAYMENT_LABELS))
    try:
        given = {name: value for name, value in values.items() if value is not None}
        payment = validated(PaymentCreate, given, PAYMENT_LABELS)
        invoice = await payments.record_payment(ctx, user, invoice_id, payment)
    except REFUSED as exc:
        return await _detail(request, ctx, invoice_id, error=exc, values=values)
    return redirect(request, f"/staff/invoices/{invoice_id}",
                    notice=_paid_notice(payment.amount, payment.reference, invoice))


@router.get("/staff/invoices/{invoice_id}/print")
async def invoice_print(request: Request, ctx: Ctx, invoice_id: InvoiceId, user: StaffPage) -> Response:
    document = await invoices.invoice_document(ctx, invoice_id, customer_id=None)
    return render(request, "billing/document.html", {
        "section": "invoices", "document": document, "back_url": f"/staff/invoices/{invoice_id}",
        "back_label": f"Back to invoice {document['number']}",
        "pdf_url": f"/api/admin/invoices/{invoice_id}/pdf"})
