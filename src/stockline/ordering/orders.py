"""Orders after they are placed: reading them and moving them through their lifecycle.

pending -> processed -> shipped; pending or processed -> cancelled. Shipping issues the
order's invoice in the same transaction (billing.invoices), and is refused while the order
holds units of a batch on hold (409 quarantined_stock). Cancelling gives every
allocated unit back to the batch it came from (ledger reason `cancel`). Any other transition
is 409. Customers may cancel their own pending orders only. A move by staff is recorded in
the audit log (stockline.audit); a customer cancelling their own order is not a privileged
change, so it is not.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.billing import invoices
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.inventory import ledger
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.pagination import PageRequest
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

STATUSES = ("pending", "processed", "shipped", "cancelled")
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"processed", "cancelled"}),
    "processed": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset(),
    "cancelled": frozenset(),
}
CUSTOMER_TRANSITIONS: dict[str, frozenset[str]] = {"pending": frozenset({"cancelled"})}


def _item(row: dict[str, Any], include_costs: bool) -> dict[str, Any]:
    item = {
        "order_item_id": row["order_item_id"], "sku_id": row["sku_id"], "sku_code": row["sku_code"],
        "product_name": row["product_name"], "package_size": row["package_size"],
        "unit_type": row["unit_type"], "batch_id": row["batch_id"], "batch_no": row["batch_no"],
        "expiry_date": row["expiry_date"].isoformat(), "quantity": row["quantity"],
        "base_price": money(row["base_price"]), "discount_percentage": money(row["discount_percentage"]),
        "sale_price": money(row["sale_price"]), "line_total": money(row["line_total"]),
        "applied_rule_id": row["pricing_rule_id"], "tax_rate": money(row["tax_rate"]),
        "tax_amount": money(row["tax_amount"]), "line_gross": money(row["line_total"] + row["tax_amount"]),
        "recall": _recall(row),
    }
    if include_costs:
        cost = row["unit_cost"] * row["quantity"]
        item |= {"unit_cost": money(row["unit_cost"]), "line_cost": money(cost),
                 "line_profit": money(row["line_total"] - cost)}
    return item


def _recall(row: dict[str, Any]) -> dict[str, Any] | None:
    """The recall of the allocation's batch, if it was recalled (a just-placed order's rows
    carry none: a recalled batch is never sold)."""
    if row.get("recall_id") is None:
        return None
    return {"recall_id": row["recall_id"], "recall_no": row["recall_no"], "class": row["recall_class"],
            "reason": row["recall_reason"], "status": row["recall_status"]}


async def read_order(conn: psycopg.AsyncConnection, order_id: int, *, customer_id: int | None,
                     include_costs: bool = False) -> dict[str, Any]:
    """An order with every allocation (batch and expiry, for recall tracing). A customer
    (customer_id set) sees only their own: another's order is 404, as if it did not exist."""
    header = await db.send(conn, Q["order_header"], {"order_id": order_id, "customer_id": customer_id})
    items = await db.send(conn, Q["order_items"], {"order_id": order_id})
    if (row := await header.one()) is None:
        raise NotFound(f"No order {order_id}")
    return order_document(row, await items.all(), customer_scoped=customer_id is not None,
                          include_costs=include_costs)


def order_document(header: dict[str, Any], rows: list[dict[str, Any]], *, customer_scoped: bool,
                   include_costs: bool = False) -> dict[str, Any]:
    """The order as the API shows it, from its header and its items (in order_items' order
    and shape): every answer about an order is built here."""
    items = [_item(row, include_costs) for row in rows]
    return {
        "order_id": header["order_id"], "customer_id": header["customer_id"],
        "customer_name": header["customer_name"], "user_id": header["user_id"],
        "username": header["username"], "order_date": header["order_date"].isoformat(),
        "status": header["status"], "total_amount": money(header["total_amount"]),
        "net_amount": money(header["total_amount"]), "tax_amount": money(header["tax_amount"]),
        "gross_amount": money(header["total_amount"] + header["tax_amount"]),
        "invoice_id": header.get("invoice_id"),
        "updated_at": header["updated_at"].isoformat(),
        "allowed_transitions": sorted((CUSTOMER_TRANSITIONS if customer_scoped else TRANSITIONS)
                                      .get(header["status"], ())),
        "total_units": sum(row["quantity"] for row in rows), "items": items,
    } | (_order_costs(rows, header["total_amount"]) if include_costs else {})


def _order_costs(rows: list[dict[str, Any]], total: Any) -> dict[str, str]:
    cost = sum((row["unit_cost"] * row["quantity"] for row in rows), Decimal("0.00"))
    return {"total_cost": money(cost), "profit": money(total - cost)}


