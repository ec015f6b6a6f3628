"""The customer's pages (issue 8): catalog and product pages, cart and checkout, my orders,
quick order. Each area is its own module (customer_*.py); this one puts their routers
together for web.routes."""

from __future__ import annotations

from fastapi import APIRouter

from stockline.web import customer_cart, customer_catalog, customer_orders, customer_quick

router = APIRouter(include_in_schema=False)
for _area in (customer_catalog, customer_cart, customer_orders, customer_quick):
    router.include_router(_area.router)
