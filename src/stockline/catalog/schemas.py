"""Shapes of the catalog API (documentation; responses are rendered once and cached)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel


class Sort(StrEnum):
    product = "product"
    name = "name"
    price = "price"
    expiry = "expiry"
    availability = "availability"


class NextTier(BaseModel):
    min_quantity: int
    discount_percentage: str
    effective_price: str


class CatalogItem(BaseModel):
    product_id: int
    product_name: str
    manufacturer: str | None
    description: str | None
    sku_id: int
    sku_code: str
    package_size: str
    unit_type: str
    base_price: str
    total_on_hand: int
    earliest_expiry: date | None
    low_stock: bool
    effective_price: str
    line_total: str
    discount_percentage: str
    applied_rule_id: int | None
    next_tier: NextTier | None


class CatalogPage(BaseModel):
    items: list[CatalogItem]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
    assumed_quantity_for_pricing: int
    customer_id: int | None
    search: str | None


class PriceStep(BaseModel):
    min_quantity: int
    discount_percentage: str
    effective_price: str
    applied_rule_id: int | None


class SellableBatch(BaseModel):
    batch_no: str
    expiry_date: date
    quantity_on_hand: int


class ProductDetail(CatalogItem):
    category: str | None
    reorder_level: int
    assumed_quantity_for_pricing: int
    customer_id: int | None
    price_ladder: list[PriceStep]
    batches: list[SellableBatch]
