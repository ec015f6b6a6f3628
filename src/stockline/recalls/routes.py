"""Recalls (/api/admin/recalls): staff only; no SQL here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/admin", tags=["recalls"])
