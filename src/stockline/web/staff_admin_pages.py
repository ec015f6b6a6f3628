"""The back office's admin pages: orders, pricing rules and the price preview, products and
SKUs, customers and users. Each area lives in its own module; this one only gathers their
routers (web.routes includes `router`)."""

from __future__ import annotations

from fastapi import APIRouter

from stockline.web import (
    staff_catalog_pages,
    staff_customers_pages,
    staff_orders_pages,
    staff_pricing_pages,
    staff_users_pages,
)

router = APIRouter(include_in_schema=False)
for _area in (staff_orders_pages, staff_pricing_pages, staff_catalog_pages, staff_customers_pages,
              staff_users_pages):
    router.include_router(_area.router)
