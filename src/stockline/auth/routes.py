"""HTTP routes of authentication (no SQL here: auth.service does the work)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from stockline.auth import service
from stockline.auth.dependencies import AnyUser, PresentedToken
from stockline.auth.schemas import LoginRequest, LoginResponse, MeResponse, PasswordChange
from stockline.auth.throttle import ClientAddress
from stockline.kernel.context import Ctx

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/login", summary="Sign in; returns a bearer token",
             responses={401: {"description": "wrong username or password"},
                        429: {"description": "too many failed attempts (Retry-After says how long)"},
                        503: {"description": "too many password checks at once (Retry-After)"}})
async def login(body: LoginRequest, ctx: Ctx, client: ClientAddress) -> LoginResponse:
    return await service.login(ctx, username=body.username, password=body.password, client=client,
                               ttl_seconds=ctx.settings.token_ttl_seconds)


@router.post("/logout", status_code=204, summary="Sign out: revoke the token this request carries")
async def logout(user: AnyUser, token: PresentedToken, ctx: Ctx) -> Response:
    if token is not None:
        await service.sign_out(ctx, token)
    return Response(status_code=204)


@router.get("/me", summary="The signed-in user")
async def me(user: AnyUser) -> MeResponse:
    return MeResponse(user_id=user.user_id, username=user.username, role=user.role,
                      customer_id=user.customer_id, must_change_password=user.must_change_password)


@router.post("/me/password", status_code=204, summary="Change your password (signs out other tokens)",
             responses={403: {"description": "the old password is wrong"},
                        409: {"description": "changed or reset meanwhile"},
                        429: {"description": "too many wrong old passwords (Retry-After)"}})
async def change_password(body: PasswordChange, user: AnyUser, ctx: Ctx, client: ClientAddress) -> Response:
    await service.change_password(ctx, user, body.old_password, body.new_password, client=client)
    return Response(status_code=204)
