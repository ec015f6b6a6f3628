"""Query parameters of the stock views."""

from __future__ import annotations

from enum import StrEnum


class InventoryFilter(StrEnum):
    low_stock = "low_stock"
    critical = "critical"
    expiring = "expiring"
    expired = "expired"
    recent = "recent"


class InventorySort(StrEnum):
    expiry = "expiry"
    received = "received"
    quantity = "quantity"
    product = "product"
