"""Suppliers, and which SKUs each supplies at what cost.

- A supplier's name is unique ignoring case (409 `supplier_name_taken`); its lead time is
  0-365 days. Deactivating keeps it and its history; an inactive supplier gets no new
  purchase orders (purchase_orders refuses them).
- Each SKU has at most one preferred supplier, the one reorder suggestions order from.
  Making a supplier preferred un-prefers the SKU's other one in the same transaction, under a
  per-SKU advisory lock, so of two made preferred at once the second sees the first; the
  unique index supplier_skus_one_preferred_key is the backstop.
- Every change is audited (supplier.create / update / set_sku / remove_sku), entity: the
  supplier.
"""

from __future__ import annotations

from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.pagination import PageRequest
from stockline.purchasing.schemas import SupplierSkuSet
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__, "suppliers.sql")

FIELDS = ("name", "contact_name", "email", "phone", "address", "lead_time_days", "is_active")
REQUIRED = ("name", "lead_time_days", "is_active")


def _supplier(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in FIELDS} | {
        "supplier_id": row["supplier_id"], "created_at": row["created_at"].isoformat(),
        "sku_count": row["sku_count"], "open_orders": row["open_orders"]}


def _sku(row: dict[str, Any]) -> dict[str, Any]:
    return {"sku_id": row["sku_id"], "sku_code": row["sku_code"], "product_name": row["product_name"],
            "package_size": row["package_size"], "unit_type": row["unit_type"],
            "unit_cost": money(row["unit_cost"]), "supplier_sku_code": row["supplier_sku_code"],
            "is_preferred": row["is_preferred"]}


def _audited_sku(sku_id: int, row: dict[str, Any] | None) -> dict[str, Any]:
    """A supplier's terms for a SKU as the audit log records them. The entity is the
    supplier, which outlives its terms: `supplied` says whether it supplies the SKU."""
    if row is None:
        return {"sku_id": sku_id, "supplied": False}
    return {"sku_id": sku_id, "supplied": True, "unit_cost": row["unit_cost"],
            "supplier_sku_code": row["supplier_sku_code"], "is_preferred": row["is_preferred"]}


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value else value


async def read_supplier(conn: psycopg.AsyncConnection, supplier_id: int) -> dict[str, Any]:
    head = await db.send(conn, Q["supplier"], {"supplier_id": supplier_id})
    skus = await db.send(conn, Q["supplier_skus"], {"supplier_id": supplier_id})
    row = await head.one()
    if row is None:
        raise NotFound(f"No supplier {supplier_id}")
    return _supplier(row) | {"skus": [_sku(sku) for sku in await skus.all()]}


