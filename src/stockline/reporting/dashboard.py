"""The dashboard's figures, read in one statement and cached for a few seconds.

Revenue and profit count non-cancelled orders only: revenue = sum(sale_price * quantity),
profit = revenue - sum(unit_cost * quantity), unit_cost being the batch cost stored at
sale. Days are UTC calendar days of order_date: `daily` is the last DAYS days (today
included, oldest first), `weekly` the last WEEKS ISO weeks (Monday starts, the current week
included), empty periods "0.00"; the top tens rank revenue over the last TOP_WINDOW_DAYS
days (ties: lowest id first).

The money figures: receivables outstanding (the positive balances of open invoices: what
the aged receivables report totals for today, over-payments left out), of which overdue
(past their due date), and this calendar month's invoiced net, credit notes' net and tax
net of credit notes (by issue day, the month's first day to today), as the revenue-net and
tax reports count them (reporting.finance).

The cache key is the catalog version (every checkout, cancellation and stock change bumps
it after commit, in every worker) and the day, so a write shows at the next request; the
short time-to-live bounds what a write that does not bump the version (a status change
that leaves revenue alone, an invoice issued at shipping, a payment, a bulk load) can leave
stale. The version is read before the figures, so figures read before a commit are never
stored under the version after it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from stockline import db
from stockline.cache import TtlCache
from stockline.config import Settings
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day, sellable_after, utc_midnight, window_start
from stockline.kernel.money import money
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

DAYS = 14
WEEKS = 8
TOP_WINDOW_DAYS = 30
TOP_COUNT = 10
CACHE_SECONDS = 5.0


def new_cache() -> TtlCache[dict[str, Any]]:
    return TtlCache(CACHE_SECONDS, max_entries=8)


def _params(settings: Settings, today: date) -> dict[str, Any]:
    days_from = window_start(today, DAYS)
    this_monday = today - timedelta(days=today.weekday())
    weeks_from = this_monday - timedelta(weeks=WEEKS - 1)
    top_from = window_start(today, TOP_WINDOW_DAYS)
    return {
        "today": today, "month_from": today.replace(day=1),
        "days_from": days_from, "day_count": DAYS, "weeks_from": weeks_from, "week_count": WEEKS,
        "top_from": utc_midnight(top_from), "top_count": TOP_COUNT,
        "sellable_after": sellable_after(settings, today),
        "expiring_until": today + timedelta(days=settings.expiring_soon_days),
    }


def _money(text: str) -> str:
    return money(Decimal(text))


def _render(row: dict[str, Any], today: date) -> dict[str, Any]:
    return {
        "as_of": today.isoformat(),
        "total_revenue": money(row["total_revenue"]), "total_profit": money(row["total_profit"]),
        "total_orders": row["total_orders"], "total_batches": row["total_batches"],
        "expiring_soon": row["expiring_soon"], "low_stock_count": row["low_stock_count"],
        "receivables_outstanding": money(row["receivables_outstanding"]),
        "receivables_overdue": money(row["receivables_overdue"]),
        "month_from": today.replace(day=1).isoformat(),
        "invoiced_net_this_month": money(row["invoiced_net_this_month"]),
        "credited_net_this_month": money(row["credited_net_this_month"]),
        "tax_this_month": money(row["tax_this_month"]),
        "daily": [{"day": d["day"], "revenue": _money(d["revenue"]), "profit": _money(d["profit"])}
                  for d in row["daily"]],
        "weekly": [{"week_start": w["week_start"], "revenue": _money(w["revenue"]),
                    "profit": _money(w["profit"])} for w in row["weekly"]],
        "top_products": [t | {"revenue": _money(t["revenue"]), "profit": _money(t["profit"])}
                         for t in row["top_products"]],
        "top_customers": [t | {"revenue": _money(t["revenue"]), "profit": _money(t["profit"])}
                          for t in row["top_customers"]],
    }


async def read_stats(ctx: Context, today: date | None = None) -> dict[str, Any]:
    """The figures as of `today` (default: the UTC business day), uncached; a replica may
    answer (stockline.read_routing)."""
    figures, _ = await _read_stats(ctx, today or business_day(), None)
    return figures


async def _read_stats(ctx: Context, today: date, version: int | None) -> tuple[dict[str, Any], bool]:
    async def read(conn: psycopg.AsyncConnection) -> dict[str, Any] | None:
        return await db.fetch_one(conn, Q["dashboard_stats"], _params(ctx.settings, today))

    if version is None:
        row, fresh = await ctx.read(read), False
    else:  # to be cached under `version`: only if it holds every change the version covers
        row, fresh = await ctx.read_for_cache(read, versions=(version, 0))
    assert row is not None  # an aggregate over one row always answers
    return _render(row, today), fresh


async def stats(ctx: Context) -> dict[str, Any]:
    version = await ctx.versions.current(ctx.pool)
    today = business_day()
    key = (version, today)
    figures = ctx.dashboard_cache.get(key)
    if figures is None:
        figures, fresh = await _read_stats(ctx, today, version)
        if fresh:  # a lagging replica's figures are shown, not kept under the version
            ctx.dashboard_cache.set(key, figures)
    return figures
