"""Who is calling: one dependency per audience, and every route declares one.

- `OptionalUser`: public routes (anonymous callers get None).
- `AnyUser`: any signed-in user.
- `CustomerUser`: a customer's user (role customer, tied to a customer).
- `StaffUser`: staff or admin.
- `AdminUser`: admin only.

A browser's session cookie (see auth.cookies) is accepted where no Authorization header is
sent, so the pages' scripts can call the API; an unsafe method must then carry the CSRF
token in the X-CSRF-Token header.

A user who must change their password may only reach /api/me, /api/me/password and
/api/logout; on public routes such as the catalog they are refused too, rather than served
as anonymous or with their customer's prices.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from operator import attrgetter
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stockline.auth import cookies
from stockline.auth.service import authenticate
from stockline.errors import Forbidden, Unauthorized
from stockline.kernel.context import context_of
from stockline.kernel.identity import CurrentUser

_bearer = HTTPBearer(auto_error=False, description="The access_token from POST /api/login")
_PASSWORD_CHANGE_PATHS = ("/api/me", "/api/me/password", "/api/logout")


def _token_from(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The bearer token, else the session cookie's (whose unsafe requests must echo CSRF)."""
    if credentials is not None:
        return credentials.credentials
    if request.headers.get("authorization"):
        raise Unauthorized("The Authorization header must be 'Bearer <token>'", code="invalid_token",
                           headers={"WWW-Authenticate": "Bearer"})
    token = cookies.session_token(request)
    if token is not None and request.method not in cookies.SAFE_METHODS and not cookies.csrf_matches(
            request, request.headers.get(cookies.CSRF_HEADER)):
        raise Forbidden("A request signed in by cookie must carry the X-CSRF-Token header",
                        code="csrf_failed")
    return token


async def _user_from(request: Request,
                     credentials: HTTPAuthorizationCredentials | None) -> CurrentUser | None:
    token = _token_from(request, credentials)
    if token is None:
        return None
    user = await authenticate(context_of(request), token)
    if user.must_change_password and request.url.path not in _PASSWORD_CHANGE_PATHS:
        raise Forbidden("Change your password first (POST /api/me/password)",
                        code="password_change_required")
    return user


async def presented_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    return _token_from(request, credentials)


async def optional_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser | None:
    return await _user_from(request, credentials)


async def any_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    user = await _user_from(request, credentials)
    if user is None:
        raise Unauthorized("Sign in first (POST /api/login)", headers={"WWW-Authenticate": "Bearer"})
    return user


def requiring(signed_in: Callable[..., Awaitable[CurrentUser]], may: Callable[[CurrentUser], bool],
              refusal: str) -> Any:
    """A dependency type: the user `signed_in` gives, if they `may` (a CurrentUser role
    property); 403 with `refusal` otherwise. The API's and the pages' audiences share it."""

    async def guard(user: CurrentUser = Depends(signed_in)) -> CurrentUser:  # noqa: B008 - FastAPI's idiom
        if not may(user):
            raise Forbidden(refusal)
        return user

    return Annotated[CurrentUser, Depends(guard)]


OptionalUser = Annotated[CurrentUser | None, Depends(optional_user)]
AnyUser = Annotated[CurrentUser, Depends(any_user)]
PresentedToken = Annotated[str | None, Depends(presented_token)]  # the caller's own token
CustomerUser = requiring(any_user, attrgetter("is_customer"), "Only a customer's users may do this")
StaffUser = requiring(any_user, attrgetter("is_staff"), "Only staff and admins may do this")
AdminUser = requiring(any_user, attrgetter("is_admin"), "Only admins may do this")
