"""The customer's invoices (as GET /api/my-invoices): the list with its status filter, one
invoice with its lines, tax, payments and credit notes, and its printable page. The PDF is
the API's (/api/my-invoices/{id}/pdf, which the session cookie opens). Another customer's
invoice is the not-found page, as if it did not exist."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.billing import invoices
from stockline.billing.schemas import INVOICE_STATUSES
from stockline.errors import NotFound
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import INT8_MAX
from stockline.pagination import PageRequest
from stockline.web.customer.forms import read_id, whole_number
from stockline.web.render import render
from stockline.web.session import CustomerPage

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


def invoice_number(text: str) -> int:
    """The invoice id of a page's path; not-found when it cannot be one."""
    number = read_id(text, maximum=INT8_MAX)
    if number is None:
        raise NotFound(f"No invoice {text}")
    return number


@router.get("/invoices")
async def invoices_page(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    status = request.query_params.get("status") or None
    if status not in (None, *INVOICE_STATUSES):
        status = None
    paging = PageRequest(whole_number(request.query_params.get("page"), 1, maximum=100_000), PAGE_SIZE)
    page = await invoices.customer_invoices(ctx, user.customer_id, paging, status)
    return render(request, "customer/invoices.html", {
        "section": "invoices", "invoices": page, "status": status, "statuses": INVOICE_STATUSES})


@router.get("/invoices/{invoice_id}")
async def invoice_page(request: Request, ctx: Ctx, invoice_id: str, user: CustomerPage) -> Response:
    invoice = await invoices.get_invoice(ctx, invoice_number(invoice_id), customer_id=user.customer_id)
    return render(request, "customer/invoice.html", {"section": "invoices", "invoice": invoice})


@router.get("/invoices/{invoice_id}/print")
async def invoice_print(request: Request, ctx: Ctx, invoice_id: str, user: CustomerPage) -> Response:
    number = invoice_number(invoice_id)
    document = await invoices.invoice_document(ctx, number, customer_id=user.customer_id)
    return render(request, "billing/document.html", {
        "section": "invoices", "document": document, "back_url": f"/invoices/{number}",
        "back_label": f"Back to invoice {document['number']}", "pdf_url": f"/api/my-invoices/{number}/pdf"})
