"""Batch management: receive, adjust, write off, edit and delete. Every stock change goes
through the ledger (`ledger.lock_skus` first, then `ledger.record_movements`), and the
catalog version is bumped after commit so every worker's catalog shows the new stock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from stockline import db
from stockline.auth.service import CurrentUser
from stockline.catalog.version import CatalogVersion
from stockline.config import Settings
from stockline.errors import Conflict, NotFound
from stockline.inventory import ledger
from stockline.inventory.expiry import business_day
from stockline.pricing.rules import CENT, money
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__, "batch_queries.sql")


@dataclass(frozen=True)
class Receipt:
    batch_no: str
    quantity: int
    expiry_date: date
    cost_price: Decimal
    sku_id: int | None = None
    sku_code: str | None = None
    note: str | None = None


def batch_document(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "batch_id": row["batch_id"],
        "batch_no": row["batch_no"],
        "expiry_date": row["expiry_date"].isoformat(),
        "quantity_on_hand": row["quantity_on_hand"],
        "cost_price": money(row["cost_price"]),
        "stock_value": money(row["cost_price"] * row["quantity_on_hand"]),
        "received_at": row["received_at"].isoformat(),
        "sku_id": row["sku_id"],
        "sku_code": row["sku_code"],
        "package_size": row["package_size"],
        "unit_type": row["unit_type"],
        "product_id": row["product_id"],
        "product_name": row["product_name"],
        "manufacturer": row["manufacturer"],
        "expired": row["expiry_date"] <= business_day(),
    }


async def _locked_batch(conn: psycopg.AsyncConnection, batch_id: int) -> dict[str, Any]:
    """The batch, with its SKU locked (so its stock cannot move under us until commit)."""
    batch = await db.fetch_one(conn, Q["batch_by_id"], {"batch_id": batch_id})
    if batch is None:
        raise NotFound(f"No batch {batch_id}")
    await ledger.lock_skus(conn, [batch["sku_id"]])
    return await db.fetch_one(conn, Q["batch_by_id"], {"batch_id": batch_id})  # re-read under the lock


async def _write(pool: AsyncConnectionPool, versions: CatalogVersion, settings: Settings, work) -> dict:
    """Run a stock-changing transaction; after commit, bump the catalog version and read the
    batch back as the inventory view shows it."""

    async def after_commit(conn: psycopg.AsyncConnection, outcome: tuple[int, dict]) -> dict:
        batch_id, extra = outcome
        await versions.announce_change(conn)
        row = await db.fetch_one(conn, Q["batch_view"], {"batch_id": batch_id})
        return batch_document(row) | extra

    return await db.run_transaction(pool, work, attempts=settings.db_tx_retries, after_commit=after_commit)


async def receive(
    pool: AsyncConnectionPool,
    versions: CatalogVersion,
    settings: Settings,
    user: CurrentUser,
    receipt: Receipt,
) -> dict[str, Any]:
    """A new batch, or more of an existing one (same SKU and batch number, same expiry). More
    of a batch at another cost moves its cost to the weighted average of old and new units."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, dict]:
        sku = await db.fetch_one(
            conn, Q["find_sku"], {"sku_id": receipt.sku_id, "sku_code": receipt.sku_code}
        )
        if sku is None:
            raise NotFound(f"No SKU {receipt.sku_id or receipt.sku_code!r}")
        await ledger.lock_skus(conn, [sku["sku_id"]])
        batch = await db.fetch_one(
            conn, Q["batch_by_number"], {"sku_id": sku["sku_id"], "batch_no": receipt.batch_no}
        )
        created = batch is None
        if created:
            row = await db.fetch_one(
                conn,
                Q["insert_batch"],
                {
                    "sku_id": sku["sku_id"],
                    "batch_no": receipt.batch_no,
                    "expiry_date": receipt.expiry_date,
                    "cost_price": receipt.cost_price,
                },
            )
            batch_id = row["batch_id"]
        else:
            batch_id = batch["batch_id"]
            if batch["expiry_date"] != receipt.expiry_date:
                raise Conflict(
                    f"Batch {receipt.batch_no} of this SKU expires on {batch['expiry_date'].isoformat()}, "
                    f"not {receipt.expiry_date.isoformat()}; check the batch number or the date",
                    code="batch_expiry_mismatch",
                    details={"batch_id": batch_id, "expiry_date": batch["expiry_date"].isoformat()},
                )
            if batch["cost_price"] != receipt.cost_price:
                units = batch["quantity_on_hand"] + receipt.quantity
                average = (
                    (batch["cost_price"] * batch["quantity_on_hand"] + receipt.cost_price * receipt.quantity)
                    / units
                ).quantize(CENT, ROUND_HALF_UP)
                await _edit(conn, batch, "cost_price", average, user, "weighted average after a receipt")
        await ledger.record_movements(
            conn,
            [ledger.Movement(batch_id, receipt.quantity, "receipt", user_id=user.user_id, note=receipt.note)],
        )
        return batch_id, {"created": created}

    return await _write(pool, versions, settings, work)


