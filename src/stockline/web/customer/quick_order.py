"""Quick order: paste "sku_code quantity" lines, check them (ordering.quick_order.preview:
every line resolved, priced and checked, errors by line number), then add them all to the
cart at once, or none (cart.add_lines, all or nothing). Adding checks the text again: what
the browser sends back is never trusted."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.kernel.context import Ctx
from stockline.ordering import cart, quick_order
from stockline.web.customer.forms import refusal
from stockline.web.render import redirect, render
from stockline.web.session import CsrfChecked, CustomerPage

router = APIRouter(include_in_schema=False)


@router.get("/quick-order")
async def quick_order_page(request: Request, user: CustomerPage) -> Response:
    return render(request, "customer/quick_order.html", {"section": "quick", "text": "", "preview": None})


@router.post("/quick-order", dependencies=[CsrfChecked])
async def quick_order_post(request: Request, ctx: Ctx, user: CustomerPage) -> Response:
    form = await request.form()
    raw = form.get("lines")
    text = raw.replace("\x00", "") if isinstance(raw, str) else ""  # PostgreSQL text holds no NUL
    preview = await quick_order.preview(ctx, user, text)
    context = {"section": "quick", "text": text, "preview": preview}
    page = "customer/quick_order.html"
    if form.get("action") != "add":
        return render(request, page, context, status_code=200 if preview.ready else 422)
    if not preview.ready:
        error = "Nothing was added: fix the lines marked below first."
        return render(request, page, context | {"error": error}, status_code=422)
    added = await cart.add_lines(ctx, user, preview.wanted(), all_or_nothing=True)
    if not added.written:
        refused = [refusal(line) for line in added.refused]
        error = "Nothing was added to your cart."
        return render(request, page, context | {"error": error, "refused": refused}, status_code=409)
    units = sum(line.adding for line in added.lines)
    count = len(added.lines)
    return redirect(request, "/cart", notice=f"Added {count} line{'s' if count != 1 else ''} "
                                             f"({units:,} units) to your cart.")
