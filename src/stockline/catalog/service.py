"""Catalog use cases: a page of SKUs priced for the caller, and one SKU in detail.

PostgreSQL renders the items as JSON (see queries.sql), so a page costs Python one text
value to wrap, not a thousand values to parse and print. Rendered pages are cached per
(customer, query, day, catalog version) — see stockline.response_cache — so the hot path
is a cache hit (the version comes by LISTEN/NOTIFY).

Below that cache, the common listing (no stock filter, not sorted by stock or price) is
served in two parts. What changes rarely — which SKUs match, their count, names and prices
for this customer and quantity, each item rendered around its stock figures — is the
listing skeleton, cached in this process per (listing version, day, customer, query) for
CACHE_TTL_LISTING seconds; the listing version moves with products, SKUs, prices and rules
but not with stock (see kernel/catalog_version.py), so a skeleton survives sales and receipts.
What changes with every sale — the page's stock figures — is read per request by one cheap
query and spliced in. The body is byte for byte what one statement rendering it whole
would give (tests/test_catalog.py checks it against page_by_stock_or_price).

Pages and product details are read through `ctx.read`: on a read replica when there is one
and it may serve this caller (stockline.read_routing). What is cached under a version
(pages, skeletons) is read with `ctx.read_for_cache`, which says whether the answer holds
every change the version covers: a page a lagging replica rendered is served but not kept,
so no older page is ever stored under a newer version.
"""

from __future__ import annotations

import json
import math
import weakref
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.cache import TtlCache
from stockline.config import Settings
from stockline.errors import NotFound
from stockline.kernel.catalog_version import CatalogVersion
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.pricing import service as pricing
from stockline.pricing.rules import price_line
from stockline.response_cache import CachedResponse
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


async def ensure_customer(ctx: Context, customer_id: int) -> None:
    async with ctx.pool.connection() as conn:
        row = await db.fetch_one(conn, Q["customer_exists"], {"customer_id": customer_id})
    if not row["found"]:
        raise NotFound(f"Customer {customer_id} does not exist")


async def pricing_customer(ctx: Context, user: CurrentUser | None, preview: int | None) -> int | None:
    """Whose prices: a customer's user always gets their own (a customer_id in the query is
    ignored); staff and admins may preview a customer's; anonymous callers get list prices."""
    if user is None:
        return None
    if not user.is_staff:
        return user.customer_id
    if preview is not None:
        await ensure_customer(ctx, preview)
    return preview


@dataclass(frozen=True)
class ListingSkeleton:
    """A page of the common listing without its stock figures: the total, and per item
    (sku_id, reorder_level, head, tail), head and tail being the parts of the item's JSON
    around its stock part (stockline_catalog_item_* in db/schema.sql)."""
    total_items: int
    sku_ids: list[int]
    items: tuple[tuple[int, int, str, str], ...]

    def render(self, stock: dict[int, str]) -> str:
        """The items' JSON array, each item's stock part (page_stock) joined in."""
        return "[" + ",".join(head + stock[sku_id] + tail for sku_id, _, head, tail in self.items) + "]"


# one skeleton cache per app (the app makes one CatalogVersion, whose listing version keys it)
_skeleton_caches: weakref.WeakKeyDictionary[CatalogVersion, TtlCache[ListingSkeleton]] = (
    weakref.WeakKeyDictionary())


def _skeleton_cache(versions: CatalogVersion, settings: Settings) -> TtlCache[ListingSkeleton] | None:
    if settings.cache_ttl_listing == 0:
        return None
    cache = _skeleton_caches.get(versions)
    if cache is None:
        cache = _skeleton_caches[versions] = TtlCache(settings.cache_ttl_listing, max_entries=5_000)
    return cache


def _page_params(query: CatalogQuery, customer_id: int | None, today: date, after: date) -> dict[str, Any]:
    return {
        "customer_id": customer_id, "quantity": query.quantity, "today": today, "sellable_after": after,
        "manufacturer": query.manufacturer, "patterns": query.search_patterns(), "in_stock": query.in_stock,
        "low_stock": query.low_stock, "sort": query.sort, "limit": query.limit,
        "offset": (query.page - 1) * query.limit,
    }


