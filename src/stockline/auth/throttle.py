"""Sign-in throttling that an attacker can neither race nor turn against the user.

Every attempt is counted before its password is checked (`count_attempt`, one statement;
concurrent attempts queue on the counter row), against three keys in fixed windows of
LOGIN_WINDOW_SECONDS shared by every worker:

- the username from this client (LOGIN_USER_LIMIT, 5): guessing one account. Another client,
  the real user at their own desk, is not affected, so nobody can lock a user out;
- the client, across usernames (LOGIN_CLIENT_LIMIT, 30): one password sprayed over accounts;
- everyone (LOGIN_GLOBAL_LIMIT): a ceiling on the password hashing failures can cost.

A success gives its attempt back (`settle`), so the counts are failures and a busy shared
address full of real users is never throttled. Over a limit: 429 with Retry-After (when its
window ends). The client is the peer's address, or X-Forwarded-For's last address not of a
trusted proxy when the peer is one (TRUSTED_PROXIES).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from stockline import db
from stockline.config import Settings
from stockline.errors import TooManyRequests
from stockline.kernel.context import Context, context_of
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


def client_address(request: Request, settings: Settings) -> str:
    """Who is asking: the peer, or what a trusted proxy in front of it says it forwarded."""
    peer = request.client.host if request.client else "unknown"
    if not settings.trusted_proxies or not _trusted(peer, settings):
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    for hop in reversed(hops):  # the nearest hop first: each trusted proxy appended its peer
        if not _trusted(hop, settings):
            return hop if _is_address(hop) else peer
    return hops[0] if hops else peer


async def _client(request: Request) -> str:
    return client_address(request, context_of(request).settings)


ClientAddress = Annotated[str, Depends(_client)]  # the caller's address, for routes


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _trusted(address: str, settings: Settings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.trusted_proxies)


@dataclass(frozen=True)
class Attempt:
    """The keys one sign-in attempt counts against."""

    user_key: str
    client_key: str
    global_key: str = "all"

    @classmethod
    def of(cls, username: str, client: str, *, scope: str = "user") -> Attempt:
        return cls(f"{scope}:{username.lower()} from {client}", f"client:{client}")

    @property
    def keys(self) -> list[str]:
        return [self.user_key, self.client_key, self.global_key]


_REFUSALS = {
    "user": "Too many failed sign-ins for this username from here; try again later",
    "client": "Too many failed sign-ins from this address; try again later",
    "global": "Too many failed sign-ins right now; try again later",
}


async def count(ctx: Context, attempt: Attempt) -> None:
    """Count the attempt; TooManyRequests (429, Retry-After) when a key is over its limit."""
    settings = ctx.settings
    limits = {attempt.user_key: ("user", settings.login_user_limit),
              attempt.client_key: ("client", settings.login_client_limit),
              attempt.global_key: ("global", settings.login_global_limit)}
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["count_attempt"], {
            "keys": attempt.keys, "window_seconds": settings.login_window_seconds})
    over = [(limits[row["throttle_key"]][0], row["window_ends"]) for row in rows
            if row["attempts"] > limits[row["throttle_key"]][1]]
    if over:
        kind, ends = max(over, key=lambda refusal: refusal[1])
        retry_after = max(1, math.ceil((ends - datetime.now(UTC)).total_seconds()))
        raise TooManyRequests(_REFUSALS[kind], details={"retry_after_seconds": retry_after, "limit": kind},
                              headers={"Retry-After": str(retry_after)})


async def settle(ctx: Context, attempt: Attempt) -> None:
    """The attempt succeeded: give it back."""
    async with ctx.pool.connection() as conn:
        await db.execute(conn, Q["refund_attempt"], {
            "keys": attempt.keys, "user_key": attempt.user_key,
            "window_seconds": ctx.settings.login_window_seconds})
