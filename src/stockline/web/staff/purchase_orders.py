"""Purchase-order pages for staff (as /api/admin/purchase-orders): the orders with a status
filter and the action drafting orders from the reorder suggestions; a new order (supplier and
lines); one order with its lines, the send, cancel and close buttons its status allows and
the receiving form (per line: batch number, expiry, quantity; accepting over-delivery). The
forms are checked by the API's own models (purchasing.schemas) and carried out by
purchasing's services, which refuse what the API refuses; a refusal is shown on the page."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from stockline.errors import DomainError, ValidationFailed
from stockline.kernel.context import Context, Ctx
from stockline.kernel.expiry import business_day, sellable_after
from stockline.kernel.inputs import INT4_MAX
from stockline.pagination import PageRequest
from stockline.purchasing import purchase_orders, receiving, suggestions, suppliers
from stockline.purchasing.schemas import (
    PoLineRequest,
    PoStatus,
    PurchaseOrderCreate,
    PurchaseOrderReceipt,
    ReceiptLine,
)
from stockline.web.forms import REFUSED, FormInvalid, field_errors, paging, texts, validated
from stockline.web.render import form_text, redirect, render
from stockline.web.session import CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
PoId = Annotated[int, Path(ge=1, le=INT4_MAX)]
STATUSES = get_args(PoStatus)
NEW_LINES = 8  # blank lines on the new-order form
MAX_SUPPLIERS = 200  # in the new-order form's choice


class OrderFilters(BaseModel):
    """The filters of GET /api/admin/purchase-orders."""
    model_config = ConfigDict(extra="ignore")
    status: PoStatus | None = None
    supplier_id: int | None = Field(default=None, ge=1, le=INT4_MAX)


FILTER_LABELS = {"status": "Status", "supplier_id": "Supplier number"}
ORDER_LABELS = {"supplier_id": "Supplier", "lines": "Lines", "note": "The note"}


# --- the list and drafting from suggestions -------------------------------------------------

@router.get("/staff/purchase-orders")
async def order_list(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    query = request.query_params
    raw = texts(query, tuple(FILTER_LABELS))
    context: dict[str, Any] = {"section": "purchasing", "filters": raw, "statuses": STATUSES, "result": None,
                               "error": None, "filtered": any(raw.values())}
    status_code = 200
    try:
        chosen = validated(OrderFilters, raw, FILTER_LABELS)
        context["result"] = await purchase_orders.list_orders(ctx, paging(query.get("page")),
                                                              **chosen.model_dump())
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    return render(request, "staff/purchase_orders.html", context, status_code=status_code)


@router.post("/staff/purchase-orders/from-suggestions", dependencies=[CsrfChecked])
async def draft_from_suggestions(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    made = await suggestions.draft_from_suggestions(ctx, user, None)
    skipped = ", ".join(f"{s['sku_code']} ({s['suggested_quantity']})" for s in made["skipped"])
    notice = (f"Drafted {len(made['created'])} purchase order(s) from the reorder suggestions."
              if made["created"] else "Nothing to draft: every suggestion is already on order.")
    error = f"No preferred supplier, so not drafted: {skipped}." if skipped else None
    target = "/staff/purchase-orders?status=draft" if made["created"] else "/staff/purchase-orders"
    return redirect(request, target, notice=notice, error=error)


# --- a new order ---------------------------------------------------------------------------

def _line_rows(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"sku_id": values.get(f"sku_id-{n}", ""), "quantity": values.get(f"quantity-{n}", ""),
             "unit_cost": values.get(f"unit_cost-{n}", "")} for n in range(NEW_LINES)]


async def _new_form(request: Request, ctx: Context, values: dict[str, str], *,
                    error: DomainError | None = None) -> Response:
    active = await suppliers.list_suppliers(ctx, PageRequest(1, MAX_SUPPLIERS), active=True)
    return render(request, "staff/purchase_order_new.html", {
        "section": "purchasing", "suppliers": active["items"], "values": values, "lines": _line_rows(values),
        "error": error.message if error else None, "problems": field_errors(error) if error else {},
    }, status_code=error.status if error else 200)


@router.get("/staff/purchase-orders/new")
async def new_order(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    return await _new_form(request, ctx, {"supplier_id": request.query_params.get("supplier_id", "")})


LINE_LABELS = {"sku_id": "the SKU number", "quantity": "the quantity", "unit_cost": "the unit cost",
               "batch_no": "the batch number", "expiry_date": "the expiry date"}
LINE_HINTS = {"batch_no": "must be letters, digits, spaces and . / _ # - (starting with a letter or digit)"}


def _checked_lines(model: type[BaseModel], rows: list[tuple[str, dict[str, str]]]) -> list[Any]:
    """Each (name, fields) row checked by the API's line model; 422 naming the line."""
    checked = []
    for name, row in rows:
        try:
            checked.append(validated(model, row, LINE_LABELS, LINE_HINTS))
        except FormInvalid as exc:
            problems = "; ".join(exc.fields.values())
            raise ValidationFailed(f"{name}: {problems[0].upper()}{problems[1:]}") from None
    return checked


def _order_body(values: dict[str, str]) -> PurchaseOrderCreate:
    """The form as the API's body: the lines with a SKU or a quantity typed (others blank)."""
    rows = [(f"Line {n}", {key: value for key, value in row.items() if value})
            for n, row in enumerate(_line_rows(values), start=1) if row["sku_id"] or row["quantity"]]
    if not rows:
        raise ValidationFailed("Give at least one line: a SKU number and a quantity")
    return validated(PurchaseOrderCreate, {
        "supplier_id": values.get("supplier_id") or None, "lines": _checked_lines(PoLineRequest, rows),
        "note": values.get("note") or None}, ORDER_LABELS)


