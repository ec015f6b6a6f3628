"""A customer's recalls (/api/my-recalls): what of their orders is recalled; no SQL here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["recalls"])
