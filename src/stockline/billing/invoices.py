"""Invoices: issued when an order ships, in the same transaction, and never changed after.

`issue_invoice` copies the seller (settings), the buyer and every line with its batch,
expiry, net, tax rate and tax onto the invoice and numbers it gaplessly
(stockline_next_document_number). The amounts are the order's stored ones, so invoice totals
are sums of stored lines.

Reading them: a customer's user sees only their own customer's invoices (another's is 404,
as if it did not exist); staff see every one, with who recorded each payment. An invoice's
status and balance are worked out on the business day by `stockline_invoice_status()`, the
one definition: paid, overdue, partly_paid or open. Balance = gross - paid - credited; below
zero it is an over-payment, the customer's credit (`overpaid`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.billing.document import build_document, tax_summary
from stockline.billing.pdf import Pdf, pdf_file
from stockline.customers.service import contains_pattern
from stockline.errors import NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.kernel.export import Column, csv_text, item
from stockline.kernel.money import money
from stockline.pagination import PageRequest
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

MAX_SEARCH_LENGTH = 50
# one list for the list's JSON items and its CSV export
LIST_COLUMNS = (
    Column("invoice_id", "int"), Column("invoice_no"), Column("order_id", "int"),
    Column("customer_id", "int"), Column("customer_name"),
    Column("issued_on", "date"), Column("due_on", "date"),
    Column("net_amount", "money"), Column("tax_amount", "money"), Column("gross_amount", "money"),
    Column("amount_paid", "money"), Column("amount_credited", "money"), Column("balance", "money"),
    Column("status"),
)
_LINE_COLUMNS = (
    Column("line_no", "int"), Column("sku_code"), Column("description"), Column("batch_no"),
    Column("expiry_date", "date"), Column("quantity", "int"), Column("unit_price", "money"),
    Column("net_amount", "money"), Column("tax_rate", "money"), Column("tax_amount", "money"),
)
_PAYMENT_COLUMNS = (Column("payment_id", "int"), Column("amount", "money"), Column("paid_on", "date"),
                    Column("reference"), Column("recorded_at", "timestamp"))
_CREDIT_NOTE_COLUMNS = (
    Column("credit_note_id", "int"), Column("credit_note_no"), Column("issued_on", "date"),
    Column("return_id", "int"), Column("net_amount", "money"), Column("tax_amount", "money"),
    Column("gross_amount", "money"),
)


async def issue_invoice(conn: psycopg.AsyncConnection, order_id: int, *, issued_on: date,
                        seller: dict[str, Any]) -> dict[str, Any]:
    """Issue the invoice of `order_id` (the caller holds the order's lock and has just marked
    it shipped): {invoice_id, invoice_no}."""
    return await db.fetch_one(conn, Q["issue_invoice"], {
        "order_id": order_id, "issued_on": issued_on, "seller": json.dumps(seller)})


# --- lists ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceFilters:
    """Which invoices a list shows. `customer_id` is the customer's own for their users, a
    filter for staff; `date_from`/`date_to` are issue days, both included."""
    status: str | None = None
    customer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    search: str | None = None

    def checked(self) -> InvoiceFilters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationFailed("date_from must not be after date_to", details={"field": "date_to"})
        if self.search is not None and len(self.search) > MAX_SEARCH_LENGTH:
            raise ValidationFailed(f"Search for at most {MAX_SEARCH_LENGTH} characters",
                                   details={"field": "search"})
        return self

    def params(self) -> dict[str, Any]:
        return {"status": self.status, "customer_id": self.customer_id, "date_from": self.date_from,
                "date_to": self.date_to, "pattern": contains_pattern(self.search), "today": business_day()}

    def echo(self) -> dict[str, Any]:
        """The filters as a list answer repeats them."""
        return {"status": self.status, "customer_id": self.customer_id,
                "date_from": self.date_from and self.date_from.isoformat(),
                "date_to": self.date_to and self.date_to.isoformat(),
                "search": (self.search or "").strip() or None}


async def _list_rows(ctx: Context, filters: InvoiceFilters,
                     paging: PageRequest | None) -> list[dict[str, Any]]:
    limits = {"limit": paging.limit, "offset": paging.offset} if paging else {"limit": None, "offset": 0}
    async with ctx.pool.connection() as conn:
        return await db.fetch_all(conn, Q["invoices_page"], filters.checked().params() | limits)


async def _page(ctx: Context, filters: InvoiceFilters, paging: PageRequest, **echo: Any) -> dict[str, Any]:
    rows = await _list_rows(ctx, filters, paging)
    items = [item(row, LIST_COLUMNS) for row in rows if row["invoice_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"], **echo)


async def list_invoices(ctx: Context, filters: InvoiceFilters, paging: PageRequest) -> dict[str, Any]:
    """A page of every customer's invoices (staff), newest first, with the filters repeated."""
    return await _page(ctx, filters, paging, **filters.echo())


