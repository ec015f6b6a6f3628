"""The reports page for staff: one tab per report of `reporting.service` (the functions
GET /api/admin/reports/... call), one page of rows at a time, and a link to the API's CSV
export of every row (the API takes the session cookie for GETs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stockline.errors import DomainError, NotFound, ValidationFailed
from stockline.kernel.context import Ctx, context_of
from stockline.kernel.inputs import read_int
from stockline.pagination import PageRequest
from stockline.reporting import service
from stockline.web.render import day, render
from stockline.web.session import StaffPage
from stockline.web.staff.inventory import page_number

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50

# (key, heading, kind): kinds the template knows: text, int, money, decimal, date, timestamp,
# product (name and pack), sku (code, linked to its batches), batch (linked to its page), order (linked),
# supplier (name, linked to its page)
PRODUCT, SKU = ("product_name", "Product", "product"), ("sku_code", "SKU", "sku")
BATCH, EXPIRY = ("batch_no", "Batch", "batch"), ("expiry_date", "Expiry", "date")


@dataclass(frozen=True)
class Tab:
    name: str  # as in the API's path
    title: str
    about: str
    columns: tuple[tuple[str, str, str], ...]
    totals: tuple[tuple[str, str, str], ...]
    empty: str


TABS = {tab.name: tab for tab in (
    Tab("low-stock", "Low stock", "Active SKUs whose available units are below their reorder level.",
        (PRODUCT, SKU, ("available", "Available", "int"), ("reorder_level", "Reorder level", "int"),
         ("shortfall", "Shortfall", "int"), ("incoming", "On order", "int"),
         ("shortfall_after_incoming", "Short after orders", "int")),
        (("total_shortfall", "Total shortfall", "int"),),
        "Every active SKU is at or above its reorder level."),
    Tab("expiring", "Expiring", "Sellable batches with stock that expire within the window.",
        (PRODUCT, SKU, BATCH, EXPIRY, ("days_left", "Days left", "int"),
         ("quantity_on_hand", "On hand", "int"), ("cost_price", "Cost", "money"),
         ("value_at_cost", "Value at cost", "money")),
        (("total_units", "Units", "int"), ("total_value", "Value at cost", "money")),
        "No sellable stock expires within this window."),
    Tab("expired", "Expired", "Batches past their expiry date that still hold stock: to write off.",
        (PRODUCT, SKU, BATCH, EXPIRY, ("days_expired", "Days expired", "int"),
         ("quantity_on_hand", "On hand", "int"), ("value_at_cost", "Value at cost", "money")),
        (("total_units", "Units", "int"), ("total_value", "Value at cost", "money")),
        "No expired stock is waiting to be written off."),
    Tab("reorder-suggestions", "Reorder suggestions",
        "What to order so that stock and what is on order last {cover_days} days beyond the preferred "
        "supplier's lead time, at the last {window_days} days' sales rate.",
        (PRODUCT, SKU, ("available", "Available", "int"), ("units_sold", "Sold", "int"),
         ("daily_rate", "Per day", "decimal"), ("days_of_cover", "Days of cover", "decimal"),
         ("incoming", "On order", "int"), ("supplier_name", "Preferred supplier", "supplier"),
         ("lead_time_days", "Lead time (days)", "int"), ("suggested_quantity", "Suggested order", "int")),
        (("total_suggested", "Units to order", "int"),), "Every SKU has enough cover for its recent sales."),
    Tab("stock-valuation", "Stock valuation", "Stock on hand at batch cost, per SKU.",
        (PRODUCT, SKU, ("batches", "Batches", "int"), ("units_on_hand", "Units", "int"),
         ("value_at_cost", "Value at cost", "money"), ("average_unit_cost", "Average cost", "money"),
         ("sellable_value", "Sellable value", "money"), ("expired_value", "Expired value", "money"),
         ("quarantined_value", "On hold value", "money")),
        (("total_units", "Units", "int"), ("total_value", "Value at cost", "money"),
         ("total_sellable_value", "Sellable", "money"), ("total_expired_value", "Expired", "money"),
         ("total_quarantined_value", "On hold", "money")),
        "There is no stock on hand."),
    Tab("loss-making-sales", "Loss-making sales",
        "Items of orders not cancelled that sold below their unit cost.",
        (("order_date", "Ordered", "timestamp"), ("order_id", "Order", "order"),
         ("customer_name", "Customer", "text"),
         PRODUCT, SKU, BATCH, ("quantity", "Units", "int"), ("sale_price", "Sale price", "money"),
         ("unit_cost", "Unit cost", "money"), ("loss", "Loss", "money")),
        (("total_units", "Units", "int"), ("total_loss", "Total loss", "money")),
        "No item was sold below its cost in this period."),
)}


Runner = Callable[[PageRequest], Awaitable[Any]]


@dataclass(frozen=True)
class TabResult:
    """What one report tab shows: a page of the report (None when a filter was refused), the
    refusal, the filters as typed (kept in the form and the CSV link), the status and the
    link to the API's CSV of every row."""
    data: Any
    error: str | None
    params: dict[str, str]
    status: int
    csv_url: str


