"""POST /api/oauth/{provider}/exchange: a browser app that did the Authorization Code + PKCE
flow itself (PharmAssist's frontend: `/api/oauth/google/exchange`) trades the code and its
verifier for a Stockline token, the same answer POST /api/login gives.

Public: no user dependency, so a stale Bearer the app still sends is ignored. The server
sends the token request itself, with the client secret and OIDC_REDIRECT_URI (the app's
callback, registered with the provider). Any code that cannot be redeemed is 400, whether
sign-in with a provider is configured or not; a malformed body is 422.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from stockline.auth import oidc, throttle
from stockline.auth.schemas import LoginResponse
from stockline.auth.throttle import ClientAddress
from stockline.config import OidcSettings
from stockline.customers import external_sign_in
from stockline.kernel.context import Context, Ctx

router = APIRouter(prefix="/api/oauth", tags=["auth"])


class CodeExchange(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(min_length=1, max_length=4096)
    code_verifier: str = Field(min_length=1, max_length=4096)
    nonce: str | None = Field(default=None, max_length=512)  # if the app sent one (PharmAssist's does not)


def provider_slug(settings: OidcSettings) -> str:
    """The name of the configured provider in the exchange path: OIDC_PROVIDER_NAME made a path
    segment (`Microsoft Entra` -> `microsoft-entra`); `google` and `oidc` are accepted too."""
    return re.sub(r"[^a-z0-9]+", "-", settings.provider_name.lower()).strip("-") or "oidc"


_RESPONSES = {400: {"description": "the code cannot be redeemed, or sign-in with an identity provider is "
                                   "not configured"},
              403: {"description": "no verified email, or nobody by that email may sign in (not invited, "
                                   "deactivated)"},
              429: {"description": "too many codes that could not be redeemed from this address, or from "
                                   "everyone (Retry-After)"},
              503: {"description": "the identity provider is not answering (Retry-After)"}}


@router.post("/google/exchange", summary="Trade a Google authorization code (PKCE) for a token",
             responses=_RESPONSES)
async def exchange_google(body: CodeExchange, ctx: Ctx, client: ClientAddress) -> LoginResponse:
    return await _exchange(ctx, "google", body, client)


@router.post("/{provider}/exchange", summary="Trade an authorization code (PKCE) for a token",
             responses=_RESPONSES)
async def exchange(provider: Annotated[str, Path(max_length=64)], body: CodeExchange,
                   ctx: Ctx, client: ClientAddress) -> LoginResponse:
    return await _exchange(ctx, provider, body, client)


async def _exchange(ctx: Context, provider: str, body: CodeExchange, client: str) -> LoginResponse:
    settings = ctx.settings.oidc
    if settings is None:
        raise oidc.not_configured()
    if provider.lower() not in {"google", "oidc", provider_slug(settings)}:
        raise oidc.OidcRefused(f"Unknown identity provider {provider!r}: this server signs in with "
                               f"{settings.provider_name} (/api/oauth/{provider_slug(settings)}/exchange)",
                               code="oidc_unknown_provider")
    if settings.redirect_uri is None:
        raise oidc.OidcRefused("OIDC_REDIRECT_URI is not set, so this server cannot redeem codes a "
                               "browser app obtained", code="oidc_not_configured")
    attempt = throttle.Attempt.code_exchange(client)
    await throttle.begin(ctx, attempt)  # each code costs a request to the provider
    try:
        identity = await oidc.redeem(settings, code=body.code, code_verifier=body.code_verifier,
                                     redirect_uri=settings.redirect_uri, nonce=body.nonce)
    except oidc.OidcRefused:
        await throttle.failed(ctx, attempt)
        raise
    return await external_sign_in.sign_in(ctx, identity, ttl_seconds=ctx.settings.token_ttl_seconds)
