"""Sign-in, sign-out, the per-request user check and password changes.

- Every password check is throttled (auth.throttle): counted before its hash, per username
  and client, per client and for everyone, so neither a race nor a stranger's failures get
  around the limits or lock the real user out.
- Passwords are hashed and verified off the event loop, at most HASH_CONCURRENCY at once per
  worker (ctx.hashing; excess waits HASH_WAIT_SECONDS, then 503). An unknown username is
  verified against a dummy hash, so it costs what a wrong password costs.
- A token names the user's token_version; deactivation and password changes bump it, and
  sign-out revokes the one token (Revoked_Tokens). The per-request check caches the user's
  row, revoked token ids included, for USER_STATE_TTL seconds, so a revoked token stops
  working at once in this worker and within that time in every other.
"""

from __future__ import annotations

import asyncio

from stockline import db, read_routing
from stockline.auth import passwords, throttle, tokens
from stockline.auth.schemas import LoginResponse
from stockline.cache import TtlCache
from stockline.errors import Conflict, Forbidden, Unauthorized, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.identity import CurrentUser
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

USER_STATE_TTL_SECONDS = 30.0
_BEARER = {"WWW-Authenticate": "Bearer"}


def new_user_state_cache() -> TtlCache[dict]:
    return TtlCache(USER_STATE_TTL_SECONDS)


async def hash_new_password(ctx: Context, password: str) -> str:
    """A hash of a new password, within this worker's hashing bound."""
    async with ctx.hashing.slot():
        return await asyncio.to_thread(passwords.hash_password, password)


async def login(ctx: Context, *, username: str, password: str, client: str,
                ttl_seconds: int) -> LoginResponse:
    """A token for these credentials, valid ttl_seconds (the API's and the pages' sessions
    differ); `client` is the caller's address."""
    if "\x00" in username:  # no username holds one, and the database cannot store it to count it
        raise Unauthorized("Invalid username or password", code="invalid_credentials")
    attempt = throttle.Attempt.sign_in(username, client)
    async with ctx.hashing.slot():  # counted inside the slot: see auth.throttle on overshoot
        await throttle.begin(ctx, attempt)
        async with ctx.pool.connection() as conn:
            user = await db.fetch_one(conn, Q["user_for_login"], {"username": username})
        if user is None:
            await asyncio.to_thread(passwords.verify_against_dummy, password)
            verified = False
        else:
            verified = await asyncio.to_thread(passwords.verify_password, user["password_hash"], password)
        if not verified or not user["is_active"]:
            await throttle.failed(ctx, attempt)
            raise Unauthorized("Invalid username or password", code="invalid_credentials")
        rehashed = (await asyncio.to_thread(passwords.hash_password, password)
                    if passwords.needs_rehash(user["password_hash"]) else None)
    await throttle.succeeded(ctx, attempt)
    async with ctx.pool.connection() as conn:
        await db.execute(conn, Q["mark_login"], {"user_id": user["user_id"]})
        if rehashed:
            await db.execute(conn, Q["rehash_password"],
                             {"user_id": user["user_id"], "password_hash": rehashed})
    return signed_in(ctx, user, ttl_seconds)


def token_role_claims(pharmassist_compat: bool, role: str) -> tuple[str, dict[str, str]]:
    """The `role` claim a new token carries, and any extra claims. PharmAssist's clients
    (PHARMASSIST_COMPAT) know only "admin" and "customer": a staff user's token says "admin"
    (the back office is where they work) and `stockline_role: "staff"`. The claim is for
    clients only: every request is authorised by the user's current role in the database,
    so staff still get 403 from admin-only routes."""
    if pharmassist_compat and role == "staff":
        return "admin", {"stockline_role": role}
    return role, {}


