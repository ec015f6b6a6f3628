"""Return and credit-note pages for staff (as /api/admin/returns and /api/admin/credit-notes):
the returns, requested ones first, with filters; one return with a disposition to choose per
line and the approve and reject forms; the credit notes with filters and a CSV download, one
credit note and its printable page. The forms are checked by the API's own models
(billing.returns.schemas) and decided by billing.returns.service, which refuses what the API
refuses; a refusal is shown on the page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from stockline.billing.returns import credit_notes, service
from stockline.billing.returns.schemas import ReturnApproval, ReturnRejection, ReturnStatus
from stockline.errors import DomainError, ValidationFailed
from stockline.kernel.context import Context, Ctx
from stockline.kernel.expiry import business_day
from stockline.kernel.inputs import INT4_MAX, INT8_MAX
from stockline.web.forms import REFUSED, paging, texts, validated
from stockline.web.render import form_text, money, redirect, render
from stockline.web.session import CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
ReturnId = Annotated[int, Path(ge=1, le=INT8_MAX)]
CreditNoteId = Annotated[int, Path(ge=1, le=INT8_MAX)]
DISPOSITIONS = {"restock": "Restock into its batch", "write_off": "Write off (destroy)"}


class ReturnFilters(BaseModel):
    """The filters of GET /api/admin/returns."""
    model_config = ConfigDict(extra="ignore")
    status: ReturnStatus | None = None
    customer_id: int | None = Field(default=None, ge=1, le=INT4_MAX)
    order_id: int | None = Field(default=None, ge=1, le=INT8_MAX)


class CreditNoteFilters(BaseModel):
    """The filters of GET /api/admin/credit-notes."""
    model_config = ConfigDict(extra="ignore")
    customer_id: int | None = Field(default=None, ge=1, le=INT4_MAX)
    date_from: date | None = None
    date_to: date | None = None


RETURN_LABELS = {"status": "Status", "customer_id": "Customer number", "order_id": "Order number"}
NOTE_LABELS = {"customer_id": "Customer number", "date_from": "From", "date_to": "To"}


# --- returns -------------------------------------------------------------------------------

@router.get("/staff/returns")
async def return_list(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    query = request.query_params
    raw = texts(query, tuple(RETURN_LABELS))
    context: dict[str, Any] = {"section": "returns", "filters": raw, "statuses": service.STATUSES,
                               "result": None, "error": None}
    status_code = 200
    try:
        chosen = validated(ReturnFilters, raw, RETURN_LABELS)
        context["result"] = await service.list_returns(ctx, paging(query.get("page")), **chosen.model_dump())
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    context["filtered"] = any(raw.values())
    return render(request, "staff/returns.html", context, status_code=status_code)


def _disposition_field(line: dict[str, Any]) -> str:
    return f"disposition-{line['order_item_id']}"


async def _detail(request: Request, ctx: Context, return_id: int, *, error: DomainError | None = None,
                  values: dict[str, str] | None = None) -> Response:
    ret = await service.get_return(ctx, return_id, customer_id=None)
    today = business_day().isoformat()
    return render(request, "staff/return_detail.html", {
        "section": "returns", "ret": ret, "dispositions": DISPOSITIONS, "values": values or {},
        "disposition_field": _disposition_field, "error": error.message if error else None,
        # restocking units of a batch already expired puts them where they cannot be sold
        "expired": {line["order_item_id"] for line in ret["lines"] if line["expiry_date"] <= today},
    }, status_code=error.status if error else 200)


@router.get("/staff/returns/{return_id}")
async def return_detail(request: Request, ctx: Ctx, return_id: ReturnId, user: StaffPage) -> Response:
    return await _detail(request, ctx, return_id)


@router.post("/staff/returns/{return_id}/approve", dependencies=[CsrfChecked])
async def approve(request: Request, ctx: Ctx, return_id: ReturnId, user: StaffPage) -> Response:
    form = await request.form()
    values = {key: form_text(form, key) for key in form if key != "csrf_token"}
    ret = await service.get_return(ctx, return_id, customer_id=None)
    lines = [{"order_item_id": line["order_item_id"], "disposition": values.get(_disposition_field(line), "")}
             for line in ret["lines"]]
    try:
        undecided = [line["product_name"] + " (batch " + line["batch_no"] + ")"
                     for line, chosen in zip(ret["lines"], lines, strict=True)
                     if chosen["disposition"] not in DISPOSITIONS]
        if undecided:
            raise ValidationFailed("Choose restock or write off for every line: " + ", ".join(undecided),
                                   code="dispositions_mismatch")
        body = validated(ReturnApproval, {"lines": lines, "note": values.get("note") or None},
                         {"note": "The note"})
        approved = await service.approve_return(ctx, user, return_id, body.lines, body.note)
    except REFUSED as exc:
        return await _detail(request, ctx, return_id, error=exc, values=values)
    note = approved["credit_note"]
    return redirect(request, f"/staff/returns/{return_id}",
                    notice=f"Return #{return_id} is approved: credit note {note['credit_note_no']} credits "
                           f"{money(note['gross_amount'])} to invoice {approved['invoice_no']}.")


@router.post("/staff/returns/{return_id}/reject", dependencies=[CsrfChecked])
async def reject(request: Request, ctx: Ctx, return_id: ReturnId, user: StaffPage) -> Response:
    reason = texts(await request.form(), ("reason",))["reason"] or ""
    try:
        body = validated(ReturnRejection, {"note": reason}, {"note": "The reason for the customer"})
        await service.reject_return(ctx, user, return_id, body.note)
    except REFUSED as exc:
        return await _detail(request, ctx, return_id, error=exc, values={"reason": reason})
    return redirect(request, f"/staff/returns/{return_id}",
                    notice=f"Return #{return_id} is rejected; its units may be asked for again.")


# --- credit notes --------------------------------------------------------------------------

@router.get("/staff/credit-notes")
async def credit_note_list(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    query = request.query_params
    raw = texts(query, tuple(NOTE_LABELS))
    context: dict[str, Any] = {"section": "returns", "filters": raw, "result": None, "error": None,
                               "csv_url": None}
    status_code = 200
    try:
        chosen = validated(CreditNoteFilters, raw, NOTE_LABELS)
        context["result"] = await credit_notes.list_credit_notes(ctx, paging(query.get("page")),
                                                                 **chosen.model_dump())
        given = {name: value for name, value in raw.items() if value is not None}
        context["csv_url"] = "/api/admin/credit-notes?" + urlencode(given | {"format": "csv"})
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    context["filtered"] = any(raw.values())
    return render(request, "staff/credit_notes.html", context, status_code=status_code)


@router.get("/staff/credit-notes/{credit_note_id}")
async def credit_note_detail(request: Request, ctx: Ctx, credit_note_id: CreditNoteId,
                             user: StaffPage) -> Response:
    note = await credit_notes.get_credit_note(ctx, credit_note_id, customer_id=None)
    return render(request, "staff/credit_note.html", {"section": "returns", "note": note})


@router.get("/staff/credit-notes/{credit_note_id}/print")
async def credit_note_print(request: Request, ctx: Ctx, credit_note_id: CreditNoteId,
                            user: StaffPage) -> Response:
    note = await credit_notes.get_credit_note(ctx, credit_note_id, customer_id=None)
    return render(request, "billing/document.html", {
        "section": "returns", "document": note, "back_url": f"/staff/credit-notes/{credit_note_id}",
        "back_label": f"Back to credit note {note['number']}",
        "pdf_url": f"/api/admin/credit-notes/{credit_note_id}/pdf"})
