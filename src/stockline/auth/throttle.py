"""Password-guessing limits that an attacker can neither race nor turn against the user.

Every password check (a sign-in, or the old password of a change) is one `attempt`:

1. Before the hash is computed, `begin_attempt` (one statement) reads the failures of the
   client and of everyone inside LOGIN_WINDOW_SECONDS and, if neither is over its limit,
   counts one attempt on the attempt's key. Attempts on one key queue on its row, so 60
   concurrent guesses at one password get exactly LOGIN_USER_LIMIT checks.
2. A wrong password adds a row to the insert-only failure log; a right one resets the key.

The key is the username *from this client*: guessing from one address is cut off after
LOGIN_USER_LIMIT tries, while the real user at their own address is not affected, so nobody
can lock a user out. Spraying one password over many usernames is held by the client's
failures (LOGIN_CLIENT_LIMIT); a distributed attack by everyone's (LOGIN_GLOBAL_LIMIT), a
ceiling on what failures can cost. The client and global counts are read, not locked, so
sign-ins never queue on a shared row; the price is that failures whose hash is still running
are not yet counted, an overshoot of at most the hashes running at once (HASH_CONCURRENCY
per worker), because callers count inside their hashing slot.

An identity provider's authorization code traded for a token (POST /api/oauth/.../exchange)
is an attempt without a key: each one costs a request to the provider, so codes that cannot
be redeemed count as the client's failures and are held back by the same two limits.

Over a limit: 429 with Retry-After. The client is the peer's address as the app sees it
(the trusted-proxy rewrite in app.py has already applied X-Forwarded-For).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from stockline import db
from stockline.errors import TooManyRequests
from stockline.kernel.context import Context
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)


async def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(_client)]  # who is asking, for routes


@dataclass(frozen=True)
class Attempt:
    key: str | None  # what the attempts are counted on; None: only the client's and global failures
    client: str

    @classmethod
    def sign_in(cls, username: str, client: str) -> Attempt:
        return cls(f"sign-in:{username.lower()} from {client}", client)

    @classmethod
    def password_change(cls, user_id: int, client: str) -> Attempt:
        # whoever holds this user's session: the key is the user, whatever the address
        return cls(f"password:{user_id}", client)

    @classmethod
    def code_exchange(cls, client: str) -> Attempt:
        # a provider's code: no username to key on, and an office signing in together must not
        # queue; codes that cannot be redeemed count as failures of the client
        return cls(None, client)


async def begin(ctx: Context, attempt: Attempt) -> None:
    """Count the attempt, or refuse it (429) when a limit is reached."""
    settings = ctx.settings
    async with ctx.pool.connection() as conn:
        row = await db.fetch_one(conn, Q["begin_attempt"], {
            "key": attempt.key, "client": attempt.client, "window_seconds": settings.login_window_seconds,
            "client_limit": settings.login_client_limit, "global_limit": settings.login_global_limit})
    if row["global_failures"] >= settings.login_global_limit:
        _refuse("Too many failed sign-ins right now; try again later", "global", row["global_window_ends"])
    if row["client_failures"] >= settings.login_client_limit:
        _refuse("Too many failed sign-ins from this address; try again later", "client",
                row["client_window_ends"])
    if row["attempts"] is not None and row["attempts"] > settings.login_user_limit:
        _refuse("Too many failed attempts for this user from here; try again later", "user",
                row["key_window_ends"])


async def failed(ctx: Context, attempt: Attempt) -> None:
    async with ctx.pool.connection() as conn:
        await db.execute(conn, Q["record_failure"], {
            "client": attempt.client, "window_seconds": ctx.settings.login_window_seconds})


async def succeeded(ctx: Context, attempt: Attempt) -> None:
    if attempt.key is None:
        return
    async with ctx.pool.connection() as conn:
        await db.execute(conn, Q["reset_attempts"], {
            "key": attempt.key, "window_seconds": ctx.settings.login_window_seconds})


def _refuse(message: str, limit: str, window_ends: datetime) -> None:
    retry_after = max(1, math.ceil((window_ends - datetime.now(UTC)).total_seconds()))
    raise TooManyRequests(message, details={"retry_after_seconds": retry_after, "limit": limit},
                          headers={"Retry-After": str(retry_after)})
