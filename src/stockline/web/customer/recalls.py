"""The customer's recall pages: /recalls lists the recalls touching their orders, open ones
first, each with what to do, its units (delivered, returned, still to send back) and the
printable notice (the PDF of GET /api/my-recalls/{id}/notice)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.kernel.context import Ctx
from stockline.recalls import service
from stockline.web.render import render
from stockline.web.session import CustomerPage

router = APIRouter()


@router.get("/recalls")
async def recalls_page(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    recalls = await service.my_recalls(ctx, user.customer_id)
    return render(request, "customer/recalls.html", {"section": "recalls", "recalls": recalls})
