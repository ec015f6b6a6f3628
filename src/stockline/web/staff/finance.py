"""Finance pages: aged receivables, revenue net of credit notes, tax collected."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
