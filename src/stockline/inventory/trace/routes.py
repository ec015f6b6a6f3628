"""A batch's traceability, from the ledger (/api/admin/inventory/batches/{id}/trace); no SQL here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/admin", tags=["inventory"])
