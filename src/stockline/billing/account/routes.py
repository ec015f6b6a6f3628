"""The customer's account: balance, credit limit, exposure."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["account"])
