"""Tax classes and their rates: staff may read them, only admins change them; no SQL here."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Response

from stockline.auth.dependencies import AdminUser, StaffUser
from stockline.kernel.context import Ctx
from stockline.pagination import Paging
from stockline.tax import service
from stockline.tax.schemas import (
    TAX_CLASS_CODE,
    RateCreate,
    TaxClassCreate,
    TaxClassPage,
    TaxClassRead,
    TaxClassUpdate,
)

router = APIRouter(prefix="/api/admin", tags=["tax"])

ClassCode = Annotated[str, Path(min_length=1, max_length=32, pattern=TAX_CLASS_CODE,
                                description="the class's code, like standard")]
RateDay = Annotated[date, Path(description="the first day of the scheduled rate (YYYY-MM-DD)")]
_NO_CLASS = {404: {"description": "no such tax class"}}
_BAD_RATE = {422: {"description": "a rate outside 0-100 or with more than two decimal places"}}


@router.get("/tax-classes", summary="Tax classes with their rates, the rate in force today and SKU counts")
async def list_classes(ctx: Ctx, user: StaffUser, paging: Paging) -> TaxClassPage:
    return await service.list_classes(ctx, paging)


@router.post("/tax-classes", status_code=201, summary="Add a tax class with its rate since always",
             responses={409: {"description": "the code is taken (tax_class_exists)"}} | _BAD_RATE)
async def create_class(body: TaxClassCreate, ctx: Ctx, user: AdminUser) -> TaxClassRead:
    return await service.create_class(ctx, user, tax_class=body.tax_class, name=body.name, rate=body.rate)


@router.get("/tax-classes/{tax_class}", summary="One tax class", responses=_NO_CLASS)
async def get_class(tax_class: ClassCode, ctx: Ctx, user: StaffUser) -> TaxClassRead:
    return await service.get_class(ctx, tax_class)


@router.patch("/tax-classes/{tax_class}", summary="Rename a tax class", responses=_NO_CLASS)
async def rename_class(tax_class: ClassCode, body: TaxClassUpdate, ctx: Ctx, user: AdminUser) -> TaxClassRead:
    return await service.rename_class(ctx, user, tax_class, body.name)


@router.delete("/tax-classes/{tax_class}", status_code=204,
               summary="Delete a tax class no SKU is in (orders keep the rates they stored)",
               responses=_NO_CLASS | {409: {
                   "description": "SKUs are in it (tax_class_in_use, details.sku_count), or it is the "
                                  "default 'zero' class (tax_class_is_default)"}})
async def delete_class(tax_class: ClassCode, ctx: Ctx, user: AdminUser) -> Response:
    await service.delete_class(ctx, user, tax_class)
    return Response(status_code=204)


@router.post("/tax-classes/{tax_class}/rates", status_code=201,
             summary="Schedule a rate change from a day after today (UTC)",
             responses=_NO_CLASS | {
                 409: {"description": "the class already has a rate from that day (tax_rate_exists): "
                                      "cancel it first"},
                 422: {"description": "valid_from is today or earlier (tax_rate_in_force: history is "
                                      "never rewritten), or the rate is outside 0-100 or has more than "
                                      "two places"}})
async def schedule_rate(tax_class: ClassCode, body: RateCreate, ctx: Ctx, user: AdminUser) -> TaxClassRead:
    return await service.schedule_rate(ctx, user, tax_class, rate=body.rate, valid_from=body.valid_from)


@router.delete("/tax-classes/{tax_class}/rates/{valid_from}", status_code=204,
               summary="Cancel a scheduled rate (one not yet in force)",
               responses={404: {"description": "no such class, or it has no rate from that day"},
                          409: {"description": "the rate is in force already (tax_rate_in_force)"}})
async def cancel_rate(tax_class: ClassCode, valid_from: RateDay, ctx: Ctx, user: AdminUser) -> Response:
    await service.cancel_rate(ctx, user, tax_class, valid_from)
    return Response(status_code=204)