async def adjust(
    pool: AsyncConnectionPool,
    versions: CatalogVersion,
    settings: Settings,
    user: CurrentUser,
    *,
    batch_id: int,
    delta: int | None,
    new_quantity: int | None,
    reason: str,
    note: str | None,
) -> dict[str, Any]:
    """Correct a batch's stock by `delta` or to `new_quantity` (an `adjustment` movement).
    Never below zero; safe against concurrent checkouts (the SKU lock orders them)."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, dict]:
        batch = await _locked_batch(conn, batch_id)
        change = delta if delta is not None else new_quantity - batch["quantity_on_hand"]
        if change == 0:
            raise Conflict(
                f"Batch {batch['batch_no']} already holds {batch['quantity_on_hand']} units",
                code="nothing_to_change",
            )
        if batch["quantity_on_hand"] + change < 0:
            raise Conflict(
                f"Batch {batch['batch_no']} holds {batch['quantity_on_hand']} units; it cannot lose "
                f"{-change}",
                code="stock_below_zero",
                details={"quantity_on_hand": batch["quantity_on_hand"], "delta": change},
            )
        await ledger.record_movements(
            conn,
            [
                ledger.Movement(
                    batch_id,
                    change,
                    "adjustment",
                    user_id=user.user_id,
                    note=f"{reason}: {note}" if note else reason,
                )
            ],
        )
        return batch_id, {"delta": change}

    return await _write(pool, versions, settings, work)


async def write_off(
    pool: AsyncConnectionPool,
    versions: CatalogVersion,
    settings: Settings,
    user: CurrentUser,
    *,
    batch_id: int,
    note: str | None,
) -> dict[str, Any]:
    """Write off everything an expired batch still holds (a `write_off` movement)."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, dict]:
        batch = await _locked_batch(conn, batch_id)
        if batch["expiry_date"] > business_day():
            raise Conflict(
                f"Batch {batch['batch_no']} has not expired (it expires on "
                f"{batch['expiry_date'].isoformat()}); use an adjustment for damaged stock",
                code="not_expired",
            )
        if batch["quantity_on_hand"] == 0:
            raise Conflict(f"Batch {batch['batch_no']} holds no stock", code="nothing_to_change")
        units = batch["quantity_on_hand"]
        await ledger.record_movements(
            conn,
            [ledger.Movement(batch_id, -units, "write_off", user_id=user.user_id, note=note or "expired")],
        )
        return batch_id, {"written_off": units, "written_off_value": money(units * batch["cost_price"])}

    return await _write(pool, versions, settings, work)