async def customer_invoices(ctx: Context, customer_id: int, paging: PageRequest,
                            status: str | None) -> dict[str, Any]:
    """A page of one customer's own invoices, newest first."""
    return await _page(ctx, InvoiceFilters(status=status, customer_id=customer_id), paging, status=status)


async def invoices_csv(ctx: Context, filters: InvoiceFilters) -> str:
    """Every invoice the filters match, as CSV (the list's columns)."""
    rows = await _list_rows(ctx, filters, None)
    return csv_text([row for row in rows if row["invoice_id"] is not None], LIST_COLUMNS)


def csv_filename(today: date | None = None) -> str:
    return f"invoices-{today or business_day()}.csv"


# --- one invoice ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Read:
    header: dict[str, Any]
    lines: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    credit_notes: list[dict[str, Any]]


async def _read(conn: psycopg.AsyncConnection, invoice_id: int, customer_id: int | None) -> _Read:
    params = {"invoice_id": invoice_id}
    header = await db.send(conn, Q["invoice_header"], params | {"customer_id": customer_id,
                                                                 "today": business_day()})
    lines = await db.send(conn, Q["invoice_lines"], params)
    payments = await db.send(conn, Q["invoice_payments"], params)
    credit_notes = await db.send(conn, Q["invoice_credit_notes"], params)
    row = await header.one()
    if row is None:
        raise NotFound(f"No invoice {invoice_id}")
    return _Read(row, await lines.all(), await payments.all(), await credit_notes.all())


def overpaid(balance: Decimal) -> Decimal:
    """What was paid beyond the invoice (a negative balance): the customer's credit."""
    return max(-balance, Decimal("0.00"))


def _invoice(read: _Read, *, staff: bool) -> dict[str, Any]:
    """The invoice as the API shows it (staff also see who recorded each payment)."""
    header = read.header
    lines = [item(line, _LINE_COLUMNS) for line in read.lines]
    payment_columns = (*_PAYMENT_COLUMNS, Column("recorded_by")) if staff else _PAYMENT_COLUMNS
    return item(header, LIST_COLUMNS) | {
        "overpaid": money(overpaid(header["balance"])),
        "seller": header["seller"], "buyer": header["buyer"],
        "lines": lines, "tax_summary": tax_summary(lines),
        "payments": [item(payment, payment_columns) for payment in read.payments],
        "credit_notes": [item(note, _CREDIT_NOTE_COLUMNS) for note in read.credit_notes],
    }


async def read_invoice(conn: psycopg.AsyncConnection, invoice_id: int, *, customer_id: int | None,
                       staff: bool = False) -> dict[str, Any]:
    return _invoice(await _read(conn, invoice_id, customer_id), staff=staff)


async def get_invoice(ctx: Context, invoice_id: int, *, customer_id: int | None,
                      staff: bool = False) -> dict[str, Any]:
    """One invoice. A customer (customer_id set) sees only their own: another's is 404."""
    async with ctx.pool.connection() as conn:
        return await read_invoice(conn, invoice_id, customer_id=customer_id, staff=staff)


def _document(read: _Read) -> dict[str, Any]:
    header = read.header
    payment = {"amount_paid": header["amount_paid"], "amount_credited": header["amount_credited"],
               "balance": header["balance"], "status": header["status"]}
    return build_document("invoice", header, read.lines, references=[["Order", str(header["order_id"])]],
                          payment=payment)


async def invoice_document(ctx: Context, invoice_id: int, *, customer_id: int | None) -> dict[str, Any]:
    """The invoice as a printable document (billing.document's shape)."""
    async with ctx.pool.connection() as conn:
        return _document(await _read(conn, invoice_id, customer_id))


async def invoice_pdf(ctx: Context, invoice_id: int, *, customer_id: int | None) -> Pdf:
    """The invoice as a PDF, named by its number."""
    return await pdf_file(await invoice_document(ctx, invoice_id, customer_id=customer_id))
