"""Sign-in, sign-out, the password page and the front door (which sends each role home)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockline.auth import cookies
from stockline.auth import service as auth_service
from stockline.auth.throttle import ClientAddress
from stockline.errors import DomainError
from stockline.kernel.context import Ctx
from stockline.kernel.identity import STAFF_ROLES, Role
from stockline.web.render import form_text, local_path, redirect, render
from stockline.web.session import PASSWORD_PAGE, CsrfChecked, OptionalPageUser, PageUser

router = APIRouter(include_in_schema=False)


def home_of(role: Role) -> str:
    return "/staff" if role in STAFF_ROLES else "/catalog"


@router.get("/")
async def front_door(user: OptionalPageUser) -> Response:
    return Response(status_code=303, headers={"Location": "/login" if user is None else home_of(user.role)})


@router.get("/login")
async def login_page(request: Request, user: OptionalPageUser, next: str | None = None) -> Response:
    if user is not None:
        return redirect(request, local_path(next, home_of(user.role)))
    return render(request, "login.html", {"next": local_path(next, ""), "username": ""})


@router.post("/login", dependencies=[CsrfChecked])
async def sign_in(request: Request, ctx: Ctx, client: ClientAddress) -> Response:
    form = await request.form()
    username, password = form_text(form, "username"), form.get("password")
    target = local_path(form_text(form, "next"), "")
    try:
        if not username or not isinstance(password, str) or not password:
            raise DomainError("Enter your username and password")
        signed_in = await auth_service.login(
            ctx, username=username, password=password, client=client,
            ttl_seconds=ctx.settings.session_ttl_seconds)
    except DomainError as exc:
        status = exc.status if exc.status in (401, 429) else 400
        page = render(request, "login.html", {"next": target, "username": username, "error": exc.message},
                      status_code=status)
        if "Retry-After" in (exc.headers or {}):
            page.headers["Retry-After"] = exc.headers["Retry-After"]
        return page
    cookies.rotate_csrf(request)  # a token planted before sign-in is not valid after it
    location = PASSWORD_PAGE if signed_in.must_change_password else target or home_of(signed_in.role)
    response = redirect(request, location)
    cookies.set_session(request, response, signed_in.access_token, ctx.settings.session_ttl_seconds)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
async def sign_out(request: Request, ctx: Ctx) -> Response:
    token = cookies.session_token(request)
    if token is not None:
        await auth_service.sign_out(ctx, token)
    response = redirect(request, "/login", notice="You are signed out.")
    cookies.clear_session(response)
    return response


@router.get(PASSWORD_PAGE)
async def password_page(request: Request, user: PageUser) -> Response:
    return render(request, "password.html", {"forced": user.must_change_password})


@router.post(PASSWORD_PAGE, dependencies=[CsrfChecked])
async def change_password(request: Request, ctx: Ctx, client: ClientAddress, user: PageUser) -> Response:
    form = await request.form()
    old, new, repeat = (form.get(name) for name in ("old_password", "new_password", "repeat_password"))
    if not all(isinstance(value, str) for value in (old, new, repeat)):
        return render(request, "password.html", {"forced": user.must_change_password,
                                                 "error": "Fill in all three fields"}, status_code=422)
    try:
        if new != repeat:
            raise DomainError("The two new passwords differ")
        await auth_service.change_password(ctx, user, old, new, client=client)
        # the change revoked every token of this user, this browser's too: sign in afresh
        signed_in = await auth_service.login(
            ctx, username=user.username, password=new, client=client,
            ttl_seconds=ctx.settings.session_ttl_seconds)
    except DomainError as exc:
        return render(request, "password.html", {"forced": user.must_change_password, "error": exc.message},
                      status_code=exc.status if exc.status != 401 else 400)
    response = redirect(request, home_of(user.role), notice="Your password is changed.")
    cookies.set_session(request, response, signed_in.access_token, ctx.settings.session_ttl_seconds)
    return response
