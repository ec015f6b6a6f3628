"""Inventory pages for staff: the batch list (the API's GET /api/admin/inventory: same
filters, search and sorts) with the bulk write-off of expired stock, receiving stock, and a
batch's own page with its ledger, edit and status history, where it is adjusted, written off,
corrected (cost, expiry), deleted, quarantined or released (its traceability report is
web/staff/trace.py). Every write is `inventory.batches`' function the API
route calls, with the same arguments; every role is the API's (staff or admin)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from stockline.catalog.admin import service as catalog_admin
from stockline.errors import DomainError, NotFound
from stockline.inventory.batches import service as batches
from stockline.inventory.batches.schemas import BatchHold
from stockline.inventory.stock import service as stock
from stockline.inventory.stock.schemas import InventoryFilter, InventorySort
from stockline.kernel.context import Context, Ctx, context_of
from stockline.kernel.expiry import business_day
from stockline.kernel.inputs import INT4_MAX, read_int
from stockline.pagination import PageRequest
from stockline.web.forms import FormInvalid, validated
from stockline.web.render import day, form_text, money, redirect, render
from stockline.web.session import CsrfChecked, StaffPage
from stockline.web.staff import stock_forms as forms

router = APIRouter(include_in_schema=False)
BatchId = Annotated[int, Path(ge=1, le=2_147_483_647)]

PAGE_SIZE = 50
MOVEMENTS_PAGE_SIZE = 25
RECENT_COUNT = 10
FILTERS = {"": "All batches", "low_stock": "Low stock SKUs",
           "critical": "Critical (below half the reorder level)", "expiring": "Expiring soon",
           "expired": "Expired, stock left", "recent": "Received in the last 7 days"}
SORTS = {"expiry": "Expiry date", "received": "Newest received", "quantity": "Quantity on hand",
         "product": "Product name"}
MAX_SEARCH = 200


def page_number(request: Request, name: str = "page") -> int:
    """The page asked for; anything that is not a page number is page 1."""
    text = request.query_params.get(name, "")
    return read_int(text, minimum=1, maximum=100_000) or 1


def with_expiry_flags(batch: dict[str, Any], soon_days: int) -> dict[str, Any]:
    """A batch as the pages show it: days left, expiring soon (within EXPIRING_SOON_DAYS and
    not expired yet), and whether it awaits a write-off (expired, still holding stock)."""
    left = (date.fromisoformat(batch["expiry_date"]) - business_day()).days
    return batch | {"days_left": left, "expiring_soon": not batch["expired"] and left <= soon_days,
                    "write_off_due": batch["expired"] and batch["quantity_on_hand"] > 0}


async def _inventory(request: Request, paging: PageRequest, *, filter_: str | None, search: str | None,
                     sku_id: int | None, sort: str) -> dict[str, Any]:
    ctx = context_of(request)
    rendered = await stock.inventory_page(ctx, paging, filter_=filter_, search=search,
                                          sku_id=sku_id, sort=sort, flags=True)
    data = json.loads(rendered.body)
    soon = ctx.settings.expiring_soon_days
    return data | {"items": [with_expiry_flags(item, soon) for item in data["items"]]}


@router.get("/staff/inventory")
async def inventory_list(request: Request, ctx: Ctx, user: StaffPage) -> HTMLResponse:
    query = request.query_params
    filter_ = query.get("filter", "") if query.get("filter", "") in InventoryFilter.__members__ else ""
    sort = query.get("sort", "") if query.get("sort", "") in InventorySort.__members__ else "expiry"
    search = query.get("search", "").strip()[:MAX_SEARCH]
    sku_text = query.get("sku_id", "")
    sku_id = read_int(sku_text, minimum=1, maximum=INT4_MAX)
    data = await _inventory(request, PageRequest(page_number(request), PAGE_SIZE), filter_=filter_ or None,
                            search=search or None, sku_id=sku_id, sort=sort)
    return render(request, "staff/inventory.html", {
        "section": "inventory", "data": data, "filter": filter_, "sort": sort, "search": search,
        "sku_id": sku_id, "filters": FILTERS, "sorts": SORTS,
        "expired": await batches.expired_stock(ctx)})


@router.post("/staff/inventory/write-off-expired", dependencies=[CsrfChecked])
async def write_off_expired(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    try:
        note = forms.write_off_note(await request.form())
    except forms.FormInvalid as exc:
        return redirect(request, "/staff/inventory", error=exc.fields.get("note", exc.message))
    summary = await batches.write_off_expired(ctx, user, note)
    if not summary["batches"]:
        return redirect(request, "/staff/inventory",
                        notice="No expired batch holds stock: nothing was written off.")
    plural = "es" if summary["batches"] > 1 else ""
    return redirect(request, "/staff/inventory", notice=(
        f"Wrote off {summary['batches']:,} expired batch{plural}, {summary['units']:,} units "
        f"(value at cost {money(summary['value'])})."))


async def _receive_page(request: Request, *, values: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None, error: str | None = None,
                        suggestions: list[dict[str, Any]] | None = None,
                        status_code: int = 200) -> HTMLResponse:
    recent = await _inventory(request, PageRequest(1, RECENT_COUNT), filter_="recent", search=None,
                              sku_id=None, sort="received")
    return render(request, "staff/inventory_receive.html", {
        "section": "inventory", "values": values or {}, "errors": errors or {}, "error": error,
        "suggestions": suggestions or [], "recent": recent}, status_code=status_code)


@router.get("/staff/inventory/receive")
async def receive_form(request: Request, user: StaffPage) -> HTMLResponse:
    return await _receive_page(request)


async def _sku_suggestions(request: Request, typed: str) -> list[dict[str, Any]]:
    """Active SKUs whose name, code or pack mentions what was typed (for 'did you mean')."""
    ctx = context_of(request)
    found = await catalog_admin.list_skus(ctx, PageRequest(1, 5), search=typed,
                                          product_id=None, active=True)
    return found["items"]


def received_notice(result: dict[str, Any]) -> str:
    where = "a new batch" if result["created"] else "the existing batch"
    return (f"Received into {where} {result['batch_no']} of {result['product_name']} ({result['sku_code']}); "
            f"it now holds {result['quantity_on_hand']:,} units.")


@router.post("/staff/inventory/receive", dependencies=[CsrfChecked])
async def receive(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    form = await request.form()
    values = forms.receipt_values(form)
    try:
        receipt = forms.receipt(values)
    except forms.FormInvalid as exc:
        return await _receive_page(request, values=values, errors=exc.fields, error=exc.message,
                                   status_code=422)
    try:
        try:
            result = await batches.receive(ctx, user,
                                           batches.Receipt(**receipt.model_dump()))
        except NotFound as exc:
            # a code typed in the wrong case ("amox-1") names the SKU all the same; anything
            # else gets the SKUs it might have meant
            suggestions = await _sku_suggestions(request, values["sku_code"])
            same = [s["sku_code"] for s in suggestions if s["sku_code"].lower() == values["sku_code"].lower()]
            if len(same) != 1:
                return await _receive_page(request, values=values, errors={"sku_code": exc.message},
                                           error=exc.message, suggestions=suggestions, status_code=exc.status)
            values["sku_code"] = same[0]
            result = await batches.receive(ctx, user,
                                           batches.Receipt(**receipt.model_dump() | {"sku_code": same[0]}))
    except DomainError as exc:
        field = "batch_no" if exc.code == "batch_expiry_mismatch" else ""
        return await _receive_page(request, values=values, errors={field: exc.message} if field else {},
                                   error=exc.message, status_code=exc.status)
    return redirect(request, "/staff/inventory/receive", notice=received_notice(result))


async def _batch_page(request: Request, ctx: Context, batch_id: int, *, adjust: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, edit: dict[str, str] | None = None,
                      edit_errors: dict[str, str] | None = None, hold: dict[str, str] | None = None,
                      hold_errors: dict[str, str] | None = None, error: str | None = None,
                      status_code: int = 200) -> HTMLResponse:
    batch = with_expiry_flags(await batches.batch_detail(ctx, batch_id), ctx.settings.expiring_soon_days)
    movements = await stock.movements_page(
        ctx, PageRequest(page_number(request), MOVEMENTS_PAGE_SIZE), batch_id=batch_id, sku_id=None,
        order_id=None, reason=None, created_from=None, created_before=None)
    shown = {"cost_price": batch["cost_price"], "expiry_date": batch["expiry_date"]}
    return render(request, "staff/batch.html", {
        "section": "inventory", "batch": batch, "movements": movements, "adjust": adjust or {},
        "errors": errors or {}, "error": error, "reasons": forms.REASONS,
        "edit": edit or shown | {f"{name}{forms.SHOWN_SUFFIX}": value for name, value in shown.items()},
        "edit_errors": edit_errors or {}, "edits": await batches.edit_history(ctx, batch_id),
        "hold": hold or {}, "hold_errors": hold_errors or {},
        "deletion_refusal": await batches.deletion_refusal(ctx, batch_id)}, status_code=status_code)


@router.get("/staff/batches/{batch_id}")
async def batch_page(batch_id: BatchId, request: Request, ctx: Ctx, user: StaffPage) -> HTMLResponse:
    return await _batch_page(request, ctx, batch_id)


@router.post("/staff/batches/{batch_id}/adjust", dependencies=[CsrfChecked])
async def adjust(batch_id: BatchId, request: Request, ctx: Ctx, user: StaffPage) -> Response:
    values = forms.adjust_values(await request.form())
    try:
        change = forms.adjustment(values)
    except forms.FormInvalid as exc:
        return await _batch_page(request, ctx, batch_id, adjust=values, errors=exc.fields, error=exc.message,
                                 status_code=422)
    try:
        result = await batches.adjust(ctx, user,
                                      batch_id=batch_id, delta=change.delta, new_quantity=change.new_quantity,
                                      reason=change.reason, note=change.note)
    except NotFound:
        raise
    except DomainError as exc:
        return await _batch_page(request, ctx, batch_id, adjust=values, error=exc.message,
                                 status_code=exc.status)
    return redirect(request, f"/staff/batches/{batch_id}", notice=(
        f"Batch {result['batch_no']} adjusted by {result['delta']:+,} "
        f"({forms.REASONS[change.reason].lower()}); it now holds {result['quantity_on_hand']:,} units."))


@router.post("/staff/batches/{batch_id}/write-off", dependencies=[CsrfChecked])
async def write_off(batch_id: BatchId, request: Request, ctx: Ctx, user: StaffPage) -> Response:
    try:
        note = forms.write_off_note(await request.form())
    except forms.FormInvalid as exc:
        return await _batch_page(request, ctx, batch_id, error=exc.fields.get("note", exc.message),
                                 status_code=422)
    try:
        result = await batches.write_off(ctx, user,
                                         batch_id=batch_id, note=note)
    except NotFound:
        raise
    except DomainError as exc:
        return await _batch_page(request, ctx, batch_id, error=exc.message, status_code=exc.status)
    return redirect(request, f"/staff/batches/{batch_id}", notice=(
        f"Wrote off {result['written_off']:,} units of batch {result['batch_no']} "
        f"(value at cost {result['written_off_value']})."))


_EDITED = {"cost_price": "cost price", "expiry_date": "expiry date"}


@router.post("/staff/batches/{batch_id}/edit", dependencies=[CsrfChecked])
async def edit(batch_id: BatchId, request: Request, ctx: Ctx, user: StaffPage) -> Response:
    values = forms.edit_values(await request.form())
    try:
        change = forms.batch_edit(values)
    except forms.FormInvalid as exc:
        return await _batch_page(request, ctx, batch_id, edit=values, edit_errors=exc.fields,
                                 error=exc.message, status_code=422)
    try:
        result = await batches.edit(ctx, user,
                                    batch_id=batch_id, cost_price=change.cost_price,
                                    expiry_date=change.expiry_date, note=change.note)
    except NotFound:
        raise
    except DomainError as exc:
        field = "expiry_date" if exc.code == "expiry_before_sale" else ""
        return await _batch_page(request, ctx, batch_id, edit=values, error=exc.message,
                                 status_code=exc.status, edit_errors={field: exc.message} if field else {})
    now = {"cost_price": money(result["cost_price"]), "expiry_date": day(result["expiry_date"])}
    changes = " and ".join(f"{_EDITED[name]} is now {now[name]}" for name in result["changed"])
    return redirect(request, f"/staff/batches/{batch_id}", notice=(
        f"Batch {result['batch_no']} corrected: {changes} (recorded in its edit history)."))


@router.post("/staff/batches/{batch_id}/delete", dependencies=[CsrfChecked])
async def delete(batch_id: BatchId, request: Request, ctx: Ctx, user: StaffPage) -> Response:
    batch = await batches.batch(ctx, batch_id)  # 404 when there is none; named in the notice
    try:
        await batches.delete(ctx, user, batch_id)
    except NotFound:
        raise
    except DomainError as exc:
        return await _batch_page(request, ctx, batch_id, error=exc.message, status_code=exc.status)
    return redirect(request, "/staff/inventory", notice=(
        f"Deleted batch {batch['batch_no']} of {batch['product_name']} ({batch['sku_code']}) with the "
        f"{batch['quantity_on_hand']:,} units it received."))


_HOLDS = {"quarantine": (batches.quarantine, "is quarantined: no order can take it until it is released"),
          "release": (batches.release, "is released: it is sellable again while in date and in stock")}


async def _hold(batch_id: int, request: Request, ctx: Context, user: StaffPage, action: str) -> Response:
    """Quarantine or release from the batch page: the API's reason rules and service call."""
    values = {"reason": form_text(await request.form(), "reason")}
    try:
        reason = validated(BatchHold, values, {"reason": "Reason"}).reason
    except FormInvalid as exc:
        return await _batch_page(request, ctx, batch_id, hold=values, hold_errors=exc.fields,
                                 error=exc.message, status_code=422)
    change, done = _HOLDS[action]
    try:
        result = await change(ctx, user, batch_id, reason)
    except NotFound:
        raise
    except DomainError as exc:
        return await _batch_page(request, ctx, batch_id, hold=values, error=exc.message,
                                 status_code=exc.status)
    return redirect(request, f"/staff/batches/{batch_id}", notice=f"Batch {result['batch_no']} {done}.")


@router.post("/staff/batches/{batch_id}/quarantine", dependencies=[CsrfChecked])
async def quarantine(batch_id: BatchId, request: Request, ctx: Ctx, user: StaffPage) -> Response:
    return await _hold(batch_id, request, ctx, user, "quarantine")


@router.post("/staff/batches/{batch_id}/release", dependencies=[CsrfChecked])
async def release(batch_id: BatchId, request: Request, ctx: Ctx, user: StaffPage) -> Response:
    return await _hold(batch_id, request, ctx, user, "release")
