"""Cart use cases. A cart belongs to one user; its lines are priced live, each for its own
quantity, by the pricing rule's SQL form, the same one checkout charges with.

Availability is checked when a line is set (409 when more is asked than is sellable), but a
cart reserves nothing: checkout re-checks everything under lock."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.config import Settings
from stockline.errors import NotFound
from stockline.inventory import ledger
from stockline.inventory.allocation import InsufficientStock, Shortage
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.pricing.rules import net_unit_price
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


def _line(row: dict[str, Any]) -> dict[str, Any]:
    next_tier = None
    if row["next_tier_min_quantity"] is not None:
        next_tier = {"min_quantity": row["next_tier_min_quantity"],
                     "discount_percentage": money(row["next_tier_discount"]),
                     "effective_price": money(net_unit_price(row["base_price"], row["next_tier_discount"]))}
    problem = None
    if not row["is_active"]:
        problem = "no longer sold"
    elif row["quantity"] > row["available"]:
        problem = f"only {row['available']} available"
    return {
        "sku_id": row["sku_id"], "sku_code": row["sku_code"], "product_id": row["product_id"],
        "product_name": row["product_name"], "manufacturer": row["manufacturer"],
        "package_size": row["package_size"], "unit_type": row["unit_type"], "quantity": row["quantity"],
        "available": row["available"],
        "earliest_expiry": row["earliest_expiry"].isoformat() if row["earliest_expiry"] else None,
        "base_price": money(row["base_price"]), "effective_price": money(row["unit_price"]),
        "discount_percentage": money(row["discount_percentage"]), "applied_rule_id": row["rule_id"],
        "line_total": money(row["line_total"]), "next_tier": next_tier, "problem": problem,
    }


async def _read(conn: psycopg.AsyncConnection, settings: Settings, user: CurrentUser) -> dict[str, Any]:
    today = business_day()
    rows = await db.fetch_all(conn, Q["cart_lines"], {
        "user_id": user.user_id, "customer_id": user.customer_id, "today": today,
        "sellable_after": sellable_after(settings, today)})
    lines = [_line(row) for row in rows]
    total = sum((row["line_total"] for row in rows), Decimal("0.00"))
    return {"customer_id": user.customer_id, "items": lines, "total_items": len(lines),
            "total_units": sum(row["quantity"] for row in rows), "total_amount": money(total),
            "ready_to_check_out": bool(lines) and all(line["problem"] is None for line in lines)}


async def get_cart(ctx: Context, user: CurrentUser) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await _read(conn, ctx.settings, user)


async def set_line(ctx: Context, user: CurrentUser, *, sku_id: int,
                   quantity: int) -> dict[str, Any]:
    """Set a line to `quantity` units (0 removes it); refuses more than is available. The
    cart is read back on the same connection, sent with the COMMIT."""
    mine = {"user_id": user.user_id}

    async def work(conn: psycopg.AsyncConnection) -> None:
        if quantity == 0:
            await db.send(conn, Q["remove_cart_line"], mine | {"sku_id": sku_id})
            return
        stock_sent = await ledger.available_stock(conn, sku_id, sellable_after(ctx.settings))
        cart_sent = await db.send(conn, Q["ensure_cart"], mine)  # rolled back with a refusal
        stock = await stock_sent.one()
        if stock is None or not stock["is_active"]:
            raise NotFound(f"No SKU {sku_id} is on sale")
        if quantity > stock["available"]:
            raise InsufficientStock([Shortage(sku_id, quantity, stock["available"])],
                                    f"Only {stock['available']} units of SKU {sku_id} are available")
        cart = await cart_sent.one()
        await db.send(conn, Q["set_cart_line"], {"cart_id": cart["cart_id"], "sku_id": sku_id,
                                                 "quantity": quantity})

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await _read(conn, ctx.settings, user)

    return await ctx.transaction(work, after_commit=read_back)


@dataclass(frozen=True)
class Addition:
    """One line of an `add_lines` call: what the cart held, what was asked, and why it cannot
    be added (None: it can)."""
    sku_id: int
    sku_code: str | None  # None: no such SKU
    product_name: str | None
    adding: int
    in_cart: int
    available: int
    problem: str | None

    @property
    def total(self) -> int:
        return self.in_cart + self.adding


@dataclass(frozen=True)
class Additions:
    lines: list[Addition]
    written: bool  # False: all_or_nothing and a line was refused, so nothing changed

    @property
    def refused(self) -> list[Addition]:
        return [line for line in self.lines if line.problem is not None]


async def add_lines(ctx: Context, user: CurrentUser,
                    lines: dict[int, int], *, all_or_nothing: bool) -> Additions:
    """Add units ({sku_id: units}, each at least 1) to the cart's lines in one transaction,
    with the same availability rule as set_line, applied to what the line would hold in all.
    Lines not on sale or short are refused: with `all_or_nothing` nothing is written then,
    otherwise the other lines are. The cart is locked first, so two additions at once both
    count."""
    after = sellable_after(ctx.settings)

    async def work(conn: psycopg.AsyncConnection) -> Additions:
        cart = await db.fetch_one(conn, Q["ensure_cart"], {"user_id": user.user_id})
        rows = await db.fetch_all(conn, Q["cart_additions"], {
            "cart_id": cart["cart_id"], "sku_ids": sorted(lines), "sellable_after": after})
        known = {row["sku_id"]: row for row in rows}
        additions = [_addition(sku_id, units, known.get(sku_id)) for sku_id, units in lines.items()]
        accepted = [a for a in additions if a.problem is None]
        if not accepted or (all_or_nothing and len(accepted) < len(additions)):
            return Additions(additions, written=False)
        await db.execute(conn, Q["set_cart_lines"], {"cart_id": cart["cart_id"],
                                                     "sku_ids": [a.sku_id for a in accepted],
                                                     "quantities": [a.total for a in accepted]})
        return Additions(additions, written=True)

    return await ctx.transaction(work)


def _addition(sku_id: int, units: int, row: dict[str, Any] | None) -> Addition:
    if row is None:
        return Addition(sku_id, None, None, units, 0, 0, "not in the catalog")
    available = row["available"]
    problem = None
    if not row["is_active"]:
        problem = "no longer sold"
    elif row["in_cart"] + units > available:
        problem = f"only {available} available"
    return Addition(sku_id, row["sku_code"], row["product_name"], units, row["in_cart"], available, problem)


async def remove_line(ctx: Context, user: CurrentUser,
                      sku_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        removed = await db.execute(conn, Q["remove_cart_line"], {"user_id": user.user_id, "sku_id": sku_id})
        if not removed:
            raise NotFound(f"SKU {sku_id} is not in your cart")
        return await _read(conn, ctx.settings, user)


async def clear(ctx: Context, user: CurrentUser) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        await db.execute(conn, Q["clear_cart"], {"user_id": user.user_id})
        return await _read(conn, ctx.settings, user)
