"""Placing orders: checking out a cart, and direct orders of one line.

One transaction per order (see `_place`): lock the SKUs in ascending sku_id order, re-read
their sellable batches under the lock, allocate every line FEFO (all or nothing), price each
line with the one pricing function, write the order, its items (one per batch drawn from)
and the `sale` movements. The catalog version is bumped after commit.

An Idempotency-Key makes a retry return the first order (200) instead of placing another;
the same key with a different request is 409. Keys are per customer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from stockline import db
from stockline.auth.service import CurrentUser
from stockline.catalog.version import CatalogVersion
from stockline.config import Settings
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.inventory import ledger
from stockline.inventory.allocation import allocate_fefo
from stockline.inventory.expiry import business_day, sellable_after
from stockline.ordering.orders import read_order
from stockline.pricing import repo as pricing_repo
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)
_KEY_CONSTRAINT = "orders_customer_idempotency_key"
# the insert_order query's item arrays, in the order each item tuple holds them
_ITEM_COLUMNS = ("sku_ids", "batch_ids", "quantities", "base_prices", "discounts", "sale_prices",
                 "unit_costs", "rule_ids")


@dataclass(frozen=True)
class PlacedOrder:
    order: dict[str, Any]
    replayed: bool  # True: an Idempotency-Key retry answered with the order placed before


def _fingerprint(kind: str, customer_id: int, lines: dict[int, int]) -> str:
    canonical = json.dumps([kind, customer_id, sorted(lines.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _earlier_order(conn: psycopg.AsyncConnection, customer_id: int, key: str | None,
                         fingerprint: str, *, empty_request: bool = False) -> int | None:
    """The order an idempotency key was first used for; 409 when it was for another request.
    A repeated checkout finds the cart emptied by the first one (`empty_request`): that is
    a retry too."""
    if key is None:
        return None
    row = await db.fetch_one(conn, Q["order_by_idempotency_key"],
                             {"customer_id": customer_id, "idempotency_key": key})
    if row is None:
        return None
    if row["request_hash"] != fingerprint and not empty_request:
        raise Conflict("This Idempotency-Key was already used for a different order",
                       code="idempotency_key_reused", details={"order_id": row["order_id"]})
    return row["order_id"]


async def _place(conn: psycopg.AsyncConnection, settings: Settings, *, customer_id: int, user_id: int,
                 lines: dict[int, int], key: str | None, fingerprint: str) -> int:
    """Allocate, price and write one order inside the caller's transaction; its id."""
    today = business_day()
    on_sale = await ledger.lock_skus(conn, lines)
    missing = sorted(set(lines) - set(on_sale))
    if missing:
        raise NotFound(f"No SKU {', '.join(map(str, missing))}", details={"sku_ids": missing})
    selling = [sku_id for sku_id in lines if on_sale[sku_id]]
    batches = await ledger.sellable_batches(conn, selling, sellable_after(settings, today))
    allocations = allocate_fefo(lines, batches)  # a SKU no longer on sale has no batches: short
    prices = await pricing_repo.price_lines(conn, lines=lines, customer_id=customer_id, on=today)
    total = Decimal("0.00")
    item_rows = []
    for sku_id, taken in allocations.items():
        price = prices[sku_id]
        total += price["line_total"]
        item_rows += [
            (sku_id, a.batch.batch_id, a.quantity, price["base_price"], price["discount_percentage"],
             price["unit_price"], a.batch.cost_price, price["rule_id"])
            for a in taken]
    columns = zip(*item_rows, strict=True)
    items = {name: list(values) for name, values in zip(_ITEM_COLUMNS, columns, strict=True)}
    row = await db.fetch_one(conn, Q["insert_order"], {
        "customer_id": customer_id, "user_id": user_id, "total_amount": total, "idempotency_key": key,
        "request_hash": fingerprint, **items})
    order_id = row["order_id"]
    await ledger.record_movements(conn, [
        ledger.Movement(batch_id, -quantity, "sale", order_id, user_id)
        for batch_id, quantity in zip(items["batch_ids"], items["quantities"], strict=True)])
    return order_id


async def _run(pool: AsyncConnectionPool, versions: CatalogVersion, settings: Settings, work,
               customer_id: int) -> PlacedOrder:
    """Run a placing transaction; a race on the idempotency key (two users of one customer
    at once) runs it again, when it finds the winner's order."""
    async def after_commit(conn: psycopg.AsyncConnection, outcome: tuple[int, bool]) -> PlacedOrder:
        order_id, replayed = outcome
        if not replayed:
            await versions.announce_change(conn)
        return PlacedOrder(await read_order(conn, order_id, customer_id=customer_id), replayed)

    for _ in range(2):
        try:
            return await db.run_transaction(pool, work, attempts=settings.db_tx_retries,
                                            after_commit=after_commit)
        except Conflict as exc:
            if not (isinstance(exc.details, dict) and exc.details.get("constraint") == _KEY_CONSTRAINT):
                raise
    raise Conflict("This Idempotency-Key is being used by another request; retry",
                   code="idempotency_key_busy")


async def checkout(pool: AsyncConnectionPool, versions: CatalogVersion, settings: Settings, user: CurrentUser,
                   *, idempotency_key: str | None) -> PlacedOrder:
    """Turn the user's cart into one order and empty the cart."""
    customer_id = user.customer_id
    assert customer_id is not None, "checkout is for customers' users"

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, bool]:
        rows = await db.fetch_all(conn, Q["lock_cart"], {"user_id": user.user_id})
        lines = {row["sku_id"]: row["quantity"] for row in rows if row["sku_id"] is not None}
        fingerprint = _fingerprint("checkout", customer_id, lines)
        earlier = await _earlier_order(conn, customer_id, idempotency_key, fingerprint,
                                       empty_request=not lines)
        if earlier is not None:
            return earlier, True
        if not lines:
            raise ValidationFailed("Your cart is empty", code="cart_empty")
        order_id = await _place(conn, settings, customer_id=customer_id, user_id=user.user_id, lines=lines,
                                key=idempotency_key, fingerprint=fingerprint)
        await db.execute(conn, Q["clear_cart"], {"user_id": user.user_id})
        return order_id, False

    return await _run(pool, versions, settings, work, customer_id)


async def place_direct_order(pool: AsyncConnectionPool, versions: CatalogVersion, settings: Settings,
                             user: CurrentUser, *, customer_id: int, sku_id: int, quantity: int,
                             idempotency_key: str | None) -> PlacedOrder:
    """One line ordered at once, bypassing the cart. `customer_id` is the caller's own for a
    customer's user; staff name the customer they order for."""
    lines = {sku_id: quantity}
    fingerprint = _fingerprint("order", customer_id, lines)

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, bool]:
        earlier = await _earlier_order(conn, customer_id, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier, True
        if not (await db.fetch_one(conn, Q["customer_exists"], {"customer_id": customer_id}))["found"]:
            raise NotFound(f"No customer {customer_id}")
        order_id = await _place(conn, settings, customer_id=customer_id, user_id=user.user_id, lines=lines,
                                key=idempotency_key, fingerprint=fingerprint)
        return order_id, False

    return await _run(pool, versions, settings, work, customer_id)
