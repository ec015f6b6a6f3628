"""Request and response bodies of tax-class administration. Rates are percentages as decimal
strings with two places ("20.00"); days are ISO 8601; a rate's `valid_from` null means it
has applied since always (the class's first rate)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stockline.kernel.inputs import Text

# a class's code: what Tax_Classes.tax_classes_code_valid allows
TAX_CLASS_CODE = r"^[a-z][a-z0-9_-]{0,31}$"
DEFAULT_TAX_CLASS = "zero"  # every SKU's class until it is given another (the schema's default)
TaxClassCode = Field(min_length=1, max_length=32, pattern=TAX_CLASS_CODE,
                     description="lower-case letters, digits, _ and -, starting with a letter (at most 32)")
Rate = Field(ge=0, le=100, max_digits=5, decimal_places=2,
             description="percent, 0 to 100, two places at most")
ClassName = Field(min_length=1, max_length=100)
RateState = Literal["superseded", "current", "scheduled"]


class TaxClassCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    tax_class: Text = TaxClassCode
    name: Text = ClassName
    rate: Decimal = Rate  # since always; later changes are scheduled rates


class TaxClassUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Text = ClassName


class RateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate: Decimal = Rate
    valid_from: date = Field(description="the first day of the new rate: after today (UTC)")


class TaxRateRead(BaseModel):
    valid_from: date | None = Field(description="first day it applies; null: since always")
    rate: str
    state: RateState = Field(description="superseded (in force once, history), current (in force today) "
                                         "or scheduled (from a later day; may still be cancelled)")


class NextRate(BaseModel):
    valid_from: date
    rate: str


class TaxClassRead(BaseModel):
    tax_class: str
    tax_class_id: int = Field(description="the number the audit log names the class by")
    name: str
    current_rate: str = Field(description="percent, the rate in force today (UTC)")
    next_rate: NextRate | None = Field(description="the first scheduled change, if any")
    rates: list[TaxRateRead] = Field(description="every rate of the class, by valid_from")
    sku_count: int = Field(description="SKUs in this class (all, active or not)")
    created_at: datetime


class TaxClassPage(BaseModel):
    items: list[TaxClassRead]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
