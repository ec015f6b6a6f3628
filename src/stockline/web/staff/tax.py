"""Tax pages, as /api/admin/tax-classes: staff may look, only admins change. The list shows
every class with the rate in force today, the next change and how many SKUs are in it, and
(to admins) a form to add a class; a class's page shows every rate and (to admins) forms to
schedule a rate, cancel a scheduled one, rename the class and delete it. Values are checked
by the API's own models (tax.schemas) and written by tax.service, so the rules are the
API's: a rate already in force is never added nor removed, the 'zero' class and a class
SKUs are in are never deleted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from stockline.errors import DomainError
from stockline.kernel.context import Context, Ctx
from stockline.kernel.expiry import business_day
from stockline.tax import service
from stockline.tax.schemas import (
    DEFAULT_TAX_CLASS,
    TAX_CLASS_CODE,
    RateCreate,
    TaxClassCreate,
    TaxClassUpdate,
)
from stockline.web.forms import REFUSED, field_errors, paging, texts, validated
from stockline.web.render import redirect, render
from stockline.web.session import AdminPage, CsrfChecked, StaffPage

router = APIRouter(include_in_schema=False)
ClassCode = Annotated[str, Path(min_length=1, max_length=32, pattern=TAX_CLASS_CODE)]

CLASS_LABELS = {"tax_class": "Code", "name": "Name", "rate": "Rate (%)"}
RATE_LABELS = {"rate": "New rate (%)", "valid_from": "From (day)"}
HINTS = {"tax_class": "must start with a lower-case letter and hold only a-z, 0-9, _ and -"}


def _given(values: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


def _problems(exc: DomainError) -> dict[str, str]:
    """The fields a refusal is about (a taken code is the class's own field)."""
    if exc.code == "tax_class_exists":
        return {"tax_class": exc.message}
    return field_errors(exc)


def _class_url(tax_class: str) -> str:
    return f"/staff/tax/{tax_class}"


# --- the list and adding a class -----------------------------------------------------------

async def _list(request: Request, ctx: Context, *, values: dict[str, Any] | None = None,
                error: DomainError | None = None) -> Response:
    classes = await service.list_classes(ctx, paging(request.query_params.get("page")))
    return render(request, "staff/tax.html", {
        "section": "tax", "classes": classes, "values": values or {},
        "error": error.message if error else None, "problems": _problems(error) if error else {},
    }, status_code=error.status if error else 200)


@router.get("/staff/tax")
async def tax_classes(request: Request, ctx: Ctx, user: StaffPage) -> Response:
    return await _list(request, ctx)


@router.post("/staff/tax", dependencies=[CsrfChecked])
async def create_class(request: Request, ctx: Ctx, user: AdminPage) -> Response:
    values = texts(await request.form(), tuple(CLASS_LABELS))
    try:
        body = validated(TaxClassCreate, _given(values), CLASS_LABELS, HINTS)
        created = await service.create_class(ctx, user, tax_class=body.tax_class, name=body.name,
                                             rate=body.rate)
    except REFUSED as exc:
        return await _list(request, ctx, values=values, error=exc)
    return redirect(request, _class_url(created["tax_class"]),
                    notice=f"Tax class {created['name']} ({created['tax_class']}) added at "
                           f"{created['current_rate']} %. Put SKUs in it from their edit form.")


# --- one class -----------------------------------------------------------------------------

async def _detail(request: Request, ctx: Context, tax_class: str, *, values: dict[str, Any] | None = None,
                  error: DomainError | None = None, form: str | None = None) -> Response:
    """The class's page; `form` names the form a refusal is about (rate, rename or delete),
    whose fields keep what was typed."""
    found = await service.get_class(ctx, tax_class)
    today = business_day()
    return render(request, "staff/tax_class.html", {
        "section": "tax", "tax": found, "today": today, "tomorrow": today + timedelta(days=1),
        "values": values or {"name": found["name"]}, "form": form,
        "error": error.message if error else None, "problems": _problems(error) if error else {},
        "deletable": found["tax_class"] != DEFAULT_TAX_CLASS and not found["sku_count"],
    }, status_code=error.status if error else 200)


@router.get("/staff/tax/{tax_class}")
async def tax_class_detail(request: Request, ctx: Ctx, tax_class: ClassCode, user: StaffPage) -> Response:
    return await _detail(request, ctx, tax_class)


@router.post("/staff/tax/{tax_class}/rates", dependencies=[CsrfChecked])
async def schedule_rate(request: Request, ctx: Ctx, tax_class: ClassCode, user: AdminPage) -> Response:
    values = texts(await request.form(), tuple(RATE_LABELS))
    try:
        body = validated(RateCreate, _given(values), RATE_LABELS)
        changed = await service.schedule_rate(ctx, user, tax_class, rate=body.rate,
                                              valid_from=body.valid_from)
    except REFUSED as exc:
        return await _detail(request, ctx, tax_class, values=values, error=exc, form="rate")
    rate = next(r for r in changed["rates"] if r["valid_from"] == body.valid_from)
    return redirect(request, _class_url(tax_class),
                    notice=f"From {body.valid_from:%d %b %Y}, {changed['name']} is {rate['rate']} %; "
                           "orders placed before then keep today's rate.")


@router.post("/staff/tax/{tax_class}/rates/{valid_from}/cancel", dependencies=[CsrfChecked])
async def cancel_rate(request: Request, ctx: Ctx, tax_class: ClassCode, valid_from: date,
                      user: AdminPage) -> Response:
    try:
        await service.cancel_rate(ctx, user, tax_class, valid_from)
    except REFUSED as exc:
        return await _detail(request, ctx, tax_class, error=exc)
    return redirect(request, _class_url(tax_class),
                    notice=f"The rate from {valid_from:%d %b %Y} is cancelled.")


@router.post("/staff/tax/{tax_class}/rename", dependencies=[CsrfChecked])
async def rename_class(request: Request, ctx: Ctx, tax_class: ClassCode, user: AdminPage) -> Response:
    values = texts(await request.form(), ("name",))
    try:
        body = validated(TaxClassUpdate, _given(values), CLASS_LABELS)
        renamed = await service.rename_class(ctx, user, tax_class, body.name)
    except REFUSED as exc:
        return await _detail(request, ctx, tax_class, values=values, error=exc, form="rename")
    return redirect(request, _class_url(tax_class),
                    notice=f"Tax class {tax_class} is now named {renamed['name']}.")


@router.post("/staff/tax/{tax_class}/delete", dependencies=[CsrfChecked])
async def delete_class(request: Request, ctx: Ctx, tax_class: ClassCode, user: AdminPage) -> Response:
    try:
        await service.delete_class(ctx, user, tax_class)
    except REFUSED as exc:
        return await _detail(request, ctx, tax_class, error=exc, form="delete")
    return redirect(request, "/staff/tax", notice=f"Tax class {tax_class} deleted.")
