"""The customer's account page: balance, credit limit, overdue invoices."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
