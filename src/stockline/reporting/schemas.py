"""Shapes of the reports and the dashboard (documentation: the service renders them). Money is
a decimal string with two places ("12.50"); other decimals are strings too ("0.333");
dates are ISO 8601. Every report is the paginated envelope plus its totals and parameters;
`?format=csv` gives the same columns as the items, every row, as text/csv."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


class Page(BaseModel):
    total_items: int
    total_pages: int
    current_page: int
    page_size: int
    as_of: date


class SkuColumns(BaseModel):
    sku_id: int
    sku_code: str
    product_id: int
    product_name: str
    manufacturer: str | None
    package_size: str
    unit_type: str


class LowStockItem(SkuColumns):
    available: int
    reorder_level: int
    shortfall: int
    incoming: int = Field(description="units open purchase orders still bring")
    shortfall_after_incoming: int = Field(description="what the incoming units leave short, never below 0")


class LowStockPage(Page):
    items: list[LowStockItem]
    total_shortfall: int


class BatchItem(SkuColumns):
    batch_id: int
    batch_no: str
    expiry_date: date
    quantity_on_hand: int
    cost_price: str
    value_at_cost: str


class ExpiringItem(BatchItem):
    days_left: int


class ExpiringPage(Page):
    items: list[ExpiringItem]
    days: int
    expiring_until: date
    total_units: int
    total_value: str


class ExpiredItem(BatchItem):
    days_expired: int


class ExpiredPage(Page):
    items: list[ExpiredItem]
    total_units: int
    total_value: str


class ReorderItem(SkuColumns):
    reorder_level: int
    units_sold: int
    available: int
    daily_rate: str
    days_of_cover: str
    incoming: int = Field(description="units open purchase orders still bring; the suggestion counts them")
    lead_time_days: int = Field(description="the preferred supplier's lead time, also covered (0: none)")
    supplier_id: int | None = Field(description="the SKU's preferred active supplier, if any")
    supplier_name: str | None
    suggested_quantity: int


class ReorderPage(Page):
    items: list[ReorderItem]
    sales_from: date
    window_days: int
    cover_days: int
    total_suggested: int


class ValuationItem(SkuColumns):
    is_active: bool
    batches: int
    units_on_hand: int
    value_at_cost: str
    average_unit_cost: str
    sellable_units: int
    sellable_value: str
    expired_units: int
    expired_value: str
    quarantined_units: int  # on hold or recalled, whatever their expiry
    quarantined_value: str


class ValuationPage(Page):
    items: list[ValuationItem]
    total_units: int
    total_value: str
    total_sellable_value: str
    total_expired_value: str
    total_quarantined_value: str


class LossItem(BaseModel):
    order_item_id: int
    order_id: int
    order_date: datetime
    status: str
    customer_id: int
    customer_name: str
    sku_id: int
    sku_code: str
    product_name: str
    batch_id: int
    batch_no: str
    quantity: int
    base_price: str
    discount_percentage: str
    pricing_rule_id: int | None
    sale_price: str
    unit_cost: str
    loss_per_unit: str
    loss: str


class LossPage(Page):
    items: list[LossItem]
    date_from: date | None
    date_to: date | None
    total_units: int
    total_loss: str


class DaySales(BaseModel):
    day: date
    revenue: str
    profit: str


class WeekSales(BaseModel):
    week_start: date
    revenue: str
    profit: str


class TopProduct(BaseModel):
    sku_id: int
    sku_code: str
    product_id: int
    product_name: str
    package_size: str
    revenue: str
    profit: str
    units: int
    orders: int


class TopCustomer(BaseModel):
    customer_id: int
    name: str
    revenue: str
    profit: str
    units: int
    orders: int


class DashboardStats(BaseModel):
    """Revenue, profit and total_orders count non-cancelled orders (all time); total_batches
    every batch; expiring_soon the sellable batches with stock expiring within
    EXPIRING_SOON_DAYS; low_stock_count the active SKUs below their reorder level. `daily`:
    the last 14 UTC days, `weekly`: the last 8 ISO weeks (Monday starts), both oldest first
    with empty periods "0.00"; top tens by revenue over the last 30 days. Money:
    receivables_outstanding is the positive balances of open invoices (over-payments left
    out), receivables_overdue the part past its due date; this month (from month_from, the
    1st, to as_of) the invoices' net, the credit notes' net and the tax net of credit notes,
    by issue day."""

    as_of: date
    total_revenue: str
    total_profit: str
    total_orders: int
    total_batches: int
    expiring_soon: int
    low_stock_count: int
    receivables_outstanding: str
    receivables_overdue: str
    month_from: date
    invoiced_net_this_month: str
    credited_net_this_month: str
    tax_this_month: str
    daily: list[DaySales]
    weekly: list[WeekSales]
    top_products: list[TopProduct]
    top_customers: list[TopCustomer]


# --- money reports (reporting.finance) -------------------------------------------------------

class AgingTotals(BaseModel):
    """The aging buckets summed over every row: balances owed by days past due (current: not
    past its due date), their sum, and over-payments (unallocated credit, positive)."""
    total_current: str
    total_days_1_30: str
    total_days_31_60: str
    total_days_61_90: str
    total_days_over_90: str
    total_outstanding: str
    total_unallocated_credit: str
    total_open_invoices: int


class ReceivableCustomer(BaseModel):
    customer_id: int
    customer_name: str
    credit_limit: str | None  # None: no limit
    payment_terms_days: int
    current: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    days_over_90: str
    outstanding: str
    unallocated_credit: str
    open_invoices: int


class ReceivablesPage(Page, AgingTotals):
    """Aged receivables as of `as_of`, one row per customer owing or owed anything on that
    day; largest outstanding first."""
    level: Literal["customers"]
    items: list[ReceivableCustomer]


class ReceivableInvoice(BaseModel):
    invoice_id: int
    invoice_no: str
    order_id: int
    issued_on: date
    due_on: date
    gross_amount: str
    amount_paid: str  # paid on or before as_of
    amount_credited: str  # by credit notes issued on or before as_of
    balance: str  # negative: over-paid, the customer's credit
    days_past_due: int | None  # None for an over-paid invoice
    bucket: Literal["current", "days_1_30", "days_31_60", "days_61_90", "days_over_90", "credit"]


class ReceivableInvoicesPage(Page, AgingTotals):
    """One customer's invoices with a balance as of `as_of` (?customer_id=), earliest due
    first, with the customer's totals."""
    level: Literal["invoices"]
    customer_id: int
    customer_name: str
    credit_limit: str | None
    payment_terms_days: int
    items: list[ReceivableInvoice]
    total_gross_amount: str
    total_amount_paid: str
    total_amount_credited: str
    total_balance: str  # owed less over-paid


