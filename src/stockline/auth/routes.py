"""HTTP routes of authentication (no SQL here: auth.service does the work)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from stockline.auth import service
from stockline.auth.dependencies import AnyUser
from stockline.auth.schemas import LoginRequest, LoginResponse, MeResponse, PasswordChange
from stockline.kernel.context import Ctx

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/login", summary="Sign in; returns a bearer token",
             responses={401: {"description": "wrong username or password"},
                        429: {"description": "too many failures for this username"}})
async def login(body: LoginRequest, ctx: Ctx) -> LoginResponse:
    return await service.login(ctx, username=body.username, password=body.password,
                               ttl_seconds=ctx.settings.token_ttl_seconds)


@router.get("/me", summary="The signed-in user")
async def me(user: AnyUser) -> MeResponse:
    return MeResponse(user_id=user.user_id, username=user.username, role=user.role,
                      customer_id=user.customer_id, must_change_password=user.must_change_password)


@router.post("/me/password", status_code=204, summary="Change your password (signs out other tokens)")
async def change_password(body: PasswordChange, user: AnyUser, ctx: Ctx) -> Response:
    await service.change_password(ctx, user, body.old_password, body.new_password)
    return Response(status_code=204)
