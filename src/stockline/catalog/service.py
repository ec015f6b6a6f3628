"""Catalog use cases: a page of SKUs priced for the caller, and one SKU in detail.

PostgreSQL renders the items as JSON (see queries.sql), so a page costs Python one text
value to wrap, not a thousand values to parse and print. Rendered pages are cached per
(customer, query, day, catalog version) — see stockline.response_cache — so the hot path
is a cache hit (the version comes by LISTEN/NOTIFY).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from stockline import db
from stockline.catalog.version import CatalogVersion
from stockline.config import Settings
from stockline.errors import NotFound
from stockline.inventory.expiry import business_day, sellable_after
from stockline.pricing import repo as pricing_repo
from stockline.pricing.rules import money, price_line
from stockline.response_cache import CachedResponse, ResponseCache
from stockline.search import search_patterns
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


@dataclass(frozen=True)
class CatalogQuery:
    page: int = 1
    limit: int = 20
    quantity: int = 1
    search: str | None = None
    manufacturer: str | None = None
    in_stock: bool | None = None
    low_stock: bool | None = None
    sort: str = "product"

    def needs_every_row(self) -> bool:
        """Filters and sorts on stock or price need figures for every matching SKU."""
        return (self.in_stock is not None or self.low_stock is not None
                or self.sort in ("price", "expiry", "availability"))

    def search_patterns(self) -> list[str]:
        return search_patterns(self.search)


def _render(document: dict[str, Any]) -> CachedResponse:
    return CachedResponse.of(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())


def _render_page(items_json: str, **envelope: Any) -> CachedResponse:
    """A page as _render would print it, with the items' JSON array (from PostgreSQL)
    placed first without being parsed."""
    rest = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    return CachedResponse.of(f'{{"items":{items_json},{rest[1:]}'.encode())


async def ensure_customer(pool: AsyncConnectionPool, customer_id: int) -> None:
    async with pool.connection() as conn:
        row = await db.fetch_one(conn, Q["customer_exists"], {"customer_id": customer_id})
    if not row["found"]:
        raise NotFound(f"Customer {customer_id} does not exist")


async def list_products(pool: AsyncConnectionPool, cache: ResponseCache, versions: CatalogVersion,
                        settings: Settings, *, customer_id: int | None,
                        query: CatalogQuery) -> CachedResponse:
    today = business_day()
    version = await versions.current(pool)
    key = f"catalog:v{version}:{today}:{customer_id}:{query!r}"
    cached = await cache.get(key)
    if cached is not None:
        return cached
    params = {
        "customer_id": customer_id, "quantity": query.quantity, "today": today,
        "sellable_after": sellable_after(settings, today),
        "manufacturer": query.manufacturer, "patterns": query.search_patterns(), "in_stock": query.in_stock,
        "low_stock": query.low_stock, "sort": query.sort, "limit": query.limit,
        "offset": (query.page - 1) * query.limit,
    }
    sql = Q["page_by_stock_or_price"] if query.needs_every_row() else Q["page_by_product"]
    async with pool.connection() as conn:
        row = await db.fetch_one(conn, sql, params)
    total = row["total_items"]
    rendered = _render_page(
        row["items"], total_items=total, total_pages=math.ceil(total / query.limit), current_page=query.page,
        page_size=query.limit, assumed_quantity_for_pricing=query.quantity, customer_id=customer_id,
        search=query.search)
    await cache.set(key, rendered)
    return rendered


async def product_detail(pool: AsyncConnectionPool, settings: Settings, *, sku_id: int,
                         customer_id: int | None, quantity: int) -> CachedResponse:
    today = business_day()
    after = sellable_after(settings, today)
    async with pool.connection() as conn:
        row = await db.fetch_one(conn, Q["sku_detail"], {
            "sku_id": sku_id, "customer_id": customer_id, "quantity": quantity, "today": today,
            "sellable_after": after})
        if row is None:
            raise NotFound(f"No active SKU {sku_id}")
        batches = await db.fetch_all(conn, Q["sellable_batches"], {"sku_id": sku_id,
                                                                    "sellable_after": after})
        rules = await pricing_repo.applicable_rules(conn, sku_ids=[sku_id], customer_id=customer_id, on=today)
    document = json.loads(row["item"]) | {
        "category": row["category"], "reorder_level": row["reorder_level"],
        "assumed_quantity_for_pricing": quantity, "customer_id": customer_id,
        "price_ladder": _price_ladder(row["base_price"], sku_id, customer_id, today, rules),
        "batches": [{"batch_no": b["batch_no"], "expiry_date": b["expiry_date"].isoformat(),
                     "quantity_on_hand": b["quantity_on_hand"]} for b in batches],
    }
    return _render(document)


def _price_ladder(base_price: Decimal, sku_id: int, customer_id: int | None, today: date,
                  rules: list) -> list[dict[str, Any]]:
    """The price at 1 and at every tier threshold that applies to this caller, by the one
    pricing function; steps that do not lower the price are left out."""
    ladder = []
    for threshold in sorted({1, *(rule.min_quantity for rule in rules)}):
        price = price_line(customer_id=customer_id, sku_id=sku_id, base_price=base_price,
                           quantity=threshold, on=today, rules=rules)
        if ladder and price.unit_price >= Decimal(ladder[-1]["effective_price"]):
            continue
        ladder.append({"min_quantity": threshold, "discount_percentage": money(price.discount_percentage),
                       "effective_price": money(price.unit_price), "applied_rule_id": price.rule_id})
    return ladder


async def manufacturers(pool: AsyncConnectionPool) -> list[str]:
    """Manufacturers with something on sale: the choices of the catalog's filter."""
    async with pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["manufacturers"], {})
    return [row["manufacturer"] for row in rows]
