"""Shapes of the catalog API (documentation; responses are rendered once and cached)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from stockline.kernel.inputs import MaybeText, Text
from stockline.tax.schemas import DEFAULT_TAX_CLASS, TAX_CLASS_CODE


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


# --- catalog management (back office) ------------------------------------------------------

Name = Field(min_length=1, max_length=200)
Description = Field(default=None, max_length=2000)
Price = Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2)
SKU_CODE = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Text = Name
    manufacturer: MaybeText = Field(default=None, max_length=200)
    description: MaybeText = Description
    category: MaybeText = Field(default=None, max_length=100)


class ProductUpdate(BaseModel):
    """Only the fields sent change; manufacturer, description and category may be set to null."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: MaybeText = Field(default=None, min_length=1, max_length=200)
    manufacturer: MaybeText = Field(default=None, max_length=200)
    description: MaybeText = Description
    category: MaybeText = Field(default=None, max_length=100)
    is_active: bool | None = None


class SkuCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    product_id: int = Field(ge=1, le=2_147_483_647)
    sku_code: MaybeText = Field(default=None, min_length=1, max_length=64, pattern=SKU_CODE)
    package_size: Text = Field(min_length=1, max_length=100)
    unit_type: Text = Field(min_length=1, max_length=50)
    base_price: Decimal = Price
    reorder_level: int = Field(default=10, ge=0, le=10_000_000)
    tax_class: Text = Field(default=DEFAULT_TAX_CLASS, min_length=1, max_length=32, pattern=TAX_CLASS_CODE,
                            description="the SKU's tax class (GET /api/admin/tax-classes); default zero")


class SkuUpdate(BaseModel):
    """Only the fields sent change."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sku_code: MaybeText = Field(default=None, min_length=1, max_length=64, pattern=SKU_CODE)
    package_size: MaybeText = Field(default=None, min_length=1, max_length=100)
    unit_type: MaybeText = Field(default=None, min_length=1, max_length=50)
    base_price: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    reorder_level: int | None = Field(default=None, ge=0, le=10_000_000)
    is_active: bool | None = None
    tax_class: MaybeText = Field(default=None, min_length=1, max_length=32, pattern=TAX_CLASS_CODE,
                                 description="a new class applies to orders placed from now on")
