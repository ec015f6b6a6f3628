"""Request and response bodies of the invoice and payment routes. Money is a decimal string
with two places ("12.50"); dates are ISO 8601."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from stockline.kernel.inputs import Text

# stockline_invoice_status() in db/schema.sql is the one definition of each
InvoiceStatus = Literal["open", "partly_paid", "overdue", "paid"]
INVOICE_STATUSES: tuple[str, ...] = get_args(InvoiceStatus)

# One payment at most this much: with the column's numeric(14, 2) no sum of payments on an
# invoice can overflow before a person notices something is wrong.
MAX_PAYMENT = Decimal("9999999999.99")
MAX_REFERENCE_LENGTH = 100
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


def _plain_amount(value: Any) -> Any:
    """An amount as written: digits with an optional decimal part ("12", "12.5", "12.50"), or a
    JSON number. Exponents ("1e2"), signs, underscores, spaces inside, "NaN" and booleans are
    refused here with one message. A JSON number reaches us as a float whose shortest repr is
    the digits sent (exact for every amount this field allows), so it is read from that text,
    never from the binary value."""
    if isinstance(value, bool):
        raise PydanticCustomError("decimal_parsing", "must be an amount like 12.50")
    if isinstance(value, float):
        value = repr(value)
        if value.endswith(".0"):
            value = value[:-2]
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise PydanticCustomError("decimal_parsing", "must be an amount like 12.50")
        return Decimal(text)
    return value


Amount = Annotated[Decimal, BeforeValidator(_plain_amount),
                   Field(gt=0, le=MAX_PAYMENT, max_digits=12, decimal_places=2,
                         description="more than 0, at most two decimal places: \"125.40\" or 125.4")]


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount: Amount
    paid_on: date = Field(description="the day the money arrived: not after today, not before the invoice")
    reference: Text = Field(min_length=1, max_length=MAX_REFERENCE_LENGTH,
                            description="the bank's reference; the same one twice on an invoice is refused")


# --- answers --------------------------------------------------------------------------------

class Party(BaseModel):
    name: str | None = None
    address: str | None = None
    tax_id: str | None = None
    customer_id: int | None = None
    email: str | None = None


class InvoiceLine(BaseModel):
    line_no: int
    sku_code: str
    description: str
    batch_no: str
    expiry_date: date
    quantity: int
    unit_price: str
    net_amount: str = Field(description="unit_price x quantity")
    tax_rate: str = Field(description="percent, the rate the line was sold at")
    tax_amount: str


class TaxSummaryRow(BaseModel):
    tax_rate: str
    net_amount: str
    tax_amount: str


class Payment(BaseModel):
    payment_id: int
    amount: str
    paid_on: date
    reference: str
    recorded_at: datetime


class StaffPayment(Payment):
    recorded_by: str | None = Field(description="the username of who recorded it")


class CreditNoteSummary(BaseModel):
    credit_note_id: int
    credit_note_no: str
    issued_on: date
    return_id: int
    net_amount: str
    tax_amount: str
    gross_amount: str


class InvoiceSummary(BaseModel):
    invoice_id: int
    invoice_no: str
    order_id: int
    customer_id: int
    customer_name: str = Field(description="as printed on the invoice")
    issued_on: date
    due_on: date
    net_amount: str
    tax_amount: str
    gross_amount: str
    amount_paid: str
    amount_credited: str
    balance: str = Field(description="gross - paid - credited; negative: overpaid, the customer's credit")
    status: InvoiceStatus


class Invoice(InvoiceSummary):
    overpaid: str = Field(description="what was paid beyond the invoice (the customer's credit), else 0.00")
    seller: Party
    buyer: Party
    lines: list[InvoiceLine]
    tax_summary: list[TaxSummaryRow] = Field(description="one row per tax rate, ascending")
    payments: list[Payment]
    credit_notes: list[CreditNoteSummary]


class StaffInvoice(Invoice):
    payments: list[StaffPayment]


class InvoicePage(BaseModel):
    items: list[InvoiceSummary]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
    status: InvoiceStatus | None


class StaffInvoicePage(InvoicePage):
    customer_id: int | None
    date_from: date | None
    date_to: date | None
    search: str | None
