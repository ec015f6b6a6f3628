"""Request and response bodies of the returns and credit-note routes. Money is a decimal
string with two places ("12.50"); dates are ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockline.billing.schemas import InvoiceLine, Party, TaxSummaryRow
from stockline.kernel.inputs import INT8_MAX, MaybeText, Text

MAX_UNITS = 1_000_000
MAX_LINES = 500
ReturnStatus = Literal["requested", "approved", "rejected"]
Disposition = Literal["restock", "write_off"]
# what became of a returned line: a staff decision, or 'recall' (came back under a recall,
# into the quarantined batch, to be destroyed there)
LineDisposition = Literal["restock", "write_off", "recall"]
OrderItemId = Field(ge=1, le=INT8_MAX)


def _each_item_once(lines: list, what: str) -> list:
    seen: set[int] = set()
    for line in lines:
        if line.order_item_id in seen:
            raise ValueError(f"order item {line.order_item_id} is named twice; give each {what} once")
        seen.add(line.order_item_id)
    return lines


# --- requests ------------------------------------------------------------------------------

class ReturnLineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    order_item_id: int = OrderItemId
    quantity: int = Field(ge=1, le=MAX_UNITS, description="units to send back")
    reason: Text = Field(min_length=1, max_length=500, description="why, in the customer's words")


class ReturnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lines: list[ReturnLineRequest] = Field(min_length=1, max_length=MAX_LINES)
    note: MaybeText = Field(default=None, max_length=2000)

    @field_validator("lines")
    @classmethod
    def _items_once(cls, lines: list[ReturnLineRequest]) -> list[ReturnLineRequest]:
        return _each_item_once(lines, "line")


class DispositionLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_item_id: int = OrderItemId
    disposition: Disposition = Field(description="restock: back into the batch it came from; "
                                                 "write_off: destroyed")


class ReturnApproval(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lines: list[DispositionLine] = Field(min_length=1, max_length=MAX_LINES,
                                         description="a disposition for every line of the return")
    note: MaybeText = Field(default=None, max_length=2000)

    @field_validator("lines")
    @classmethod
    def _items_once(cls, lines: list[DispositionLine]) -> list[DispositionLine]:
        return _each_item_once(lines, "disposition")


class ReturnRejection(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: Text = Field(min_length=1, max_length=2000, description="why: the customer reads it")


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


# --- answers -------------------------------------------------------------------------------

class ReturnLine(BaseModel):
    order_item_id: int
    sku_id: int
    sku_code: str
    product_name: str
    package_size: str
    unit_type: str
    batch_id: int
    batch_no: str
    expiry_date: date
    quantity: int
    reason: str
    disposition: LineDisposition | None = Field(description=(
        "set when the return is approved; recall: sent back under a recall (recalls)"))
    unit_price: str = Field(description="the net price the units were sold at")
    net_amount: str


class CreditNoteRef(BaseModel):
    credit_note_id: int
    credit_note_no: str
    gross_amount: str


class Return(BaseModel):
    return_id: int
    order_id: int
    customer_id: int
    customer_name: str
    status: ReturnStatus
    recall_id: int | None = Field(description="the recall the units came back under (recorded by staff, "
                                              "approved at once)")
    requested_by: str | None
    requested_at: datetime
    note: str | None
    decided_by: str | None = Field(description="the staff user who decided (staff only: null for customers)")
    decided_at: datetime | None
    decision_note: str | None
    invoice_id: int | None = Field(description="the invoice of the order, which the credit note credits")
    invoice_no: str | None
    total_units: int
    net_amount: str = Field(description="the returned units at the net price they were sold at")
    credit_note: CreditNoteRef | None = Field(description="issued when the return was approved")
    lines: list[ReturnLine]


class ReturnSummary(BaseModel):
    return_id: int
    order_id: int
    customer_id: int
    customer_name: str
    status: ReturnStatus
    requested_at: datetime
    decided_at: datetime | None
    line_count: int
    units: int
    credit_note: CreditNoteRef | None


class ReturnPage(BaseModel):
    items: list[ReturnSummary]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int


class CreditNoteSummary(BaseModel):
    credit_note_id: int
    credit_note_no: str
    issued_on: date
    customer_id: int
    customer_name: str
    invoice_id: int
    invoice_no: str
    return_id: int
    order_id: int
    net_amount: str
    tax_amount: str
    gross_amount: str


class CreditNotePage(BaseModel):
    items: list[CreditNoteSummary]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
    customer_id: int | None
    date_from: date | None
    date_to: date | None


class CreditNote(BaseModel):
    """The credit note as the shared document (billing.document: what its PDF and printable
    page show) with the ids it links to."""
    credit_note_id: int
    customer_id: int
    invoice_id: int
    invoice_no: str = Field(description="the invoice it credits")
    return_id: int
    order_id: int
    kind: Literal["credit_note"]
    title: str
    number: str = Field(description="CN-<year>-nnnnnn, gapless per year")
    issued_on: date
    due_on: None
    references: list[list[str]] = Field(description="label/value pairs: the invoice, the order, the return")
    seller: Party
    buyer: Party
    lines: list[InvoiceLine]
    tax_summary: list[TaxSummaryRow] = Field(description="one row per tax rate, ascending")
    net_amount: str
    tax_amount: str
    gross_amount: str = Field(description="net_amount + tax_amount: what the invoice's balance went down by")
    payment: None
