"""Product and SKU pages (staff and admins, as /api/admin/products and /api/admin/skus): the
product list with search and an active filter, one product with its SKUs and their sellable
stock, forms to add and edit products and SKUs, (de)activating, and deleting what nothing
refers to. Values are checked by the API's own models (catalog.schemas) and written by
catalog.admin, which also bumps the catalog version, so customers see a change at once. A
SKU's form chooses its tax class among tax.service's; the product page shows each SKU's
class with its rate today."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from stockline.catalog.admin import service as admin
from stockline.catalog.schemas import ProductCreate, ProductUpdate, SkuCreate, SkuUpdate
from stockline.errors import DomainError
from stockline.kernel.context import Context, Ctx
from stockline.kernel.identity import CurrentUser
from stockline.tax import service as tax
from stockline.tax.schemas import DEFAULT_TAX_CLASS
from stockline.web.forms import REFUSED, FormInvalid, field_errors, paging, texts, validated
from stockline.web.render import form_text, redirect, render
from stockline.web.session import CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
ProductId = Annotated[int, Path(ge=1, le=2_147_483_647)]
SkuId = Annotated[int, Path(ge=1, le=2_147_483_647)]

PRODUCT_LABELS = {"name": "Name", "manufacturer": "Manufacturer", "category": "Category",
                  "description": "Description"}
SKU_LABELS = {"sku_code": "SKU code", "package_size": "Package size", "unit_type": "Unit type",
              "base_price": "Base price", "reorder_level": "Reorder level", "tax_class": "Tax class"}
REQUIRED_ON_EDIT = tuple(name for name in SKU_LABELS if name != "tax_class")
HINTS = {"sku_code": "must start with a letter or digit and hold only letters, digits and . _ / -",
         "tax_class": "must be one of the choices offered"}
FILTER_LABELS = {"search": "Search", "active": "Shown"}
SKU_CODE_TAKEN = "product_skus_sku_code_key"  # the constraint behind "Another SKU already uses that SKU code"


class ProductFilters(BaseModel):
    """The filters of GET /api/admin/products."""
    model_config = ConfigDict(extra="forbid")
    search: str | None = Field(default=None, max_length=200)
    active: bool | None = None


def _checked(model: type[BaseModel], values: dict[str, Any], labels: dict[str, str],
             required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The form checked by the API's model (blanks: not given). An edit sends every field, so
    the ones that cannot be cleared (`required`) must not be blank."""
    problems = {name: f"{labels[name]} is required" for name in required if values.get(name) is None}
    try:
        body = validated(model, {name: value for name, value in values.items() if value is not None},
                         labels, HINTS)
    except FormInvalid as exc:
        problems = exc.fields | problems
    if problems:
        order = list(labels)
        raise FormInvalid(dict(sorted(problems.items(), key=lambda item: order.index(item[0])
                                      if item[0] in order else len(order))))
    return body.model_dump()


def _problems(exc: DomainError) -> dict[str, str]:
    """The fields a refusal is about (a taken SKU code is the database's unique key)."""
    if isinstance(exc.details, dict) and exc.details.get("constraint") == SKU_CODE_TAKEN:
        return {"sku_code": exc.message}
    return field_errors(exc)


# --- products ------------------------------------------------------------------------------

