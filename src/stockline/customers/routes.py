"""Back-office routes (under /api/admin/, staff or admin)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/admin", tags=["admin"])
