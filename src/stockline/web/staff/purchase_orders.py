"""Staff pages: purchase_orders."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
