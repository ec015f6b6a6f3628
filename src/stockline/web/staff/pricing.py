"""Pricing pages. As in the API (pricing.admin.routes), the rules are an admin's to list,
add, change and delete, while the price preview is open to staff too; a staff member who
opens the pricing entry is sent to the preview. The preview is pricing.admin.preview, which
prices with the one pricing rule and explains it: nothing here computes a price."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from stockline.errors import DomainError
from stockline.kernel.context import Ctx
from stockline.kernel.expiry import business_day
from stockline.pricing.admin import service as admin
from stockline.pricing.admin.schemas import MAX_ID, RuleCreate
from stockline.web.forms import REFUSED, field_errors, paging, texts, validated
from stockline.web.render import redirect, render
from stockline.web.session import AdminPage, CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
RuleId = Annotated[int, Path(ge=1, le=MAX_ID)]

RULE_LABELS = {"sku_id": "SKU number", "customer_id": "Customer number", "min_quantity": "Minimum quantity",
               "discount_percentage": "Discount (%)", "valid_from": "Valid from", "valid_to": "Valid to"}
FILTER_LABELS = {"sku_id": "SKU number", "customer_id": "Customer number", "active_on": "Valid on"}
PREVIEW_LABELS = {"sku_id": "SKU number", "customer_id": "Customer number", "quantity": "Quantity",
                  "on": "Priced on"}


class RuleFilters(BaseModel):
    """The filters of GET /api/admin/pricing/rules."""
    model_config = ConfigDict(extra="forbid")
    sku_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    active_on: date | None = None


class PreviewQuery(BaseModel):
    """The query of GET /api/admin/pricing/preview."""
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, le=MAX_ID)
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    on: date | None = None


def _given(values: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


# --- the rules (admin) ---------------------------------------------------------------------

@router.get("/staff/pricing")
async def pricing_rules(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    if not user.is_admin:
        return redirect(request, "/staff/pricing/preview")
    raw = texts(request.query_params, tuple(FILTER_LABELS))
    context: dict[str, Any] = {"section": "pricing", "filters": raw, "filtered": any(raw.values()),
                               "result": None, "error": None}
    status_code = 200
    try:
        filters = validated(RuleFilters, _given(raw), FILTER_LABELS)
        context["result"] = await admin.list_rules(
            ctx, paging(request.query_params.get("page")), sku_id=filters.sku_id,
            customer_id=filters.customer_id, active_on=filters.active_on)
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    return render(request, "staff/pricing.html", context, status_code=status_code)


def _rule_form(request: Request, values: dict[str, Any], *, rule_id: int | None = None,
               error: DomainError | None = None) -> Response:
    return render(request, "staff/pricing_form.html", {
        "section": "pricing", "values": values, "rule_id": rule_id,
        "error": error.message if error else None, "problems": field_errors(error) if error else {},
    }, status_code=error.status if error else 200)


def _rule_values(rule: dict[str, Any]) -> dict[str, Any]:
    return {name: rule[name] for name in RULE_LABELS}


def _rule_summary(rule: dict[str, Any]) -> str:
    sku = f"SKU {rule['sku_code']}" if rule["sku_id"] else "every SKU"
    customer = rule["customer_name"] if rule["customer_id"] else "every customer"
    return (f"{rule['discount_percentage']} % off {sku} for {customer}, from {rule['min_quantity']:,} "
            f"unit{'s' if rule['min_quantity'] != 1 else ''}")


def _rule_list_url(rule: dict[str, Any]) -> str:
    """The list narrowed to the rule's SKU and customer, where the rule has them."""
    query = "&".join(f"{name}={rule[name]}" for name in ("sku_id", "customer_id") if rule[name] is not None)
    return f"/staff/pricing?{query}" if query else "/staff/pricing"


@router.get("/staff/pricing/new")
async def new_rule(request: Request, user: AdminPage) -> Response:
    prefill = _given(texts(request.query_params, ("sku_id", "customer_id")))
    return _rule_form(request, {"min_quantity": 1} | prefill)


@router.post("/staff/pricing", dependencies=[CsrfChecked])
async def create_rule(request: Request, ctx: Ctx, user: AdminPage) -> Response:
    values = texts(await request.form(), tuple(RULE_LABELS))
    try:
        body = validated(RuleCreate, _given(values), RULE_LABELS)
        rule = await admin.create_rule(ctx, user, body.model_dump())
    except DomainError as exc:
        return _rule_form(request, values, error=exc)
    return redirect(request, _rule_list_url(rule),
                    notice=f"Rule {rule['rule_id']} added: {_rule_summary(rule)}.")


@router.get("/staff/pricing/preview")
async def price_preview(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    raw = texts(request.query_params, tuple(PREVIEW_LABELS))
    context: dict[str, Any] = {"section": "pricing", "values": raw, "preview": None, "error": None,
                               "problems": {}, "today": business_day()}
    status_code = 200
    if raw["sku_id"] is not None:
        try:
            asked = validated(PreviewQuery, _given(raw), PREVIEW_LABELS)
            context["preview"] = await admin.preview(
                ctx, customer_id=asked.customer_id, sku_id=asked.sku_id,
                quantity=asked.quantity, on=asked.on or business_day())
        except DomainError as exc:
            context["error"], context["problems"], status_code = exc.message, field_errors(exc), exc.status
    return render(request, "staff/pricing_preview.html", context, status_code=status_code)


@router.get("/staff/pricing/{rule_id}/edit")
async def edit_rule(request: Request, ctx: Ctx, rule_id: RuleId, user: AdminPage) -> Response:
    rule = await admin.get_rule(ctx, rule_id)
    return _rule_form(request, _rule_values(rule), rule_id=rule_id)


@router.post("/staff/pricing/{rule_id}", dependencies=[CsrfChecked])
async def update_rule(request: Request, ctx: Ctx, rule_id: RuleId, user: AdminPage) -> Response:
    values = texts(await request.form(), tuple(RULE_LABELS))
    try:
        body = validated(RuleCreate, _given(values), RULE_LABELS)
        rule = await admin.update_rule(ctx, user, rule_id,
                                       body.model_dump())
    except REFUSED as exc:
        return _rule_form(request, values, rule_id=rule_id, error=exc)
    return redirect(request, _rule_list_url(rule),
                    notice=f"Rule {rule_id} saved: {_rule_summary(rule)}.")


@router.post("/staff/pricing/{rule_id}/delete", dependencies=[CsrfChecked])
async def delete_rule(request: Request, ctx: Ctx, rule_id: RuleId, user: AdminPage) -> Response:
    await admin.delete_rule(ctx, user, rule_id)
    return redirect(request, "/staff/pricing",
                    notice=f"Rule {rule_id} deleted; orders it priced keep their prices.")
