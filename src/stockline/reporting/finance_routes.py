"""Money reports (under /api/admin/, staff or admin): aged receivables, revenue net of credit
notes, tax collected per rate and period. Each answers one page as JSON, or with
`?format=csv` every row and its totals as text/csv (reporting.finance)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import Field

from stockline.auth.dependencies import StaffUser
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import INT4_MAX
from stockline.reporting import finance
from stockline.reporting.export import attachment
from stockline.reporting.routes import Rows
from stockline.reporting.schemas import ReceivableInvoicesPage, ReceivablesPage, RevenueNetPage, TaxPage
from stockline.reporting.service import CsvExport

router = APIRouter(prefix="/api/admin", tags=["finance reports"])

_CSV = {200: {"content": {"text/csv": {}},
              "description": "the page as JSON, or every row and the totals as CSV"}}
_BAD_RANGE = {422: {"description": "a date is not valid, date_from is after date_to, or the range has more "
                                   "periods than the report takes (366 days, 120 months, 40 quarters)"}}


class RevenuePeriod(StrEnum):
    day = "day"
    month = "month"
    quarter = "quarter"


class TaxPeriod(StrEnum):
    month = "month"
    quarter = "quarter"


DateFrom = Annotated[date | None, Query(description="first day of the range (default: the start of date_to's "
                                                    "year; by day, of its month)")]
DateTo = Annotated[date | None, Query(description="last day of the range, included (default: today, UTC)")]


def _answer(result: dict[str, Any] | CsvExport) -> dict[str, Any] | Response:
    if isinstance(result, CsvExport):
        return Response(result.text, media_type="text/csv", headers=attachment(result.filename))
    return result


@router.get("/reports/receivables",
            response_model=Annotated[ReceivablesPage | ReceivableInvoicesPage, Field(discriminator="level")],
            responses=_CSV | {404: {"description": "no such customer"},
                              422: {"description": "as_of is not a day, or a day to come"}},
            summary="Aged receivables as of a day: per customer, or one customer's invoices")
async def receivables_report(
    ctx: Ctx, user: StaffUser, rows: Rows,
    as_of: Annotated[date | None, Query(description="the day (default today, UTC): invoices issued, "
                                                    "payments paid and credit notes issued after it are "
                                                    "left out")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=INT4_MAX,
                                             description="that customer's invoices instead")] = None,
) -> Any:
    return _answer(await finance.receivables(ctx, rows, as_of, customer_id))


@router.get("/reports/revenue-net", response_model=RevenueNetPage, responses=_CSV | _BAD_RANGE,
            summary="Revenue net of credit notes per day, month or quarter")
async def revenue_net_report(
    ctx: Ctx, user: StaffUser, rows: Rows, date_from: DateFrom = None, date_to: DateTo = None,
    period: Annotated[RevenuePeriod, Query()] = RevenuePeriod.month,
) -> Any:
    return _answer(await finance.revenue_net(ctx, rows, period.value, date_from, date_to))


@router.get("/reports/tax", response_model=TaxPage, responses=_CSV | _BAD_RANGE,
            summary="Tax collected per rate and month or quarter, net of credit notes")
async def tax_report(
    ctx: Ctx, user: StaffUser, rows: Rows, date_from: DateFrom = None, date_to: DateTo = None,
    period: Annotated[TaxPeriod, Query()] = TaxPeriod.month,
) -> Any:
    return _answer(await finance.tax_collected(ctx, rows, period.value, date_from, date_to))
