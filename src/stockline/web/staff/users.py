"""User pages (admin only, as /api/admin/users): the list with filters, adding a user,
one user with deactivate / reactivate, a role change and a password reset. Every change is
the service function the API route calls (customers.service), so its rules hold here too: a
username is unique ignoring case, a customer user needs a customer and staff none, the last
active admin stays, a reset or a role change ends their sessions."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from stockline.auth import cookies
from stockline.customers import service
from stockline.customers.schemas import RoleChange, UserCreate
from stockline.errors import DomainError, ValidationFailed
from stockline.kernel.context import Context, Ctx
from stockline.kernel.identity import CurrentUser, Role
from stockline.web.forms import REFUSED, field_errors, paging, texts, validated
from stockline.web.render import form_text, redirect, render
from stockline.web.session import AdminPage, CsrfChecked

router = APIRouter(include_in_schema=False)
UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]
ROLES = get_args(Role)

LABELS = {"username": "Username", "password": "Initial password", "role": "Role",
          "customer_id": "Customer number", "must_change_password": "Must change password"}
FILTER_LABELS = {"role": "Role", "customer_id": "Customer number", "active": "Active", "search": "Username"}


class UserFilters(BaseModel):
    """The filters of GET /api/admin/users."""
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    active: bool | None = None
    search: str | None = Field(default=None, max_length=64)


@router.get("/staff/users")
async def user_list(request: Request, ctx: Ctx, user: AdminPage) -> Response:
    raw = texts(request.query_params, tuple(FILTER_LABELS))
    context: dict[str, Any] = {"section": "users", "filters": raw, "roles": ROLES,
                               "filtered": any(raw.values()), "result": None, "error": None}
    status_code = 200
    try:
        given = {name: value for name, value in raw.items() if value is not None}
        filters = validated(UserFilters, given, FILTER_LABELS)
        context["result"] = await service.list_users(
            ctx, paging(request.query_params.get("page")), role=filters.role,
            customer_id=filters.customer_id, active=filters.active, search=filters.search)
    except DomainError as exc:
        context["error"], status_code = exc.message, exc.status
    return render(request, "staff/users.html", context, status_code=status_code)


def _user_form(request: Request, values: dict[str, Any], error: DomainError | None = None) -> Response:
    values = {name: value for name, value in values.items() if name != "password"}  # never sent back
    return render(request, "staff/user_form.html", {
        "section": "users", "values": values, "roles": ROLES,
        "error": error.message if error else None, "problems": field_errors(error) if error else {},
    }, status_code=error.status if error else 200)


@router.get("/staff/users/new")
async def new_user(request: Request, user: AdminPage) -> Response:
    customer_id = texts(request.query_params, ("customer_id",))["customer_id"]
    return _user_form(request, {"role": "customer", "customer_id": customer_id, "must_change_password": True})


@router.post("/staff/users", dependencies=[CsrfChecked])
async def create_user(request: Request, ctx: Ctx, user: AdminPage) -> Response:
    form = await request.form()
    values: dict[str, Any] = texts(form, ("username", "role", "customer_id"))
    values["must_change_password"] = form_text(form, "must_change_password") == "yes"
    password = form.get("password")
    try:
        given = {name: value for name, value in values.items() if value is not None}
        body = validated(UserCreate, given | {"password": password if isinstance(password, str) else ""},
                         LABELS)
        created = await service.create_user(
            ctx, user, username=body.username, password=body.password, role=body.role,
            customer_id=body.customer_id, must_change_password=body.must_change_password)
    except DomainError as exc:
        return _user_form(request, values, exc)
    return redirect(request, f"/staff/users/{created['user_id']}",
                    notice=f"User {created['username']} added as {created['role']}.")


async def _detail(request: Request, ctx: Context, user_id: int, *, error: str | None = None,
                  status_code: int = 200, role_values: dict[str, Any] | None = None,
                  problems: dict[str, str] | None = None) -> Response:
    shown = await service.get_user(ctx, user_id)
    return render(request, "staff/user_detail.html", {
        "section": "users", "shown": shown, "error": error, "roles": ROLES, "problems": problems or {},
        "role_values": role_values or {"role": shown["role"], "customer_id": shown["customer_id"]},
    }, status_code=status_code)


@router.get("/staff/users/{user_id}")
async def user_detail(request: Request, ctx: Ctx, user_id: UserId, user: AdminPage) -> Response:
    return await _detail(request, ctx, user_id)


async def _set_active(request: Request, ctx: Context, actor: CurrentUser, user_id: int,
                      active: bool) -> Response:
    try:
        changed = await service.set_active(ctx, actor, user_id, active)
    except REFUSED as exc:
        return await _detail(request, ctx, user_id, error=exc.message, status_code=exc.status)
    notice = (f"{changed['username']} can sign in again." if active
              else f"{changed['username']} is deactivated and signed out everywhere.")
    return redirect(request, f"/staff/users/{user_id}", notice=notice)


@router.post("/staff/users/{user_id}/deactivate", dependencies=[CsrfChecked])
async def deactivate_user(request: Request, ctx: Ctx, user_id: UserId, user: AdminPage) -> Response:
    return await _set_active(request, ctx, user, user_id, False)


@router.post("/staff/users/{user_id}/reactivate", dependencies=[CsrfChecked])
async def reactivate_user(request: Request, ctx: Ctx, user_id: UserId, user: AdminPage) -> Response:
    return await _set_active(request, ctx, user, user_id, True)


@router.post("/staff/users/{user_id}/password", dependencies=[CsrfChecked])
async def reset_password(request: Request, ctx: Ctx, user_id: UserId, user: AdminPage) -> Response:
    form = await request.form()
    new, repeat = form.get("new_password"), form.get("repeat_password")
    try:
        if not isinstance(new, str) or not new:
            raise ValidationFailed("Enter the new password")
        if new != repeat:
            raise ValidationFailed("The two passwords differ")
        changed = await service.reset_password(ctx, user, user_id, new)
    except REFUSED as exc:
        return await _detail(request, ctx, user_id, error=exc.message, status_code=exc.status)
    return redirect(request, f"/staff/users/{user_id}",
                    notice=f"{changed['username']}'s password is reset; they must choose their own at next "
                           "sign-in.")


@router.post("/staff/users/{user_id}/role", dependencies=[CsrfChecked])
async def change_role(request: Request, ctx: Ctx, user_id: UserId, user: AdminPage) -> Response:
    values = texts(await request.form(), ("role", "customer_id"))
    try:
        body = validated(RoleChange, {name: value for name, value in values.items() if value is not None},
                         LABELS)
        changed = await service.change_role(ctx, user, user_id,
                                            role=body.role, customer_id=body.customer_id)
    except REFUSED as exc:
        return await _detail(request, ctx, user_id, error=exc.message, status_code=exc.status,
                             role_values=values, problems=field_errors(exc))
    whose = f" of {changed['customer_name']}" if changed["customer_id"] else ""
    if user_id == user.user_id:  # the change ended this session too
        response = redirect(request, "/login", notice=f"You are now {changed['role']}; sign in again.")
        cookies.clear_session(response)
        return response
    return redirect(request, f"/staff/users/{user_id}",
                    notice=f"{changed['username']} is now {changed['role']}{whose}; their sessions ended.")
