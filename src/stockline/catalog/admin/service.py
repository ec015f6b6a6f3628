"""Catalog management for the back office: products and SKUs. Every committed change bumps
the listing version (and with it the catalog version), so cached catalog pages and listing
skeletons refresh in every worker at once. Referenced
records are deactivated, not deleted (a delete that something still references is 409).
Every change is recorded in the audit log (stockline.audit) in its own transaction. A SKU is
in one tax class ('zero' unless given another); a change of class taxes orders placed from then
on, while orders keep the rate and tax they stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.config import Settings
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.pagination import PageRequest
from stockline.search import search_patterns
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

PRODUCT_FIELDS = ("name", "manufacturer", "description", "category", "is_active")
SKU_FIELDS = ("sku_code", "package_size", "unit_type", "base_price", "reorder_level", "is_active",
              "tax_class")
NOT_NULL = frozenset(
    {"name", "is_active", "sku_code", "package_size", "unit_type", "base_price", "reorder_level", "tax_class"}
)
TAX_CLASS_FK = "product_skus_tax_class_fk"


def _product(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: row[key]
        for key in ("product_id", "name", "manufacturer", "description", "category", "is_active", "sku_count")
    } | {"created_at": row["created_at"].isoformat()}


def _sku(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: row[key]
        for key in (
            "sku_id",
            "product_id",
            "product_name",
            "manufacturer",
            "sku_code",
            "package_size",
            "unit_type",
            "reorder_level",
            "is_active",
            "product_active",
            "available",
            "tax_class",
            "tax_class_name",
        )
    } | {"base_price": money(row["base_price"]), "tax_rate": money(row["tax_rate"]),
         "created_at": row["created_at"].isoformat()}


def _changes(sent: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The update's parameters: every field (unsent ones unused) and the names to change."""
    nulled = sorted(name for name, value in sent.items() if value is None and name in NOT_NULL)
    if nulled:
        raise ValidationFailed(f"{', '.join(nulled)} cannot be null")
    if not sent:
        raise ValidationFailed("Send at least one field to change")
    return {name: sent.get(name) for name in fields} | {"fields": list(sent)}


async def _write(ctx: Context, work, read):
    async def after_commit(conn: psycopg.AsyncConnection, key: int | None):
        await ctx.versions.announce_listing_change(conn)
        return None if key is None else await read(conn, key)

    return await ctx.transaction(work, after_commit=after_commit)


# --- products ------------------------------------------------------------------------------


async def read_product(conn: psycopg.AsyncConnection, product_id: int) -> dict[str, Any]:
    row = await db.fetch_one(conn, Q["product"], {"product_id": product_id})
    if row is None:
        raise NotFound(f"No product {product_id}")
    return _product(row)


async def list_products(
    ctx: Context, paging: PageRequest, *, search: str | None, active: bool | None
) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(
            conn,
            Q["products_page"],
            {
                "patterns": search_patterns(search),
                "active": active,
                "limit": paging.limit,
                "offset": paging.offset,
            },
        )
    return paging.envelope([_product(r) for r in rows if r["product_id"] is not None], rows[0]["total_items"])


