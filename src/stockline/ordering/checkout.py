"""Placing orders: checking out a cart, and direct orders of one line.

One transaction per order, in three round trips (statements sent together, see
`db.run_transaction`), eleven statements for a checkout:
1. BEGIN; draw the order id (begin_order); lock the cart (checkout) and the Idempotency-Key,
   and read the cart's lines;
2. price the lines with the one pricing function, lock the SKUs in ascending sku_id order
   (the ledger's rule) and read their sellable batches under those locks; then every line
   is allocated FEFO in Python (all or nothing);
3. write the order and its items (one per batch drawn from) emptying the cart, the `sale`
   movements through the ledger, COMMIT, and announce the new catalog version; the answer
   is built from what is already in hand, not read back.

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

from stockline import db
from stockline.auth.service import CurrentUser
from stockline.catalog.version import CatalogVersion
from stockline.config import Settings
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.inventory import ledger
from stockline.inventory.allocation import Allocation, allocate_fefo
from stockline.inventory.expiry import business_day, sellable_after
from stockline.ordering.orders import order_document, read_order
from stockline.pricing import repo as pricing_repo
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


@dataclass(frozen=True)
class PlacedOrder:
    order: dict[str, Any]
    replayed: bool  # True: an Idempotency-Key retry answered with the order placed before


@dataclass(frozen=True)
class _Written:
    """An order sent to the database with its transaction's COMMIT; `answer` is read after."""
    answer: db.Pending
    skus: dict[int, dict[str, Any]]  # lock_skus rows: code, name, package of each SKU
    prices: dict[int, dict[str, Any]]
    allocations: dict[int, list[Allocation]]


def _fingerprint(kind: str, customer_id: int, lines: dict[int, int]) -> str:
    """What a request asked for, as `<kind>:<digest>`, kept with the order its key placed."""
    canonical = json.dumps([customer_id, sorted(lines.items())], separators=(",", ":"))
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


async def _lock_key(conn: psycopg.AsyncConnection, customer_id: int, key: str | None) -> db.Pending | None:
    """Queue requests with the same idempotency key behind each other (until commit); the
    answer is the order the key was first used for, if any. None: no key."""
    if key is None:
        return None
    params = {"customer_id": customer_id, "idempotency_key": key}
    await db.send(conn, Q["lock_idempotency_key"], params)
    return await db.send(conn, Q["order_by_idempotency_key"], params)


def _earlier_order(row: dict[str, Any] | None, fingerprint: str, *, emptied_cart: bool = False) -> int | None:
    """The order an idempotency key was first used for (None: unused); 409 when it was used
    for another request. A checkout retried after the first one emptied the cart
    (`emptied_cart`) is a retry of any earlier checkout with that key."""
    if row is None:
        return None
    retried_checkout = emptied_cart and row["request_hash"].startswith("checkout:")
    if row["request_hash"] != fingerprint and not retried_checkout:
        raise Conflict("This Idempotency-Key was already used for a different order",
                       code="idempotency_key_reused", details={"order_id": row["order_id"]})
    return row["order_id"]


async def _place(conn: psycopg.AsyncConnection, settings: Settings, *, begun: db.Pending, customer_id: int,
                 user_id: int, lines: dict[int, int], key: str | None, fingerprint: str,
                 checked_out_by: int | None = None) -> _Written:
    """Price, lock, allocate and send the writes of one order inside the caller's
    transaction (`begun`: its begin_order; `checked_out_by`: the user whose cart the order
    empties). Pricing does not depend on stock, so it is sent before the SKU locks."""
    today = business_day()
    prices_sent = await pricing_repo.price_lines(conn, lines=lines, customer_id=customer_id, on=today)
    skus_sent = await ledger.lock_skus(conn, lines)
    batches_sent = await ledger.sellable_batches(conn, lines, sellable_after(settings, today))
    prices = {row["sku_id"]: row for row in await prices_sent.all()}
    skus = {row["sku_id"]: row for row in await skus_sent.all()}
    missing = sorted(set(lines) - set(skus))
    if missing:
        raise NotFound(f"No SKU {', '.join(map(str, missing))}", details={"sku_ids": missing})
    # a SKU no longer on sale offers no batches, so its line is short
    batches = [batch for batch in await batches_sent.all() if skus[batch.sku_id]["is_active"]]
    allocations = allocate_fefo(lines, batches)
    order_id = (await begun.one())["order_id"]
    taken = [(sku_id, a) for sku_id, drawn in allocations.items() for a in drawn]
    answer = await db.send(conn, Q["insert_order"], {
        "order_id": order_id, "checked_out_by": checked_out_by, "customer_id": customer_id,
        "user_id": user_id,
        "total_amount": sum((prices[sku_id]["line_total"] for sku_id in allocations), Decimal("0.00")),
        "idempotency_key": key, "request_hash": fingerprint,
        "sku_ids": [sku_id for sku_id, _ in taken], "batch_ids": [a.batch.batch_id for _, a in taken],
        "quantities": [a.quantity for _, a in taken],
        "base_prices": [prices[sku_id]["base_price"] for sku_id, _ in taken],
        "discounts": [prices[sku_id]["discount_percentage"] for sku_id, _ in taken],
        "sale_prices": [prices[sku_id]["unit_price"] for sku_id, _ in taken],
        "unit_costs": [a.batch.cost_price for _, a in taken],
        "rule_ids": [prices[sku_id]["rule_id"] for sku_id, _ in taken]})
    await ledger.record_movements(conn, [
        ledger.Movement(a.batch.batch_id, -a.quantity, "sale", order_id, user_id) for _, a in taken])
    return _Written(answer, skus, prices, allocations)


