"""The finance page for staff: one tab per money report of `reporting.finance` (the functions
GET /api/admin/reports/receivables, /revenue-net and /tax call), with the report's filters,
one page of rows, its totals and a link to the API's CSV export of every row (the API takes
the session cookie for GETs). Aged receivables drill down to one customer's invoices, and
from there to the invoices page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stockline.errors import NotFound, ValidationFailed
from stockline.kernel.context import Ctx, context_of
from stockline.kernel.inputs import INT4_MAX, read_int
from stockline.reporting import finance
from stockline.web.render import render
from stockline.web.session import StaffPage
from stockline.web.staff.reports import Runner, optional_day, run_tab

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Tab:
    name: str  # as in the API's path
    title: str
    about: str
    periods: tuple[str, ...] = ()  # the periods its form offers


TABS = {tab.name: tab for tab in (
    Tab("receivables", "Aged receivables",
        "What each customer owes on invoices, by days past the due date, as of the end of a day. "
        "Over-payments are the customer's unallocated credit, kept out of the buckets. Invoices issued, "
        "payments received and credit notes issued after that day are left out, so a past day reads the "
        "same whenever it is run."),
    Tab("revenue-net", "Revenue net of credit notes",
        "Invoices by their issue day less credit notes by theirs (a credit note reduces the period it was "
        "issued in), net of tax, with the tax and the gross.", finance.REVENUE_PERIODS),
    Tab("tax", "Tax collected",
        "Taxable net and tax per rate: invoice lines less credit note lines, each by its document's issue "
        "day. The figures for a VAT return.", finance.TAX_PERIODS),
)}


def _runner(tab: Tab, request: Request) -> tuple[Runner, dict[str, str]]:
    """The service call for `tab` with the page's parameters, and those parameters as typed
    (kept in the form and the CSV link). ValidationFailed for a parameter out of range."""
    ctx, query = context_of(request), request.query_params
    if tab.name == "receivables":
        typed = {"as_of": query.get("as_of", "").strip(), "customer_id": query.get("customer_id", "").strip()}
        as_of = optional_day(typed["as_of"], "As of")
        customer_id = read_int(typed["customer_id"], minimum=1, maximum=INT4_MAX)
        if typed["customer_id"] and customer_id is None:
            raise ValidationFailed("Customer must be a customer number")
        return (lambda paging: finance.receivables(ctx, paging, as_of, customer_id)), \
            {k: v for k, v in typed.items() if v}
    typed = {"date_from": query.get("date_from", "").strip(), "date_to": query.get("date_to", "").strip(),
             "period": query.get("period", "").strip()}
    start, end = optional_day(typed["date_from"], "From"), optional_day(typed["date_to"], "To")
    period = typed["period"] or "month"
    report = finance.revenue_net if tab.name == "revenue-net" else finance.tax_collected
    return (lambda paging: report(ctx, paging, period, start, end)), {k: v for k, v in typed.items() if v}


@router.get("/staff/finance")
@router.get("/staff/finance/{name}")
async def finance_page(request: Request, ctx: Ctx, user: StaffPage,
                       name: str = "receivables") -> HTMLResponse:
    tab = TABS.get(name)
    if tab is None:
        raise NotFound(f"No finance report called {name!r}; the reports are {', '.join(TABS)}")
    result = await run_tab(request, tab.name, lambda request: _runner(tab, request))
    data, params = result.data, result.params
    summary_params = {k: v for k, v in params.items() if k == "as_of"}
    # past due: everything owed but the current bucket
    overdue = Decimal(data["total_outstanding"]) - Decimal(data["total_current"]) \
        if data and data.get("level") == "customers" else None
    return render(request, "staff/finance.html", {
        "section": "finance", "tabs": TABS, "tab": tab, "data": data, "error": result.error, "params": params,
        "csv_url": result.csv_url, "buckets": finance.BUCKETS, "overdue": overdue,
        "as_of_query": urlencode(summary_params)}, status_code=result.status)
