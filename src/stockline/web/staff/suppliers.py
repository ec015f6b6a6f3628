"""Supplier pages for staff (as /api/admin/suppliers): the list with the form adding one; one
supplier with its edit form, the SKUs it supplies (cost, its own code, preferred) and the
forms setting and removing them. Values are checked by the API's own models
(purchasing.schemas) and written by purchasing.suppliers, which refuses what the API refuses;
a refusal is shown beside the form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import Field

from stockline.errors import DomainError
from stockline.kernel.context import Context, Ctx
from stockline.kernel.inputs import INT4_MAX
from stockline.pagination import PageRequest
from stockline.purchasing import purchase_orders, suppliers
from stockline.purchasing.schemas import SupplierCreate, SupplierSkuSet
from stockline.web.forms import REFUSED, field_errors, paging, texts, validated
from stockline.web.render import form_text, redirect, render
from stockline.web.session import CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
SupplierId = Annotated[int, Path(ge=1, le=INT4_MAX)]
SkuId = Annotated[int, Path(ge=1, le=INT4_MAX)]
RECENT_ORDERS = 10

LABELS = {"name": "Name", "contact_name": "Contact", "email": "Email", "phone": "Phone", "address": "Address",
          "lead_time_days": "Lead time"}
HINTS = {"email": "must be an address like orders@supplier.example",
         "phone": "must be digits, spaces and ( ) . / - (an optional + first), 3 to 40 characters"}
SKU_LABELS = {"sku_id": "SKU number", "unit_cost": "Unit cost", "supplier_sku_code": "Supplier's code"}


class _SkuForm(SupplierSkuSet):
    """The add-a-SKU form: the API's body plus the SKU it is for (the API's path)."""
    sku_id: int = Field(ge=1, le=INT4_MAX)


def _checked(values: dict[str, str | None], active: bool) -> dict[str, Any]:
    """The form's fields checked as the API checks a new supplier (blanks: not given)."""
    given = {name: value for name, value in values.items() if value is not None}
    return validated(SupplierCreate, given | {"is_active": active}, LABELS, HINTS).model_dump()


async def _list(request: Request, ctx: Context, *, values: dict[str, Any] | None = None,
                error: DomainError | None = None) -> Response:
    return render(request, "staff/suppliers.html", {
        "section": "suppliers",
        "result": await suppliers.list_suppliers(ctx, paging(request.query_params.get("page"))),
        "values": values or {"lead_time_days": 7}, "error": error.message if error else None,
        "problems": field_errors(error) if error else {},
    }, status_code=error.status if error else 200)


@router.get("/staff/suppliers")
async def supplier_list(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    return await _list(request, ctx)


@router.post("/staff/suppliers", dependencies=[CsrfChecked])
async def create_supplier(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    values = texts(await request.form(), tuple(LABELS))
    try:
        created = await suppliers.create_supplier(ctx, user, _checked(values, True))
    except REFUSED as exc:
        return await _list(request, ctx, values=values, error=exc)
    return redirect(request, f"/staff/suppliers/{created['supplier_id']}",
                    notice=f"Supplier {created['name']} added; now add the SKUs it supplies.")


async def _detail(request: Request, ctx: Context, supplier_id: int, *, values: dict[str, Any] | None = None,
                  sku_values: dict[str, Any] | None = None, error: DomainError | None = None,
                  sku_error: DomainError | None = None) -> Response:
    supplier = await suppliers.get_supplier(ctx, supplier_id)
    orders = await purchase_orders.list_orders(ctx, PageRequest(1, RECENT_ORDERS), supplier_id=supplier_id)
    failed = error or sku_error
    return render(request, "staff/supplier_detail.html", {
        "section": "suppliers", "supplier": supplier, "orders": orders,
        "values": values or supplier, "sku_values": sku_values or {},
        "error": error.message if error else None, "problems": field_errors(error) if error else {},
        "sku_error": sku_error.message if sku_error else None,
        "sku_problems": field_errors(sku_error) if sku_error else {},
    }, status_code=failed.status if failed else 200)


@router.get("/staff/suppliers/{supplier_id}")
async def supplier_detail(request: Request, ctx: Ctx, supplier_id: SupplierId, user: StaffPage) -> Response:
    return await _detail(request, ctx, supplier_id)


@router.post("/staff/suppliers/{supplier_id}", dependencies=[CsrfChecked])
async def update_supplier(request: Request, ctx: Ctx, supplier_id: SupplierId, user: StaffPage) -> Response:
    form = await request.form()
    values = texts(form, tuple(LABELS))
    active = form_text(form, "is_active") == "yes"
    try:
        # every field is sent: a blank contact, email, phone or address clears it
        saved = await suppliers.update_supplier(ctx, user, supplier_id, _checked(values, active))
    except REFUSED as exc:
        return await _detail(request, ctx, supplier_id, values=values | {"is_active": active}, error=exc)
    return redirect(request, f"/staff/suppliers/{supplier_id}", notice=f"Supplier {saved['name']} saved.")


@router.post("/staff/suppliers/{supplier_id}/skus", dependencies=[CsrfChecked])
async def set_supplier_sku(request: Request, ctx: Ctx, supplier_id: SupplierId, user: StaffPage) -> Response:
    form = await request.form()
    values: dict[str, Any] = texts(form, tuple(SKU_LABELS))
    values["is_preferred"] = form_text(form, "is_preferred") == "yes"
    try:
        given = {name: value for name, value in values.items() if value is not None}
        sku = validated(_SkuForm, given, SKU_LABELS)
        await suppliers.set_supplier_sku(ctx, user, supplier_id, sku.sku_id, SupplierSkuSet(
            unit_cost=sku.unit_cost, supplier_sku_code=sku.supplier_sku_code, is_preferred=sku.is_preferred))
    except REFUSED as exc:
        return await _detail(request, ctx, supplier_id, sku_values=values, sku_error=exc)
    return redirect(request, f"/staff/suppliers/{supplier_id}",
                    notice=f"SKU #{sku.sku_id} saved at {sku.unit_cost:.2f}"
                           + (", preferred." if sku.is_preferred else "."))


@router.post("/staff/suppliers/{supplier_id}/skus/{sku_id}/remove", dependencies=[CsrfChecked])
async def remove_supplier_sku(request: Request, ctx: Ctx, supplier_id: SupplierId, sku_id: SkuId,
                              user: StaffPage) -> Response:
    try:
        await suppliers.remove_supplier_sku(ctx, user, supplier_id, sku_id)
    except REFUSED as exc:
        return await _detail(request, ctx, supplier_id, sku_error=exc)
    return redirect(request, f"/staff/suppliers/{supplier_id}",
                    notice=f"SKU #{sku_id} removed from this supplier.")
