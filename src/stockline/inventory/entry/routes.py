"""Back-office routes (under /api/admin/, staff or admin): natural-language stock entry.

The request and response bodies live here, beside their one route. Nothing is written:
the client posts each proposed `receipt` to POST /api/admin/inventory/batches itself.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from stockline.auth.dependencies import StaffUser
from stockline.inventory.entry import service as entry_service
from stockline.inventory.entry.parser import MAX_LINE_CHARS, MAX_LINES, MAX_TEXT_CHARS
from stockline.kernel.context import Ctx

router = APIRouter(prefix="/api/admin", tags=["admin"])


class EntryText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(
        min_length=1, max_length=MAX_TEXT_CHARS,
        description=f"one receipt per line, at most {MAX_LINES} non-empty lines (a line of more than "
                    f"{MAX_LINE_CHARS} characters gets the error line_too_long), e.g. 'Add 5 units of "
                    "Paracetamol 500mg 10-strip Batch #P500-ZZ1 expiring January 2029'")


class EntryCandidate(BaseModel):
    sku_id: int
    sku_code: str
    product_name: str
    manufacturer: str | None
    package_size: str
    unit_type: str
    score: float = Field(description="0..1; 1 is an exact sku_code match")


class ProposedReceipt(BaseModel):
    """The body to post to POST /api/admin/inventory/batches."""
    sku_id: int
    batch_no: str
    quantity: int
    expiry_date: date
    cost_price: str | None = Field(default=None, description="present only when the line states a cost")


class EntryLineError(BaseModel):
    field: str = Field(description="quantity, batch_no, expiry_date, cost_price or sku")
    code: str
    message: str


class EntryLine(BaseModel):
    line_no: int = Field(description="the line's number in the text, counted from 1 (blank lines count)")
    text: str
    ok: bool = Field(description="every part of the line was read and a SKU matches")
    quantity: int | None
    batch_no: str | None
    expiry_date: date | None
    cost_price: str | None
    candidates: list[EntryCandidate] = Field(description="at most 5, best first")
    receipt: ProposedReceipt | None = Field(description="when ok and one SKU clearly matches best")
    errors: list[EntryLineError]
    notes: list[str] = Field(description="what was assumed or is still needed: month-first dates, "
                                         "'2 boxes of 10' as 20 units, a past expiry, SKUs that tie, no cost")


class EntryProposal(BaseModel):
    lines: list[EntryLine]


@router.post("/inventory/parse-entry", response_model_exclude_unset=True,
             summary="Read stock receipts written in plain words (nothing is written)",
             responses={422: {"description": f"no text, more than {MAX_TEXT_CHARS:,} characters or more than "
                                             f"{MAX_LINES} lines"}})
async def parse_entry(body: EntryText, ctx: Ctx, user: StaffUser) -> EntryProposal:
    return await entry_service.propose_receipts(ctx, body.text)