async def get_product(ctx: Context, product_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await read_product(conn, product_id)


async def create_product(ctx: Context, actor: CurrentUser, fields: dict[str, Any]) -> dict[str, Any]:
    async def work(conn: psycopg.AsyncConnection) -> int:
        created = await db.fetch_one(conn, Q["insert_product"], fields)
        await audit.record(conn, actor, "product.create", created["product_id"], None, created)
        return created["product_id"]

    return await _write(ctx, work, read_product)


async def update_product(ctx: Context, actor: CurrentUser, product_id: int,
                         sent: dict[str, Any]) -> dict[str, Any]:
    params = _changes(sent, PRODUCT_FIELDS) | {"product_id": product_id}

    async def work(conn: psycopg.AsyncConnection) -> int:
        before = await db.send(conn, Q["lock_product"], params)
        after = await db.fetch_one(conn, Q["update_product"], params)
        if after is None:
            raise NotFound(f"No product {product_id}")
        await audit.record(conn, actor, "product.update", product_id, await before.one(), after)
        return product_id

    return await _write(ctx, work, read_product)


async def delete_product(ctx: Context, actor: CurrentUser, product_id: int) -> None:
    async def work(conn: psycopg.AsyncConnection) -> None:
        try:
            deleted = await db.fetch_one(conn, Q["delete_product"], {"product_id": product_id})
        except Conflict as exc:
            raise Conflict(
                f"Product {product_id} has SKUs; deactivate it instead", code="product_in_use"
            ) from exc
        if deleted is None:
            raise NotFound(f"No product {product_id}")
        await audit.record(conn, actor, "product.delete", product_id, deleted, None)

    await _write(ctx, work, None)


# --- SKUs ----------------------------------------------------------------------------------


async def list_skus(
    ctx: Context,
    paging: PageRequest,
    *,
    search: str | None,
    product_id: int | None,
    active: bool | None,
    flags: bool = False,
) -> dict[str, Any]:
    """`flags`: each SKU also says whether it is low on stock (`low_stock`, by
    stockline_low_stock), for the staff pages; the API answers without."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(
            conn,
            Q["skus_page"],
            {
                "patterns": search_patterns(search),
                "product_id": product_id,
                "active": active,
                "sellable_after": sellable_after(ctx.settings),
                "today": business_day(),
                "limit": paging.limit,
                "offset": paging.offset,
            },
        )
    items = [_sku(r) | ({"low_stock": r["low_stock"]} if flags else {})
             for r in rows if r["sku_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"])


def _sku_reader(settings: Settings):
    async def read(conn: psycopg.AsyncConnection, sku_id: int) -> dict[str, Any]:
        row = await db.fetch_one(conn, Q["sku"], {
            "sku_id": sku_id, "sellable_after": sellable_after(settings), "today": business_day()})
        if row is None:
            raise NotFound(f"No SKU {sku_id}")
        return _sku(row)

    return read


async def get_sku(ctx: Context, sku_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await _sku_reader(ctx.settings)(conn, sku_id)


@contextmanager
def _known_tax_class(tax_class: str | None) -> Iterator[None]:
    """A SKU put in a class that does not exist: 422 naming the field, not the constraint."""
    try:
        yield
    except ValidationFailed as exc:
        if (exc.details or {}).get("constraint") != TAX_CLASS_FK:
            raise
        raise ValidationFailed(f"There is no tax class {tax_class!r} (see GET /api/admin/tax-classes)",
                               code="unknown_tax_class", details={"field": "tax_class"}) from None


async def create_sku(ctx: Context, actor: CurrentUser, fields: dict[str, Any]) -> dict[str, Any]:
    async def work(conn: psycopg.AsyncConnection) -> int:
        await read_product(conn, fields["product_id"])  # 404 rather than a foreign-key error
        with _known_tax_class(fields["tax_class"]):
            created = await db.fetch_one(conn, Q["insert_sku"], fields)
        await audit.record(conn, actor, "sku.create", created["sku_id"], None, created)
        return created["sku_id"]

    return await _write(ctx, work, _sku_reader(ctx.settings))


async def update_sku(ctx: Context, actor: CurrentUser, sku_id: int, sent: dict[str, Any]) -> dict[str, Any]:
    params = _changes(sent, SKU_FIELDS) | {"sku_id": sku_id}

    async def work(conn: psycopg.AsyncConnection) -> int:
        before = await db.send(conn, Q["lock_sku"], params)
        with _known_tax_class(params["tax_class"]):
            after = await db.fetch_one(conn, Q["update_sku"], params)
        if after is None:
            raise NotFound(f"No SKU {sku_id}")
        await audit.record(conn, actor, "sku.update", sku_id, await before.one(), after)
        return sku_id

    return await _write(ctx, work, _sku_reader(ctx.settings))


async def delete_sku(ctx: Context, actor: CurrentUser, sku_id: int) -> None:
    async def work(conn: psycopg.AsyncConnection) -> None:
        try:
            deleted = await db.fetch_one(conn, Q["delete_sku"], {"sku_id": sku_id})
        except Conflict as exc:
            raise Conflict(
                f"SKU {sku_id} has batches, orders, pricing rules or cart lines; deactivate it instead",
                code="sku_in_use",
            ) from exc
        if deleted is None:
            raise NotFound(f"No SKU {sku_id}")
        await audit.record(conn, actor, "sku.delete", sku_id, deleted, None)

    await _write(ctx, work, None)