async def _listing_page(ctx: Context, skeletons: TtlCache[ListingSkeleton] | None,
                        versions: tuple[int, int], today: date, after: date, customer_id: int | None,
                        query: CatalogQuery) -> tuple[str, int, bool]:
    """The common listing's items JSON and total: the skeleton (cached, or computed and
    cached), then the page's stock figures; and whether they may be cached under `versions`
    (catalog, listing): false when a lagging replica read them (`ctx.read_for_cache`)."""
    key = (versions[1], today, customer_id, query)
    skeleton = skeletons.get(key) if skeletons is not None else None
    if skeleton is None:
        async def skeleton_and_stock(conn: psycopg.AsyncConnection) -> tuple[ListingSkeleton, dict[int, str]]:
            params = _page_params(query, customer_id, today, after)
            row = await db.fetch_one(conn, Q["page_by_product"], params)
            skeleton = ListingSkeleton(row["total_items"], row["sku_ids"], tuple(zip(
                row["sku_ids"], row["reorder_levels"], row["heads"], row["tails"], strict=True)))
            return skeleton, await _page_stock(conn, skeleton, after)

        (skeleton, stock), fresh = await ctx.read_for_cache(skeleton_and_stock, versions=versions)
        if skeletons is not None and fresh:
            skeletons.set(key, skeleton)
    elif skeleton.sku_ids:
        found = skeleton

        async def stock_of(conn: psycopg.AsyncConnection) -> dict[int, str]:
            return await _page_stock(conn, found, after)

        stock, fresh = await ctx.read_for_cache(stock_of, versions=versions)
    else:
        stock, fresh = {}, True  # past the end: nothing to ask
    return skeleton.render(stock), skeleton.total_items, fresh


async def _page_stock(conn, skeleton: ListingSkeleton, after: date) -> dict[int, str]:
    if not skeleton.sku_ids:
        return {}
    rows = await db.fetch_all(conn, Q["page_stock"], {
        "sku_ids": skeleton.sku_ids, "reorder_levels": [item[1] for item in skeleton.items],
        "sellable_after": after})
    return {row["sku_id"]: row["stock"] for row in rows}


async def list_products(ctx: Context, *, customer_id: int | None, query: CatalogQuery) -> CachedResponse:
    today = business_day()
    version, listing_version = await ctx.versions.current_pair(ctx.pool)
    key = f"catalog:v{version}:{today}:{customer_id}:{query!r}"
    cached = await ctx.catalog_cache.get(key)
    if cached is not None:
        return cached
    after = sellable_after(ctx.settings, today)
    if query.needs_every_row():
        async def whole_page(conn: psycopg.AsyncConnection) -> dict[str, Any]:
            return await db.fetch_one(conn, Q["page_by_stock_or_price"],
                                      _page_params(query, customer_id, today, after))

        row, fresh = await ctx.read_for_cache(whole_page, versions=(version, listing_version))
        items, total = row["items"], row["total_items"]
    else:
        skeletons = _skeleton_cache(ctx.versions, ctx.settings)
        items, total, fresh = await _listing_page(ctx, skeletons, (version, listing_version), today, after,
                                                  customer_id, query)
    rendered = _render_page(
        items, total_items=total, total_pages=math.ceil(total / query.limit), current_page=query.page,
        page_size=query.limit, assumed_quantity_for_pricing=query.quantity, customer_id=customer_id,
        search=query.search)
    if fresh:  # a replica's page older than `version` is served, never kept under it
        await ctx.catalog_cache.set(key, rendered)
    return rendered


async def product_detail(ctx: Context, *, sku_id: int, customer_id: int | None,
                         quantity: int) -> CachedResponse:
    today = business_day()
    after = sellable_after(ctx.settings, today)

    async def detail(conn: psycopg.AsyncConnection) -> tuple[dict[str, Any], list[dict[str, Any]], list]:
        row = await db.fetch_one(conn, Q["sku_detail"], {
            "sku_id": sku_id, "customer_id": customer_id, "quantity": quantity, "today": today,
            "sellable_after": after})
        if row is None:
            raise NotFound(f"No active SKU {sku_id}")
        batches = await db.fetch_all(conn, Q["sellable_batches"], {"sku_id": sku_id,
                                                                    "sellable_after": after})
        rules = await pricing.applicable_rules(conn, sku_ids=[sku_id], customer_id=customer_id, on=today)
        return row, batches, rules

    row, batches, rules = await ctx.read(detail)  # not cached: read-your-writes is enough
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


async def manufacturers(ctx: Context) -> list[str]:
    """Manufacturers with something on sale: the choices of the catalog's filter."""
    async def named(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
        return await db.fetch_all(conn, Q["manufacturers"], {})

    return [row["manufacturer"] for row in await ctx.read(named)]
