"""The money reports: aged receivables, revenue net of credit notes, and tax collected per
rate and period (what an accountant files a VAT return from).

Each report is one named query in queries.sql (under "Money reports") that returns its
totals and one page of rows in one statement, and one column list that renders both the
JSON items and the CSV export. A CSV export is every row followed by its totals: a last
row labelled "Total" (the tax report: one per rate, then one over every rate), whose
figures are the envelope's `total_<column>` keys. Money stays NUMERIC until it is shown.

Days are UTC calendar days. Aged receivables are read as of a day (today by default): only
invoices issued, payments paid and credit notes issued on or before it count, so a past
day's report gives the same figures whenever it is run. Revenue and tax count invoices on
their issue day and credit notes on theirs, so a credit note reduces the period it was
issued in, not its invoice's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from stockline import db
from stockline.errors import NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.expiry import business_day
from stockline.pagination import PageRequest
from stockline.reporting.export import Column, cell, csv_text, item
from stockline.reporting.service import CsvExport, Report
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

TOTAL_LABEL = "Total"

# The aging buckets, in order: (key, heading). Their bounds are the CASE of the receivables
# queries; an over-paid invoice is in none of them (its bucket is 'credit').
BUCKETS = (("current", "Current"), ("days_1_30", "1–30 days"), ("days_31_60", "31–60 days"),
           ("days_61_90", "61–90 days"), ("days_over_90", "Over 90 days"))
AGING_COLUMNS = (*(Column(key, "money") for key, _ in BUCKETS), Column("outstanding", "money"),
                 Column("unallocated_credit", "money"), Column("open_invoices", "int"))


@dataclass(frozen=True)
class Period:
    name: str  # as the API takes it, and date_trunc's field
    step: str  # its length, as an SQL interval
    label: str  # to_char's pattern for the period's name
    months: int  # its length in months (0: a day)
    max_periods: int  # the longest range a report takes, in periods


PERIODS = {period.name: period for period in (
    Period("day", "1 day", "YYYY-MM-DD", 0, 366),
    Period("month", "1 month", "YYYY-MM", 1, 120),
    Period("quarter", "3 months", 'YYYY-"Q"Q', 3, 40),
)}
REVENUE_PERIODS = tuple(PERIODS)
TAX_PERIODS = ("month", "quarter")

RECEIVABLES = Report(
    "receivables", "receivables",
    (Column("customer_id", "int"), Column("customer_name"), Column("credit_limit", "money"),
     Column("payment_terms_days", "int"), *AGING_COLUMNS),
    tuple(Column("total_" + column.name, column.kind) for column in AGING_COLUMNS))
RECEIVABLE_INVOICES = Report(
    "receivables", "receivable_invoices",
    (Column("invoice_id", "int"), Column("invoice_no"), Column("order_id", "int"),
     Column("issued_on", "date"), Column("due_on", "date"), Column("gross_amount", "money"),
     Column("amount_paid", "money"),
     Column("amount_credited", "money"), Column("balance", "money"), Column("days_past_due", "int"),
     Column("bucket")),
    (*RECEIVABLES.totals, Column("total_gross_amount", "money"), Column("total_amount_paid", "money"),
     Column("total_amount_credited", "money"), Column("total_balance", "money")))
_REVENUE_FIGURES = (Column("invoices", "int"), Column("invoiced_net", "money"), Column("credit_notes", "int"),
                    Column("credited_net", "money"), Column("net_revenue", "money"), Column("tax", "money"),
                    Column("gross", "money"))
REVENUE_NET = Report(
    "revenue-net", "revenue_net",
    (Column("period"), Column("first_day", "date"), Column("last_day", "date"), *_REVENUE_FIGURES),
    tuple(Column("total_" + column.name, column.kind) for column in _REVENUE_FIGURES))
TAX_FIGURES = (Column("invoiced_net", "money"), Column("invoiced_tax", "money"),
               Column("credited_net", "money"), Column("credited_tax", "money"),
               Column("taxable_net", "money"), Column("tax", "money"))
RATE_COLUMNS = (Column("tax_rate", "decimal"), *TAX_FIGURES)
TAX = Report(
    "tax", "tax_collected",
    (Column("period"), Column("first_day", "date"), Column("last_day", "date"), *RATE_COLUMNS),
    tuple(Column("total_" + column.name, column.kind) for column in TAX_FIGURES))


# --- parameters -------------------------------------------------------------------------------

def as_of_day(as_of: date | None) -> date:
    """The day aged receivables are read as of: today unless given; never a day to come,
    whose figures would change as it comes."""
    today = business_day()
    if as_of is None:
        return today
    if as_of > today:
        raise ValidationFailed(f"as_of must be today ({today.isoformat()}) or earlier",
                               details={"as_of": as_of.isoformat(), "today": today.isoformat()})
    return as_of


def period_count(period: Period, date_from: date, date_to: date) -> int:
    """How many periods (whole or in part) the range touches."""
    if not period.months:
        return (date_to - date_from).days + 1
    first, last = ((day.year * 12 + day.month - 1) // period.months for day in (date_from, date_to))
    return last - first + 1


def default_from(period: Period, date_to: date) -> date:
    """Where a range starts when only its end is known: the start of date_to's month for a
    report by day, of its year otherwise."""
    return date_to.replace(day=1) if not period.months else date_to.replace(month=1, day=1)


def date_range(period_name: str, date_from: date | None, date_to: date | None,
               allowed: tuple[str, ...] = REVENUE_PERIODS) -> tuple[Period, date, date]:
    """The period and range asked for, checked (422 naming what is wrong)."""
    if period_name not in allowed:
        raise ValidationFailed(f"period must be one of {', '.join(allowed)}", details={"period": period_name})
    period = PERIODS[period_name]
    date_to = date_to or business_day()
    date_from = date_from or default_from(period, date_to)
    if date_from > date_to:
        raise ValidationFailed("date_from must not be after date_to",
                               details={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
    count = period_count(period, date_from, date_to)
    if count > period.max_periods:
        raise ValidationFailed(
            f"A report by {period.name} covers at most {period.max_periods} {period.name}s; this range has "
            f"{count}: choose a shorter range or a longer period",
            details={"period": period.name, "periods": count, "max_periods": period.max_periods})
    return period, date_from, date_to


def _period_params(period: Period, date_from: date, date_to: date) -> dict[str, Any]:
    return {"period": period.name, "step": period.step, "label": period.label, "date_from": date_from,
            "date_to": date_to}


# --- running a report -------------------------------------------------------------------------

async def _rows(ctx: Context, report: Report, params: dict[str, Any],
                paging: PageRequest | None) -> list[dict[str, Any]]:
    limits = {"limit": paging.limit, "offset": paging.offset} if paging else {"limit": None, "offset": 0}

    async def read(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
        return await db.fetch_all(conn, Q[report.query], params | limits)

    return await ctx.read(read)  # a replica may answer (stockline.read_routing)


def _page_rows(report: Report, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the page (past the last page the one row holds only the totals)."""
    return [row for row in rows if row[report.columns[0].name] is not None]


