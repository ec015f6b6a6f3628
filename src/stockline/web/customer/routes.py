"""The customer's pages, gathered for web.routes: catalog and product pages, cart and
checkout, my orders, quick order. Each area is its own module."""

from __future__ import annotations

from fastapi import APIRouter

from stockline.web.customer import account, cart, catalog, invoices, orders, quick_order, recalls, returns

router = APIRouter(include_in_schema=False)
for _area in (catalog, cart, orders, quick_order, invoices, returns, account, recalls):
    router.include_router(_area.router)
