"""The customer's account (their own only) and, for staff, any customer's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from stockline.auth.dependencies import CustomerUser, StaffUser
from stockline.billing.account.service import account_summary
from stockline.kernel.context import Ctx

router = APIRouter(prefix="/api", tags=["account"])
CustomerId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class Account(BaseModel):
    customer_id: int
    customer_name: str
    payment_terms_days: int
    credit_limit: str | None = Field(description="null: no limit")
    exposure: str = Field(description="unpaid invoice balances (over-payments count as credit) plus the "
                                      "gross of orders not yet invoiced: what the credit limit is checked "
                                      "against")
    available_credit: str | None = Field(description="how much more (gross) may be ordered; null: no limit")
    open_orders: int
    open_orders_gross: str
    invoices_owed: str = Field(description="the sum of invoices' positive balances")
    unallocated_credit: str = Field(description="over-payments not yet used")
    overdue_amount: str
    overdue_invoices: int
    oldest_overdue_due_on: str | None


@router.get("/my-account", summary="Your account: balance, overdue invoices, credit limit and what it leaves")
async def my_account(ctx: Ctx, user: CustomerUser) -> Account:
    assert user.customer_id is not None
    async with ctx.pool.connection() as conn:
        return Account(**await account_summary(conn, user.customer_id))


@router.get("/admin/customers/{customer_id}/account", summary="A customer's account (staff)",
            responses={404: {"description": "not found"}})
async def customer_account(customer_id: CustomerId, ctx: Ctx, user: StaffUser) -> Account:
    async with ctx.pool.connection() as conn:
        return Account(**await account_summary(conn, customer_id))
