"""Request and response bodies of pricing-rule administration and the price preview. Money
and percentages are decimal strings with two places ("12.50"); dates are ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["sku+customer", "sku", "customer", "global"]
MAX_ID = 2_147_483_647



class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="null: every SKU")
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="null: every customer")
    min_quantity: int = Field(default=1, ge=1, le=MAX_ID, description="the tier: from this many units")
    discount_percentage: Decimal = Field(ge=0, le=100, max_digits=5, decimal_places=2,
                                         description="percent off, 0 to 100")
    valid_from: date | None = Field(default=None, description="first day it applies; null: always did")
    valid_to: date | None = Field(default=None, description="last day it applies; null: no end")


class RuleUpdate(BaseModel):
    """Only the fields sent change; null on sku_id or customer_id means "any", on a validity
    end "open"."""
    model_config = ConfigDict(extra="forbid")
    sku_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    min_quantity: int | None = Field(default=None, ge=1, le=MAX_ID)
    discount_percentage: Decimal | None = Field(default=None, ge=0, le=100, max_digits=5, decimal_places=2)
    valid_from: date | None = None
    valid_to: date | None = None


class RuleRead(BaseModel):
    rule_id: int
    sku_id: int | None
    sku_code: str | None
    product_name: str | None
    customer_id: int | None
    customer_name: str | None
    min_quantity: int
    discount_percentage: str
    valid_from: date | None
    valid_to: date | None
    scope: Scope
    created_at: datetime


class RulePage(BaseModel):
    items: list[RuleRead]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
    sku_id: int | None
    customer_id: int | None
    active_on: date | None


class Candidate(BaseModel):
    rule_id: int
    sku_id: int | None
    customer_id: int | None
    min_quantity: int
    discount_percentage: str
    valid_from: date | None
    valid_to: date | None
    scope: Scope
    applies: bool = Field(description="applies at this quantity (min_quantity reached)")
    won: bool
    reason: str = Field(description="why it won, or why it did not")


class PreviewNextTier(BaseModel):
    min_quantity: int
    discount_percentage: str
    effective_price: str


class PricePreview(BaseModel):
    sku_id: int
    sku_code: str
    product_name: str
    on_sale: bool
    customer_id: int | None
    customer_name: str | None
    quantity: int
    priced_on: date
    base_price: str
    discount_percentage: str
    unit_price: str
    line_total: str
    applied_rule_id: int | None
    explanation: str
    next_tier: PreviewNextTier | None
    candidates: list[Candidate] = Field(
        description="every rule matching the customer, SKU and day, by rule_id")