async def run_tab(request: Request, api_name: str,
                  runner: Callable[[Request], tuple[Runner, dict[str, str]]]) -> TabResult:
    """One page of a report for a tabbed report page (the reports, the finance page): its
    filters read by `runner`, a refused filter shown on the page rather than raised."""
    data, error, params, status = None, None, {}, 200
    try:
        run, params = runner(request)
        data = await run(PageRequest(page_number(request), PAGE_SIZE))
    except DomainError as exc:
        error, status = exc.message, exc.status
    csv_url = f"/api/admin/reports/{api_name}?" + urlencode(params | {"format": "csv"})
    return TabResult(data, error, params, status, csv_url)


def optional_day(text: str, label: str) -> date | None:
    """A day typed in a filter (ISO, as date inputs send it); blank: none."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{label} must be a date (day, month and year)") from None


def _runner(tab: Tab, request: Request) -> tuple[Runner, dict[str, str]]:
    """The service call for `tab` with the page's parameters, and those parameters as typed
    (kept in the form and the CSV link). ValidationFailed for a parameter out of range."""
    ctx, query = context_of(request), request.query_params
    if tab.name == "expiring":
        typed = query.get("days", "").strip()
        days = read_int(typed, minimum=1, maximum=service.MAX_EXPIRING_DAYS) if typed else None
        if typed and days is None:
            raise ValidationFailed(f"Days must be a whole number from 1 to {service.MAX_EXPIRING_DAYS}")
        return (lambda paging: service.expiring(ctx, paging, days)), \
            ({"days": typed} if typed else {})
    if tab.name == "loss-making-sales":
        typed = {"from": query.get("from", "").strip(), "to": query.get("to", "").strip()}
        start, end = optional_day(typed["from"], "From"), optional_day(typed["to"], "To")
        return (lambda paging: service.loss_making_sales(ctx, paging, start, end)), \
            {k: v for k, v in typed.items() if v}
    calls = {"low-stock": service.low_stock, "expired": service.expired,
             "reorder-suggestions": service.reorder_suggestions, "stock-valuation": service.stock_valuation}
    return (lambda paging: calls[tab.name](ctx, paging)), {}


@router.get("/staff/reports")
@router.get("/staff/reports/{name}")
async def reports_page(request: Request, ctx: Ctx, user: StaffPage, name: str = "low-stock") -> HTMLResponse:
    tab = TABS.get(name)
    if tab is None:
        raise NotFound(f"No report called {name!r}; the reports are {', '.join(TABS)}")
    result = await run_tab(request, tab.name, lambda request: _runner(tab, request))
    about = tab.about.format(cover_days=service.COVER_DAYS, window_days=service.SALES_WINDOW_DAYS)
    return render(request, "staff/reports.html", {
        "section": "reports", "tabs": TABS, "tab": tab, "about": about, "data": result.data,
        "error": result.error, "params": result.params, "csv_url": result.csv_url,
        "as_of": day(result.data["as_of"]) if result.data else None,
        "default_days": ctx.settings.expiring_soon_days}, status_code=result.status)
