"""Back-office routes for customers and users (admin only; no SQL here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from stockline.auth.dependencies import AdminUser
from stockline.customers import external_sign_in, service
from stockline.customers.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerUpdate,
    InvitationCreate,
    InvitationRead,
    PasswordReset,
    RoleChange,
    UserCreate,
    UserPage,
    UserRead,
)
from stockline.kernel.context import Ctx
from stockline.kernel.identity import Role
from stockline.kernel.inputs import MaybeText
from stockline.pagination import Paging

router = APIRouter(prefix="/api/admin", tags=["admin"])

CustomerId = Annotated[int, Path(ge=1, le=2_147_483_647)]
UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]
InvitationId = Annotated[int, Path(ge=1, le=2_147_483_647)]
_NO_CUSTOMER = {404: {"description": "no such customer"}}
_NO_USER = {404: {"description": "no such user"}}
_IN_USE = {409: {"description": "it has orders or users (code customer_in_use)"}}
_LAST_ADMIN = {404: {"description": "no such user"},
               409: {"description": "the user is the last active admin (code last_admin)"}}


# --- customers -----------------------------------------------------------------------------

@router.get("/customers", summary="Customers by name; search matches name or email")
async def list_customers(ctx: Ctx, user: AdminUser, paging: Paging,
                         search: Annotated[MaybeText, Query(max_length=200)] = None) -> CustomerPage:
    return await service.list_customers(ctx, paging, search)


@router.post("/customers", status_code=201, summary="Add a customer")
async def create_customer(body: CustomerCreate, ctx: Ctx, user: AdminUser) -> CustomerDetail:
    return await service.create_customer(ctx, user, body.model_dump())


@router.get("/customers/{customer_id}", summary="One customer with its users", responses=_NO_CUSTOMER)
async def get_customer(customer_id: CustomerId, ctx: Ctx, user: AdminUser) -> CustomerDetail:
    return await service.get_customer(ctx, customer_id)


@router.patch("/customers/{customer_id}", responses=_NO_CUSTOMER,
              summary="Change the fields sent (null clears address, email, phone)")
async def update_customer(customer_id: CustomerId, body: CustomerUpdate, ctx: Ctx,
                          user: AdminUser) -> CustomerDetail:
    return await service.update_customer(ctx, user, customer_id,
                                         body.model_dump(include=body.model_fields_set))


@router.delete("/customers/{customer_id}", status_code=204,
               summary="Delete a customer that has no orders and no users (its own pricing rules go too)",
               responses=_NO_CUSTOMER | _IN_USE)
async def delete_customer(customer_id: CustomerId, ctx: Ctx, user: AdminUser) -> Response:
    await service.delete_customer(ctx, user, customer_id)
    return Response(status_code=204)


# --- invitations (sign-in with an identity provider) ---------------------------------------

@router.get("/customers/{customer_id}/invitations", summary="The customer's open invitations",
            responses=_NO_CUSTOMER)
async def list_invitations(customer_id: CustomerId, ctx: Ctx, user: AdminUser) -> list[InvitationRead]:
    return await external_sign_in.invitations(ctx, customer_id)


@router.post("/customers/{customer_id}/invitations", status_code=201,
             summary="Invite an email: its first sign-in with the identity provider (verified email) "
                     "makes this customer's user",
             responses=_NO_CUSTOMER | {409: {"description": "a user already signs in as that email "
                                                            "(email_in_use), or it is invited already "
                                                            "(invitation_exists)"}})
async def create_invitation(customer_id: CustomerId, body: InvitationCreate, ctx: Ctx,
                            user: AdminUser) -> InvitationRead:
    return await external_sign_in.invite(ctx, user, customer_id, body.email)


@router.delete("/customers/{customer_id}/invitations/{invitation_id}", status_code=204,
               summary="Revoke an open invitation", responses={404: {"description": "no such invitation"}})
async def revoke_invitation(customer_id: CustomerId, invitation_id: InvitationId, ctx: Ctx,
                            user: AdminUser) -> Response:
    await external_sign_in.revoke(ctx, user, customer_id, invitation_id)
    return Response(status_code=204)


# --- users ---------------------------------------------------------------------------------

@router.get("/users", summary="Users by username; filter by role, customer, active; search the username")
async def list_users(ctx: Ctx, user: AdminUser, paging: Paging,
                     role: Annotated[Role | None, Query()] = None,
                     customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
                     active: Annotated[bool | None, Query()] = None,
                     search: Annotated[MaybeText, Query(max_length=64)] = None) -> UserPage:
    return await service.list_users(ctx, paging, role=role, customer_id=customer_id,
                                    active=active, search=search)


@router.post("/users", status_code=201, summary="Add a user: a customer's (role customer) or staff/admin",
             responses={409: {"description": "the username is taken (code username_taken)"}})
async def create_user(body: UserCreate, ctx: Ctx, user: AdminUser) -> UserRead:
    return await service.create_user(ctx, user, username=body.username,
                                     password=body.password, role=body.role, customer_id=body.customer_id,
                                     must_change_password=body.must_change_password)


@router.get("/users/{user_id}", summary="One user", responses=_NO_USER)
async def get_user(user_id: UserId, ctx: Ctx, user: AdminUser) -> UserRead:
    return await service.get_user(ctx, user_id)


@router.post("/users/{user_id}/password",
             summary="Set a new password: they must change it at next sign-in; their tokens stop working",
             responses=_NO_USER)
async def reset_password(user_id: UserId, body: PasswordReset, ctx: Ctx, user: AdminUser) -> UserRead:
    return await service.reset_password(ctx, user, user_id,
                                        body.new_password)


@router.post("/users/{user_id}/deactivate", summary="Deactivate: no sign-in, and their tokens stop working",
             responses=_LAST_ADMIN)
async def deactivate_user(user_id: UserId, ctx: Ctx, user: AdminUser) -> UserRead:
    return await service.set_active(ctx, user, user_id, False)


@router.post("/users/{user_id}/reactivate", summary="Reactivate (they sign in again)", responses=_NO_USER)
async def reactivate_user(user_id: UserId, ctx: Ctx, user: AdminUser) -> UserRead:
    return await service.set_active(ctx, user, user_id, True)


@router.put("/users/{user_id}/role",
            summary="Change the role (customer needs customer_id; staff and admin none); tokens stop working",
            responses=_LAST_ADMIN)
async def change_role(user_id: UserId, body: RoleChange, ctx: Ctx, user: AdminUser) -> UserRead:
    return await service.change_role(ctx, user, user_id, role=body.role,
                                     customer_id=body.customer_id)