async def write_off_expired(
    pool: AsyncConnectionPool,
    versions: CatalogVersion,
    settings: Settings,
    user: CurrentUser,
    note: str | None,
) -> dict[str, Any]:
    """Write off every expired batch that still holds stock, in one transaction."""

    async def work(conn: psycopg.AsyncConnection) -> dict[str, Any]:
        today = business_day()
        candidates = await db.fetch_all(conn, Q["expired_with_stock"], {"today": today})
        await ledger.lock_skus(conn, (b["sku_id"] for b in candidates))
        batches = await db.fetch_all(conn, Q["expired_with_stock"], {"today": today})  # under the locks
        await ledger.record_movements(
            conn,
            [
                ledger.Movement(
                    b["batch_id"],
                    -b["quantity_on_hand"],
                    "write_off",
                    user_id=user.user_id,
                    note=note or "expired",
                )
                for b in batches
            ],
        )
        return {
            "batches": len(batches),
            "units": sum(b["quantity_on_hand"] for b in batches),
            "value": money(sum((b["quantity_on_hand"] * b["cost_price"] for b in batches), Decimal(0))),
            "batch_ids": [b["batch_id"] for b in batches],
        }

    async def after_commit(conn: psycopg.AsyncConnection, summary: dict[str, Any]) -> dict[str, Any]:
        if summary["batches"]:
            await versions.announce_change(conn)
        return summary

    return await db.run_transaction(pool, work, attempts=settings.db_tx_retries, after_commit=after_commit)


_SETTERS = {"cost_price": "set_batch_cost", "expiry_date": "set_batch_expiry"}


def _as_text(value: date | Decimal) -> str:
    return value.isoformat() if isinstance(value, date) else money(value)


async def _edit(
    conn: psycopg.AsyncConnection,
    batch: dict[str, Any],
    field: str,
    value: date | Decimal,
    user: CurrentUser,
    note: str | None,
) -> None:
    """Change one field of a batch and record who changed it from what to what."""
    await db.execute(conn, Q[_SETTERS[field]], {"batch_id": batch["batch_id"], field: value})
    await db.execute(
        conn,
        Q["record_batch_edit"],
        {
            "batch_id": batch["batch_id"],
            "field": field,
            "old_value": _as_text(batch[field]),
            "new_value": _as_text(value),
            "user_id": user.user_id,
            "note": note,
        },
    )


async def edit(
    pool: AsyncConnectionPool,
    versions: CatalogVersion,
    settings: Settings,
    user: CurrentUser,
    *,
    batch_id: int,
    cost_price: Decimal | None,
    expiry_date: date | None,
    note: str | None,
) -> dict[str, Any]:
    """Correct a batch's cost or expiry; each change is recorded in Batch_Edits. An expiry
    may not move to or before a day the batch was already sold on."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[int, dict]:
        batch = await _locked_batch(conn, batch_id)
        changed = []
        if expiry_date is not None and expiry_date != batch["expiry_date"]:
            sold = await db.fetch_one(conn, Q["last_sale_day"], {"batch_id": batch_id})
            if sold["day"] is not None and expiry_date <= sold["day"]:
                raise Conflict(
                    f"Batch {batch['batch_no']} was sold on {sold['day'].isoformat()}; its expiry "
                    "must stay after that day",
                    code="expiry_before_sale",
                )
            await _edit(conn, batch, "expiry_date", expiry_date, user, note)
            changed.append("expiry_date")
        if cost_price is not None and cost_price != batch["cost_price"]:
            await _edit(conn, batch, "cost_price", cost_price, user, note)
            changed.append("cost_price")
        if not changed:
            raise Conflict("Nothing to change: the batch already has these values", code="nothing_to_change")
        return batch_id, {"changed": changed}

    return await _write(pool, versions, settings, work)


async def delete(
    pool: AsyncConnectionPool, versions: CatalogVersion, settings: Settings, batch_id: int
) -> None:
    """Delete a batch entered by mistake: only while nothing but its receipt ever touched it."""

    async def work(conn: psycopg.AsyncConnection) -> None:
        batch = await _locked_batch(conn, batch_id)
        history = await db.fetch_one(conn, Q["batch_history"], {"batch_id": batch_id})
        if history["items"]:
            raise Conflict(
                f"Batch {batch['batch_no']} has been sold, so it stays for traceability; "
                "write it off or adjust it instead",
                code="batch_in_use",
            )
        if history["moves"]:
            raise Conflict(
                f"Batch {batch['batch_no']} has stock movements besides its receipt; adjust it instead",
                code="batch_in_use",
            )
        await db.execute(conn, Q["delete_batch"], {"batch_id": batch_id})

    async def after_commit(conn: psycopg.AsyncConnection, _: None) -> None:
        await versions.announce_change(conn)

    await db.run_transaction(pool, work, attempts=settings.db_tx_retries, after_commit=after_commit)