@router.post("/staff/purchase-orders", dependencies=[CsrfChecked])
async def create_order(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    form = await request.form()
    values = {key: form_text(form, key) for key in form if key != "csrf_token"}
    try:
        body = _order_body(values)
        order = await purchase_orders.create_order(ctx, user, body.supplier_id, body.lines, body.note)
    except REFUSED as exc:
        return await _new_form(request, ctx, values, error=exc)
    return redirect(request, f"/staff/purchase-orders/{order['po_id']}",
                    notice=f"Purchase order #{order['po_id']} drafted; send it when it is ready.")


# --- one order -----------------------------------------------------------------------------

async def _detail(request: Request, ctx: Context, po_id: int, *, error: DomainError | None = None,
                  values: dict[str, str] | None = None) -> Response:
    order = await purchase_orders.get_order(ctx, po_id)
    status = order["status"]
    return render(request, "staff/purchase_order_detail.html", {
        "section": "purchasing", "order": order, "values": values or {},
        "error": error.message if error else None,
        "can_send": status in purchase_orders.SEND_FROM, "can_cancel": status in purchase_orders.CANCEL_FROM,
        "can_close": status in purchase_orders.CLOSE_FROM,
        "can_receive": status in receiving.EXPECTING_GOODS,
        "first_expiry": (sellable_after(ctx.settings, business_day())).isoformat(),
    }, status_code=error.status if error else 200)


@router.get("/staff/purchase-orders/{po_id}")
async def order_detail(request: Request, ctx: Ctx, po_id: PoId, user: StaffPage) -> Response:
    return await _detail(request, ctx, po_id)


@router.post("/staff/purchase-orders/{po_id}/send", dependencies=[CsrfChecked])
async def send(request: Request, ctx: Ctx, po_id: PoId, user: StaffPage) -> Response:
    try:
        order = await purchase_orders.send_order(ctx, user, po_id)
    except REFUSED as exc:
        return await _detail(request, ctx, po_id, error=exc)
    return redirect(request, f"/staff/purchase-orders/{po_id}",
                    notice=f"Purchase order #{po_id} is sent; expected on {order['expected_on']}.")


async def _finish(request: Request, ctx: Context, po_id: int, user: Any, move: str) -> Response:
    """Cancel or close short, with the optional note of the form."""
    note = texts(await request.form(), ("note",))["note"]
    try:
        if note is not None and len(note) > 500:
            raise ValidationFailed("The note is too long (at most 500 characters)")
        if move == "cancel":
            await purchase_orders.cancel_order(ctx, user, po_id, note)
        else:
            await purchase_orders.close_order(ctx, user, po_id, note)
    except REFUSED as exc:
        return await _detail(request, ctx, po_id, error=exc, values={f"{move}_note": note or ""})
    done = "cancelled" if move == "cancel" else "closed short: the rest is no longer expected"
    return redirect(request, f"/staff/purchase-orders/{po_id}", notice=f"Purchase order #{po_id} is {done}.")


@router.post("/staff/purchase-orders/{po_id}/cancel", dependencies=[CsrfChecked])
async def cancel(request: Request, ctx: Ctx, po_id: PoId, user: StaffPage) -> Response:
    return await _finish(request, ctx, po_id, user, "cancel")


@router.post("/staff/purchase-orders/{po_id}/close", dependencies=[CsrfChecked])
async def close(request: Request, ctx: Ctx, po_id: PoId, user: StaffPage) -> Response:
    return await _finish(request, ctx, po_id, user, "close")


def _receipt_body(order: dict[str, Any], values: dict[str, str]) -> PurchaseOrderReceipt:
    """The receiving form as the API's body: the lines with a quantity typed."""
    rows = []
    for line in order["lines"]:
        key = line["po_line_id"]
        quantity = values.get(f"quantity-{key}", "")
        if quantity and quantity != "0":
            rows.append((f"{line['sku_code']} (line {key})", {
                "po_line_id": str(key), "quantity": quantity, "batch_no": values.get(f"batch_no-{key}", ""),
                "expiry_date": values.get(f"expiry_date-{key}", "")}))
    if not rows:
        raise ValidationFailed("Enter the quantity that arrived on at least one line")
    return validated(PurchaseOrderReceipt, {
        "lines": _checked_lines(ReceiptLine, rows),
        "accept_over_delivery": values.get("accept_over_delivery") == "yes",
        "note": values.get("note") or None}, {"note": "The note"})


@router.post("/staff/purchase-orders/{po_id}/receive", dependencies=[CsrfChecked])
async def receive(request: Request, ctx: Ctx, po_id: PoId, user: StaffPage) -> Response:
    form = await request.form()
    values = {key: form_text(form, key) for key in form if key != "csrf_token"}
    order = await purchase_orders.get_order(ctx, po_id)
    try:
        body = _receipt_body(order, values)
        received = await receiving.receive(ctx, user, po_id, body)
    except REFUSED as exc:
        return await _detail(request, ctx, po_id, error=exc, values=values)
    units = sum(line.quantity for line in body.lines)
    status = received["status"].replace("_", " ")
    return redirect(request, f"/staff/purchase-orders/{po_id}",
                    notice=f"{units} units received into stock; the order is {status}.")
