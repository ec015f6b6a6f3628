"""Runs the pricing queries; the caller owns the connection and the transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from stockline import db
from stockline.pricing.rules import PricingRule
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


async def price_lines(conn: psycopg.AsyncConnection, *, lines: dict[int, int], customer_id: int | None,
                      on: date) -> dict[int, dict[str, Any]]:
    """{sku_id: price row} for {sku_id: quantity}, by the SQL form of the rule."""
    skus = sorted(lines)
    rows = await db.fetch_all(conn, Q["price_lines"], {
        "sku_ids": skus, "quantities": [lines[s] for s in skus], "customer_id": customer_id, "on": on})
    return {row["sku_id"]: row for row in rows}


async def applicable_rules(conn: psycopg.AsyncConnection, *, sku_ids: list[int], customer_id: int | None,
                           on: date) -> list[PricingRule]:
    rows = await db.fetch_all(conn, Q["applicable_rules"], {"sku_ids": sku_ids, "customer_id": customer_id,
                                                             "on": on})
    return [PricingRule(**row) for row in rows]
