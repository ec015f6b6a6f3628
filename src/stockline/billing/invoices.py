"""Invoices: issued when an order ships, in the same transaction, and never changed after.

`issue_invoice` copies the seller (settings), the buyer and every line with its batch,
expiry, net, tax rate and tax onto the invoice and numbers it gaplessly (billing.numbering).
The amounts are the order's stored ones, so invoice totals are sums of stored lines.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import psycopg

from stockline import db
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


async def issue_invoice(conn: psycopg.AsyncConnection, order_id: int, *, issued_on: date,
                        seller: dict[str, Any]) -> dict[str, Any]:
    """Issue the invoice of `order_id` (the caller holds the order's lock and has just marked
    it shipped): {invoice_id, invoice_no}."""
    return await db.fetch_one(conn, Q["issue_invoice"], {
        "order_id": order_id, "issued_on": issued_on, "seller": json.dumps(seller)})
