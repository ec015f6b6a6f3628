"""Placing orders: checking out a cart, and direct orders of one line.

One transaction per order: requests with the same Idempotency-Key queue on the key; a
checkout locks the cart, reads its lines and empties it; then (`_place`) each line is priced
with the one pricing function, the SKUs are locked in ascending sku_id order, their sellable
batches re-read under the lock and every line allocated FEFO (all or nothing), and the
order, its items (one per batch drawn from) and the `sale` movements are written. The
catalog version is bumped after commit.

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
# the insert_order query's item arrays, in the order each item tuple holds them
_ITEM_COLUMNS = ("sku_ids", "batch_ids", "quantities", "base_prices", "discounts", "sale_prices",
                 "unit_costs", "rule_ids")


@dataclass(frozen=True)
class PlacedOrder:
    order: dict[str, Any]
    replayed: bool  # True: an Idempotency-Key retry answered with the order placed before


def _fingerprint(kind: str, customer_id: int, lines: dict[int, int]) -> str:
    """What a request asked for, as `<kind>:<digest>`, kept with the order its key placed."""
    canonical = json.dumps([customer_id, sorted(lines.items())], separators=(",", ":"))
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


async def _earlier_order(conn: psycopg.AsyncConnection, customer_id: int, key: str | None,
                         fingerprint: str, *, emptied_cart: bool = False) -> int | None:
    """The order an idempotency key was first used for (None: unused, or no key); 409 when it
    was used for another request. Requests with the same key wait here for each other. A
    checkout retried after the first one emptied the cart (`emptied_cart`) is a retry of any
    earlier checkout with that key."""
    if key is None:
        return None
    params = {"customer_id": customer_id, "idempotency_key": key}
    await db.execute(conn, Q["lock_idempotency_key"], params)
    row = await db.fetch_one(conn, Q["order_by_idempotency_key"], params)
    if row is None:
        return None
    retried_checkout = emptied_cart and row["request_hash"].startswith("checkout:")
    if row["request_hash"] != fingerprint and not retried_checkout:
        raise Conflict("This Idempotency-Key was already used for a different order",
                       code="idempotency_key_reused", details={"order_id": row["order_id"]})
    return row["order_id"]


async def _place(conn: psycopg.AsyncConnection, settings: Settings, *, customer_id: int, user_id: int,
                 lines: dict[int, int], key: str | None, fingerprint: str) -> int:
    """Price, allocate and write one order inside the caller's transaction; its id. Pricing
    does not depend on stock, so it runs before the SKU locks are taken: the locks are held
    only while stock is read, allocated and written."""
    today = business_day()
    prices = await pricing_repo.price_lines(conn, lines=lines, customer_id=customer_id, on=today)
    on_sale = await ledger.lock_skus(conn, lines)
    missing = sorted(set(lines) - set(on_sale))
    if missing:
        raise NotFound(f"No SKU {', '.join(map(str, missing))}", details={"sku_ids": missing})
    selling = [sku_id for sku_id in lines if on_sale[sku_id]]
    batches = await ledger.sellable_batches(conn, selling, sellable_after(settings, today))
    allocations = allocate_fefo(lines, batches)  # a SKU no longer on sale has no batches: short
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
    """Run a placing transaction; after commit, bump the catalog version (stock changed) and
    read the order back."""
    async def after_commit(conn: psycopg.AsyncConnection, outcome: tuple[int, bool]) -> PlacedOrder:
        order_id, replayed = outcome
        if not replayed:
            await versions.announce_change(conn)
        return PlacedOrder(await read_order(conn, order_id, customer_id=customer_id), replayed)

    return await db.run_transaction(pool, work, attempts=settings.db_tx_retries, after_commit=after_commit)


async def checkout(pool: AsyncConnectionPool, versions: CatalogVersion, settings: Settings, user: CurrentUser,
                   *, idempotency_key: str | None) -> PlacedOrder:
    """Turn the user's cart into one order and empty the cart."""
    customer_id = user.customer_id
    assert customer_id is not None, "checkout is for customers' users"

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, bool]:
        cart = await db.fetch_one(conn, Q["lock_cart"], {"user_id": user.user_id})
        rows = await db.fetch_all(conn, Q["cart_items"], {"cart_id": cart["cart_id"]}) if cart else []
        lines = {row["sku_id"]: row["quantity"] for row in rows}
        fingerprint = _fingerprint("checkout", customer_id, lines)
        earlier = await _earlier_order(conn, customer_id, idempotency_key, fingerprint,
                                       emptied_cart=not lines)
        if earlier is not None:
            return earlier, True
        if not lines:
            raise ValidationFailed("Your cart is empty", code="cart_empty")
        # emptied first, outside the SKU locks; a refused order rolls this back with the rest
        await db.execute(conn, Q["clear_cart"], {"user_id": user.user_id})
        order_id = await _place(conn, settings, customer_id=customer_id, user_id=user.user_id, lines=lines,
                                key=idempotency_key, fingerprint=fingerprint)
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
