"""Tax classes and their dated rates, as admins manage them.

- A class has a rate since always (made with the class) and may get later ones, each from a
  day: the rate on day D is the one with the latest valid_from <= D (stockline_tax_rate()
  in db/schema.sql, the one definition, which orders use at sale).
- History is never rewritten: a rate in force (valid_from on or before today, UTC) was
  charged on orders, so it is neither added nor removed; a change is a new rate from a
  later day, and only such a scheduled rate may be cancelled. Orders store their rate and
  tax per line, so nothing here touches an order.
- A day that already has a rate is refused (409 tax_rate_exists), never overwritten: cancel
  the scheduled rate first, so what replaced what is in the audit log.
- A class in use by a SKU cannot be deleted (409 tax_class_in_use), nor the 'zero' class,
  every SKU's default. The class row is locked first, and putting a SKU in a class checks its
  foreign key under a share of that lock, so a SKU joining meanwhile is either counted or
  refused after the delete.
- Every writer of a class locks its row first, so two changes to one class run one after the
  other; every change is recorded in the audit log (entity: the class's tax_class_id) in its
  transaction.
- Nothing is cached: the catalog is priced net, and tax enters an order only inside
  stockline_place_order, which reads the rates when the order is placed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.pagination import PageRequest
from stockline.sqlfile import queries_beside
from stockline.tax.schemas import DEFAULT_TAX_CLASS

Q = queries_beside(__file__)


def in_force(valid_from: date, today: date) -> bool:
    """A rate from `valid_from` has applied by `today` (and orders may have been taxed at it)."""
    return valid_from <= today


def _class(row: dict[str, Any]) -> dict[str, Any]:
    rates = [{"valid_from": valid_from, "rate": money(rate), "state": state}
             for valid_from, rate, state in zip(row["valid_froms"], row["rates"], row["states"], strict=True)]
    upcoming = next(({"valid_from": rate["valid_from"], "rate": rate["rate"]}
                     for rate in rates if rate["state"] == "scheduled"), None)
    return {"tax_class": row["tax_class"], "tax_class_id": row["tax_class_id"], "name": row["name"],
            "current_rate": money(row["current_rate"]), "next_rate": upcoming,
            "rates": rates, "sku_count": row["sku_count"], "created_at": row["created_at"]}


def _not_found(tax_class: str) -> NotFound:
    return NotFound(f"No tax class {tax_class!r}")


# --- reading -------------------------------------------------------------------------------

async def list_classes(ctx: Context, paging: PageRequest) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["classes_page"], {
            "tax_class": None, "today": business_day(), "limit": paging.limit, "offset": paging.offset})
    items = [_class(row) for row in rows if row["tax_class"] is not None]
    return paging.envelope(items, rows[0]["total_items"])


async def _read_class(conn: psycopg.AsyncConnection, tax_class: str) -> dict[str, Any]:
    row = await db.fetch_one(conn, Q["classes_page"], {
        "tax_class": tax_class, "today": business_day(), "limit": 1, "offset": 0})
    if row["tax_class"] is None:
        raise _not_found(tax_class)
    return _class(row)


async def get_class(ctx: Context, tax_class: str) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await _read_class(conn, tax_class)


async def class_choices(ctx: Context) -> list[dict[str, Any]]:
    """Every class (code, name, the rate in force today), by name: what a SKU may be put in."""
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["class_choices"], {"today": business_day()})
    return [row | {"current_rate": money(row["current_rate"])} for row in rows]


async def _lock_class(conn: psycopg.AsyncConnection, tax_class: str) -> dict[str, Any]:
    row = await db.fetch_one(conn, Q["lock_class"], {"tax_class": tax_class})
    if row is None:
        raise _not_found(tax_class)
    return row


async def _write(ctx: Context, tax_class: str, work) -> dict[str, Any]:
    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await _read_class(conn, tax_class)

    return await ctx.transaction(work, after_commit=read_back)


# --- classes -------------------------------------------------------------------------------

async def create_class(ctx: Context, actor: CurrentUser, *, tax_class: str, name: str,
                       rate: Decimal) -> dict[str, Any]:
    async def work(conn: psycopg.AsyncConnection) -> None:
        created = await db.fetch_one(conn, Q["insert_class"],
                                     {"tax_class": tax_class, "name": name, "rate": rate})
        if created is None:
            raise Conflict(f"There is already a tax class {tax_class!r}; choose another code",
                           code="tax_class_exists", details={"tax_class": tax_class})
        await audit.record(conn, actor, "tax_class.create", created["tax_class_id"], None,
                           {"tax_class": tax_class, "name": name, "rate": created["rate"]})

    return await _write(ctx, tax_class, work)


async def rename_class(ctx: Context, actor: CurrentUser, tax_class: str, name: str) -> dict[str, Any]:
    async def work(conn: psycopg.AsyncConnection) -> None:
        before = await _lock_class(conn, tax_class)
        after = await db.fetch_one(conn, Q["update_class"], {"tax_class": tax_class, "name": name})
        await audit.record(conn, actor, "tax_class.update", before["tax_class_id"], before, after)

    return await _write(ctx, tax_class, work)


async def delete_class(ctx: Context, actor: CurrentUser, tax_class: str) -> None:
    if tax_class == DEFAULT_TAX_CLASS:
        raise Conflict(f"The {DEFAULT_TAX_CLASS!r} class is every SKU's default and cannot be deleted",
                       code="tax_class_is_default", details={"tax_class": tax_class})

    async def work(conn: psycopg.AsyncConnection) -> None:
        locked = await _lock_class(conn, tax_class)
        usage = await db.fetch_one(conn, Q["class_sku_count"], {"tax_class": tax_class})
        if usage["sku_count"]:
            count = usage["sku_count"]
            raise Conflict(f"{count} SKU{'s are' if count != 1 else ' is'} in tax class {tax_class!r}; "
                           "move them to another class first", code="tax_class_in_use",
                           details={"tax_class": tax_class, "sku_count": count})
        rates = await db.fetch_all(conn, Q["class_rates"], {"tax_class": tax_class})
        await db.execute(conn, Q["delete_class"], {"tax_class": tax_class})
        await audit.record(conn, actor, "tax_class.delete", locked["tax_class_id"],
                           locked | {"rates": rates}, None)

    await ctx.transaction(work)


# --- rates ---------------------------------------------------------------------------------

def _day(value: date) -> str:
    return value.isoformat()


async def schedule_rate(ctx: Context, actor: CurrentUser, tax_class: str, *, rate: Decimal,
                        valid_from: date) -> dict[str, Any]:
    today = business_day()
    if in_force(valid_from, today):
        raise ValidationFailed(
            f"A new rate must start after today ({_day(today)}, UTC): a rate from {_day(valid_from)} would "
            "change the tax of orders already placed; schedule it from tomorrow or later",
            code="tax_rate_in_force", details={"field": "valid_from", "today": _day(today)})

    async def work(conn: psycopg.AsyncConnection) -> None:
        locked = await _lock_class(conn, tax_class)
        params = {"tax_class": tax_class, "valid_from": valid_from, "rate": rate}
        added = await db.fetch_one(conn, Q["insert_rate"], params)
        if added is None:
            existing = money((await db.fetch_one(conn, Q["rate"], params))["rate"])
            raise Conflict(
                f"Tax class {tax_class!r} already has a rate of {existing} % from {_day(valid_from)}; "
                "cancel it first to set another", code="tax_rate_exists",
                details={"field": "valid_from", "valid_from": _day(valid_from), "rate": existing})
        await audit.record(conn, actor, "tax_class.schedule_rate", locked["tax_class_id"], None, added)

    return await _write(ctx, tax_class, work)


async def cancel_rate(ctx: Context, actor: CurrentUser, tax_class: str, valid_from: date) -> None:
    today = business_day()

    async def work(conn: psycopg.AsyncConnection) -> None:
        locked = await _lock_class(conn, tax_class)
        params = {"tax_class": tax_class, "valid_from": valid_from}
        if await db.fetch_one(conn, Q["rate"], params) is None:
            raise NotFound(f"Tax class {tax_class!r} has no rate from {_day(valid_from)}")
        if in_force(valid_from, today):
            raise Conflict(
                f"The rate of tax class {tax_class!r} from {_day(valid_from)} is in force already (today is "
                f"{_day(today)}, UTC) and orders were taxed at it; schedule a new rate instead",
                code="tax_rate_in_force", details={"valid_from": _day(valid_from), "today": _day(today)})
        removed = await db.fetch_one(conn, Q["delete_rate"], params)
        await audit.record(conn, actor, "tax_class.delete_rate", locked["tax_class_id"], removed, None)

    await ctx.transaction(work)
