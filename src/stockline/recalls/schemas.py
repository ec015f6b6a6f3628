"""Request and response bodies of the recall routes. Dates are ISO 8601; units are whole
numbers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockline.kernel.inputs import INT4_MAX, INT8_MAX, MaybeText, Text

MAX_BATCHES = 100
MAX_UNITS = 1_000_000
RecallStatus = Literal["open", "closed"]
RecallClass = Literal[1, 2, 3]
OrderStatus = Literal["pending", "processed", "shipped", "cancelled"]


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


# --- requests ------------------------------------------------------------------------------

class RecallCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)
    batch_ids: list[int] = Field(min_length=1, max_length=MAX_BATCHES,
                                 description="the batches recalled, each once")
    reason: Text = Field(min_length=1, max_length=500, description="why: customers read it on their notice")
    recall_class: RecallClass = Field(alias="class", description="1: most serious (a risk to health) to 3")

    @field_validator("batch_ids")
    @classmethod
    def _distinct_ids(cls, batch_ids: list[int]) -> list[int]:
        if any(not 1 <= batch_id <= INT4_MAX for batch_id in batch_ids):
            raise ValueError("batch ids are whole numbers from 1")
        if len(set(batch_ids)) != len(batch_ids):
            raise ValueError("name each batch once")
        return batch_ids


class RecallReturnLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_item_id: int = Field(ge=1, le=INT8_MAX)
    quantity: int = Field(ge=1, le=MAX_UNITS, description="units the customer sent back")


class RecallReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    order_id: int = Field(ge=1, le=INT8_MAX)
    lines: list[RecallReturnLine] = Field(min_length=1, max_length=500)
    note: MaybeText = Field(default=None, max_length=2000)

    @field_validator("lines")
    @classmethod
    def _items_once(cls, lines: list[RecallReturnLine]) -> list[RecallReturnLine]:
        if len({line.order_item_id for line in lines}) != len(lines):
            raise ValueError("name each order item once")
        return lines


class DestructionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    batch_id: int = Field(ge=1, le=INT4_MAX)
    quantity: int = Field(ge=1, le=MAX_UNITS, description="units destroyed")
    note: MaybeText = Field(default=None, max_length=2000,
                            description="how: e.g. the destruction certificate")


class RecallClose(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: Text = Field(min_length=1, max_length=2000, description="what was done; kept with the recall")
    force: bool = Field(default=False, description=(
        "admins only: close although units are outstanding (recorded in the audit log)"))


# --- answers -------------------------------------------------------------------------------

class RecallBatch(BaseModel):
    batch_id: int
    batch_no: str
    sku_id: int
    sku_code: str
    product_name: str
    package_size: str
    unit_type: str
    expiry_date: date
    quarantined: bool
    on_hand_at_recall: int = Field(description="what the warehouse held when the batch was recalled")
    on_hand: int = Field(description="what it holds now (on hold)")
    delivered: int = Field(description="units of shipped orders")
    held: int = Field(description="units of pending or processed orders: still in the warehouse, "
                                  "never shipped")
    returned: int = Field(description="units customers sent back under this recall (recall_return movements)")
    destroyed: int = Field(description="units written off under this recall")


class TraceItem(BaseModel):
    order_item_id: int
    order_id: int
    order_date: datetime
    status: OrderStatus
    customer_id: int
    customer_name: str
    sku_id: int
    sku_code: str
    product_name: str
    batch_id: int
    batch_no: str
    expiry_date: date
    quantity: int
    counted: bool = Field(description="false for a cancelled order's item (its units came back)")
    returned: int = Field(description="units sent back under this recall")
    returned_otherwise: int = Field(description="units taken back by an ordinary return (approved)")
    outstanding: int = Field(description="delivered units still with the customer")


class CustomerProgress(BaseModel):
    customer_id: int
    customer_name: str
    orders: int
    delivered: int
    returned: int
    returned_otherwise: int
    outstanding: int
    held: int = Field(description="units of the customer's orders not shipped: cancel those orders")


class Totals(BaseModel):
    on_hand_at_recall: int
    on_hand: int
    delivered: int
    held: int
    returned: int
    returned_otherwise: int
    destroyed: int
    outstanding: int
    customers: int


class Recall(BaseModel):
    recall_id: int
    recall_no: str = Field(description="RCL-<year>-nnnnnn, gapless per year")
    recall_class: RecallClass = Field(serialization_alias="class")
    reason: str
    status: RecallStatus
    initiated_by: str | None
    initiated_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    close_note: str | None
    can_close: bool = Field(description="nothing outstanding: no stock held, no units with customers, "
                                        "no unshipped orders")
    batches: list[RecallBatch]
    customers: list[CustomerProgress]
    held_orders: list[TraceItem] = Field(description="pending or processed orders holding recalled units: "
                                                     "cancel them (shipping is refused)")
    trace: list[TraceItem] = Field(description="every order item drawn from the batches, cancelled ones too")
    totals: Totals


class RecallSummary(BaseModel):
    recall_id: int
    recall_no: str
    recall_class: RecallClass = Field(serialization_alias="class")
    reason: str
    status: RecallStatus
    initiated_at: datetime
    closed_at: datetime | None
    batch_count: int
    customers: int
    delivered: int
    outstanding: int


class RecallPage(BaseModel):
    items: list[RecallSummary]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
    status: RecallStatus | None


class RecallReturnRecorded(BaseModel):
    return_id: int
    order_id: int
    units: int
    credit_note_id: int | None = Field(description="the credit note issued, when the order was invoiced")
    credit_note_no: str | None
    credit_gross: str | None
    recall: Recall


class MyRecallItem(BaseModel):
    order_id: int
    order_date: datetime
    status: OrderStatus
    order_item_id: int
    sku_code: str
    product_name: str
    package_size: str
    unit_type: str
    batch_no: str
    expiry_date: date
    quantity: int
    returned: int
    outstanding: int


class MyRecall(BaseModel):
    recall_id: int
    recall_no: str
    recall_class: RecallClass = Field(serialization_alias="class")
    reason: str
    status: RecallStatus
    initiated_at: datetime
    closed_at: datetime | None
    delivered: int = Field(description="your units delivered from the recalled batches")
    returned: int = Field(description="of them, sent back (under the recall or an earlier return)")
    outstanding: int = Field(description="still with you: quarantine them and send them back")
    held: int = Field(description="units of your orders not yet shipped: they will not be shipped")
    items: list[MyRecallItem]


class MyRecalls(BaseModel):
    items: list[MyRecall]
    open_count: int = Field(description="open recalls that need something of you")

