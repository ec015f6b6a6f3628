"""HTTP routes of carts, checkout and a customer's orders (no SQL here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from stockline.auth.dependencies import AnyUser, CustomerUser
from stockline.errors import ValidationFailed
from stockline.kernel.context import Ctx
from stockline.ordering import cart, checkout, orders
from stockline.ordering.schemas import Cart, CartLineSet, DirectOrderCreate, Order, OrderPage, Status
from stockline.pagination import Paging

router = APIRouter(prefix="/api", tags=["ordering"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
    description="repeat a request with the same key to get the first answer instead of a second order")]
SkuId = Annotated[int, Path(ge=1, le=2_147_483_647)]
OrderId = Annotated[int, Path(ge=1, le=9_223_372_036_854_775_807)]
# OpenAPI links: where a placed order's order_id leads (clients and the stateful fuzz follow them)
_ORDER_LINKS = {
    "GetMyOrder": {"operationRef": "#/paths/~1api~1my-orders~1{order_id}/get",
                   "parameters": {"order_id": "$response.body#/order_id"}},
    "CancelMyOrder": {"operationRef": "#/paths/~1api~1my-orders~1{order_id}~1cancel/post",
                      "parameters": {"order_id": "$response.body#/order_id"}},
}
_PLACED = {201: {"description": "order placed", "links": _ORDER_LINKS},
           200: {"description": "the same Idempotency-Key again: the order placed the first time",
                 "links": _ORDER_LINKS},
           409: {"description": "a line is short (every short line listed), or the key was used for "
                                "another request"}}


def _placed(response: Response, placed: checkout.PlacedOrder) -> dict:
    response.status_code = 200 if placed.replayed else 201
    return placed.order


@router.get("/cart", summary="Your cart, priced live for each line's quantity")
async def get_cart(ctx: Ctx, user: CustomerUser) -> Cart:
    return await cart.get_cart(ctx, user)


@router.post("/cart", summary="Set a line's quantity (0 removes it)",
             responses={404: {"description": "no such SKU on sale"},
                        409: {"description": "more than is available (sku_id, requested, available)"}})
async def set_cart_line(body: CartLineSet, ctx: Ctx, user: CustomerUser) -> Cart:
    return await cart.set_line(ctx, user, sku_id=body.sku_id, quantity=body.quantity)


@router.delete("/cart/items/{sku_id}", summary="Remove a line",
               responses={404: {"description": "not in the cart"}})
async def remove_cart_line(sku_id: SkuId, ctx: Ctx, user: CustomerUser) -> Cart:
    return await cart.remove_line(ctx, user, sku_id)


@router.delete("/cart", summary="Empty the cart")
async def clear_cart(ctx: Ctx, user: CustomerUser) -> Cart:
    return await cart.clear(ctx, user)


@router.post("/checkout", status_code=201, summary="Order the cart (FEFO, all or nothing)", responses=_PLACED)
async def check_out(ctx: Ctx, response: Response, user: CustomerUser,
                    idempotency_key: IdempotencyKey = None) -> Order:
    placed = await checkout.checkout(ctx, user,
                                     idempotency_key=idempotency_key)
    return _placed(response, placed)


@router.post("/orders", status_code=201, summary="Order one SKU directly (FEFO)",
             responses=_PLACED | {404: {"description": "no such SKU, or (staff) no such customer"}})
async def place_order(body: DirectOrderCreate, ctx: Ctx, response: Response, user: AnyUser,
                      idempotency_key: IdempotencyKey = None) -> Order:
    if user.is_staff:
        if body.customer_id is None:
            raise ValidationFailed("Staff must name the customer_id the order is for")
        customer_id = body.customer_id
    else:
        customer_id = user.customer_id  # never the body's: a customer orders for itself only
    placed = await checkout.place_direct_order(
        ctx, user, customer_id=customer_id, sku_id=body.sku_id,
        quantity=body.quantity, idempotency_key=idempotency_key)
    return _placed(response, placed)


@router.get("/my-orders", summary="Your customer's orders, newest first")
async def my_orders(ctx: Ctx, user: CustomerUser, paging: Paging,
                    status: Annotated[Status | None, Query()] = None) -> OrderPage:
    return await orders.customer_orders(ctx, user.customer_id, paging, status)


@router.get("/my-orders/{order_id}", summary="One of your orders with its batches and expiry dates",
            responses={404: {"description": "no such order of yours"}})
async def my_order(order_id: OrderId, ctx: Ctx, user: CustomerUser) -> Order:
    return await orders.get_order(ctx, order_id, customer_id=user.customer_id)


@router.post("/my-orders/{order_id}/cancel",
             summary="Cancel a pending order; its units go back to their batches",
             responses={404: {"description": "no such order of yours"},
                        409: {"description": "the order is no longer pending"}})
async def cancel_my_order(order_id: OrderId, ctx: Ctx, user: CustomerUser) -> Order:
    return await orders.change_status(ctx, order_id=order_id,
                                      new_status="cancelled", actor=user)
