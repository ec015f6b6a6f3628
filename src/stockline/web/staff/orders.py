"""Back-office order pages (staff or admin, as /api/admin/orders): every customer's orders,
one order with its batches, costs and profit, and the status buttons. The buttons offered
come from the lifecycle's own table (ordering.orders.TRANSITIONS); the move itself is
ordering.orders.change_status, which refuses anything else."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from stockline.errors import DomainError, ValidationFailed
from stockline.kernel.context import Context, Ctx
from stockline.ordering import orders
from stockline.ordering.schemas import Status
from stockline.web.forms import REFUSED, paging, texts, validated
from stockline.web.render import form_text, redirect, render
from stockline.web.session import CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
OrderId = Annotated[int, Path(ge=1, le=9_223_372_036_854_775_807)]

# what each button says; the statuses offered are TRANSITIONS[current status]
ACTIONS = {"processed": "Mark as processed", "shipped": "Mark as shipped", "cancelled": "Cancel order"}


class OrderFilters(BaseModel):
    """The filters of GET /api/admin/orders."""
    model_config = ConfigDict(extra="ignore")
    status: Status | None = None
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    date_from: date | None = None
    date_to: date | None = None


FILTER_LABELS = {"status": "Status", "customer_id": "Customer number", "date_from": "From",
                 "date_to": "To"}


@router.get("/staff/orders")
async def order_list(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    query = request.query_params
    raw = texts(query, tuple(FILTER_LABELS))
    context: dict[str, Any] = {"section": "orders", "filters": raw, "statuses": orders.STATUSES,
                               "result": None, "error": None}
    status_code = 200
    try:
        filters = validated(OrderFilters, raw, FILTER_LABELS)
        context["result"] = await orders.all_orders(
            ctx, paging(query.get("page")), status=filters.status,
            customer_id=filters.customer_id, date_from=filters.date_from, date_to=filters.date_to)
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    context["filtered"] = any(raw.values())
    return render(request, "staff/orders.html", context, status_code=status_code)


async def _detail(request: Request, ctx: Context, order_id: int, *, error: str | None = None,
                  status_code: int = 200) -> Response:
    order = await orders.get_order(ctx, order_id, customer_id=None, include_costs=True)
    moves = sorted(orders.TRANSITIONS[order["status"]], key=lambda status: status == "cancelled")
    return render(request, "staff/order_detail.html", {
        "section": "orders", "order": order, "error": error,
        "actions": [(status, ACTIONS[status]) for status in moves],
        "batches": len({item["batch_id"] for item in order["items"]}),
    }, status_code=status_code)


@router.get("/staff/orders/{order_id}")
async def order_detail(request: Request, ctx: Ctx, order_id: OrderId, user: StaffPage) -> Response:
    return await _detail(request, ctx, order_id)


@router.post("/staff/orders/{order_id}/status", dependencies=[CsrfChecked])
async def order_status(request: Request, ctx: Ctx, order_id: OrderId, user: StaffPage) -> Response:
    form = await request.form()
    new_status = form_text(form, "status")
    try:
        if new_status not in orders.STATUSES:
            raise ValidationFailed(f"Choose a status: {', '.join(orders.STATUSES)}")
        order = await orders.change_status(ctx,
                                           order_id=order_id, new_status=new_status, actor=user)
    except REFUSED as exc:
        return await _detail(request, ctx, order_id, error=exc.message, status_code=exc.status)
    notice = f"Order {order_id} is now {new_status}."
    if new_status == "cancelled":
        notice = (f"Order {order_id} is cancelled; its {order['total_units']:,} units went back to the "
                  "batches they came from.")
    return redirect(request, f"/staff/orders/{order_id}", notice=notice)
