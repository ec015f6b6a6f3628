"""Returns and credit notes, for customers and staff."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["returns"])
