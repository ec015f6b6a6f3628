"""The customer's returns and credit notes: the "Return items" form of a delivered order (per
item, the units that may still be sent back, with a reason), their returns and one return,
their credit notes, one credit note and its printable page. Requests go through
billing.returns.service (as POST /api/my-orders/{id}/returns), which refuses what the API
refuses; the PDF is the API's (/api/my-credit-notes/{id}/pdf, which the session cookie
opens). Another customer's order, return or credit note is the not-found page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from stockline.billing.returns import credit_notes, service
from stockline.billing.returns.schemas import ReturnRequest
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.kernel.context import Context, Ctx
from stockline.kernel.identity import CurrentUser
from stockline.kernel.inputs import INT8_MAX
from stockline.pagination import PageRequest
from stockline.web.customer.forms import read_id, read_quantity, whole_number
from stockline.web.forms import REFUSED
from stockline.web.render import form_text, redirect, render
from stockline.web.session import CsrfChecked, CustomerPage

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
RECENT_CREDIT_NOTES = 5
MAX_NOTE_LENGTH = 2000
# what a pharmacy sends goods back for; the reason travels as these words
REASONS = ("Damaged in transit", "Wrong item delivered", "Expiry too short", "Product recalled",
           "Ordered by mistake", "Other (see the note)")


def _number(text: str, what: str) -> int:
    """The id of a page's path; not-found when it cannot be one."""
    number = read_id(text, maximum=INT8_MAX)
    if number is None:
        raise NotFound(f"No {what} {text}")
    return number


# --- the "Return items" form ---------------------------------------------------------------

def _quantity_field(item: dict[str, Any]) -> str:
    return f"quantity-{item['order_item_id']}"


def _reason_field(item: dict[str, Any]) -> str:
    return f"reason-{item['order_item_id']}"


