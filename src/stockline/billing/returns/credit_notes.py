"""Credit notes: issued when a return is approved, in the same transaction, and never changed
after (db/schema.sql's triggers refuse it).

A credit note credits the returned units at the net price they were sold at, against the
order's invoice, whose amount_credited rises by the credit note's gross (which lowers the
invoice's balance and the customer's exposure). It is numbered CN-<year>-nnnnnn in its own
gapless series (stockline_next_document_number, as invoices are) and carries copies of the
seller, the buyer and what the invoice said of each item, so it reads the same forever.

The tax of a line (`credit_line`) is the line-tax rule on its net (stockline.tax.rules), with
two limits that keep the credited tax of an item within what was invoiced for it, whatever
the rounding of part-quantities: a line never credits more tax than the item has left, and
the line that credits an item's last units credits exactly the tax it has left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.billing.document import build_document
from stockline.errors import NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.export import Column, csv_text, item
from stockline.pagination import PageRequest
from stockline.sqlfile import queries_beside
from stockline.tax.rules import line_tax

Q = queries_beside(__file__)

# one column list for the JSON items and the CSV export
COLUMNS = (Column("credit_note_id", "int"), Column("credit_note_no"), Column("issued_on", "date"),
           Column("customer_id", "int"), Column("customer_name"), Column("invoice_id", "int"),
           Column("invoice_no"), Column("return_id", "int"), Column("order_id", "int"),
           Column("net_amount", "money"), Column("tax_amount", "money"), Column("gross_amount", "money"))


@dataclass(frozen=True)
class CreditLine:
    order_item_id: int
    quantity: int
    unit_price: Decimal
    net_amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal


def credit_line(*, order_item_id: int, quantity: int, unit_price: Decimal, tax_rate: Decimal,
                item_quantity: int, item_tax: Decimal, credited_units: int,
                credited_tax: Decimal) -> CreditLine:
    """The credit for `quantity` units of an order item sold at `unit_price` (net) and taxed
    `item_tax` in all, of which `credited_units` and `credited_tax` were credited before."""
    net = unit_price * quantity
    tax_left = item_tax - credited_tax
    completes_item = credited_units + quantity >= item_quantity
    # the item's last units credit all of its tax that is left, to the cent
    tax = tax_left if completes_item else min(line_tax(net, tax_rate), tax_left)
    return CreditLine(order_item_id, quantity, unit_price, net, tax_rate, tax)


async def issue_credit_note(conn: psycopg.AsyncConnection, *, return_id: int, invoice_id: int,
                            lines: list[CreditLine], issued_on: date,
                            seller: dict[str, Any]) -> dict[str, Any]:
    """Issue the credit note of an approved return (the caller holds the return's and the
    order's locks): {credit_note_id, credit_note_no, gross_amount}."""
    return await db.fetch_one(conn, Q["issue_credit_note"], {
        "return_id": return_id, "invoice_id": invoice_id, "issued_on": issued_on,
        "seller": json.dumps(seller), "order_item_ids": [line.order_item_id for line in lines],
        "quantities": [line.quantity for line in lines], "unit_prices": [line.unit_price for line in lines],
        "net_amounts": [line.net_amount for line in lines], "tax_rates": [line.tax_rate for line in lines],
        "tax_amounts": [line.tax_amount for line in lines]})


# --- reading -------------------------------------------------------------------------------

def _references(header: dict[str, Any]) -> list[list[str]]:
    return [["Credits invoice", header["invoice_no"]], ["Order", str(header["order_id"])],
            ["Return", str(header["return_id"])]]


async def read_credit_note(conn: psycopg.AsyncConnection, credit_note_id: int, *,
                           customer_id: int | None) -> dict[str, Any]:
    """A credit note as the shared document (billing.document) with the ids it links to. A
    customer (customer_id set) sees only their own: another's is 404, as if it did not exist."""
    header = await db.send(conn, Q["credit_note_header"],
                           {"credit_note_id": credit_note_id, "customer_id": customer_id})
    lines = await db.send(conn, Q["credit_note_lines"], {"credit_note_id": credit_note_id})
    row = await header.one()
    if row is None:
        raise NotFound(f"No credit note {credit_note_id}")
    document = build_document("credit_note", row, await lines.all(), references=_references(row))
    return {"credit_note_id": row["credit_note_id"], "customer_id": row["customer_id"],
            "invoice_id": row["invoice_id"], "invoice_no": row["invoice_no"], "return_id": row["return_id"],
            "order_id": row["order_id"], **document}


async def get_credit_note(ctx: Context, credit_note_id: int, *, customer_id: int | None) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await read_credit_note(conn, credit_note_id, customer_id=customer_id)


def _check_days(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("date_from must not be after date_to", details={"field": "date_to"})


async def _rows(ctx: Context, paging: PageRequest | None, *, customer_id: int | None,
                date_from: date | None, date_to: date | None) -> list[dict[str, Any]]:
    _check_days(date_from, date_to)
    limits = {"limit": paging.limit, "offset": paging.offset} if paging else {"limit": None, "offset": 0}
    async with ctx.pool.connection() as conn:
        return await db.fetch_all(conn, Q["credit_notes_page"], {
            "customer_id": customer_id, "date_from": date_from, "date_to": date_to, **limits})


async def list_credit_notes(ctx: Context, paging: PageRequest, *, customer_id: int | None,
                            date_from: date | None = None, date_to: date | None = None) -> dict[str, Any]:
    """Credit notes, newest first, by customer and issue day (both days included)."""
    rows = await _rows(ctx, paging, customer_id=customer_id, date_from=date_from, date_to=date_to)
    items = [item(row, COLUMNS) for row in rows if row["credit_note_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"], customer_id=customer_id,
                           date_from=date_from and date_from.isoformat(),
                           date_to=date_to and date_to.isoformat())


async def credit_notes_csv(ctx: Context, *, customer_id: int | None, date_from: date | None,
                           date_to: date | None) -> str:
    """Every matching credit note as CSV, the columns of the JSON list."""
    rows = await _rows(ctx, None, customer_id=customer_id, date_from=date_from, date_to=date_to)
    return csv_text([row for row in rows if row["credit_note_id"] is not None], COLUMNS)


def csv_filename(date_from: date | None, date_to: date | None) -> str:
    return f"credit-notes-{date_from or 'start'}-to-{date_to or 'today'}.csv"
