"""Suppliers and purchase orders (/api/admin/suppliers, /api/admin/purchase-orders): staff only; no SQL here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/admin", tags=["purchasing"])