async def get_supplier(ctx: Context, supplier_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await read_supplier(conn, supplier_id)


async def list_suppliers(ctx: Context, paging: PageRequest, *, active: bool | None = None) -> dict[str, Any]:
    """Suppliers, active ones first, by name."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["suppliers_page"], {"active": active, "limit": paging.limit,
                                                              "offset": paging.offset})
    items = [_supplier(row) for row in rows if row["supplier_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"])


async def _refuse_taken_name(conn: psycopg.AsyncConnection, name: str, supplier_id: int | None) -> None:
    if await db.fetch_one(conn, Q["name_taken"], {"name": name, "supplier_id": supplier_id}):
        raise Conflict(f"Another supplier is already called {name!r}", code="supplier_name_taken",
                       details={"field": "name"})


def _unique_name_backstop(exc: Conflict) -> Conflict:
    """Two suppliers of one name created at once: the second meets the unique index."""
    details = exc.details if isinstance(exc.details, dict) else {}
    if details.get("constraint") == "suppliers_name_lower_key":
        return Conflict("Another supplier already has that name", code="supplier_name_taken",
                        details={"field": "name"})
    return exc


async def create_supplier(ctx: Context, actor: CurrentUser, fields: dict[str, Any]) -> dict[str, Any]:
    async def work(conn: psycopg.AsyncConnection) -> int:
        await _refuse_taken_name(conn, fields["name"], None)
        row = await db.fetch_one(conn, Q["insert_supplier"],
                                 {name: _blank_to_none(fields[name]) for name in FIELDS})
        await audit.record(conn, actor, "supplier.create", row["supplier_id"], None, row)
        return row["supplier_id"]

    async def read_back(conn: psycopg.AsyncConnection, supplier_id: int) -> dict[str, Any]:
        return await read_supplier(conn, supplier_id)

    try:
        return await ctx.transaction(work, after_commit=read_back)
    except Conflict as exc:
        raise _unique_name_backstop(exc) from exc


async def update_supplier(ctx: Context, actor: CurrentUser, supplier_id: int,
                          changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` holds only the fields the caller sent; name, lead time and is_active cannot
    be cleared."""
    for required in REQUIRED:
        if required in changes and changes[required] is None:
            raise ValidationFailed(f"The supplier's {required.replace('_', ' ')} cannot be removed",
                                   details={"field": required})
    params: dict[str, Any] = {"supplier_id": supplier_id}
    for name in FIELDS:
        params[f"set_{name}"] = name in changes
        params[name] = _blank_to_none(changes.get(name))

    async def work(conn: psycopg.AsyncConnection) -> None:
        before = await db.fetch_one(conn, Q["lock_supplier"], {"supplier_id": supplier_id})
        if before is None:
            raise NotFound(f"No supplier {supplier_id}")
        if "name" in changes:
            await _refuse_taken_name(conn, changes["name"], supplier_id)
        after = await db.fetch_one(conn, Q["update_supplier"], params)
        await audit.record(conn, actor, "supplier.update", supplier_id, before, after)

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await read_supplier(conn, supplier_id)

    try:
        return await ctx.transaction(work, after_commit=read_back)
    except Conflict as exc:
        raise _unique_name_backstop(exc) from exc


async def set_supplier_sku(ctx: Context, actor: CurrentUser, supplier_id: int, sku_id: int,
                           terms: SupplierSkuSet) -> dict[str, Any]:
    """Set or replace what a supplier charges for a SKU; is_preferred makes it the SKU's one
    preferred supplier (the other, if any, is un-preferred and audited too)."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        await db.send(conn, Q["lock_preferred"], {"sku_id": sku_id})
        supplier = await db.send(conn, Q["lock_supplier"], {"supplier_id": supplier_id})
        sku = await db.send(conn, Q["sku_exists"], {"sku_id": sku_id})
        before = await db.send(conn, Q["supplier_sku"], {"supplier_id": supplier_id, "sku_id": sku_id})
        if await supplier.one() is None:
            raise NotFound(f"No supplier {supplier_id}")
        if await sku.one() is None:
            raise NotFound(f"No SKU {sku_id}")
        before_row = await before.one()
        unpreferred = []
        if terms.is_preferred:
            unpreferred = await db.fetch_all(conn, Q["unprefer_others"],
                                             {"sku_id": sku_id, "supplier_id": supplier_id})
        after = await db.fetch_one(conn, Q["upsert_supplier_sku"], {
            "supplier_id": supplier_id, "sku_id": sku_id, "unit_cost": terms.unit_cost,
            "supplier_sku_code": terms.supplier_sku_code, "is_preferred": terms.is_preferred})
        await audit.record_many(conn, actor, "supplier.set_sku", [
            audit.Change(other["supplier_id"], _audited_sku(sku_id, other | {"is_preferred": True}),
                         _audited_sku(sku_id, other | {"is_preferred": False})) for other in unpreferred])
        await audit.record(conn, actor, "supplier.set_sku", supplier_id, _audited_sku(sku_id, before_row),
                           _audited_sku(sku_id, after))

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await read_supplier(conn, supplier_id)

    return await ctx.transaction(work, after_commit=read_back)


async def remove_supplier_sku(ctx: Context, actor: CurrentUser, supplier_id: int,
                              sku_id: int) -> dict[str, Any]:
    """The supplier no longer supplies the SKU (its purchase orders keep their lines)."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        await db.send(conn, Q["lock_preferred"], {"sku_id": sku_id})
        removed = await db.fetch_one(conn, Q["delete_supplier_sku"],
                                     {"supplier_id": supplier_id, "sku_id": sku_id})
        if removed is None:
            raise NotFound(f"Supplier {supplier_id} does not supply SKU {sku_id}")
        await audit.record(conn, actor, "supplier.remove_sku", supplier_id, _audited_sku(sku_id, removed),
                           _audited_sku(sku_id, None))

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await read_supplier(conn, supplier_id)

    return await ctx.transaction(work, after_commit=read_back)
