"""Back-office order routes (staff or admin): every customer's orders and their lifecycle."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from stockline.auth.dependencies import StaffUser
from stockline.kernel.context import Ctx
from stockline.ordering import orders
from stockline.ordering.schemas import Status
from stockline.pagination import Paging

router = APIRouter(prefix="/api/admin", tags=["order management"])
OrderId = Annotated[int, Path(ge=1, le=9_223_372_036_854_775_807)]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status


@router.get("/orders", summary="Orders of every customer, newest first, with cost and profit")
async def list_orders(
    ctx: Ctx, user: StaffUser, paging: Paging, status: Status | None = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    date_from: Annotated[date | None, Query(description="first order day (UTC), inclusive")] = None,
    date_to: Annotated[date | None, Query(description="last order day (UTC), inclusive")] = None,
) -> dict:
    return await orders.all_orders(ctx, paging, status=status, customer_id=customer_id,
                                   date_from=date_from, date_to=date_to)


@router.get("/orders/{order_id}", summary="One order: every allocation with batch, cost, price and profit",
            responses={404: {"description": "not found"}})
async def get_order(order_id: OrderId, ctx: Ctx, user: StaffUser) -> dict:
    return await orders.get_order(ctx, order_id, customer_id=None, include_costs=True)


@router.post("/orders/{order_id}/status",
             summary="Move an order: pending → processed → shipped; cancelling restocks",
             responses={404: {"description": "not found"}, 409: {"description": "not an allowed transition"}})
async def change_status(order_id: OrderId, body: StatusChange, ctx: Ctx, user: StaffUser) -> dict:
    return await orders.change_status(ctx, order_id=order_id,
                                      new_status=body.status, actor=user)
