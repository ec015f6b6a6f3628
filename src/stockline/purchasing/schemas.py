"""Request and response bodies of the supplier and purchase-order routes. Money is a decimal
string with two places ("12.50"); dates are ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockline.kernel.inputs import INT4_MAX, MaybeText, Text

# as customers' contact details (customers.schemas; a sibling package, so not imported)
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+?[0-9][0-9 ()./-]{2,39}$"
MAX_UNITS = 1_000_000
MAX_LINES = 500
PoStatus = Literal["draft", "sent", "partly_received", "received", "cancelled"]
LeadTime = Annotated[int, Field(ge=0, le=365,
                                description="days from sending a purchase order to the goods arriving")]
UnitCost = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2)]
Id = Annotated[int, Field(ge=1, le=INT4_MAX)]
BatchNo = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./_#-]*$")]


def _each_once(values: list[int], what: str) -> None:
    seen: set[int] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value} is named twice; give each once")
        seen.add(value)


# --- suppliers -----------------------------------------------------------------------------

class SupplierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Text = Field(min_length=1, max_length=200, description="unique, ignoring case")
    contact_name: MaybeText = Field(default=None, max_length=200)
    email: MaybeText = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: MaybeText = Field(default=None, max_length=40, pattern=PHONE_PATTERN)
    address: MaybeText = Field(default=None, max_length=500)
    lead_time_days: LeadTime = 7
    is_active: bool = True


class SupplierUpdate(BaseModel):
    """Only the fields sent change; null clears contact_name, email, phone or address."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: MaybeText = Field(default=None, min_length=1, max_length=200)
    contact_name: MaybeText = Field(default=None, max_length=200)
    email: MaybeText = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: MaybeText = Field(default=None, max_length=40, pattern=PHONE_PATTERN)
    address: MaybeText = Field(default=None, max_length=500)
    lead_time_days: LeadTime | None = None
    is_active: bool | None = Field(default=None, description="false: no new purchase orders; history is kept")


class SupplierSkuSet(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    unit_cost: UnitCost
    supplier_sku_code: MaybeText = Field(default=None, min_length=1, max_length=64,
                                         description="the supplier's own code for it")
    is_preferred: bool = Field(default=False, description=(
        "true: the SKU's one preferred supplier (the one reorder suggestions order from); un-prefers any "
        "other"))


class SupplierSku(BaseModel):
    sku_id: int
    sku_code: str
    product_name: str
    package_size: str
    unit_type: str
    unit_cost: str
    supplier_sku_code: str | None
    is_preferred: bool


class Supplier(BaseModel):
    supplier_id: int
    name: str
    contact_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    lead_time_days: int
    is_active: bool
    created_at: datetime
    sku_count: int
    open_orders: int = Field(description="purchase orders drafted, sent or partly received")


class SupplierDetail(Supplier):
    skus: list[SupplierSku]


class SupplierPage(BaseModel):
    items: list[Supplier]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int


# --- purchase orders -----------------------------------------------------------------------

class PoLineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: Id
    quantity: int = Field(ge=1, le=MAX_UNITS)
    unit_cost: UnitCost | None = Field(default=None, description="default: the supplier's cost for the SKU")


def _lines_once(lines: list[PoLineRequest] | None) -> list[PoLineRequest] | None:
    if lines is not None:
        _each_once([line.sku_id for line in lines], "SKU")
    return lines


class PurchaseOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    supplier_id: Id
    lines: list[PoLineRequest] = Field(min_length=1, max_length=MAX_LINES,
                                       description="each SKU at most once")
    note: MaybeText = Field(default=None, max_length=2000)

    @field_validator("lines")
    @classmethod
    def _once(cls, lines: list[PoLineRequest]) -> list[PoLineRequest]:
        return _lines_once(lines)


class PurchaseOrderUpdate(BaseModel):
    """A draft's note and lines; lines, when sent, replace every line."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: MaybeText = Field(default=None, max_length=2000)
    lines: list[PoLineRequest] | None = Field(default=None, min_length=1, max_length=MAX_LINES)

    @field_validator("lines")
    @classmethod
    def _once(cls, lines: list[PoLineRequest] | None) -> list[PoLineRequest] | None:
        return _lines_once(lines)


class ReceiptLine(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    po_line_id: Id
    batch_no: BatchNo
    expiry_date: date = Field(description="must be sellable: after today (and the minimum shelf life)")
    quantity: int = Field(ge=1, le=MAX_UNITS)


class PurchaseOrderReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lines: list[ReceiptLine] = Field(min_length=1, max_length=MAX_LINES,
                                     description="several batches of one line may arrive at once")
    accept_over_delivery: bool = Field(default=False,
                                       description="true: take more than a line's outstanding units")
    note: MaybeText = Field(default=None, max_length=500)


class PurchaseOrderNote(BaseModel):
    """Why an order is cancelled or closed short (optional, kept on the order)."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: MaybeText = Field(default=None, max_length=500)


class FromSuggestions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_LINES,
                                     description="only these SKUs' suggestions (default: every one)")

    @field_validator("sku_ids")
    @classmethod
    def _once(cls, sku_ids: list[int] | None) -> list[int] | None:
        if sku_ids is not None:
            _each_once(sku_ids, "SKU")
        return sku_ids


class PoLine(BaseModel):
    po_line_id: int
    sku_id: int
    sku_code: str
    product_name: str
    package_size: str
    unit_type: str
    supplier_sku_code: str | None
    unit_cost: str
    ordered: int
    received: int
    outstanding: int = Field(description="ordered - received, never below 0")
    over_delivered: int = Field(description="received - ordered, never below 0")
    line_cost: str = Field(description="ordered x unit_cost")


class PurchaseOrder(BaseModel):
    po_id: int
    supplier_id: int
    supplier_name: str
    status: PoStatus
    closed_short: bool = Field(description="received in part; the supplier will not deliver the rest")
    note: str | None
    created_by: str | None
    created_at: datetime
    sent_at: datetime | None
    expected_on: date | None = Field(description="the day sent plus the supplier's lead time")
    closed_at: datetime | None
    total_cost: str = Field(description="the lines' ordered units at their unit cost")
    lines: list[PoLine]


class PurchaseOrderSummary(BaseModel):
    po_id: int
    supplier_id: int
    supplier_name: str
    status: PoStatus
    closed_short: bool
    created_at: datetime
    sent_at: datetime | None
    expected_on: date | None
    line_count: int
    units_ordered: int
    units_received: int
    total_cost: str


class PurchaseOrderPage(BaseModel):
    items: list[PurchaseOrderSummary]
    total_items: int
    total_pages: int
    current_page: int
    page_size: int


class SkippedSuggestion(BaseModel):
    sku_id: int
    sku_code: str
    suggested_quantity: int
    reason: Literal["no_preferred_supplier"]


class FromSuggestionsResult(BaseModel):
    created: list[PurchaseOrderSummary] = Field(description="one draft per preferred supplier")
    skipped: list[SkippedSuggestion] = Field(
        description="suggested SKUs without an active preferred supplier")
