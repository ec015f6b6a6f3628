"""The browser's session: an HttpOnly cookie holding the same signed token the API issues,
and a CSRF token (double-submit) that every form and every unsafe fetch must echo.

The session cookie is SameSite=Lax, so a foreign site's form post arrives without it only
for top-level navigations; the CSRF token closes that gap. The CSRF cookie is random,
HttpOnly and rotated at sign-in; pages carry its value in a hidden field and a <meta> tag.

Over https (the request's own scheme, which a trusted proxy may report: TRUSTED_PROXIES), or
whenever PUBLIC_URL is https, every cookie is Secure and named with the `__Host-` prefix
(`__Host-stockline_session`, `__Host-stockline_csrf`): the browser then takes it only from
this exact host over https with Path=/ and no Domain, so neither plain http nor a sibling
subdomain can plant or overwrite one. Over plain http (development) the names are bare and
the cookies not Secure. `secure_cookies` decides this for every reader and writer, the
web's flash cookie included (`cookie_name`).
"""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from stockline.kernel.context import context_of
from stockline.kernel.inputs import same_secret

SESSION_COOKIE = "stockline_session"
CSRF_COOKIE = "stockline_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOST_PREFIX = "__Host-"


def secure_cookies(request: Request) -> bool:
    """Whether this request's cookies are Secure and `__Host-` named: it arrived over https,
    or PUBLIC_URL is https."""
    return request.scope.get("scheme") == "https" or context_of(request).settings.public_https


def cookie_name(request: Request, name: str) -> str:
    """The name the cookie `name` goes by for this request (see `secure_cookies`)."""
    return HOST_PREFIX + name if secure_cookies(request) else name


def session_token(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request, SESSION_COOKIE)) or None


def set_session(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(cookie_name(request, SESSION_COOKIE), token, max_age=max_age, httponly=True,
                        samesite="lax", secure=secure_cookies(request), path="/")


def clear_session(response: Response) -> None:
    """Sign the browser out: both the plain and the `__Host-` session cookie are deleted (a
    browser ignores the deletion it could not have been sent the cookie for)."""
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(HOST_PREFIX + SESSION_COOKIE, path="/", secure=True)


def csrf_token(request: Request) -> str:
    """This browser's CSRF token; a new one is minted (and set by `keep_csrf`) if it has none."""
    token = request.cookies.get(cookie_name(request, CSRF_COOKIE)) or getattr(request.state, "new_csrf", None)
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
        response.set_cookie(cookie_name(request, CSRF_COOKIE), token, httponly=True, samesite="lax",
                            secure=secure_cookies(request), path="/")


def csrf_matches(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(cookie_name(request, CSRF_COOKIE))
    return bool(expected and submitted) and same_secret(expected, submitted)