@router.get("/staff/products")
async def product_list(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    raw = texts(request.query_params, tuple(FILTER_LABELS))
    context: dict[str, Any] = {"section": "products", "filters": raw, "filtered": any(raw.values()),
                               "result": None, "error": None}
    status_code = 200
    try:
        filters = validated(ProductFilters, {k: v for k, v in raw.items() if v is not None}, FILTER_LABELS)
        context["result"] = await admin.list_products(
            ctx, paging(request.query_params.get("page")),
            search=filters.search, active=filters.active)
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    return render(request, "staff/products.html", context, status_code=status_code)


def _product_form(request: Request, values: dict[str, Any], *, product_id: int | None = None,
                  error: DomainError | None = None) -> Response:
    return render(request, "staff/product_form.html", {
        "section": "products", "values": values, "product_id": product_id,
        "error": error.message if error else None, "problems": _problems(error) if error else {},
    }, status_code=error.status if error else 200)


@router.get("/staff/products/new")
async def new_product(request: Request, user: StaffPage) -> Response:
    return _product_form(request, {})


@router.post("/staff/products", dependencies=[CsrfChecked])
async def create_product(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    values = texts(await request.form(), tuple(PRODUCT_LABELS))
    try:
        product = await admin.create_product(ctx, user,
                                             _checked(ProductCreate, values, PRODUCT_LABELS))
    except DomainError as exc:
        return _product_form(request, values, error=exc)
    return redirect(request, f"/staff/products/{product['product_id']}",
                    notice=f"Product {product['name']} added. Add its first SKU to put it on sale.")


async def _detail(request: Request, ctx: Context, product_id: int, *, error: str | None = None,
                  status_code: int = 200) -> Response:
    product = await admin.get_product(ctx, product_id)
    skus = await admin.list_skus(ctx, paging(request.query_params.get("page")),
                                 search=None, product_id=product_id, active=None, flags=True)
    return render(request, "staff/product_detail.html", {
        "section": "products", "product": product, "skus": skus, "error": error}, status_code=status_code)


@router.get("/staff/products/{product_id}")
async def product_detail(request: Request, ctx: Ctx, product_id: ProductId, user: StaffPage) -> Response:
    return await _detail(request, ctx, product_id)


@router.get("/staff/products/{product_id}/edit")
async def edit_product(request: Request, ctx: Ctx, product_id: ProductId, user: StaffPage) -> Response:
    product = await admin.get_product(ctx, product_id)
    return _product_form(request, {name: product[name] for name in (*PRODUCT_LABELS, "is_active")},
                         product_id=product_id)


@router.post("/staff/products/{product_id}", dependencies=[CsrfChecked])
async def update_product(request: Request, ctx: Ctx, product_id: ProductId, user: StaffPage) -> Response:
    form = await request.form()
    values: dict[str, Any] = texts(form, tuple(PRODUCT_LABELS))
    values["is_active"] = form_text(form, "is_active") == "yes"
    try:
        # every field is sent: a blank manufacturer, category or description clears it
        product = await admin.update_product(ctx, user, product_id,
                                             _checked(ProductUpdate, values, PRODUCT_LABELS, ("name",)))
    except REFUSED as exc:
        return _product_form(request, values, product_id=product_id, error=exc)
    return redirect(request, f"/staff/products/{product_id}", notice=f"Product {product['name']} saved.")


async def _set_product_active(request: Request, ctx: Context, actor: CurrentUser, product_id: int,
                              active: bool) -> Response:
    product = await admin.update_product(ctx, actor, product_id,
                                         {"is_active": active})
    notice = (f"{product['name']} is active again; customers see its active SKUs." if active
              else f"{product['name']} is inactive; none of its SKUs shows in the catalog.")
    return redirect(request, f"/staff/products/{product_id}", notice=notice)


@router.post("/staff/products/{product_id}/deactivate", dependencies=[CsrfChecked])
async def deactivate_product(request: Request, ctx: Ctx, product_id: ProductId, user: StaffPage) -> Response:
    return await _set_product_active(request, ctx, user, product_id, False)


@router.post("/staff/products/{product_id}/reactivate", dependencies=[CsrfChecked])
async def reactivate_product(request: Request, ctx: Ctx, product_id: ProductId, user: StaffPage) -> Response:
    return await _set_product_active(request, ctx, user, product_id, True)


@router.post("/staff/products/{product_id}/delete", dependencies=[CsrfChecked])
async def delete_product(request: Request, ctx: Ctx, product_id: ProductId, user: StaffPage) -> Response:
    try:
        await admin.delete_product(ctx, user, product_id)
    except REFUSED as exc:
        return await _detail(request, ctx, product_id, error=exc.message, status_code=exc.status)
    return redirect(request, "/staff/products", notice=f"Product #{product_id} deleted.")


# --- SKUs ----------------------------------------------------------------------------------

async def _sku_form(request: Request, ctx: Context, product: dict[str, Any], values: dict[str, Any], *,
                    sku: dict[str, Any] | None = None, error: DomainError | None = None,
                    problems: dict[str, str] | None = None) -> Response:
    return render(request, "staff/sku_form.html", {
        "section": "products", "product": product, "values": values, "sku": sku,
        "tax_classes": await tax.class_choices(ctx), "error": error.message if error else None,
        "problems": problems if problems is not None else _problems(error) if error else {},
    }, status_code=error.status if error else 200)


def _product_of(sku: dict[str, Any]) -> dict[str, Any]:
    return {"product_id": sku["product_id"], "name": sku["product_name"]}


@router.get("/staff/products/{product_id}/skus/new")
async def new_sku(request: Request, ctx: Ctx, product_id: ProductId, user: StaffPage) -> Response:
    product = await admin.get_product(ctx, product_id)
    return await _sku_form(request, ctx, product, {"reorder_level": 10, "tax_class": DEFAULT_TAX_CLASS})


@router.post("/staff/products/{product_id}/skus", dependencies=[CsrfChecked])
async def create_sku(request: Request, ctx: Ctx, product_id: ProductId, user: StaffPage) -> Response:
    values = texts(await request.form(), tuple(SKU_LABELS))
    try:
        fields = _checked(SkuCreate, values | {"product_id": product_id}, SKU_LABELS)
        sku = await admin.create_sku(ctx, user, fields)
    except REFUSED as exc:
        product = await admin.get_product(ctx, product_id)
        return await _sku_form(request, ctx, product, values, error=exc)
    return redirect(request, f"/staff/products/{product_id}",
                    notice=f"SKU {sku['sku_code']} added at {sku['base_price']}; it is on sale now.")


@router.get("/staff/skus/{sku_id}/edit")
async def edit_sku(request: Request, ctx: Ctx, sku_id: SkuId, user: StaffPage) -> Response:
    sku = await admin.get_sku(ctx, sku_id)
    return await _sku_form(request, ctx, _product_of(sku),
                           {name: sku[name] for name in (*SKU_LABELS, "is_active")}, sku=sku)


@router.post("/staff/skus/{sku_id}", dependencies=[CsrfChecked])
async def update_sku(request: Request, ctx: Ctx, sku_id: SkuId, user: StaffPage) -> Response:
    form = await request.form()
    values: dict[str, Any] = texts(form, tuple(SKU_LABELS))
    values["is_active"] = form_text(form, "is_active") == "yes"
    try:
        fields = _checked(SkuUpdate, values, SKU_LABELS, REQUIRED_ON_EDIT)
        if fields["tax_class"] is None:  # not sent (the form's select always sends one): it stays
            del fields["tax_class"]
        sku = await admin.update_sku(ctx, user, sku_id, fields)
    except REFUSED as exc:
        shown = await admin.get_sku(ctx, sku_id)
        return await _sku_form(request, ctx, _product_of(shown), values, sku=shown, error=exc)
    return redirect(request, f"/staff/products/{sku['product_id']}", notice=f"SKU {sku['sku_code']} saved.")


async def _set_sku_active(request: Request, ctx: Context, actor: CurrentUser, sku_id: int,
                          active: bool) -> Response:
    sku = await admin.update_sku(ctx, actor, sku_id,
                                 {"is_active": active})
    notice = (f"SKU {sku['sku_code']} is on sale again." if active
              else f"SKU {sku['sku_code']} is deactivated; customers no longer see it.")
    return redirect(request, f"/staff/products/{sku['product_id']}", notice=notice)


@router.post("/staff/skus/{sku_id}/deactivate", dependencies=[CsrfChecked])
async def deactivate_sku(request: Request, ctx: Ctx, sku_id: SkuId, user: StaffPage) -> Response:
    return await _set_sku_active(request, ctx, user, sku_id, False)


@router.post("/staff/skus/{sku_id}/reactivate", dependencies=[CsrfChecked])
async def reactivate_sku(request: Request, ctx: Ctx, sku_id: SkuId, user: StaffPage) -> Response:
    return await _set_sku_active(request, ctx, user, sku_id, True)


@router.post("/staff/skus/{sku_id}/delete", dependencies=[CsrfChecked])
async def delete_sku(request: Request, ctx: Ctx, sku_id: SkuId, user: StaffPage) -> Response:
    sku = await admin.get_sku(ctx, sku_id)
    try:
        await admin.delete_sku(ctx, user, sku_id)
    except REFUSED as exc:
        return await _sku_form(request, ctx, _product_of(sku),
                               {name: sku[name] for name in (*SKU_LABELS, "is_active")}, sku=sku, error=exc,
                               problems={})
    return redirect(request, f"/staff/products/{sku['product_id']}", notice=f"SKU {sku['sku_code']} deleted.")
