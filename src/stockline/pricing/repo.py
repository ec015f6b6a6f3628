"""Runs the pricing queries; the caller owns the connection and the transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from stockline import db
from stockline.pricing.rules import PricingRule
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


async def price_skus(conn: psycopg.AsyncConnection, *, sku_ids: list[int], customer_id: int | None,
                     quantity: int, on: date) -> list[dict[str, Any]]:
    """Several SKUs priced in one statement by the SQL form of the rule."""
    return await db.fetch_all(conn, Q["price_skus"], {"sku_ids": sku_ids, "customer_id": customer_id,
                                                       "quantity": quantity, "on": on})


async def applicable_rules(conn: psycopg.AsyncConnection, *, sku_ids: list[int], customer_id: int | None,
                           on: date) -> list[PricingRule]:
    rows = await db.fetch_all(conn, Q["applicable_rules"], {"sku_ids": sku_ids, "customer_id": customer_id,
                                                             "on": on})
    return [PricingRule(**row) for row in rows]
