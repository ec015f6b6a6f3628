"""A customer's account: what they owe, what is overdue, and what their credit limit leaves.

Exposure is `stockline_customer_exposure()` (db/schema.sql), the one definition the credit
limit is checked against when an order is placed (stockline_place_order): unpaid invoice
balances, over-payments counting as credit, plus the gross of orders not yet invoiced.
"""

from __future__ import annotations

from typing import Any

import psycopg

from stockline import db
from stockline.errors import NotFound
from stockline.kernel.expiry import business_day
from stockline.kernel.money import money
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


async def account_summary(conn: psycopg.AsyncConnection, customer_id: int) -> dict[str, Any]:
    row = await db.fetch_one(conn, Q["account_summary"],
                             {"customer_id": customer_id, "today": business_day()})
    if row is None:
        raise NotFound(f"No customer {customer_id}")
    limit = row["credit_limit"]
    return {
        "customer_id": row["customer_id"], "customer_name": row["name"],
        "payment_terms_days": row["payment_terms_days"],
        "credit_limit": None if limit is None else money(limit),
        "exposure": money(row["exposure"]),
        # what may still be ordered (gross) before the limit refuses an order; None: no limit
        "available_credit": None if limit is None else money(max(limit - row["exposure"], 0)),
        "open_orders": row["open_orders"], "open_orders_gross": money(row["open_orders_gross"]),
        "invoices_owed": money(row["invoices_owed"]), "unallocated_credit": money(row["unallocated_credit"]),
        "overdue_amount": money(row["overdue_amount"]), "overdue_invoices": row["overdue_invoices"],
        "oldest_overdue_due_on": (row["oldest_overdue_due_on"].isoformat()
                                  if row["oldest_overdue_due_on"] else None),
    }