def signed_in(ctx: Context, user: dict, ttl_seconds: int) -> LoginResponse:
    """The answer to a sign-in that proved who `user` (a Users row: user_id, username, role,
    customer_id, token_version, must_change_password) is, by password or through an identity
    provider: the token and what POST /api/login answers. The caller checked is_active."""
    role_claim, extra = token_role_claims(ctx.settings.pharmassist_compat, user["role"])
    token = tokens.issue_token(ctx.secret_key, user_id=user["user_id"], role=role_claim,
                               customer_id=user["customer_id"], version=user["token_version"],
                               ttl_seconds=ttl_seconds, username=user["username"], extra_claims=extra)
    return LoginResponse(access_token=token, expires_in=ttl_seconds, role=user["role"],
                         customer_id=user["customer_id"],
                         must_change_password=user["must_change_password"])


async def _user_state(ctx: Context, user_id: int) -> dict:
    state = ctx.user_cache.get(user_id)
    if state is None:
        discards = ctx.user_cache.discards
        async with ctx.pool.connection() as conn:
            state = await db.fetch_one(conn, Q["user_state"], {"user_id": user_id})
        state = state or {"is_active": False}
        # a change announced while this was read may be newer than what was read: not cached
        if ctx.user_cache.discards == discards:
            ctx.user_cache.set(user_id, state)
    return state


async def authenticate(ctx: Context, token: str) -> CurrentUser:
    """The user a bearer token stands for, if the token is still theirs."""
    claims = tokens.decode_token(ctx.secret_key, token)
    state = await _user_state(ctx, claims.user_id)
    if (not state["is_active"] or state["token_version"] != claims.version
            or claims.token_id in state["revoked_token_ids"]):
        raise Unauthorized("The token is no longer valid; sign in again", code="token_revoked",
                           headers=_BEARER)
    read_routing.identify(state["user_id"])  # this request's writes and reads are this user's
    return CurrentUser(state["user_id"], state["username"], state["role"], state["customer_id"],
                       state["must_change_password"])


async def sign_out(ctx: Context, token: str) -> None:
    """Revoke this one token (the user's other sessions go on). A token that is not valid
    anyway needs nothing."""
    try:
        claims = tokens.decode_token(ctx.secret_key, token)
    except Unauthorized:
        return
    if claims.token_id is None:
        return
    async with ctx.pool.connection() as conn:
        await db.execute(conn, Q["revoke_token"], {"token_id": claims.token_id, "user_id": claims.user_id,
                                                   "expires_at": claims.expires_at})
    ctx.user_cache.discard(claims.user_id)


async def change_password(ctx: Context, user: CurrentUser, old_password: str, new_password: str, *,
                          client: str) -> None:
    """Wrong old passwords are throttled like failed sign-ins."""
    passwords.validate_new_password(new_password)
    if new_password == old_password:
        raise ValidationFailed("The new password must differ from the old one")
    attempt = throttle.Attempt.password_change(user.user_id, client)
    async with ctx.hashing.slot():
        await throttle.begin(ctx, attempt)
        async with ctx.pool.connection() as conn:
            row = await db.fetch_one(conn, Q["password_hash_of"], {"user_id": user.user_id})
        if row is None:
            raise Forbidden("This account is not active")
        if not await asyncio.to_thread(passwords.verify_password, row["password_hash"], old_password):
            await throttle.failed(ctx, attempt)
            raise Forbidden("The old password is wrong", code="wrong_password")
        new_hash = await asyncio.to_thread(passwords.hash_password, new_password)
    await throttle.succeeded(ctx, attempt)

    async def work(conn) -> None:
        changed = await db.fetch_one(conn, Q["change_password"], {
            "user_id": user.user_id, "password_hash": new_hash, "checked_hash": row["password_hash"]})
        if changed is None:
            raise Conflict("The password was changed or reset meanwhile; sign in again",
                           code="password_changed")

    await ctx.transaction(work)
    ctx.user_cache.discard(user.user_id)  # this worker at once; the others when the change's NOTIFY arrives
