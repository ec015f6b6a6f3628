"""Sign-in with an OpenID Connect provider: the protocol, with Authlib, and nothing about
Stockline's users (customers.external_sign_in maps an identity to one).

- The provider is found by discovery (`<OIDC_ISSUER>/.well-known/openid-configuration`),
  fetched once per worker and kept (Authlib's client caches it, and the JWKS, refetched when
  an ID token names a key it does not hold). The document must name the configured issuer.
- `authorization_request` starts the Authorization Code flow with PKCE (S256), a state and
  a nonce; the caller keeps all three, bound to the browser (web.oidc_sign_in).
- `redeem` sends the code to the token endpoint with the client secret, the redirect URI and
  the PKCE verifier, then validates the ID token with Authlib: its signature against the
  provider's keys, `iss`, `aud` (and `azp`), `exp`, `iat` and, when the flow had one, the
  nonce. It answers the identity: the subject, the email and whether the provider verified it.

Errors: not configured, or a code the provider will not redeem, or an ID token that does
not check out: 400 (`oidc_not_configured`, `oidc_code_rejected`, `oidc_invalid_id_token`);
the provider unreachable or its discovery document wrong: 503 `oidc_provider_unavailable`.
Never a 500: what the provider sends is input.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc.errors import JoseError

with warnings.catch_warnings():
    # Authlib 1.9.10 prefers the httpx2 fork and warns, once, when it runs on httpx (which this
    # app and its tests use); the httpx client still works and is Authlib's documented one
    warnings.filterwarnings("ignore", "The httpx module is deprecated", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App

from stockline.config import OidcSettings
from stockline.errors import DomainError, ServiceUnavailable

log = logging.getLogger(__name__)

SCOPE = "openid email profile"
HTTP_TIMEOUT_SECONDS = 10.0
# a verifier is 43-128 of these (RFC 7636 4.1); the SPA's is 64 letters and digits
_VERIFIER_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class OidcRefused(DomainError):
    status, code = 400, "oidc_code_rejected"


def not_configured() -> OidcRefused:
    return OidcRefused("Sign-in with an identity provider is not configured on this server "
                       "(OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET)", code="oidc_not_configured")


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


_clients: dict[tuple[str, str, str], StarletteOAuth2App] = {}


def _client(settings: OidcSettings) -> StarletteOAuth2App:
    """The Authlib client of this provider and client id, made once per worker (it holds the
    discovery document and the provider's keys once fetched)."""
    key = (settings.issuer, settings.client_id, settings.client_secret)
    client = _clients.get(key)
    if client is None:
        registry = OAuth()
        client = registry.register(
            "oidc", client_id=settings.client_id, client_secret=settings.client_secret,
            server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256",
                           "timeout": HTTP_TIMEOUT_SECONDS})
        _clients[key] = client
    return client


def _unavailable(settings: OidcSettings, why: str) -> ServiceUnavailable:
    log.warning("identity provider %s: %s", settings.issuer, why)
    return ServiceUnavailable(f"The identity provider ({settings.provider_name}) is not answering as "
                              "expected; try again later", code="oidc_provider_unavailable",
                              headers={"Retry-After": "30"})


async def _metadata(settings: OidcSettings) -> dict[str, Any]:
    client = _client(settings)
    try:
        metadata = await client.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:  # unreachable, an error status, not JSON
        client.server_metadata.clear()
        raise _unavailable(settings, f"discovery failed: {type(exc).__name__}: {exc}") from None
    missing = [name for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
               if not isinstance(metadata.get(name), str)]
    if metadata.get("issuer") != settings.issuer or missing:
        client.server_metadata.clear()  # looked up afresh next time
        raise _unavailable(settings, f"discovery document names issuer {metadata.get('issuer')!r} "
                                     f"(configured: {settings.issuer!r}); missing: {missing}")
    return metadata


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


async def authorization_request(settings: OidcSettings, redirect_uri: str) -> AuthorizationRequest:
    """Where to send the browser, with a fresh state, nonce and PKCE verifier."""
    await _metadata(settings)
    made = await _client(settings).create_authorization_url(redirect_uri)
    return AuthorizationRequest(url=made["url"], state=made["state"], nonce=made["nonce"],
                                code_verifier=made["code_verifier"])


def _check_verifier(code_verifier: str) -> None:
    if not 43 <= len(code_verifier) <= 128 or not set(code_verifier) <= _VERIFIER_CHARACTERS:
        raise OidcRefused("code_verifier must be 43 to 128 letters, digits or -._~ (RFC 7636)",
                          code="oidc_code_rejected")


async def redeem(settings: OidcSettings, *, code: str, code_verifier: str, redirect_uri: str,
                 nonce: str | None) -> Identity:
    """The identity an authorization code stands for. `nonce` is the one the flow sent (a
    browser app that did the flow itself may send none: its code is bound to its verifier)."""
    _check_verifier(code_verifier)
    await _metadata(settings)
    client = _client(settings)
    try:
        token = await client.fetch_access_token(redirect_uri=redirect_uri, code=code,
                                                code_verifier=code_verifier)
    except OAuthError as exc:  # the provider's own refusal: invalid_grant and the like
        raise OidcRefused(f"The identity provider did not accept the code ({exc.error})",
                          details={"provider_error": exc.error}) from None
    except httpx.HTTPError as exc:
        raise _unavailable(settings, f"token request failed: {type(exc).__name__}: {exc}") from None
    except ValueError:  # an answer that is not JSON
        raise OidcRefused("The identity provider's answer to the code was not understood") from None
    if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
        raise OidcRefused("The identity provider answered without an ID token (is the scope openid?)",
                          code="oidc_invalid_id_token")
    try:
        # Authlib's default checks `iss` only and `aud` only through `azp`: name both, and `exp`
        claims = await client.parse_id_token(token, nonce=nonce, leeway=60, claims_options={
            "iss": {"essential": True, "values": [settings.issuer]},
            "aud": {"essential": True, "values": [settings.client_id]},
            "exp": {"essential": True}})
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise OidcRefused(f"The ID token did not check out ({type(exc).__name__}: {exc})",
                          code="oidc_invalid_id_token") from None
    except httpx.HTTPError as exc:
        raise _unavailable(settings, f"fetching the keys failed: {type(exc).__name__}: {exc}") from None
    email = claims.get("email")
    verified = claims.get("email_verified")
    return Identity(
        issuer=str(claims["iss"]), subject=str(claims["sub"]),
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        email_verified=verified is True or (isinstance(verified, str) and verified.lower() == "true"),
        name=claims.get("name") if isinstance(claims.get("name"), str) else None)
