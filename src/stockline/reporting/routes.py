"""Back-office routes (under /api/admin/): the reports and the dashboard (staff or admin), and
the audit log (admins only; it can be read here, never edited or deleted)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from stockline.audit.record import Action, EntityType
from stockline.auth.dependencies import AdminUser, StaffUser
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import INT8_MAX
from stockline.pagination import PageRequest, Paging
from stockline.reporting import audit_log, dashboard, service
from stockline.reporting.export import attachment
from stockline.reporting.schemas import (
    AuditPage,
    DashboardStats,
    ExpiredPage,
    ExpiringPage,
    ExportFormat,
    LossPage,
    LowStockPage,
    ReorderPage,
    ValuationPage,
)

router = APIRouter(prefix="/api/admin", tags=["admin"])

Format = Annotated[ExportFormat, Query(alias="format", description="csv: every row (not one page) as "
                                                                    "text/csv, for download")]
_CSV = {200: {"content": {"text/csv": {}}, "description": "the page as JSON, or every row as CSV"}}


async def _rows(paging: Paging, export: Format = ExportFormat.json) -> PageRequest | None:
    """Which rows a report answers: the page asked for, or every row (None) for a CSV."""
    return None if export is ExportFormat.csv else paging


Rows = Annotated[PageRequest | None, Depends(_rows)]


def _answer(result: dict[str, Any] | service.CsvExport) -> dict[str, Any] | Response:
    if isinstance(result, service.CsvExport):
        return Response(result.text, media_type="text/csv", headers=attachment(result.filename))
    return result


@router.get("/reports/low-stock", response_model=LowStockPage, responses=_CSV,
            summary="Active SKUs whose available units are below their reorder level")
async def low_stock_report(ctx: Ctx, user: StaffUser, rows: Rows) -> Any:
    return _answer(await service.low_stock(ctx, rows))


@router.get("/reports/expiring", response_model=ExpiringPage, responses=_CSV,
            summary="Sellable batches expiring soon, with their value at cost")
async def expiring_report(
    ctx: Ctx, user: StaffUser, rows: Rows,
    days: Annotated[int | None, Query(ge=1, le=service.MAX_EXPIRING_DAYS,
                                      description="window in days (default EXPIRING_SOON_DAYS)")] = None,
) -> Any:
    return _answer(await service.expiring(ctx, rows, days))


@router.get("/reports/expired", response_model=ExpiredPage, responses=_CSV,
            summary="Expired batches still holding stock (to write off), with their value at cost")
async def expired_report(ctx: Ctx, user: StaffUser, rows: Rows) -> Any:
    return _answer(await service.expired(ctx, rows))


@router.get("/reports/reorder-suggestions", response_model=ReorderPage, responses=_CSV,
            summary="What to reorder to reach 30 days of cover at the last 30 days' sales rate")
async def reorder_suggestions_report(ctx: Ctx, user: StaffUser, rows: Rows) -> Any:
    return _answer(await service.reorder_suggestions(ctx, rows))


@router.get("/reports/stock-valuation", response_model=ValuationPage, responses=_CSV,
            summary="Stock on hand at cost, per SKU and in total")
async def stock_valuation_report(ctx: Ctx, user: StaffUser, rows: Rows) -> Any:
    return _answer(await service.stock_valuation(ctx, rows))


@router.get("/reports/loss-making-sales", response_model=LossPage, responses=_CSV,
            summary="Items of non-cancelled orders sold below their unit cost")
async def loss_making_sales_report(
    ctx: Ctx, user: StaffUser, rows: Rows,
    date_from: Annotated[date | None, Query(alias="from", description="first UTC day of order_date")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="last UTC day of order_date")] = None,
) -> Any:
    return _answer(await service.loss_making_sales(ctx, rows,
                                                   date_from, date_to))


@router.get("/dashboard-stats", response_model=DashboardStats,
            summary="Revenue, profit, stock alerts, 14-day and 8-week series, top products and customers")
async def dashboard_stats(ctx: Ctx, user: StaffUser) -> Any:
    return await dashboard.stats(ctx)


@router.get("/audit", response_model=AuditPage,
            responses=_CSV | {422: {"description": "a filter is not valid"}},
            summary="The audit log of privileged changes, newest first: who, when, what before and after")
async def audit_log_entries(
    ctx: Ctx, user: AdminUser, export: Format = ExportFormat.json,
    actor: Annotated[str | None, Query(max_length=audit_log.MAX_ACTOR_LENGTH,
                                       description="the username who made the change (any case)")] = None,
    action: Annotated[Action | None, Query()] = None,
    entity_type: Annotated[EntityType | None, Query()] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=INT8_MAX)] = None,
    date_from: Annotated[str | None, Query(alias="from", max_length=audit_log.MAX_MOMENT_LENGTH,
                                           description="from this UTC day or ISO 8601 moment")] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=audit_log.MAX_MOMENT_LENGTH,
                                         description="to this UTC day (all of it) or moment")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=INT8_MAX,
                                           description="the next page: entries older than this one")] = None,
    limit: Annotated[int, Query(ge=1, le=audit_log.MAX_LIMIT)] = 50,
) -> Any:
    chosen = audit_log.filters(actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
                               date_from=date_from, date_to=date_to)
    if export is ExportFormat.csv:  # every matching entry, streamed
        return StreamingResponse(await audit_log.csv_export(ctx, chosen), media_type="text/csv",
                                 headers=attachment(audit_log.csv_filename()))
    return await audit_log.page(ctx, chosen, before_id=before_id, limit=limit)