def total_row(report: Report, figures: Mapping[str, Any], label: str = TOTAL_LABEL,
              **cells: Any) -> dict[str, Any]:
    """A CSV row of totals in the report's columns: `label` in the first text column, each
    column's `total_<name>` figure (from `figures`), `cells` as given, the rest empty."""
    first_text = next(column.name for column in report.columns if column.kind == "text")
    row = {column.name: figures.get("total_" + column.name) for column in report.columns}
    return row | {first_text: label} | cells


def _answer(report: Report, rows: list[dict[str, Any]], paging: PageRequest | None, filename: str,
            extra: dict[str, Any],
            csv_tail: list[dict[str, Any]] | None = None) -> dict[str, Any] | CsvExport:
    """One page as the envelope (totals and `extra` as extra keys), or, without `paging`,
    every row as CSV followed by the totals row (or `csv_tail`)."""
    present = _page_rows(report, rows)
    if paging is None:
        tail = csv_tail if csv_tail is not None else [total_row(report, rows[0])]
        return CsvExport(filename, csv_text([*present, *tail], report.columns))
    totals = item(rows[0], report.totals)
    return paging.envelope([item(row, report.columns) for row in present], rows[0]["total_items"],
                           **extra, **totals)


# --- the reports ------------------------------------------------------------------------------

