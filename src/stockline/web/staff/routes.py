"""The back office's pages, gathered for web.routes: the dashboard, inventory and batches,
plain-words stock entry, the reports, orders, pricing rules and the price preview, products
and SKUs, customers and users, the audit log. Each area is its own module."""

from __future__ import annotations

from fastapi import APIRouter

from stockline.web.staff import (
    audit,
    catalog,
    customers,
    dashboard,
    finance,
    inventory,
    invoices,
    orders,
    pricing,
    purchase_orders,
    recalls,
    reports,
    returns,
    stock_entry,
    suppliers,
    tax,
    trace,
    users,
)

router = APIRouter(include_in_schema=False)
for _area in (dashboard, inventory, stock_entry, reports, finance, orders, invoices, returns, pricing,
              catalog, customers, users, audit, tax, suppliers, purchase_orders, recalls, trace):
    router.include_router(_area.router)