async def get_order(ctx: Context, order_id: int, *, customer_id: int | None,
                    include_costs: bool = False) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await read_order(conn, order_id, customer_id=customer_id, include_costs=include_costs)


async def customer_orders(ctx: Context, customer_id: int, paging: PageRequest,
                          status: str | None) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["customer_orders_page"], {
            "customer_id": customer_id, "status": status, "limit": paging.limit, "offset": paging.offset})
    items = [{"order_id": r["order_id"], "order_date": r["order_date"].isoformat(), "status": r["status"],
              "total_amount": money(r["total_amount"]), "line_count": r["line_count"], "units": r["units"],
              "updated_at": r["updated_at"].isoformat(), "recalled": r["recalled"]}
             for r in rows if r["order_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"], status=status)


async def all_orders(ctx: Context, paging: PageRequest, *, status: str | None,
                     customer_id: int | None, date_from: date | None, date_to: date | None) -> dict[str, Any]:
    """Every customer's orders for staff (order dates are UTC days)."""
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("date_from must not be after date_to")
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["admin_orders_page"], {
            "status": status, "customer_id": customer_id, "date_from": date_from, "date_to": date_to,
            "limit": paging.limit, "offset": paging.offset})
    items = [{"order_id": r["order_id"], "customer_id": r["customer_id"], "customer_name": r["customer_name"],
              "user_id": r["user_id"], "username": r["username"], "order_date": r["order_date"].isoformat(),
              "status": r["status"], "total_amount": money(r["total_amount"]), "total_cost": money(r["cost"]),
              "profit": money(r["total_amount"] - r["cost"]), "line_count": r["line_count"],
              "units": r["units"], "updated_at": r["updated_at"].isoformat()}
             for r in rows if r["order_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"], status=status, customer_id=customer_id,
                           date_from=date_from.isoformat() if date_from else None,
                           date_to=date_to.isoformat() if date_to else None)


async def _refuse_stock_on_hold(conn: psycopg.AsyncConnection, order_id: int) -> None:
    """409 quarantined_stock when the order holds units of a batch on hold (quarantined or
    recalled): such an order is cancelled (its units go back into the batch) and ordered
    again, never shipped. Read under the order's lock, with the batches share-locked."""
    batches = await db.fetch_all(conn, Q["order_batches_on_hold"], {"order_id": order_id})
    held = [b for b in batches if b["quarantined"]]
    if held:
        names = ", ".join(b["batch_no"] for b in held)
        raise Conflict(f"Order {order_id} holds units of batch {names}, which is on hold; cancel the order "
                       "and order again", code="quarantined_stock",
                       details={"batch_ids": [b["batch_id"] for b in held]})


async def change_status(ctx: Context, *,
                        order_id: int, new_status: str, actor: CurrentUser) -> dict[str, Any]:
    """Move an order to `new_status` by the lifecycle's rules. A customer's user reaches only
    their own orders and may only cancel a pending one."""
    customer_id = actor.customer_id if not actor.is_staff else None
    allowed = CUSTOMER_TRANSITIONS if customer_id is not None else TRANSITIONS

    async def work(conn: psycopg.AsyncConnection) -> bool:
        order = await db.fetch_one(conn, Q["lock_order"], {"order_id": order_id, "customer_id": customer_id})
        if order is None:
            raise NotFound(f"No order {order_id}")
        permitted = allowed.get(order["status"], frozenset())
        if new_status not in permitted:
            raise Conflict(f"An order that is {order['status']} cannot become {new_status}",
                           code="invalid_transition",
                           details={"from": order["status"], "to": new_status, "allowed": sorted(permitted)})
        if new_status == "shipped":
            await _refuse_stock_on_hold(conn, order_id)
        restocked = new_status == "cancelled"
        if restocked:
            note = f"cancelled by {'the customer' if customer_id is not None else actor.username}"
            await ledger.restock_order(conn, order_id, user_id=actor.user_id, note=note)
        await db.execute(conn, Q["set_order_status"], {"order_id": order_id, "status": new_status})
        if new_status == "shipped":
            await invoices.issue_invoice(conn, order_id, issued_on=business_day(), seller=ctx.settings.seller)
        if actor.is_staff:
            await audit.record(conn, actor, "order.status_change", order_id,
                               {"status": order["status"]}, {"status": new_status})
        return restocked

    async def after_commit(conn: psycopg.AsyncConnection, restocked: bool) -> dict[str, Any]:
        if restocked:
            await ctx.versions.announce_change(conn)
        return await read_order(conn, order_id, customer_id=customer_id, include_costs=actor.is_staff)

    return await ctx.transaction(work, after_commit=after_commit)
