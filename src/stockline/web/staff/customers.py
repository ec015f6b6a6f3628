"""Customer pages (admin only, as /api/admin/customers): the list with search, adding and
editing a customer, and one customer with its users and latest orders. Values are checked
by the API's own models (customers.schemas) and written by customers.service."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from stockline.billing.account.service import account_summary
from stockline.customers import external_sign_in, service
from stockline.customers.schemas import (
    DEFAULT_PAYMENT_TERMS_DAYS,
    CustomerCreate,
    CustomerType,
    InvitationCreate,
)
from stockline.errors import DomainError
from stockline.kernel.context import Context, Ctx
from stockline.ordering import orders
from stockline.pagination import PageRequest
from stockline.web.forms import REFUSED, field_errors, paging, texts, validated
from stockline.web.render import redirect, render
from stockline.web.session import AdminPage, CsrfChecked

router = APIRouter(include_in_schema=False)
CustomerId = Annotated[int, Path(ge=1, le=2_147_483_647)]
InvitationId = Annotated[int, Path(ge=1, le=2_147_483_647)]
RECENT_ORDERS = 10

LABELS = {"name": "Name", "address": "Address", "customer_type": "Type", "email": "Email", "phone": "Phone",
          "tax_id": "Tax number", "payment_terms_days": "Payment terms", "credit_limit": "Credit limit"}
HINTS = {"email": "must be an address like orders@pharmacy.example",
         "phone": "must be digits, spaces and ( ) . / - (an optional + first), 3 to 40 characters",
         "tax_id": "must be letters, digits, spaces and . / - (up to 40)",
         "payment_terms_days": "must be a whole number of days from 0 to 365",
         "credit_limit": "must be an amount like 5000 or 5000.00 (two decimals at most), or empty: no limit"}
CUSTOMER_TYPES = get_args(CustomerType)


@router.get("/staff/customers")
async def customer_list(request: Request, ctx: Ctx, user: AdminPage) -> Response:
    search = texts(request.query_params, ("search",))["search"]
    context: dict[str, Any] = {"section": "customers", "search": search or "", "result": None, "error": None}
    status_code = 200
    try:
        if search is not None and len(search) > 200:
            raise DomainError("Search for at most 200 characters")
        context["result"] = await service.list_customers(ctx,
                                                         paging(request.query_params.get("page")), search)
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    return render(request, "staff/customers.html", context, status_code=status_code)


def _customer_form(request: Request, values: dict[str, Any], *, customer_id: int | None = None,
                   error: DomainError | None = None) -> Response:
    return render(request, "staff/customer_form.html", {
        "section": "customers", "values": values, "customer_id": customer_id, "types": CUSTOMER_TYPES,
        "error": error.message if error else None, "problems": field_errors(error) if error else {},
    }, status_code=error.status if error else 200)


def _checked(values: dict[str, str | None]) -> dict[str, Any]:
    """The form's fields checked as the API checks a new customer (blanks: not given)."""
    given = {name: value for name, value in values.items() if value is not None}
    return validated(CustomerCreate, given, LABELS, HINTS).model_dump()


@router.get("/staff/customers/new")
async def new_customer(request: Request, user: AdminPage) -> Response:
    return _customer_form(request, {"customer_type": "pharmacy",
                                    "payment_terms_days": DEFAULT_PAYMENT_TERMS_DAYS})


@router.post("/staff/customers", dependencies=[CsrfChecked])
async def create_customer(request: Request, ctx: Ctx, user: AdminPage) -> Response:
    values = texts(await request.form(), tuple(LABELS))
    try:
        customer = await service.create_customer(ctx, user, _checked(values))
    except DomainError as exc:
        return _customer_form(request, values, error=exc)
    return redirect(request, f"/staff/customers/{customer['customer_id']}",
                    notice=f"Customer {customer['name']} added as #{customer['customer_id']}.")


@router.get("/staff/customers/{customer_id}")
async def customer_detail(request: Request, ctx: Ctx, customer_id: CustomerId, user: AdminPage) -> Response:
    return await _detail(request, ctx, customer_id)


async def _detail(request: Request, ctx: Context, customer_id: int, *, error: str | None = None,
                  status_code: int = 200) -> Response:
    customer = await service.get_customer(ctx, customer_id)
    async with ctx.pool.connection() as conn:
        account = await account_summary(conn, customer_id)
    recent = await orders.all_orders(ctx, PageRequest(1, RECENT_ORDERS), status=None,
                                     customer_id=customer_id, date_from=None, date_to=None)
    return render(request, "staff/customer_detail.html", {
        "section": "customers", "customer": customer, "account": account, "recent": recent, "error": error,
        "invitations": customer["invitations"], "oidc": ctx.settings.oidc,
    }, status_code=status_code)


@router.post("/staff/customers/{customer_id}/invitations", dependencies=[CsrfChecked])
async def invite(request: Request, ctx: Ctx, customer_id: CustomerId, user: AdminPage) -> Response:
    """Invite an email: its first sign-in with the identity provider makes this customer's user."""
    email = texts(await request.form(), ("email",))["email"] or ""
    try:
        email = InvitationCreate(email=email).email
        await external_sign_in.invite(ctx, user, customer_id, email)
    except ValidationError:
        return await _detail(request, ctx, customer_id, status_code=422,
                             error="Enter the email address to invite, like name@pharmacy.example")
    except REFUSED as exc:
        return await _detail(request, ctx, customer_id, error=exc.message, status_code=exc.status)
    return redirect(request, f"/staff/customers/{customer_id}", notice=f"{email} is invited.")


@router.post("/staff/customers/{customer_id}/invitations/{invitation_id}/revoke", dependencies=[CsrfChecked])
async def revoke_invitation(request: Request, ctx: Ctx, customer_id: CustomerId, invitation_id: InvitationId,
                            user: AdminPage) -> Response:
    try:
        await external_sign_in.revoke(ctx, user, customer_id, invitation_id)
    except REFUSED as exc:
        return await _detail(request, ctx, customer_id, error=exc.message, status_code=exc.status)
    return redirect(request, f"/staff/customers/{customer_id}", notice="The invitation is revoked.")


@router.get("/staff/customers/{customer_id}/edit")
async def edit_customer(request: Request, ctx: Ctx, customer_id: CustomerId, user: AdminPage) -> Response:
    customer = await service.get_customer(ctx, customer_id)
    return _customer_form(request, {name: customer[name] for name in LABELS}, customer_id=customer_id)


@router.post("/staff/customers/{customer_id}", dependencies=[CsrfChecked])
async def update_customer(request: Request, ctx: Ctx, customer_id: CustomerId, user: AdminPage) -> Response:
    values = texts(await request.form(), tuple(LABELS))
    try:
        # every field is sent: a blank address, email or phone clears it
        customer = await service.update_customer(ctx, user, customer_id, _checked(values))
    except REFUSED as exc:
        return _customer_form(request, values, customer_id=customer_id, error=exc)
    return redirect(request, f"/staff/customers/{customer_id}", notice=f"Customer {customer['name']} saved.")


@router.post("/staff/customers/{customer_id}/delete", dependencies=[CsrfChecked])
async def delete_customer(request: Request, ctx: Ctx, customer_id: CustomerId, user: AdminPage) -> Response:
    try:
        await service.delete_customer(ctx, user, customer_id)
    except REFUSED as exc:
        return await _detail(request, ctx, customer_id, error=exc.message, status_code=exc.status)
    return redirect(request, "/staff/customers", notice=f"Customer #{customer_id} deleted.")
