"""Returns and credit notes, for customers and staff (no SQL here)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from stockline.auth.dependencies import CustomerUser, StaffUser
from stockline.billing.pdf import pdf_file
from stockline.billing.returns import credit_notes, service
from stockline.billing.returns.schemas import (
    CreditNote,
    CreditNotePage,
    ExportFormat,
    Return,
    ReturnApproval,
    ReturnPage,
    ReturnRejection,
    ReturnRequest,
    ReturnStatus,
)
from stockline.billing.routes import pdf_response
from stockline.kernel.context import Ctx
from stockline.kernel.export import attachment
from stockline.kernel.inputs import INT4_MAX, INT8_MAX
from stockline.pagination import Paging

router = APIRouter(prefix="/api", tags=["returns"])

OrderId = Annotated[int, Path(ge=1, le=INT8_MAX)]
ReturnId = Annotated[int, Path(ge=1, le=INT8_MAX)]
CreditNoteId = Annotated[int, Path(ge=1, le=INT8_MAX)]
CustomerFilter = Annotated[int | None, Query(ge=1, le=INT4_MAX)]
OrderFilter = Annotated[int | None, Query(ge=1, le=INT8_MAX)]
_NO_RETURN = {404: {"description": "no such return (of yours)"}}
_NO_NOTE = {404: {"description": "no such credit note (of yours)"}}
_PDF = {200: {"content": {"application/pdf": {}}, "description": "the credit note as a PDF"}}
_DECIDED = {409: {"description": "the return is no longer requested (code return_already_decided)"}}


async def _pdf(document: dict[str, Any]) -> Response:
    return pdf_response(await pdf_file(document))


# --- the customer's ------------------------------------------------------------------------

@router.post("/my-orders/{order_id}/returns", status_code=201,
             summary="Ask to return delivered units of your order",
             responses={404: {"description": "no such order of yours"}, 409: {"description": (
                 "the order is not delivered (order_not_delivered) or has no invoice "
                 "(order_not_invoiced), or more units are asked back than were delivered and not yet "
                 "returned (return_exceeds_delivered, each such line with delivered, already_returned, "
                 "requested)")}, 422: {"description": (
                 "a line names an item of another order (unknown_order_item), the same item twice, or a "
                 "quantity below 1")}})
async def request_return(order_id: OrderId, body: ReturnRequest, ctx: Ctx, user: CustomerUser) -> Return:
    return await service.request_return(ctx, user, order_id, body.lines, body.note)


@router.get("/my-returns", summary="Your returns, newest first")
async def my_returns(ctx: Ctx, user: CustomerUser, paging: Paging, status: ReturnStatus | None = None,
                     order_id: OrderFilter = None) -> ReturnPage:
    return await service.list_returns(ctx, paging, customer_id=user.customer_id, status=status,
                                      order_id=order_id)


@router.get("/my-returns/{return_id}", summary="One of your returns", responses=_NO_RETURN)
async def my_return(return_id: ReturnId, ctx: Ctx, user: CustomerUser) -> Return:
    return await service.get_return(ctx, return_id, customer_id=user.customer_id)


@router.get("/my-credit-notes", summary="Your credit notes, newest first")
async def my_credit_notes(ctx: Ctx, user: CustomerUser, paging: Paging) -> CreditNotePage:
    return await credit_notes.list_credit_notes(ctx, paging, customer_id=user.customer_id)


@router.get("/my-credit-notes/{credit_note_id}", summary="One of your credit notes", responses=_NO_NOTE)
async def my_credit_note(credit_note_id: CreditNoteId, ctx: Ctx, user: CustomerUser) -> CreditNote:
    return await credit_notes.get_credit_note(ctx, credit_note_id, customer_id=user.customer_id)


@router.get("/my-credit-notes/{credit_note_id}/pdf", summary="One of your credit notes as a PDF",
            response_class=Response, responses=_NO_NOTE | _PDF)
async def my_credit_note_pdf(credit_note_id: CreditNoteId, ctx: Ctx, user: CustomerUser) -> Response:
    return await _pdf(await credit_notes.get_credit_note(ctx, credit_note_id, customer_id=user.customer_id))


# --- staff ---------------------------------------------------------------------------------

@router.get("/admin/returns", summary="Returns of every customer: requested first, then newest first")
async def list_returns(ctx: Ctx, user: StaffUser, paging: Paging, status: ReturnStatus | None = None,
                       customer_id: CustomerFilter = None, order_id: OrderFilter = None) -> ReturnPage:
    return await service.list_returns(ctx, paging, customer_id=customer_id, status=status, order_id=order_id)


@router.get("/admin/returns/{return_id}", summary="One return", responses={404: {"description": "not found"}})
async def get_return(return_id: ReturnId, ctx: Ctx, user: StaffUser) -> Return:
    return await service.get_return(ctx, return_id, customer_id=None)


@router.post("/admin/returns/{return_id}/approve",
             summary="Approve: each line restocked into its batch or written off; the credit note is issued",
             responses={404: {"description": "not found"}, **_DECIDED,
                        422: {"description": "not exactly one disposition per line of the return "
                                             "(dispositions_mismatch, with missing and unknown)"}})
async def approve_return(return_id: ReturnId, body: ReturnApproval, ctx: Ctx, user: StaffUser) -> Return:
    return await service.approve_return(ctx, user, return_id, body.lines, body.note)


@router.post("/admin/returns/{return_id}/reject",
             summary="Reject, saying why; the units may be asked for again",
             responses={404: {"description": "not found"}, **_DECIDED})
async def reject_return(return_id: ReturnId, body: ReturnRejection, ctx: Ctx, user: StaffUser) -> Return:
    return await service.reject_return(ctx, user, return_id, body.note)


@router.get("/admin/credit-notes", response_model=CreditNotePage, summary="Credit notes, newest first",
            responses={200: {"content": {"text/csv": {}},
                             "description": "the page as JSON, or every row as CSV"}})
async def list_credit_notes(
    ctx: Ctx, user: StaffUser, paging: Paging, customer_id: CustomerFilter = None,
    date_from: Annotated[date | None, Query(description="first issue day, inclusive")] = None,
    date_to: Annotated[date | None, Query(description="last issue day, inclusive")] = None,
    export: Annotated[ExportFormat, Query(alias="format", description=(
        "csv: every row (not one page) as text/csv, for download"))] = ExportFormat.json,
) -> Any:
    if export is ExportFormat.csv:
        text = await credit_notes.credit_notes_csv(ctx, customer_id=customer_id, date_from=date_from,
                                                   date_to=date_to)
        return Response(text, media_type="text/csv",
                        headers=attachment(credit_notes.csv_filename(date_from, date_to)))
    return await credit_notes.list_credit_notes(ctx, paging, customer_id=customer_id, date_from=date_from,
                                                date_to=date_to)


@router.get("/admin/credit-notes/{credit_note_id}", summary="One credit note",
            responses={404: {"description": "not found"}})
async def get_credit_note(credit_note_id: CreditNoteId, ctx: Ctx, user: StaffUser) -> CreditNote:
    return await credit_notes.get_credit_note(ctx, credit_note_id, customer_id=None)


@router.get("/admin/credit-notes/{credit_note_id}/pdf", summary="One credit note as a PDF",
            response_class=Response, responses={404: {"description": "not found"}} | _PDF)
async def get_credit_note_pdf(credit_note_id: CreditNoteId, ctx: Ctx, user: StaffUser) -> Response:
    return await _pdf(await credit_notes.get_credit_note(ctx, credit_note_id, customer_id=None))
