"""Sign-in, the per-request user check and password changes.

- Every sign-in attempt and every password change is counted before its password is
  checked (auth.throttle: per username and client, per client, everyone), so neither a race
  nor a stranger's failures can get around the limits or lock the real user out.
- Passwords are verified off the event loop, at most HASH_CONCURRENCY at once per worker
  (ctx.hashing); an unknown username is verified against a dummy hash, so it costs what a
  wrong password costs.
- A token names the user's token_version; deactivation and password changes bump it. The
  per-request check caches the user's row for USER_STATE_TTL seconds, so a revoked token
  stops working within that time in every worker.
"""

from __future__ import annotations

from stockline import db
from stockline.auth import passwords, throttle, tokens
from stockline.auth.schemas import LoginResponse
from stockline.cache import TtlCache
from stockline.errors import Forbidden, Unauthorized, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.identity import CurrentUser
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

USER_STATE_TTL_SECONDS = 30.0
_BEARER = {"WWW-Authenticate": "Bearer"}


def new_user_state_cache() -> TtlCache[dict]:
    return TtlCache(USER_STATE_TTL_SECONDS)


async def login(ctx: Context, *, username: str, password: str, client: str,
                ttl_seconds: int) -> LoginResponse:
    """A token for these credentials, valid ttl_seconds (the API's and the pages' sessions
    differ); `client` is the caller's address (auth.throttle.client_address)."""
    attempt = throttle.Attempt.of(username, client)
    await throttle.count(ctx, attempt)
    async with ctx.pool.connection() as conn:
        user = await db.fetch_one(conn, Q["user_for_login"], {"username": username})
    if user is None:
        await ctx.hashing.run(passwords.verify_against_dummy, password)
        verified = False
    else:
        verified = await ctx.hashing.run(passwords.verify_password, user["password_hash"], password)
    if not verified or not user["is_active"]:
        raise Unauthorized("Invalid username or password", code="invalid_credentials")
    await throttle.settle(ctx, attempt)
    async with ctx.pool.connection() as conn:
        await db.execute(conn, Q["mark_login"], {"user_id": user["user_id"]})
        if passwords.needs_rehash(user["password_hash"]):
            new_hash = await ctx.hashing.run(passwords.hash_password, password)
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


async def change_password(ctx: Context, user: CurrentUser, old_password: str, new_password: str, *,
                          client: str) -> None:
    """Wrong old passwords count like failed sign-ins (per user and client, per client)."""
    passwords.validate_new_password(new_password)
    if new_password == old_password:
        raise ValidationFailed("The new password must differ from the old one")
    attempt = throttle.Attempt.of(user.username, client, scope="password")
    await throttle.count(ctx, attempt)
    new_hash = await ctx.hashing.run(passwords.hash_password, new_password)

    async def work(conn) -> None:
        row = await db.fetch_one(conn, Q["password_hash_of"], {"user_id": user.user_id})
        if row is None:
            raise Forbidden("This account is not active")
        if not await ctx.hashing.run(passwords.verify_password, row["password_hash"], old_password):
            raise Forbidden("The old password is wrong", code="wrong_password")
        await db.execute(conn, Q["change_password"], {"user_id": user.user_id, "password_hash": new_hash})

    await ctx.transaction(work)
    await throttle.settle(ctx, attempt)
    ctx.user_cache.discard(user.user_id)  # this worker sees the change at once; others within the TTL