async def _answer(written: _Written) -> dict[str, Any]:
    """The placed order as `read_order` would show it, from what the transaction already
    holds and the insert's answer (ids, dates, names)."""
    header = await written.answer.one()
    item_ids = dict(zip(header["item_batch_ids"], header["item_ids"], strict=True))
    rows = []
    for sku_id, drawn in written.allocations.items():
        sku, price = written.skus[sku_id], written.prices[sku_id]
        rows += [{
            "order_item_id": item_ids[a.batch.batch_id], "sku_id": sku_id, "sku_code": sku["sku_code"],
            "product_name": sku["product_name"], "package_size": sku["package_size"],
            "unit_type": sku["unit_type"], "batch_id": a.batch.batch_id, "batch_no": a.batch.batch_no,
            "expiry_date": a.batch.expiry_date, "quantity": a.quantity, "base_price": price["base_price"],
            "discount_percentage": price["discount_percentage"], "sale_price": price["unit_price"],
            "line_total": price["unit_price"] * a.quantity, "unit_cost": a.batch.cost_price,
            "pricing_rule_id": price["rule_id"]} for a in drawn]
    return order_document(header, rows, customer_scoped=True)


async def _run(pool: db.Pool, versions: CatalogVersion, settings: Settings, work,
               customer_id: int) -> PlacedOrder:
    """Run a placing transaction. A new order announces a catalog version (stock changed)
    with its COMMIT and is answered from hand; a replayed one is read back."""
    async def after_commit(conn: psycopg.AsyncConnection, outcome: _Written | int) -> PlacedOrder:
        if isinstance(outcome, _Written):
            await versions.announce_change(conn)
            return PlacedOrder(await _answer(outcome), replayed=False)
        return PlacedOrder(await read_order(conn, outcome, customer_id=customer_id), replayed=True)

    return await db.run_transaction(pool, work, attempts=settings.db_tx_retries, after_commit=after_commit)


async def checkout(pool: db.Pool, versions: CatalogVersion, settings: Settings, user: CurrentUser,
                   *, idempotency_key: str | None) -> PlacedOrder:
    """Turn the user's cart into one order and empty the cart."""
    customer_id = user.customer_id
    assert customer_id is not None, "checkout is for customers' users"
    mine = {"user_id": user.user_id}

    async def work(conn: psycopg.AsyncConnection) -> _Written | int:
        begun = await db.send(conn, Q["begin_order"])
        await db.send(conn, Q["lock_cart"], mine)
        key_sent = await _lock_key(conn, customer_id, idempotency_key)
        lines = {row["sku_id"]: row["quantity"] for row in await db.fetch_all(conn, Q["cart_items"], mine)}
        fingerprint = _fingerprint("checkout", customer_id, lines)
        if key_sent is not None:
            earlier = _earlier_order(await key_sent.one(), fingerprint, emptied_cart=not lines)
            if earlier is not None:
                return earlier
        if not lines:
            raise ValidationFailed("Your cart is empty", code="cart_empty")
        return await _place(conn, settings, begun=begun, customer_id=customer_id, user_id=user.user_id,
                            lines=lines, key=idempotency_key, fingerprint=fingerprint,
                            checked_out_by=user.user_id)

    return await _run(pool, versions, settings, work, customer_id)


async def place_direct_order(pool: db.Pool, versions: CatalogVersion, settings: Settings,
                             user: CurrentUser, *, customer_id: int, sku_id: int, quantity: int,
                             idempotency_key: str | None) -> PlacedOrder:
    """One line ordered at once, bypassing the cart. `customer_id` is the caller's own for a
    customer's user; staff name the customer they order for."""
    lines = {sku_id: quantity}
    fingerprint = _fingerprint("order", customer_id, lines)

    async def work(conn: psycopg.AsyncConnection) -> _Written | int:
        begun = await db.send(conn, Q["begin_order"])
        key_sent = await _lock_key(conn, customer_id, idempotency_key)
        customer = await db.fetch_one(conn, Q["customer_exists"], {"customer_id": customer_id})
        earlier = _earlier_order(await key_sent.one(), fingerprint) if key_sent is not None else None
        if earlier is not None:
            return earlier
        if not customer["found"]:
            raise NotFound(f"No customer {customer_id}")
        return await _place(conn, settings, begun=begun, customer_id=customer_id, user_id=user.user_id,
                            lines=lines, key=idempotency_key, fingerprint=fingerprint)

    return await _run(pool, versions, settings, work, customer_id)
