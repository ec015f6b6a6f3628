"""Request and response bodies of the ordering routes. Money is a decimal string with two
places ("12.50"); dates are ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_UNITS = 1_000_000
Status = Literal["pending", "processed", "shipped", "cancelled"]


class CartLineSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, le=2_147_483_647)
    quantity: int = Field(ge=0, le=MAX_UNITS, description="units wanted; 0 removes the line")


class DirectOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int = Field(ge=1, le=2_147_483_647)
    quantity: int = Field(ge=1, le=MAX_UNITS)
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647,
                                    description="staff and admins: the customer ordered for "
                                                "(ignored for customers)")


class NextTier(BaseModel):
    min_quantity: int
    discount_percentage: str
    effective_price: str


class CartLine(BaseModel):
    sku_id: int
    sku_code: str
    product_id: int
    product_name: str
    manufacturer: str | None
    package_size: str
    unit_type: str
    quantity: int
    available: int
    earliest_expiry: date | None
    base_price: str
    effective_price: str
    discount_percentage: str
    applied_rule_id: int | None
    line_total: str
    next_tier: NextTier | None
    problem: str | None = Field(description="why checkout would refuse this line, if it would")


class Cart(BaseModel):
    customer_id: int | None
    items: list[CartLine]
    total_items: int
    total_units: int
    total_amount: str
    ready_to_check_out: bool


class RecallRef(BaseModel):
    recall_id: int
    recall_no: str
    class_: int = Field(alias="class", serialization_alias="class", description="1 (most serious) to 3")
    reason: str
    status: Literal["open", "closed"]


class OrderItem(BaseModel):
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
    base_price: str
    discount_percentage: str
    sale_price: str
    line_total: str = Field(description="net: sale_price x quantity")
    applied_rule_id: int | None
    tax_rate: str = Field(description="percent, the SKU's tax class's rate on the order's day")
    tax_amount: str = Field(description="line_total x tax_rate / 100, rounded half-up to the cent")
    line_gross: str
    recall: RecallRef | None = Field(default=None, description=(
        "the recall of this batch, if it was recalled: see GET /api/my-recalls"))


class Order(BaseModel):
    order_id: int
    customer_id: int
    customer_name: str
    user_id: int | None
    username: str | None
    order_date: datetime
    status: Status
    total_amount: str = Field(description="net, the sum of the lines' line_total (as net_amount)")
    net_amount: str
    tax_amount: str = Field(description="the sum of the lines' tax_amount")
    gross_amount: str = Field(description="net_amount + tax_amount")
    invoice_id: int | None = Field(description="the invoice issued when the order shipped")
    updated_at: datetime
    allowed_transitions: list[Status]
    total_units: int
    items: list[OrderItem]


class OrderSummary(BaseModel):
    order_id: int
    order_date: datetime
    status: Status
    total_amount: str
    line_count: int
    units: int
    updated_at: datetime
    recalled: bool = Field(default=False, description="an item was drawn from a recalled batch")


class OrderPage(BaseModel):
    items: list[OrderSummary]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
    status: Status | None
