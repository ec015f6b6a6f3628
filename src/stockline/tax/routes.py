"""Tax classes and their rates (admin)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/admin", tags=["tax"])
