"""The customer's account page: what they owe, what is overdue, their payment terms and
credit limit, and how much more the limit lets them order (billing.account, as
GET /api/my-account)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.billing.account.service import account_summary
from stockline.kernel.context import Ctx
from stockline.web.render import render
from stockline.web.session import CustomerPage

router = APIRouter(include_in_schema=False)


@router.get("/account")
async def account_page(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    assert user.customer_id is not None
    async with ctx.pool.connection() as conn:
        account = await account_summary(conn, user.customer_id)
    return render(request, "customer/account.html", {"section": "account", "account": account})
