"""The cart page and its forms, and checkout.

"Add to cart" (catalog, product page; `mode=add`) ADDS to the units a line already holds,
as shoppers expect, through cart.add_lines (one transaction on the locked cart, so two adds
at once both count). The cart page's quantity box (`mode=set`) SETS a line through
cart.set_line, as POST /api/cart does; 0 removes the line.

Checkout is double-submit safe: the cart page renders a fresh idempotency key into the
form, and the same key reaches checkout.checkout as the API's Idempotency-Key header does,
so a second submit gets the first order back. A short line re-renders the cart (409) with
one message per short line; the cart is unchanged (checkout is all or nothing)."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.errors import DomainError, ValidationFailed
from stockline.inventory.allocation import InsufficientStock
from stockline.kernel.context import Ctx, context_of
from stockline.kernel.identity import CurrentUser
from stockline.ordering import cart, checkout
from stockline.web.customer.forms import read_id, read_quantity, refusal, shortage
from stockline.web.render import form_text, local_path, money, redirect, render
from stockline.web.session import CsrfChecked, CustomerPage

router = APIRouter(include_in_schema=False)
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # what the API accepts as an Idempotency-Key


async def _cart_page(request: Request, user: CurrentUser, *, error: str | None = None,
                     shortages: list[dict] | None = None, typed: dict[int, str] | None = None,
                     status_code: int = 200) -> Response:
    """The cart; `shortages` ({sku_id, requested, available}) become one message per line,
    `typed` keeps what the customer typed into a line's quantity box."""
    ctx = context_of(request)
    current = await cart.get_cart(ctx, user)
    names = {line["sku_id"]: f"{line['product_name']} ({line['sku_code']})" for line in current["items"]}
    short = [shortage(line, names.get(line["sku_id"], f"SKU {line['sku_id']}")) for line in shortages or []]
    return render(request, "customer/cart.html", {
        "section": "cart", "cart": current, "error": error, "short": short,
        "short_skus": {line["sku_id"] for line in shortages or []}, "typed": typed or {},
        "idempotency_key": uuid.uuid4().hex}, status_code=status_code)


@router.get("/cart")
async def cart_page(request: Request, user: CustomerPage) -> Response:
    return await _cart_page(request, user)


@router.post("/cart/lines", dependencies=[CsrfChecked])
async def cart_line(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    """Add units to a line (`mode=add`, from the catalog) or set its quantity (the cart)."""
    form = await request.form()
    adding = form_text(form, "mode") == "add"
    back = local_path(form_text(form, "next"), "/cart")
    sku_id = read_id(form_text(form, "sku_id"))
    typed = form_text(form, "quantity")
    if sku_id is None:
        return redirect(request, back, error="Choose a product from the catalog")
    try:
        quantity = read_quantity(typed, minimum=1 if adding else 0)
    except ValidationFailed as exc:
        if adding:
            return redirect(request, back, error=exc.message)
        return await _cart_page(request, user, error=exc.message, typed={sku_id: typed}, status_code=422)
    if adding:
        added = await cart.add_lines(ctx, user, {sku_id: quantity},
                                     all_or_nothing=True)
        line = added.lines[0]
        if not added.written:
            return redirect(request, back, error=refusal(line))
        return redirect(request, back, notice=f"Added {quantity:,} × {line.product_name} ({line.sku_code}) "
                                              f"to your cart; it holds {line.total:,} now.")
    try:
        updated = await cart.set_line(ctx, user, sku_id=sku_id, quantity=quantity)
    except DomainError as exc:
        kept = {sku_id: typed}
        if isinstance(exc, InsufficientStock):
            return await _cart_page(request, user, shortages=exc.details["lines"], typed=kept,
                                    status_code=409)
        return await _cart_page(request, user, error=exc.message, typed=kept, status_code=exc.status)
    line = next((line for line in updated["items"] if line["sku_id"] == sku_id), None)
    if line is None:
        return redirect(request, "/cart", notice="The line is removed from your cart.")
    return redirect(request, "/cart", notice=f"{line['product_name']}: {quantity:,} in your cart, "
                                             f"{money(line['line_total'])} for the line.")


@router.post("/cart/lines/{sku_id}/remove", dependencies=[CsrfChecked])
async def remove_line(request: Request, ctx: Ctx, sku_id: str, user: CustomerPage) -> Response:
    number = read_id(sku_id)
    try:
        if number is None:
            raise ValidationFailed("That product is not in your cart")
        await cart.remove_line(ctx, user, number)
    except DomainError:
        return redirect(request, "/cart", error="That product was not in your cart (any more).")
    return redirect(request, "/cart", notice="The line is removed from your cart.")


@router.post("/cart/clear", dependencies=[CsrfChecked])
async def clear_cart(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    await cart.clear(ctx, user)
    return redirect(request, "/cart", notice="Your cart is empty now.")


@router.post("/checkout", dependencies=[CsrfChecked])
async def check_out(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    form = await request.form()
    key = form_text(form, "idempotency_key")
    if not _KEY.match(key):
        return redirect(request, "/cart", error="This order form is out of date; check your cart and place "
                                                "the order again.")
    try:
        placed = await checkout.checkout(ctx, user,
                                         idempotency_key=key)
    except InsufficientStock as exc:
        return await _cart_page(request, user, shortages=exc.details["lines"], status_code=409)
    except DomainError as exc:
        if exc.code == "idempotency_key_reused":  # an old cart page sent again after the cart changed
            return redirect(request, "/cart", error=f"This order form was already used for order "
                                                    f"#{exc.details['order_id']}; check your cart and place "
                                                    "the order again.")
        return redirect(request, "/cart", error=exc.message)
    order = placed.order
    if placed.replayed:
        notice = f"Order #{order['order_id']} was already placed; it is shown below."
    else:
        lines = len({item["sku_id"] for item in order["items"]})
        notice = (f"Thank you: order #{order['order_id']} is placed ({lines} line{'s' if lines != 1 else ''},"
                  f" {order['total_units']:,} units, total {money(order['total_amount'])}).")
    return redirect(request, f"/orders/{order['order_id']}", notice=notice)
