"""Access tokens: JWT, HS256, with sub, role, customer_id, ver (the user's token_version),
jti (the token's own id, so sign-out can revoke just it), iat and exp. The signature and
expiry are checked here; whether the user still holds that version, and the token was not
signed out, is checked per request by the dependencies (with a short cache).

A token whose signature checked out is remembered (this process, keyed by the signing key
and the exact token text, for at most VERIFIED_TTL_SECONDS), so a client sending the same
token again costs a dictionary lookup and the expiry comparison instead of a base64 decode,
a JSON parse and an HMAC: about a sixth of a cached catalog page's CPU. Its expiry is still
checked on every request, exactly as PyJWT checks it."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass

import jwt

from stockline.cache import TtlCache
from stockline.errors import Unauthorized

ALGORITHM = "HS256"
_BEARER = {"WWW-Authenticate": "Bearer"}
VERIFIED_TTL_SECONDS = 60


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    customer_id: int | None
    version: int
    issued_at: int
    token_id: str | None  # None for tokens issued before tokens had ids
    expires_at: int


def issue_token(secret: str, *, user_id: int, role: str, customer_id: int | None, version: int,
                ttl_seconds: int, now: float | None = None, username: str | None = None,
                extra_claims: dict[str, object] | None = None) -> str:
    """A signed token. `username` is informational (clients show it); the role the server
    acts on is always the user's current one, read per request, never the token's."""
    issued = int(now if now is not None else time.time())
    claims = {"sub": str(user_id), "role": role, "customer_id": customer_id, "ver": version,
              "jti": secrets.token_urlsafe(16), "iat": issued, "exp": issued + ttl_seconds}
    if username is not None:
        claims["username"] = username
    claims |= extra_claims or {}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def canonical_signature(token: str) -> bool:
    """Whether the token's signature segment is the one base64url spelling of its bytes.
    A lenient decoder maps several spellings to the same bytes (the last character of an
    HS256 signature carries 4 data bits, so `...Y` and `...a` may decode alike); such a
    tampered token must not pass."""
    signature = token.rpartition(".")[2]
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except (binascii.Error, ValueError):
        return False
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == signature


# (signing key, token) -> (claims, exp) of tokens whose signature checked out
_verified: TtlCache[tuple[TokenClaims, int]] = TtlCache(VERIFIED_TTL_SECONDS, max_entries=10_000)


def _expired() -> Unauthorized:
    return Unauthorized("The token has expired; sign in again", code="token_expired", headers=_BEARER)


def decode_token(secret: str, token: str) -> TokenClaims:
    key = (secret, token)
    known = _verified.get(key)
    if known is not None:
        claims, expires = known
        if expires <= time.time():  # PyJWT's test, leeway 0
            _verified.discard(key)
            raise _expired()
        return claims
    try:
        if not canonical_signature(token):
            raise jwt.InvalidSignatureError("non-canonical signature encoding")
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM],
                             options={"require": ["sub", "exp", "iat"]})
        expires = int(payload["exp"])
        token_id = payload.get("jti")
        claims = TokenClaims(int(payload["sub"]), str(payload["role"]), payload.get("customer_id"),
                             int(payload.get("ver", 0)), int(payload["iat"]),
                             token_id if isinstance(token_id, str) else None, expires)
    except jwt.ExpiredSignatureError:
        raise _expired() from None
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError):
        raise Unauthorized("The token is not valid", code="invalid_token", headers=_BEARER) from None
    _verified.set(key, (claims, expires))
    return claims
