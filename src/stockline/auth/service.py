"""Sign-in, the per-request user check and password changes.

- Passwords are verified off the event loop; an unknown username is verified against a
  dummy hash, so it costs what a wrong password costs.
- After LOCKOUT_FAILURES failed attempts for a username inside LOCKOUT_WINDOW, further
  attempts get 429 until the oldest failure leaves the window. Failures live in the
  database, so every worker sees them.
- A token names the user's token_version; deactivation and password changes bump it. The
  per-request check caches the user's row for USER_STATE_TTL seconds, so a revoked token
  stops working within that time in every worker.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

from stockline import db
from stockline.auth import passwords, tokens
from stockline.auth.schemas import LoginResponse
from stockline.cache import TtlCache
from stockline.errors import Forbidden, TooManyRequests, Unauthorized, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.identity import CurrentUser
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW_SECONDS = 15 * 60
USER_STATE_TTL_SECONDS = 30.0
_BEARER = {"WWW-Authenticate": "Bearer"}


def new_user_state_cache() -> TtlCache[dict]:
    return TtlCache(USER_STATE_TTL_SECONDS)


async def login(ctx: Context, *, username: str, password: str, ttl_seconds: int) -> LoginResponse:
    """A token for these credentials, valid ttl_seconds (the API's and the pages' sessions differ)."""
    window = {"username": username, "window_seconds": LOCKOUT_WINDOW_SECONDS}
    async with ctx.pool.connection() as conn:
        recent = await db.fetch_one(conn, Q["recent_failures"], window)
        if recent["failures"] >= LOCKOUT_FAILURES:
            retry_after = max(1, math.ceil((recent["window_ends"] - datetime.now(UTC)).total_seconds()))
            raise TooManyRequests(
                "Too many failed sign-ins for this username; try again later",
                details={"retry_after_seconds": retry_after}, headers={"Retry-After": str(retry_after)})
        user = await db.fetch_one(conn, Q["user_for_login"], {"username": username})
    if user is None:
        await asyncio.to_thread(passwords.verify_against_dummy, password)
        verified = False
    else:
        verified = await asyncio.to_thread(passwords.verify_password, user["password_hash"], password)
    if not verified or not user["is_active"]:
        async with ctx.pool.connection() as conn:
            await db.execute(conn, Q["record_failure"], window)
        raise Unauthorized("Invalid username or password", code="invalid_credentials")
    async with ctx.pool.connection() as conn:
        await db.execute(conn, Q["clear_failures"], window)
        await db.execute(conn, Q["mark_login"], {"user_id": user["user_id"]})
        if passwords.needs_rehash(user["password_hash"]):
            new_hash = await asyncio.to_thread(passwords.hash_password, password)
            await db.execute(conn, Q["rehash_password"],
                             {"user_id": user["user_id"], "password_hash": new_hash})
    token = tokens.issue_token(ctx.secret_key, user_id=user["user_id"], role=user["role"],
                               customer_id=user["customer_id"], version=user["token_version"],
                               ttl_seconds=ttl_seconds)
    return LoginResponse(access_token=token, expires_in=ttl_seconds, role=user["role"],
                         customer_id=user["customer_id"],
                         must_change_password=user["must_change_password"])


async def authenticate(ctx: Context, token: str) -> CurrentUser:
    """The user a bearer token stands for, if the token is still theirs."""
    claims = tokens.decode_token(ctx.secret_key, token)
    state = ctx.user_cache.get(claims.user_id)
    if state is None:
        async with ctx.pool.connection() as conn:
            state = await db.fetch_one(conn, Q["user_state"], {"user_id": claims.user_id})
        state = state or {"is_active": False}
        ctx.user_cache.set(claims.user_id, state)
    if not state["is_active"] or state["token_version"] != claims.version:
        raise Unauthorized("The token is no longer valid; sign in again", code="token_revoked",
                           headers=_BEARER)
    return CurrentUser(state["user_id"], state["username"], state["role"], state["customer_id"],
                       state["must_change_password"])


async def change_password(ctx: Context, user: CurrentUser, old_password: str, new_password: str) -> None:
    passwords.validate_new_password(new_password)
    if new_password == old_password:
        raise ValidationFailed("The new password must differ from the old one")
    new_hash = await asyncio.to_thread(passwords.hash_password, new_password)

    async def work(conn) -> None:
        row = await db.fetch_one(conn, Q["password_hash_of"], {"user_id": user.user_id})
        if row is None:
            raise Forbidden("This account is not active")
        if not await asyncio.to_thread(passwords.verify_password, row["password_hash"], old_password):
            raise Forbidden("The old password is wrong", code="wrong_password")
        await db.execute(conn, Q["change_password"], {"user_id": user.user_id, "password_hash": new_hash})

    await ctx.transaction(work)
    ctx.user_cache.discard(user.user_id)  # this worker sees the change at once; others within the TTL
