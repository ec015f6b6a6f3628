"""Back-office routes for pricing rules (admin only) and the price preview (staff or admin);
no SQL here."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from stockline.auth.dependencies import AdminUser, StaffUser
from stockline.kernel.context import Ctx
from stockline.kernel.expiry import business_day
from stockline.pagination import Paging
from stockline.pricing.admin import service as admin
from stockline.pricing.admin.schemas import MAX_ID, PricePreview, RuleCreate, RulePage, RuleRead, RuleUpdate

router = APIRouter(prefix="/api/admin", tags=["admin"])

RuleId = Annotated[int, Path(ge=1, le=MAX_ID)]
_NO_RULE = {404: {"description": "no such rule"}}
_WRITE = {409: {"description": "another rule has the same SKU, customer and tier over an overlapping "
                             "window (code duplicate_rule, details.rule_id names it)"},
          422: {"description": "invalid values, or the SKU or customer does not exist"}}


@router.get("/pricing/rules", summary="Pricing rules by rule_id; filter by SKU, customer, valid on a day")
async def list_rules(ctx: Ctx, user: AdminUser, paging: Paging,
                     sku_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                     customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                     active_on: Annotated[date | None,
                                          Query(description="only rules valid on this day")] = None,
                     ) -> RulePage:
    return await admin.list_rules(ctx, paging, sku_id=sku_id, customer_id=customer_id,
                                  active_on=active_on)


@router.post("/pricing/rules", status_code=201, summary="Add a pricing rule", responses=_WRITE)
async def create_rule(body: RuleCreate, ctx: Ctx, user: AdminUser) -> RuleRead:
    return await admin.create_rule(ctx, user, body.model_dump())


@router.get("/pricing/rules/{rule_id}", summary="One pricing rule", responses=_NO_RULE)
async def get_rule(rule_id: RuleId, ctx: Ctx, user: AdminUser) -> RuleRead:
    return await admin.get_rule(ctx, rule_id)


@router.patch("/pricing/rules/{rule_id}", summary="Change the fields sent", responses=_NO_RULE | _WRITE)
async def update_rule(rule_id: RuleId, body: RuleUpdate, ctx: Ctx, user: AdminUser) -> RuleRead:
    return await admin.update_rule(ctx, user, rule_id,
                                   body.model_dump(include=body.model_fields_set))


@router.delete("/pricing/rules/{rule_id}", status_code=204,
               summary="Delete a pricing rule (orders it priced keep their prices)", responses=_NO_RULE)
async def delete_rule(rule_id: RuleId, ctx: Ctx, user: AdminUser) -> Response:
    await admin.delete_rule(ctx, user, rule_id)
    return Response(status_code=204)


@router.get("/pricing/preview", summary="The price of a line, which rule won and why",
            responses={404: {"description": "no such SKU or customer"}})
async def preview(ctx: Ctx, user: StaffUser,
                  sku_id: Annotated[int, Query(ge=1, le=MAX_ID)],
                  quantity: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                  customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                                           description="none: anonymous list price")] = None,
                  on: Annotated[date | None, Query(description="the day priced; default today (UTC)")] = None,
                  ) -> PricePreview:
    return await admin.preview(ctx, customer_id=customer_id, sku_id=sku_id,
                               quantity=quantity, on=on or business_day())