async def receivables(ctx: Context, paging: PageRequest | None, as_of: date | None,
                      customer_id: int | None = None) -> dict[str, Any] | CsvExport:
    """Aged receivables as of `as_of` (default today): one row per customer owing or owed
    anything on that day, largest outstanding first; with `customer_id`, that customer's
    invoices with a balance on that day (404 for no such customer)."""
    day = as_of_day(as_of)
    if customer_id is not None:
        return await _receivable_invoices(ctx, paging, day, customer_id)
    rows = await _rows(ctx, RECEIVABLES, {"as_of": day}, paging)
    return _answer(RECEIVABLES, rows, paging, f"receivables-{day}.csv",
                   {"as_of": day.isoformat(), "level": "customers"})


async def _receivable_invoices(ctx: Context, paging: PageRequest | None, day: date,
                               customer_id: int) -> dict[str, Any] | CsvExport:
    rows = await _rows(ctx, RECEIVABLE_INVOICES, {"as_of": day, "customer_id": customer_id}, paging)
    head = rows[0]
    if not head["customer_exists"]:
        raise NotFound(f"No customer {customer_id}", details={"customer_id": customer_id})
    customer = {"customer_id": customer_id, "customer_name": head["customer_name"],
                "credit_limit": cell(head["credit_limit"], "money"),
                "payment_terms_days": head["payment_terms_days"]}
    return _answer(RECEIVABLE_INVOICES, rows, paging, f"receivables-customer-{customer_id}-{day}.csv",
                   {"as_of": day.isoformat(), "level": "invoices", **customer})


async def revenue_net(ctx: Context, paging: PageRequest | None, period_name: str, date_from: date | None,
                      date_to: date | None) -> dict[str, Any] | CsvExport:
    """Invoiced net, credited net, net revenue, tax and gross per period of the range (both
    ends included; every period, empty ones zero), and their totals."""
    period, start, end = date_range(period_name, date_from, date_to)
    rows = await _rows(ctx, REVENUE_NET, _period_params(period, start, end), paging)
    extra = {"as_of": business_day().isoformat(), "period": period.name, "date_from": start.isoformat(),
             "date_to": end.isoformat()}
    return _answer(REVENUE_NET, rows, paging, f"revenue-net-by-{period.name}-{start}-to-{end}.csv", extra)


def _rate_totals(head: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [item(rate, RATE_COLUMNS) for rate in head["rate_totals"]]


async def tax_collected(ctx: Context, paging: PageRequest | None, period_name: str, date_from: date | None,
                        date_to: date | None) -> dict[str, Any] | CsvExport:
    """Taxable net and tax per period and rate, invoice lines less credit note lines, with
    the totals per rate and overall."""
    period, start, end = date_range(period_name, date_from, date_to, TAX_PERIODS)
    rows = await _rows(ctx, TAX, _period_params(period, start, end), paging)
    head = rows[0]
    extra = {"as_of": business_day().isoformat(), "period": period.name, "date_from": start.isoformat(),
             "date_to": end.isoformat(), "rate_totals": _rate_totals(head)}
    # the CSV's totals: one row per rate, then one over every rate
    per_rate = [total_row(TAX, {"total_" + key: value for key, value in rate.items()},
                          tax_rate=rate["tax_rate"]) for rate in head["rate_totals"]]
    return _answer(TAX, rows, paging, f"tax-by-{period.name}-{start}-to-{end}.csv", extra,
                   csv_tail=[*per_rate, total_row(TAX, head)])
