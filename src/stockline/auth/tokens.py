"""Access tokens: JWT, HS256, with sub, role, customer_id, ver (the user's token_version),
iat and exp. The signature and expiry are checked here; whether the user still holds that
version is checked per request by the dependencies (with a short cache)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from stockline.errors import Unauthorized

ALGORITHM = "HS256"
_BEARER = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    customer_id: int | None
    version: int
    issued_at: int


def issue_token(secret: str, *, user_id: int, role: str, customer_id: int | None, version: int,
                ttl_seconds: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": str(user_id), "role": role, "customer_id": customer_id, "ver": version,
              "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "exp", "iat"]})
        return TokenClaims(int(claims["sub"]), str(claims["role"]), claims.get("customer_id"),
                           int(claims.get("ver", 0)), int(claims["iat"]))
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired; sign in again", code="token_expired",
                           headers=_BEARER) from None
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError):
        raise Unauthorized("The token is not valid", code="invalid_token", headers=_BEARER) from None
