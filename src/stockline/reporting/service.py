"""The stock and sales reports staff read: low stock, expiring soon, expired (to write off),
reorder suggestions, stock valuation and loss-making sales.

Each report is one named query that returns its totals and one page of rows in a single
statement, and one column list (`Report.columns`) that renders both the JSON items and the
CSV export (the reorder suggestions' query is the reorder rule's own, in
stockline.purchasing.suggestions). A CSV export is every row, not one page. "Today" is the UTC business day
(stockline.kernel.expiry); a sales window of N days is the N UTC calendar days ending
today, today included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg

from stockline import db
from stockline.config import Settings
from stockline.errors import ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after, utc_midnight, window_start
from stockline.pagination import PageRequest
from stockline.purchasing import suggestions
from stockline.reporting.export import Column, csv_text, item
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

# the reorder rule's figures, written once in stockline.purchasing.suggestions
SALES_WINDOW_DAYS = suggestions.SALES_WINDOW_DAYS
COVER_DAYS = suggestions.COVER_DAYS
MAX_EXPIRING_DAYS = 365

SKU_COLUMNS = (Column("sku_id", "int"), Column("sku_code"), Column("product_id", "int"),
               Column("product_name"), Column("manufacturer"), Column("package_size"), Column("unit_type"))
BATCH_COLUMNS = (Column("batch_id", "int"), Column("batch_no"), Column("expiry_date", "date"),
                 Column("quantity_on_hand", "int"), Column("cost_price", "money"),
                 Column("value_at_cost", "money"))


@dataclass(frozen=True)
class Report:
    name: str  # as in the URL and the export's file name
    query: str
    columns: tuple[Column, ...]  # the items' keys, in CSV column order
    totals: tuple[Column, ...] = ()  # extra envelope keys, read from the totals row


@dataclass(frozen=True)
class CsvExport:
    filename: str
    text: str


LOW_STOCK = Report(
    "low-stock", "low_stock",
    (*SKU_COLUMNS, Column("available", "int"), Column("reorder_level", "int"), Column("shortfall", "int"),
     Column("incoming", "int"), Column("shortfall_after_incoming", "int")),
    (Column("total_shortfall", "int"),))
EXPIRING = Report(
    "expiring", "expiring", (*SKU_COLUMNS, *BATCH_COLUMNS, Column("days_left", "int")),
    (Column("total_units", "int"), Column("total_value", "money")))
EXPIRED = Report(
    "expired", "expired", (*SKU_COLUMNS, *BATCH_COLUMNS, Column("days_expired", "int")),
    (Column("total_units", "int"), Column("total_value", "money")))
REORDER_SUGGESTIONS = Report(
    "reorder-suggestions", "reorder_suggestions",
    (*SKU_COLUMNS, Column("reorder_level", "int"), Column("units_sold", "int"), Column("available", "int"),
     Column("daily_rate", "decimal"), Column("days_of_cover", "decimal"), Column("incoming", "int"),
     Column("lead_time_days", "int"), Column("supplier_id", "int"), Column("supplier_name"),
     Column("suggested_quantity", "int")),
    (Column("total_suggested", "int"),))
STOCK_VALUATION = Report(
    "stock-valuation", "stock_valuation",
    (*SKU_COLUMNS, Column("is_active", "bool"), Column("batches", "int"), Column("units_on_hand", "int"),
     Column("value_at_cost", "money"), Column("average_unit_cost", "money"), Column("sellable_units", "int"),
     Column("sellable_value", "money"), Column("expired_units", "int"), Column("expired_value", "money"),
     Column("quarantined_units", "int"), Column("quarantined_value", "money")),
    (Column("total_units", "int"), Column("total_value", "money"), Column("total_sellable_value", "money"),
     Column("total_expired_value", "money"), Column("total_quarantined_value", "money")))
LOSS_MAKING_SALES = Report(
    "loss-making-sales", "loss_making_sales",
    (Column("order_item_id", "int"), Column("order_id", "int"), Column("order_date", "timestamp"),
     Column("status"), Column("customer_id", "int"), Column("customer_name"), Column("sku_id", "int"),
     Column("sku_code"), Column("product_name"), Column("batch_id", "int"), Column("batch_no"),
     Column("quantity", "int"), Column("base_price", "money"), Column("discount_percentage", "money"),
     Column("pricing_rule_id", "int"), Column("sale_price", "money"), Column("unit_cost", "money"),
     Column("loss_per_unit", "money"), Column("loss", "money")),
    (Column("total_units", "int"), Column("total_loss", "money")))


Fetch = Callable[[psycopg.AsyncConnection, dict[str, Any]], Awaitable[list[dict[str, Any]]]]


async def _run(ctx: Context, report: Report, params: dict[str, Any], paging: PageRequest | None,
               extra: dict[str, Any], filename: str,
               fetch: Fetch | None = None) -> dict[str, Any] | CsvExport:
    """One page as the envelope (totals and `extra` as extra keys), or, without `paging`,
    every row as CSV. `fetch(conn, limits)`: the rows from another package's query instead
    of this package's `report.query`."""
    limits = {"limit": paging.limit, "offset": paging.offset} if paging else {"limit": None, "offset": 0}

    async def read(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
        if fetch is None:
            return await db.fetch_all(conn, Q[report.query], params | limits)
        return await fetch(conn, limits)

    rows = await ctx.read(read)  # a replica may answer (stockline.read_routing)
    present = [row for row in rows if row[report.columns[0].name] is not None]
    if paging is None:
        return CsvExport(filename, csv_text(present, report.columns))
    totals = item(rows[0], report.totals)
    items = [item(row, report.columns) for row in present]
    return paging.envelope(items, rows[0]["total_items"], **extra, **totals)


def _stock_params(settings: Settings, today: date) -> dict[str, Any]:
    return {"today": today, "sellable_after": sellable_after(settings, today)}


async def low_stock(ctx: Context,
                    paging: PageRequest | None) -> dict[str, Any] | CsvExport:
    """Active SKUs whose available units are below their reorder level."""
    today = business_day()
    return await _run(ctx, LOW_STOCK, _stock_params(ctx.settings, today), paging,
                      {"as_of": today.isoformat()}, f"low-stock-{today}.csv")


async def expiring(ctx: Context, paging: PageRequest | None,
                   days: int | None) -> dict[str, Any] | CsvExport:
    """Sellable batches with stock expiring within `days` (default EXPIRING_SOON_DAYS): on or
    before today + days."""
    days = ctx.settings.expiring_soon_days if days is None else days
    if not 1 <= days <= MAX_EXPIRING_DAYS:
        raise ValidationFailed(f"days must be between 1 and {MAX_EXPIRING_DAYS}", details={"days": days})
    today = business_day()
    until = today + timedelta(days=days)
    params = _stock_params(ctx.settings, today) | {"expiring_until": until}
    extra = {"as_of": today.isoformat(), "days": days, "expiring_until": until.isoformat()}
    return await _run(ctx, EXPIRING, params, paging, extra, f"expiring-{days}d-{today}.csv")


async def expired(ctx: Context,
                  paging: PageRequest | None) -> dict[str, Any] | CsvExport:
    """Batches holding stock past the start of their expiry date: to write off."""
    today = business_day()
    return await _run(ctx, EXPIRED, _stock_params(ctx.settings, today), paging, {"as_of": today.isoformat()},
                      f"expired-{today}.csv")


async def reorder_suggestions(ctx: Context,
                              paging: PageRequest | None) -> dict[str, Any] | CsvExport:
    """The reorder rule's suggestions (stockline.purchasing.suggestions): active SKUs whose
    available and incoming units last fewer than COVER_DAYS days plus their preferred
    supplier's lead time at the rate they sold over the last SALES_WINDOW_DAYS days, and how
    many to order."""
    today = business_day()

    async def fetch(conn: psycopg.AsyncConnection, limits: dict[str, Any]) -> list[dict[str, Any]]:
        return await suggestions.suggestion_rows(conn, ctx.settings, today, **limits)

    extra = {"as_of": today.isoformat(), "sales_from": window_start(today, SALES_WINDOW_DAYS).isoformat(),
             "window_days": SALES_WINDOW_DAYS, "cover_days": COVER_DAYS}
    return await _run(ctx, REORDER_SUGGESTIONS, {}, paging, extra, f"reorder-suggestions-{today}.csv", fetch)


async def stock_valuation(ctx: Context,
                          paging: PageRequest | None) -> dict[str, Any] | CsvExport:
    """Stock on hand at batch cost, per SKU and in total."""
    today = business_day()
    return await _run(ctx, STOCK_VALUATION, _stock_params(ctx.settings, today), paging,
                      {"as_of": today.isoformat()}, f"stock-valuation-{today}.csv")


async def loss_making_sales(ctx: Context, paging: PageRequest | None, date_from: date | None,
                            date_to: date | None) -> dict[str, Any] | CsvExport:
    """Items of non-cancelled orders sold below their unit cost, ordered on a UTC day in
    [date_from, date_to] (both included; either may be left open)."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationFailed("from must not be after to",
                               details={"from": date_from.isoformat(), "to": date_to.isoformat()})
    today = business_day()
    until = None if date_to is None or date_to == date.max else utc_midnight(date_to + timedelta(days=1))
    params = {"from": None if date_from is None else utc_midnight(date_from), "until": until}
    extra = {"as_of": today.isoformat(), "date_from": date_from and date_from.isoformat(),
             "date_to": date_to and date_to.isoformat()}
    span = f"{date_from or 'start'}-to-{date_to or today}"
    return await _run(ctx, LOSS_MAKING_SALES, params, paging, extra, f"loss-making-sales-{span}.csv")
