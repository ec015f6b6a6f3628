"""The browser's session: an HttpOnly cookie holding the same signed token the API issues,
and a CSRF token (double-submit) that every form and every unsafe fetch must echo.

The session cookie is SameSite=Lax, so a foreign site's form post arrives without it only
for top-level navigations; the CSRF token closes that gap. The CSRF cookie is random,
HttpOnly and rotated at sign-in; pages carry its value in a hidden field and a <meta> tag.
"""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from stockline.kernel.inputs import same_secret

SESSION_COOKIE = "stockline_session"
CSRF_COOKIE = "stockline_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def set_session(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_token(request: Request) -> str:
    """This browser's CSRF token; a new one is minted (and set by `keep_csrf`) if it has none."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def rotate_csrf(request: Request) -> str:
    request.state.new_csrf = secrets.token_urlsafe(32)
    return request.state.new_csrf


def keep_csrf(request: Request, response: Response) -> None:
    """Set the CSRF cookie on `response` when this request minted or rotated the token."""
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                            path="/")


def csrf_matches(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    return bool(expected and submitted) and same_secret(expected, submitted)
