"""Payments against an invoice, recorded by staff as the bank reports them.

- A payment may be part of the invoice, all of it, or more: money that arrived is recorded
  as it arrived. More than the balance (or anything on a paid invoice) leaves the balance
  below zero, the customer's credit, as ERPNext and Odoo keep an unallocated payment on the
  account; the answer says so in `overpaid`.
- Its day is when the money arrived: not after today (UTC), not before the invoice's issue day.
- The same bank reference twice on one invoice is the same payment entered twice: 409
  `duplicate_payment`, naming the first (Payments' unique (invoice_id, reference)).
- The invoice row is locked first, so payments on one invoice at the same moment queue and
  each adds to what the one before left; the payment, the invoice's new amount paid and the
  audit entry commit together or not at all.
"""

from __future__ import annotations

from typing import Any

import psycopg

from stockline import db
from stockline.audit import record as audit
from stockline.billing import invoices
from stockline.billing.schemas import MAX_PAYMENT, PaymentCreate
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.kernel.export import Column, item
from stockline.kernel.identity import CurrentUser
from stockline.kernel.money import money
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

# the most an invoice may have been paid in all (its column is numeric(14, 2))
MAX_AMOUNT_PAID = MAX_PAYMENT * 10
_EXISTING = (Column("payment_id", "int"), Column("amount", "money"), Column("paid_on", "date"),
             Column("reference"), Column("recorded_at", "timestamp"), Column("recorded_by"))


def _check_day(payment: PaymentCreate, invoice: dict[str, Any]) -> None:
    today = business_day()
    if payment.paid_on > today:
        raise ValidationFailed(f"The payment date {payment.paid_on} is in the future (today is {today})",
                               details={"field": "paid_on", "today": today.isoformat()})
    if payment.paid_on < invoice["issued_on"]:
        raise ValidationFailed(
            f"The payment date {payment.paid_on} is before invoice {invoice['invoice_no']} was issued "
            f"({invoice['issued_on']})",
            details={"field": "paid_on", "issued_on": invoice["issued_on"].isoformat()})


async def record_payment(ctx: Context, actor: CurrentUser, invoice_id: int,
                         payment: PaymentCreate) -> dict[str, Any]:
    """Record `payment` against the invoice; answers the invoice as staff see it."""

    async def work(conn: psycopg.AsyncConnection) -> None:
        invoice = await db.fetch_one(conn, Q["lock_invoice"], {"invoice_id": invoice_id})
        if invoice is None:
            raise NotFound(f"No invoice {invoice_id}")
        _check_day(payment, invoice)
        if invoice["amount_paid"] + payment.amount > MAX_AMOUNT_PAID:
            raise ValidationFailed(f"Invoice {invoice['invoice_no']} cannot take payments over "
                                   f"{money(MAX_AMOUNT_PAID)} in all", details={"field": "amount"})
        added = await db.fetch_one(conn, Q["insert_payment"], {
            "invoice_id": invoice_id, "customer_id": invoice["customer_id"], "amount": payment.amount,
            "paid_on": payment.paid_on, "reference": payment.reference, "recorded_by": actor.user_id})
        if added is None:
            first = await db.fetch_one(conn, Q["payment_by_reference"],
                                       {"invoice_id": invoice_id, "reference": payment.reference})
            raise Conflict(f"Invoice {invoice['invoice_no']} already has a payment with reference "
                           f"{payment.reference!r}: {money(first['amount'])} paid on {first['paid_on']}",
                           code="duplicate_payment",
                           details={"field": "reference", "payment": item(first, _EXISTING)})
        paid = await db.fetch_one(conn, Q["add_to_amount_paid"], {"invoice_id": invoice_id,
                                                                  "amount": payment.amount})
        await audit.record(conn, actor, "invoice.payment", invoice_id,
                           {"amount_paid": invoice["amount_paid"]},
                           {"amount_paid": paid["amount_paid"], "payment_id": added["payment_id"],
                            "amount": added["amount"], "paid_on": added["paid_on"],
                            "reference": added["reference"]})

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await invoices.read_invoice(conn, invoice_id, customer_id=None, staff=True)

    return await ctx.transaction(work, after_commit=read_back)