class RevenueNetItem(BaseModel):
    period: str  # 2026-05-14, 2026-05 or 2026-Q2
    first_day: date  # the part of the period inside the range
    last_day: date
    invoices: int
    invoiced_net: str
    credit_notes: int
    credited_net: str
    net_revenue: str  # invoiced_net - credited_net
    tax: str  # invoices' tax - credit notes' tax
    gross: str  # net_revenue + tax


class RevenueNetPage(Page):
    """Every period of the range (empty ones zero), oldest first, and the totals."""
    items: list[RevenueNetItem]
    period: Literal["day", "month", "quarter"]
    date_from: date
    date_to: date
    total_invoices: int
    total_invoiced_net: str
    total_credit_notes: int
    total_credited_net: str
    total_net_revenue: str
    total_tax: str
    total_gross: str


class TaxAmounts(BaseModel):
    tax_rate: str  # percent: "20.00"
    invoiced_net: str
    invoiced_tax: str
    credited_net: str
    credited_tax: str
    taxable_net: str  # invoiced_net - credited_net
    tax: str  # invoiced_tax - credited_tax


class TaxItem(TaxAmounts):
    period: str  # 2026-05 or 2026-Q2
    first_day: date  # the part of the period inside the range
    last_day: date


class TaxPage(Page):
    """One row per period and rate with any invoice or credit note line, oldest period
    first, lowest rate first; the totals per rate and overall."""
    items: list[TaxItem]
    period: Literal["month", "quarter"]
    date_from: date
    date_to: date
    rate_totals: list[TaxAmounts]
    total_invoiced_net: str
    total_invoiced_tax: str
    total_credited_net: str
    total_credited_tax: str
    total_taxable_net: str
    total_tax: str


class AuditChange(BaseModel):
    field: str
    before: Any
    after: Any


class AuditEntry(BaseModel):
    audit_id: int
    occurred_at: datetime
    actor_user_id: int
    actor_username: str
    action: str
    entity_type: str
    entity_id: int
    before: dict[str, Any] | None  # None: the entity was created
    after: dict[str, Any] | None  # None: the entity was deleted
    changes: list[AuditChange]


class AuditPage(BaseModel):
    """Newest first; `next_before_id` (None on the last page) asks for the next older page."""
    items: list[AuditEntry]
    limit: int
    before_id: int | None
    next_before_id: int | None
