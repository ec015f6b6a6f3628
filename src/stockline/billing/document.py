"""An issued document (an invoice or a credit note) as one plain dict, the shape the PDF
(billing.pdf) and the printable page (web/templates/billing/document.html) both render, so
the two always print the same thing:

    {"kind": "invoice" | "credit_note", "title", "number", "issued_on", "due_on" (or None),
     "references": [[label, value], ...], "seller": {name, address, tax_id},
     "buyer": {customer_id, name, address, email, tax_id},
     "lines": [{line_no, sku_code, description, batch_no, expiry_date, quantity, unit_price,
                net_amount, tax_rate, tax_amount}],
     "tax_summary": [{tax_rate, net_amount, tax_amount}]  (one per rate, ascending),
     "net_amount", "tax_amount", "gross_amount",
     "payment": {amount_paid, amount_credited, balance, status} or None (invoices only)}

Money is a string with two places, dates are ISO strings. The totals are the header's stored
ones (each the sum of its lines' stored amounts); the tax summary adds the stored lines up per
rate, so it never recomputes a tax.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from stockline.kernel.money import money

Kind = Literal["invoice", "credit_note"]
TITLES: dict[str, str] = {"invoice": "Invoice", "credit_note": "Credit note"}
_NUMBER_COLUMNS = {"invoice": "invoice_no", "credit_note": "credit_note_no"}
SELLER_FIELDS = ("name", "address", "tax_id")
BUYER_FIELDS = ("customer_id", "name", "address", "email", "tax_id")
PAYMENT_FIELDS = ("amount_paid", "amount_credited", "balance")


def _iso(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def _money(value: Decimal | str) -> str:
    return money(Decimal(value))


def _party(snapshot: Mapping[str, Any] | None, fields: tuple[str, ...]) -> dict[str, Any]:
    """A seller or buyer as copied onto the document, every field present (None when unset)."""
    snapshot = snapshot or {}
    return {field: snapshot.get(field) for field in fields}


def _line(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"line_no": row["line_no"], "sku_code": row["sku_code"], "description": row["description"],
            "batch_no": row["batch_no"], "expiry_date": _iso(row["expiry_date"]), "quantity": row["quantity"],
            "unit_price": _money(row["unit_price"]), "net_amount": _money(row["net_amount"]),
            "tax_rate": _money(row["tax_rate"]), "tax_amount": _money(row["tax_amount"])}


def tax_summary(lines: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Net and tax per tax rate, lowest rate first: the sums of the lines' stored amounts."""
    per_rate: dict[Decimal, list[Decimal]] = {}
    for line in lines:
        sums = per_rate.setdefault(Decimal(line["tax_rate"]), [Decimal("0.00"), Decimal("0.00")])
        sums[0] += Decimal(line["net_amount"])
        sums[1] += Decimal(line["tax_amount"])
    return [{"tax_rate": money(rate), "net_amount": money(net), "tax_amount": money(tax)}
            for rate, (net, tax) in sorted(per_rate.items())]


def build_document(kind: Kind, header: Mapping[str, Any], lines: Iterable[Mapping[str, Any]], *,
                   references: Sequence[Sequence[str]] = (),
                   payment: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The document of an invoice or credit note from its header row (the Invoices or
    Credit_Notes columns, seller and buyer as dicts) and its line rows. `references` are
    label/value pairs printed under the number (["Order", "1234"]); `payment` (invoices only)
    holds amount_paid, amount_credited, balance (Decimals or money strings) and status."""
    if kind not in TITLES:
        raise ValueError(f"a document is an invoice or a credit_note, not {kind!r}")
    rows = [_line(row) for row in lines]
    return {
        "kind": kind, "title": TITLES[kind], "number": header[_NUMBER_COLUMNS[kind]],
        "issued_on": _iso(header["issued_on"]), "due_on": _iso(header.get("due_on")),
        "references": [[str(label), str(value)] for label, value in references],
        "seller": _party(header["seller"], SELLER_FIELDS), "buyer": _party(header["buyer"], BUYER_FIELDS),
        "lines": rows, "tax_summary": tax_summary(rows),
        "net_amount": _money(header["net_amount"]), "tax_amount": _money(header["tax_amount"]),
        "gross_amount": _money(header["gross_amount"]),
        "payment": None if payment is None else {
            **{field: _money(payment[field]) for field in PAYMENT_FIELDS}, "status": payment["status"]},
    }
