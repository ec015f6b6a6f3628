"""Placing orders: checking out a cart, and direct orders of one line.

An order is placed whole by one SQL function, `stockline_place_order()` in db/schema.sql:
cart and Idempotency-Key locked, lines priced by `stockline_price()`, SKUs locked in the
ledger's order, sellable batches read under the locks, first-expiry-first-out allocation
(all or nothing), order, items and `sale` movements written, cart emptied. This module
sends it in one round trip with BEGIN and COMMIT (see `db.run_transaction`), announces the
new catalog version, and turns the function's outcome into the answer or a domain error.
The answer is built from what the function returns, not read back.

An Idempotency-Key makes a retry return the first order (200) instead of placing another;
the same key with a different request is 409. Keys are per customer.

A customer with a credit limit is refused (409 credit_limit_exceeded) an order whose gross
would take their exposure (stockline_customer_exposure: unpaid invoices and orders not yet
invoiced) over it; the function checks it under the customer's row lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.inventory.allocation import InsufficientStock, Shortage
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.ordering.orders import order_document, read_order
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


@dataclass(frozen=True)
class PlacedOrder:
    order: dict[str, Any]
    replayed: bool  # True: an Idempotency-Key retry answered with the order placed before


def _placed_order(outcome: dict[str, Any]) -> dict[str, Any]:
    """The answer of a placed order, from the function's header and item columns (money
    exact), in the shape orders.order_document reads."""
    header = outcome["order"] | {"order_date": datetime.fromisoformat(outcome["order"]["order_date"]),
                                 "updated_at": datetime.fromisoformat(outcome["order"]["updated_at"])}
    columns = outcome["items"]
    item_ids = dict(zip(outcome["written"]["batch_id"], outcome["written"]["order_item_id"], strict=True))
    items = []
    for values in zip(*columns.values(), strict=True):
        item = dict(zip(columns, values, strict=True))
        items.append(item | {"order_item_id": item_ids[item["batch_id"]],
                             "expiry_date": date.fromisoformat(item["expiry_date"]),
                             "line_total": item["sale_price"] * item["quantity"]})
    return order_document(header, items, customer_scoped=True)


def _refusal(outcome: dict[str, Any], customer_id: int) -> Exception:
    match outcome["outcome"]:
        case "key_reused":
            return Conflict("This Idempotency-Key was already used for a different order",
                            code="idempotency_key_reused", details={"order_id": outcome["order_id"]})
        case "cart_empty":
            return ValidationFailed("Your cart is empty", code="cart_empty")
        case "no_customer":
            return NotFound(f"No customer {customer_id}")
        case "no_sku":
            missing = outcome["sku_ids"]
            return NotFound(f"No SKU {', '.join(map(str, missing))}", details={"sku_ids": missing})
        case "short":
            return InsufficientStock([Shortage(**line) for line in outcome["lines"]])
        case "credit_limit":
            return Conflict("This order would take the account over its credit limit; nothing was ordered",
                            code="credit_limit_exceeded",
                            details={"limit": money(outcome["limit"]), "exposure": money(outcome["exposure"]),
                                     "order_total": money(outcome["order_total"])})
    raise AssertionError(f"unknown outcome {outcome['outcome']!r}")


async def _place(ctx: Context, *, user: CurrentUser,
                 customer_id: int, lines: dict[int, int] | None, key: str | None,
                 batch_id: int | None = None) -> PlacedOrder:
    """One call of stockline_place_order (lines None: the user's cart; batch_id: only from
    that batch), COMMIT sent with it."""
    today = business_day()
    query = Q["place_order"] if batch_id is None else Q["place_batch_order"]
    params = {"batch_id": batch_id,
              "user_id": user.user_id, "customer_id": customer_id, "key": key, "today": today,
              "sellable_after": sellable_after(ctx.settings, today),
              "skus": None if lines is None else list(lines), "quantities": None if lines is None else
              list(lines.values())}

    async def work(conn: psycopg.AsyncConnection) -> db.Pending:
        return await db.send(conn, query, params)  # its answer is read after COMMIT

    async def after_commit(conn: psycopg.AsyncConnection, sent: db.Pending) -> PlacedOrder:
        # a refusal wrote nothing, so committing it changed nothing
        outcome = json.loads((await sent.one())["outcome"], parse_float=Decimal)
        if outcome["outcome"] == "placed":
            return PlacedOrder(_placed_order(outcome), replayed=False)
        if outcome["outcome"] == "replayed":
            earlier = await read_order(conn, outcome["order_id"], customer_id=customer_id)
            return PlacedOrder(earlier, replayed=True)
        raise _refusal(outcome, customer_id)

    placed = await ctx.transaction(work, after_commit=after_commit)
    if not placed.replayed:  # committed: stock changed
        await ctx.versions.announce_committed_change(ctx.pool)
    return placed


async def checkout(ctx: Context, user: CurrentUser,
                   *, idempotency_key: str | None) -> PlacedOrder:
    """Turn the user's cart into one order and empty the cart."""
    assert user.customer_id is not None, "checkout is for customers' users"
    return await _place(ctx, user=user, customer_id=user.customer_id, lines=None,
                        key=idempotency_key)


async def place_direct_order(ctx: Context,
                             user: CurrentUser, *, customer_id: int, sku_id: int, quantity: int,
                             idempotency_key: str | None) -> PlacedOrder:
    """One line ordered at once, bypassing the cart. `customer_id` is the caller's own for a
    customer's user; staff name the customer they order for."""
    return await _place(ctx, user=user, customer_id=customer_id,
                        lines={sku_id: quantity}, key=idempotency_key)


async def place_batch_order(ctx: Context, user: CurrentUser, *, customer_id: int, batch_id: int,
                            quantity: int, idempotency_key: str | None) -> PlacedOrder:
    """A direct order of `quantity` units from one batch (of its SKU, at the SKU's price for
    the customer), under every rule a direct order follows: the batch must be sellable (not
    expired), the SKU lock serialises concurrent orders, the sale goes through the ledger.
    Short: InsufficientStock (409). No such batch: 404."""
    async with ctx.pool.connection() as conn:
        row = await db.fetch_one(conn, Q["batch_sku"], {"batch_id": batch_id})
    if row is None:
        raise NotFound(f"No batch {batch_id}")
    return await _place(ctx, user=user, customer_id=customer_id, lines={row["sku_id"]: quantity},
                        key=idempotency_key, batch_id=batch_id)
