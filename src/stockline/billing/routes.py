"""The customer's invoices and their PDFs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["invoices"])