def _read_lines(form: Any, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The lines the form asks back (a blank or 0 quantity: not this item), and a sentence per
    field that needs correcting."""
    lines, problems = [], {}
    for item in items:
        typed = form_text(form, _quantity_field(item))
        if typed in ("", "0"):
            continue
        name = f"{item['product_name']} (batch {item['batch_no']})"
        try:
            quantity = read_quantity(typed)
        except ValidationFailed as exc:
            problems[_quantity_field(item)] = f"{name}: {exc.message}"
            continue
        if quantity > item["returnable"]:
            problems[_quantity_field(item)] = (f"{name}: at most {item['returnable']:,} can still be "
                                               f"returned (you asked for {quantity:,})")
        reason = form_text(form, _reason_field(item))
        if reason not in REASONS:
            problems[_reason_field(item)] = f"{name}: choose why you are returning it"
        lines.append({"order_item_id": item["order_item_id"], "quantity": quantity, "reason": reason})
    if not lines and not problems:
        problems[""] = "Enter how many units you are returning on at least one line"
    return lines, problems


def _form(request: Request, order_id: int, items: list[dict[str, Any]], *,
          values: dict[str, str] | None = None, problems: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    problems = problems or {}
    return render(request, "customer/return_form.html", {
        "section": "orders", "order_id": order_id, "items": items, "reasons": REASONS,
        "values": values or {}, "problems": problems, "max_note": MAX_NOTE_LENGTH,
        "error": "Please correct: " + "; ".join(problems.values()) if problems else None,
        "quantity_field": _quantity_field, "reason_field": _reason_field,
        "returnable": sum(item["returnable"] for item in items),
    }, status_code=status_code)


async def _items_or_redirect(ctx: Context, user: CurrentUser, request: Request,
                             order_id: int) -> list[dict[str, Any]] | Response:
    """What may be returned of the order, or the order's page saying why nothing may."""
    try:
        return await service.returnable_items(ctx, order_id, customer_id=user.customer_id)
    except Conflict as exc:
        return redirect(request, f"/orders/{order_id}", error=exc.message)


@router.get("/orders/{order_id}/return")
async def return_form(request: Request, ctx: Ctx, order_id: str, user: CustomerPage) -> Response:
    number = _number(order_id, "order")
    items = await _items_or_redirect(ctx, user, request, number)
    if isinstance(items, Response):
        return items
    return _form(request, number, items)


def _over_problems(exc: Conflict, items: list[dict[str, Any]]) -> dict[str, str]:
    """A 409 return_exceeds_delivered (someone else asked first) beside the lines it names."""
    by_id = {item["order_item_id"]: item for item in items}
    problems = {}
    for line in (exc.details or {}).get("lines", []):
        item = by_id.get(line["order_item_id"])
        if item is not None:
            left = line["delivered"] - line["already_returned"]
            problems[_quantity_field(item)] = (f"{item['product_name']} (batch {item['batch_no']}): only "
                                               f"{left:,} can still be returned now")
    return problems or {"": exc.message}


@router.post("/orders/{order_id}/return", dependencies=[CsrfChecked])
async def request_return(request: Request, ctx: Ctx, order_id: str, user: CustomerPage) -> Response:
    number = _number(order_id, "order")
    items = await _items_or_redirect(ctx, user, request, number)
    if isinstance(items, Response):
        return items
    form = await request.form()
    values = {key: form_text(form, key) for key in form if key != "csrf_token"}
    lines, problems = _read_lines(form, items)
    note = form_text(form, "note") or None
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        problems["note"] = f"The note is too long (at most {MAX_NOTE_LENGTH:,} characters)"
    if problems:
        return _form(request, number, items, values=values, problems=problems, status_code=422)
    try:
        body = ReturnRequest.model_validate({"lines": lines, "note": note})
        created = await service.request_return(ctx, user, number, body.lines, body.note)
    except ValidationError:
        return _form(request, number, items, values=values, status_code=422,
                     problems={"": "Some of what you typed could not be read; please check the lines"})
    except Conflict as exc:
        fresh = await _items_or_redirect(ctx, user, request, number)
        if isinstance(fresh, Response):
            return fresh
        return _form(request, number, fresh, values=values, problems=_over_problems(exc, fresh),
                     status_code=409)
    except REFUSED as exc:
        return _form(request, number, items, values=values, problems={"": exc.message},
                     status_code=exc.status)
    units = created["total_units"]
    return redirect(request, f"/returns/{created['return_id']}",
                    notice=f"Return #{created['return_id']} of {units:,} unit{'s' if units != 1 else ''} is "
                           "requested. We will check it and credit your invoice once it is approved.")


# --- returns and credit notes --------------------------------------------------------------

@router.get("/returns")
async def returns_page(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    query = request.query_params
    status = query.get("status") or None
    if status not in (None, *service.STATUSES):
        status = None
    order_id = read_id(query.get("order_id") or "", maximum=INT8_MAX)
    paging = PageRequest(whole_number(query.get("page"), 1, maximum=100_000), PAGE_SIZE)
    page = await service.list_returns(ctx, paging, customer_id=user.customer_id, status=status,
                                      order_id=order_id)
    notes = await credit_notes.list_credit_notes(ctx, PageRequest(1, RECENT_CREDIT_NOTES),
                                                 customer_id=user.customer_id)
    return render(request, "customer/returns.html", {
        "section": "returns", "returns": page, "status": status, "statuses": service.STATUSES,
        "order_id": order_id, "credit_notes": notes})


@router.get("/returns/{return_id}")
async def return_page(request: Request, ctx: Ctx, return_id: str, user: CustomerPage) -> Response:
    found = await service.get_return(ctx, _number(return_id, "return"), customer_id=user.customer_id)
    return render(request, "customer/return.html", {"section": "returns", "ret": found})


@router.get("/credit-notes")
async def credit_notes_page(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    paging = PageRequest(whole_number(request.query_params.get("page"), 1, maximum=100_000), PAGE_SIZE)
    notes = await credit_notes.list_credit_notes(ctx, paging, customer_id=user.customer_id)
    return render(request, "customer/credit_notes.html", {"section": "returns", "credit_notes": notes})


@router.get("/credit-notes/{credit_note_id}")
async def credit_note_page(request: Request, ctx: Ctx, credit_note_id: str, user: CustomerPage) -> Response:
    note = await credit_notes.get_credit_note(ctx, _number(credit_note_id, "credit note"),
                                              customer_id=user.customer_id)
    return render(request, "customer/credit_note.html", {"section": "returns", "note": note})


@router.get("/credit-notes/{credit_note_id}/print")
async def credit_note_print(request: Request, ctx: Ctx, credit_note_id: str, user: CustomerPage) -> Response:
    number = _number(credit_note_id, "credit note")
    note = await credit_notes.get_credit_note(ctx, number, customer_id=user.customer_id)
    return render(request, "billing/document.html", {
        "section": "returns", "document": note, "back_url": f"/credit-notes/{number}",
        "back_label": f"Back to credit note {note['number']}",
        "pdf_url": f"/api/my-credit-notes/{number}/pdf"})

