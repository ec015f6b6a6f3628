"""Who is browsing: one dependency per audience, like auth.dependencies for the API, but a
page answers an anonymous visitor with a redirect to the sign-in page (and back again
after), and a user who must change their password with the password page.

Form posts declare `CsrfChecked`: the form's csrf_token must match the browser's cookie.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from stockline.auth import cookies
from stockline.auth.dependencies import requiring
from stockline.auth.service import authenticate
from stockline.errors import DomainError, Unauthorized
from stockline.kernel.context import context_of
from stockline.kernel.identity import CurrentUser

PASSWORD_PAGE = "/account/password"  # noqa: S105 - a URL, not a secret


class PageRedirect(Exception):
    """Answer with a 303 to `location` (handled in web.routes)."""

    def __init__(self, location: str, *, sign_out: bool = False) -> None:
        super().__init__(location)
        self.location = location
        self.sign_out = sign_out


def _login_redirect(request: Request, *, sign_out: bool = False) -> PageRedirect:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return PageRedirect(f"/login?next={quote(target, safe='')}", sign_out=sign_out)


async def optional_page_user(request: Request) -> CurrentUser | None:
    token = cookies.session_token(request)
    if token is None:
        return None
    ctx = context_of(request)
    try:
        return await authenticate(ctx, token)
    except Unauthorized:
        raise _login_redirect(request, sign_out=True) from None


async def page_user(request: Request,
                    user: Annotated[CurrentUser | None, Depends(optional_page_user)]) -> CurrentUser:
    if user is None:
        raise _login_redirect(request)
    if user.must_change_password and request.url.path != PASSWORD_PAGE:
        raise PageRedirect(PASSWORD_PAGE)
    request.state.user = user
    return user


class CsrfFailed(DomainError):
    status, code = 403, "csrf_failed"


async def csrf_checked(request: Request) -> None:
    form = await request.form()
    submitted = form.get(cookies.CSRF_FIELD)
    if not cookies.csrf_matches(request, submitted if isinstance(submitted, str) else None):
        raise CsrfFailed("This form has expired or did not come from Stockline; "
                         "reload the page and try again")


PageUser = Annotated[CurrentUser, Depends(page_user)]
OptionalPageUser = Annotated[CurrentUser | None, Depends(optional_page_user)]
CustomerPage = requiring(page_user, attrgetter("is_customer"),
                         "These pages are for customers' users; staff work under /staff")
StaffPage = requiring(page_user, attrgetter("is_staff"), "Only the distributor's staff may open this page")
AdminPage = requiring(page_user, attrgetter("is_admin"), "Only admins may open this page")
CsrfChecked = Depends(csrf_checked)
