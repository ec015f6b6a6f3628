"""The sign-in page's "Sign in with <provider>": the Authorization Code flow with PKCE, state
and nonce, done by the server (auth.oidc speaks to the provider, customers.external_sign_in
decides the user).

- GET /login/oidc makes a state, a nonce and a PKCE verifier, keeps them (and the local page
  to go to afterwards) in a short-lived cookie signed with the app's key, HttpOnly, bound to
  this browser (SameSite=Lax: the provider's redirect back is a top-level GET, which carries
  it), and sends the browser to the provider.
- GET /login/oidc/callback takes the flow cookie (one use: it is deleted whatever happens),
  checks the state the provider sent back against it, redeems the code with the verifier,
  validates the ID token with the nonce, maps the user, and signs the browser in exactly as
  the password form does (session cookie, CSRF token rotated). Then home, or the local page
  the sign-in started from, or the password page if the user must still replace a temporary
  password an admin gave them (that password still works, so it must go).
- The redirect URI is PUBLIC_URL + /login/oidc/callback (else this request's own origin);
  register it with the provider.

Every refusal renders the sign-in page with a message and a 4xx (503 if the provider is
down), never a 500.
"""

from __future__ import annotations

import time

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from stockline.auth import cookies, oidc
from stockline.customers import external_sign_in
from stockline.errors import DomainError
from stockline.kernel.context import Ctx
from stockline.kernel.inputs import same_secret
from stockline.web.render import local_path, redirect, render
from stockline.web.session import PASSWORD_PAGE, OptionalPageUser
from stockline.web.sign_in import home_of

router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "stockline_oidc"
FLOW_SECONDS = 600
CALLBACK_PATH = "/login/oidc/callback"
_AUDIENCE = "stockline:oidc-flow"


def callback_url(request: Request) -> str:
    settings = request.app.state.context.settings
    origin = settings.public_url or str(request.base_url).rstrip("/")
    return origin + CALLBACK_PATH


def _refused(request: Request, message: str, status: int = 400) -> Response:
    page = render(request, "login.html", {"next": "", "username": "", "error": message}, status_code=status)
    page.delete_cookie(cookies.cookie_name(request, FLOW_COOKIE), path="/",
                       secure=cookies.secure_cookies(request))
    return page


@router.get("/login/oidc")
async def start(request: Request, ctx: Ctx, user: OptionalPageUser, next: str | None = None) -> Response:
    target = local_path(next, "")
    if user is not None:
        return redirect(request, target or home_of(user.role))
    if ctx.settings.oidc is None:
        return _refused(request, oidc.not_configured().message)
    try:
        flow = await oidc.authorization_request(ctx.settings.oidc, callback_url(request))
    except DomainError as exc:
        return _refused(request, exc.message, exc.status)
    kept = jwt.encode({"state": flow.state, "nonce": flow.nonce, "verifier": flow.code_verifier,
                       "next": target, "aud": _AUDIENCE, "exp": int(time.time()) + FLOW_SECONDS},
                      ctx.secret_key, algorithm="HS256")
    response = RedirectResponse(flow.url, status_code=303)
    response.set_cookie(cookies.cookie_name(request, FLOW_COOKIE), kept, max_age=FLOW_SECONDS, httponly=True,
                        samesite="lax", secure=cookies.secure_cookies(request), path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(CALLBACK_PATH)
async def callback(request: Request, ctx: Ctx, code: str | None = None, state: str | None = None,
                   error: str | None = None) -> Response:
    settings = ctx.settings.oidc
    if settings is None:
        return _refused(request, oidc.not_configured().message)
    kept_text = request.cookies.get(cookies.cookie_name(request, FLOW_COOKIE))
    try:
        kept = jwt.decode(kept_text or "", ctx.secret_key, algorithms=["HS256"], audience=_AUDIENCE,
                          options={"require": ["exp", "aud"]})
    except jwt.InvalidTokenError:
        return _refused(request, "This sign-in was not started from this browser, or took too long: "
                                 "start it again")
    if error:
        return _refused(request, f"{settings.provider_name} did not sign you in ({error[:100]})")
    if not state or not same_secret(state, str(kept.get("state", ""))):
        return _refused(request, "The sign-in could not be verified (its state does not match the one "
                                 "this browser started): start it again")
    if not code:
        return _refused(request, f"{settings.provider_name} sent no authorization code: start again")
    try:
        identity = await oidc.redeem(settings, code=code, code_verifier=str(kept["verifier"]),
                                     redirect_uri=callback_url(request), nonce=str(kept["nonce"]))
        signed_in = await external_sign_in.sign_in(ctx, identity,
                                                   ttl_seconds=ctx.settings.session_ttl_seconds)
    except DomainError as exc:
        return _refused(request, exc.message, exc.status if 400 <= exc.status < 600 else 400)
    cookies.rotate_csrf(request)  # a token planted before sign-in is not valid after it
    target = local_path(str(kept.get("next") or ""), "")
    location = PASSWORD_PAGE if signed_in.must_change_password else target or home_of(signed_in.role)
    response = redirect(request, location)
    cookies.set_session(request, response, signed_in.access_token, ctx.settings.session_ttl_seconds)
    response.delete_cookie(cookies.cookie_name(request, FLOW_COOKIE), path="/",
                           secure=cookies.secure_cookies(request))
    return response
