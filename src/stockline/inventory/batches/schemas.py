"""Request bodies of the inventory routes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stockline.kernel.inputs import MaybeText, Text

MAX_UNITS = 1_000_000
AdjustmentReason = Literal["count_correction", "damaged", "found", "returned_to_supplier", "recall", "other"]


class BatchReceive(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sku_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    sku_code: MaybeText = Field(default=None, min_length=1, max_length=64)
    batch_no: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./_#-]*$")
    quantity: int = Field(gt=0, le=MAX_UNITS)
    expiry_date: date
    cost_price: Decimal = Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    note: MaybeText = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_sku(self) -> Self:
        if (self.sku_id is None) == (self.sku_code is None):
            raise ValueError("give sku_id or sku_code (one of them)")
        return self


class BatchAdjust(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    delta: int | None = Field(default=None, ge=-MAX_UNITS, le=MAX_UNITS)
    new_quantity: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    reason: AdjustmentReason
    note: MaybeText = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_change(self) -> Self:
        if (self.delta is None) == (self.new_quantity is None):
            raise ValueError("give delta or new_quantity (one of them)")
        return self


class BatchWriteOff(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: MaybeText = Field(default=None, max_length=500)


class BatchEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    cost_price: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    expiry_date: date | None = None
    note: MaybeText = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.cost_price is None and self.expiry_date is None:
            raise ValueError("give cost_price or expiry_date")
        return self


class BatchHold(BaseModel):
    """Why a batch goes on hold, or comes off it (kept in its status history)."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Text = Field(min_length=1, max_length=500, description="why: kept in the batch's status history")
