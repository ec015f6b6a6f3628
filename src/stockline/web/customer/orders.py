"""My orders: the list, one order with the batches each line was filled from, cancelling a
pending order (orders.change_status, as POST /api/my-orders/{id}/cancel) and ordering
again (the order's lines added to the cart through cart.add_lines: lines no longer sold
or short are named, the others are added)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.errors import Conflict, NotFound
from stockline.kernel.context import Ctx
from stockline.ordering import cart, orders
from stockline.pagination import PageRequest
from stockline.web.customer.forms import read_id, refusal, whole_number
from stockline.web.render import redirect, render
from stockline.web.session import CsrfChecked, CustomerPage

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
MAX_ORDER_ID = 9_223_372_036_854_775_807


def _order_id(text: str) -> int:
    number = read_id(text, maximum=MAX_ORDER_ID)
    if number is None:
        raise NotFound(f"No order {text}")
    return number


def order_lines(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An order's items (one per batch drawn from) as its lines, each with its allocations."""
    lines: dict[int, dict[str, Any]] = {}
    for item in items:
        line = lines.setdefault(item["sku_id"], {
            "sku_id": item["sku_id"], "sku_code": item["sku_code"], "product_name": item["product_name"],
            "package_size": item["package_size"], "unit_type": item["unit_type"], "quantity": 0,
            "base_price": item["base_price"], "sale_price": item["sale_price"],
            "discount_percentage": item["discount_percentage"], "allocations": []})
        line["quantity"] += item["quantity"]
        line["allocations"].append(item)
    for line in lines.values():
        line["line_total"] = sum_money(item["line_total"] for item in line["allocations"])
    return list(lines.values())


def sum_money(amounts: Any) -> str:
    return str(sum((Decimal(amount) for amount in amounts), Decimal("0.00")))


def _listed(messages: list[str], shown: int = 5) -> str:
    """Messages joined, the first few only (a flash message travels in a cookie)."""
    more = len(messages) - shown
    tail = f"; and {more} more line{'s' if more != 1 else ''}" if more > 0 else ""
    return "; ".join(messages[:shown]) + tail


@router.get("/orders")
async def orders_page(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    status = request.query_params.get("status") or None
    if status not in (None, *orders.STATUSES):
        status = None
    paging = PageRequest(whole_number(request.query_params.get("page"), 1, maximum=100_000), PAGE_SIZE)
    page = await orders.customer_orders(ctx, user.customer_id, paging, status)
    return render(request, "customer/orders.html", {"section": "orders", "orders": page, "status": status,
                                                    "statuses": orders.STATUSES})


@router.get("/orders/{order_id}")
async def order_page(request: Request, ctx: Ctx, order_id: str, user: CustomerPage) -> Response:
    order = await orders.get_order(ctx, _order_id(order_id), customer_id=user.customer_id)
    return render(request, "customer/order.html", {"section": "orders", "order": order,
                                                   "lines": order_lines(order["items"])})


@router.post("/orders/{order_id}/cancel", dependencies=[CsrfChecked])
async def cancel_order(request: Request, ctx: Ctx, order_id: str, user: CustomerPage) -> Response:
    number = _order_id(order_id)
    try:
        await orders.change_status(ctx, order_id=number,
                                   new_status="cancelled", actor=user)
    except Conflict as exc:
        status = (exc.details or {}).get("from", "no longer pending")
        return redirect(request, f"/orders/{number}",
                        error=f"Order #{number} is {status}, so it can no longer be cancelled here. "
                              "Please contact us if you need to change it.")
    return redirect(request, f"/orders/{number}",
                    notice=f"Order #{number} is cancelled; its stock is released.")


@router.post("/orders/{order_id}/reorder", dependencies=[CsrfChecked])
async def reorder(request: Request, ctx: Ctx, order_id: str, user: CustomerPage) -> Response:
    number = _order_id(order_id)
    order = await orders.get_order(ctx, number, customer_id=user.customer_id)
    wanted = {line["sku_id"]: line["quantity"] for line in order_lines(order["items"])}
    added = await cart.add_lines(ctx, user, wanted, all_or_nothing=False)
    refused = _listed([refusal(line) for line in added.refused])
    if not added.written:
        return redirect(request, f"/orders/{number}",
                        error=f"Nothing from order #{number} could be added to your cart. {refused}.")
    count = len(added.lines) - len(added.refused)
    notice = f"Added {count} line{'s' if count != 1 else ''} of order #{number} to your cart."
    return redirect(request, "/cart", notice=notice,
                    error=f"Not added: {refused}." if refused else None)
