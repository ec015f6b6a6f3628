"""Customers and their users, as the back office manages them.

- A customer can be deleted only while it has no orders and no users; its own pricing rules
  go with it. The customer row is locked first, so a user or order added meanwhile either
  waits and then fails on its foreign key, or commits first and is counted.
- A customer user belongs to exactly one customer; staff and admins to none (the schema's
  users_customer_matches_role says the same; this module says it first, clearly).
- There is always an active admin: deactivating or demoting one first locks every active
  admin row (in user_id order), then counts them, so two such changes at once run one after
  the other and the second sees the first.
- Revocation: a password reset, a deactivation or a role change bumps the user's
  token_version, so every token issued before stops working. This worker forgets its cached
  state of that user at once; other workers within the user-state cache TTL
  (stockline.auth.service.USER_STATE_TTL_SECONDS).
- Every change is recorded in the audit log (stockline.audit) in its own transaction; a
  user's entries never hold the password hash (a reset says `"password": "reset"`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from stockline import db
from stockline.accounts.service import check_username
from stockline.audit import record as audit
from stockline.auth.passwords import validate_new_password
from stockline.auth.service import hash_new_password
from stockline.errors import Conflict, NotFound, ValidationFailed
from stockline.kernel.context import Context
from stockline.kernel.identity import STAFF_ROLES, CurrentUser
from stockline.kernel.money import money
from stockline.pagination import PageRequest
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

CUSTOMER_FIELDS = ("name", "address", "customer_type", "email", "phone", "tax_id", "payment_terms_days",
                   "credit_limit")
_USERNAME_CONSTRAINTS = ("users_username_key", "users_username_lower_key")


def contains_pattern(search: str | None) -> str | None:
    """An ILIKE pattern matching values that contain `search` literally (None: no filter). A
    NUL is left out: no value holds one, and psycopg refuses to send one."""
    term = (search or "").replace("\x00", "").strip()
    if not term:
        return None
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value else value


# --- customers -----------------------------------------------------------------------------

async def list_customers(ctx: Context, paging: PageRequest,
                         search: str | None) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["customers_page"], {
            "pattern": contains_pattern(search), "limit": paging.limit, "offset": paging.offset})
    items = [_shown({key: value for key, value in row.items() if key != "total_items"})
             for row in rows if row["customer_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"], search=(search or "").strip() or None)


async def _read_customer(conn: psycopg.AsyncConnection, customer_id: int) -> dict[str, Any]:
    customer = await db.fetch_one(conn, Q["customer"], {"customer_id": customer_id})
    if customer is None:
        raise NotFound(f"No customer {customer_id}")
    users = await db.fetch_all(conn, Q["customer_users"], {"customer_id": customer_id})
    return _shown(customer) | {"users": users}


def _shown(customer: dict[str, Any]) -> dict[str, Any]:
    """A customer row as the API shows it: the credit limit as money (None: no limit)."""
    limit = customer["credit_limit"]
    return customer | {"credit_limit": None if limit is None else money(limit)}


async def get_customer(ctx: Context, customer_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await _read_customer(conn, customer_id)


async def create_customer(ctx: Context, actor: CurrentUser,
                          fields: dict[str, Any]) -> dict[str, Any]:
    values = {name: _blank_to_none(fields.get(name)) for name in CUSTOMER_FIELDS}

    async def work(conn: psycopg.AsyncConnection) -> int:
        created = await db.fetch_one(conn, Q["insert_customer"], values)
        await audit.record(conn, actor, "customer.create", created["customer_id"], None, created)
        return created["customer_id"]

    async def read_back(conn: psycopg.AsyncConnection, customer_id: int) -> dict[str, Any]:
        return await _read_customer(conn, customer_id)

    return await ctx.transaction(work, after_commit=read_back)


async def update_customer(ctx: Context, actor: CurrentUser, customer_id: int,
                          changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` holds only the fields the caller sent; name and type cannot be cleared."""
    for required in ("name", "customer_type", "payment_terms_days"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(f"The customer's {required.replace('_', ' ')} cannot be removed",
                                   details={"field": required})
    params: dict[str, Any] = {"customer_id": customer_id}
    for name in CUSTOMER_FIELDS:
        params[f"set_{name}"] = name in changes
        params[name] = _blank_to_none(changes.get(name))

    async def work(conn: psycopg.AsyncConnection) -> None:
        before = await db.send(conn, Q["lock_customer"], {"customer_id": customer_id})
        after = await db.fetch_one(conn, Q["update_customer"], params)
        if after is None:
            raise NotFound(f"No customer {customer_id}")
        await audit.record(conn, actor, "customer.update", customer_id, await before.one(), after)

    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await _read_customer(conn, customer_id)

    return await ctx.transaction(work, after_commit=read_back)


async def delete_customer(ctx: Context, actor: CurrentUser,
                          customer_id: int) -> None:
    async def work(conn: psycopg.AsyncConnection) -> int:
        row = await db.fetch_one(conn, Q["lock_customer_for_delete"], {"customer_id": customer_id})
        if row is None:
            raise NotFound(f"No customer {customer_id}")
        if row["order_count"] or row["user_count"]:
            held_by = [f"{row[key]} {noun}{'s' if row[key] != 1 else ''}"
                       for key, noun in (("order_count", "order"), ("user_count", "user")) if row[key]]
            raise Conflict(
                f"Customer {customer_id} ({row['name']}) still has {' and '.join(held_by)}; "
                "only a customer with no orders and no users can be deleted (deactivate its users instead)",
                code="customer_in_use",
                details={"order_count": row["order_count"], "user_count": row["user_count"]})
        rules = await db.fetch_all(conn, Q["delete_customer_rules"], {"customer_id": customer_id})
        deleted = await db.fetch_one(conn, Q["delete_customer"], {"customer_id": customer_id})
        await audit.record_many(conn, actor, "pricing_rule.delete",
                                [audit.Change(rule["rule_id"], rule, None) for rule in rules])
        await audit.record(conn, actor, "customer.delete", customer_id, deleted, None)
        return len(rules)

    async def after_commit(conn: psycopg.AsyncConnection, rules_deleted: int) -> None:
        if rules_deleted:
            await ctx.versions.announce_listing_change(conn)  # its prices went with its rules

    await ctx.transaction(work, after_commit=after_commit)


# --- users ---------------------------------------------------------------------------------

async def list_users(ctx: Context, paging: PageRequest, *, role: str | None,
                     customer_id: int | None, active: bool | None, search: str | None) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        rows = await db.fetch_all(conn, Q["users_page"], {
            "role": role, "customer_id": customer_id, "active": active, "pattern": contains_pattern(search),
            "limit": paging.limit, "offset": paging.offset})
    items = [{key: value for key, value in row.items() if key != "total_items"}
             for row in rows if row["user_id"] is not None]
    return paging.envelope(items, rows[0]["total_items"])


async def _read_user(conn: psycopg.AsyncConnection, user_id: int) -> dict[str, Any]:
    user = await db.fetch_one(conn, Q["user"], {"user_id": user_id})
    if user is None:
        raise NotFound(f"No user {user_id}")
    return user


async def get_user(ctx: Context, user_id: int) -> dict[str, Any]:
    async with ctx.pool.connection() as conn:
        return await _read_user(conn, user_id)


def _check_role_and_customer(role: str, customer_id: int | None) -> None:
    if role == "customer" and customer_id is None:
        raise ValidationFailed("A customer user needs the customer_id it belongs to",
                               code="customer_required", details={"field": "customer_id"})
    if role in STAFF_ROLES and customer_id is not None:
        raise ValidationFailed(f"A {role} user belongs to no customer; leave customer_id out",
                               code="customer_not_allowed", details={"field": "customer_id"})


async def _ensure_customer(conn: psycopg.AsyncConnection, customer_id: int | None) -> None:
    if customer_id is None:
        return
    row = await db.fetch_one(conn, Q["customer_exists"], {"customer_id": customer_id})
    if not row["found"]:
        raise ValidationFailed(f"Customer {customer_id} does not exist", code="unknown_customer",
                               details={"customer_id": customer_id})


async def create_user(ctx: Context, actor: CurrentUser, *, username: str, password: str,
                      role: str, customer_id: int | None, must_change_password: bool) -> dict[str, Any]:
    check_username(username)
    _check_role_and_customer(role, customer_id)
    validate_new_password(password)
    password_hash = await hash_new_password(ctx, password)

    async def work(conn: psycopg.AsyncConnection) -> int:
        await _ensure_customer(conn, customer_id)
        try:
            row = await db.fetch_one(conn, Q["insert_user"], {
                "customer_id": customer_id, "username": username, "password_hash": password_hash,
                "role": role, "must_change_password": must_change_password})
        except Conflict as exc:
            if (exc.details or {}).get("constraint") in _USERNAME_CONSTRAINTS:
                raise Conflict(f"The username {username!r} is taken (usernames ignore case)",
                               code="username_taken", details={"username": username}) from None
            raise
        await audit.record(conn, actor, "user.create", row["user_id"], None, row)
        return row["user_id"]

    async def read_back(conn: psycopg.AsyncConnection, user_id: int) -> dict[str, Any]:
        return await _read_user(conn, user_id)

    return await ctx.transaction(work, after_commit=read_back)


async def _lock_target(conn: psycopg.AsyncConnection, user_id: int, *,
                       guard_admins: bool) -> tuple[dict[str, Any], list[int]]:
    """The user's row, locked; with guard_admins, every active admin's row is locked first
    (always before the target's, so these transactions take locks in one order)."""
    admins = ([row["user_id"] for row in await db.fetch_all(conn, Q["lock_active_admins"])]
              if guard_admins else [])
    target = await db.fetch_one(conn, Q["lock_user"], {"user_id": user_id})
    if target is None:
        raise NotFound(f"No user {user_id}")
    return target, admins


def _refuse_last_admin(target: dict[str, Any], active_admins: list[int], action: str) -> None:
    others = [user_id for user_id in active_admins if user_id != target["user_id"]]
    if target["role"] == "admin" and target["is_active"] and not others:
        raise Conflict(f"User {target['user_id']} is the last active admin and cannot be {action}; "
                       "make another user an admin first", code="last_admin",
                       details={"user_id": target["user_id"]})


async def _change_user(ctx: Context, user_id: int,
                       work: Callable[[psycopg.AsyncConnection], Awaitable[None]]) -> dict[str, Any]:
    async def read_back(conn: psycopg.AsyncConnection, _: None) -> dict[str, Any]:
        return await _read_user(conn, user_id)

    try:
        return await ctx.transaction(work, after_commit=read_back)
    finally:
        ctx.user_cache.discard(user_id)  # this worker at once; the others when the change's NOTIFY arrives


async def reset_password(ctx: Context, actor: CurrentUser, user_id: int,
                         new_password: str) -> dict[str, Any]:
    validate_new_password(new_password)
    password_hash = await hash_new_password(ctx, new_password)

    async def work(conn: psycopg.AsyncConnection) -> None:
        target, _ = await _lock_target(conn, user_id, guard_admins=False)
        after = await db.fetch_one(conn, Q["reset_password"],
                                   {"user_id": user_id, "password_hash": password_hash})
        # that it happened, never the hash
        await audit.record(conn, actor, "user.password_reset", user_id, target, after | {"password": "reset"})

    return await _change_user(ctx, user_id, work)


async def set_active(ctx: Context, actor: CurrentUser, user_id: int,
                     active: bool) -> dict[str, Any]:
    """Deactivating revokes the user's tokens; either way, doing it twice changes nothing more."""
    async def work(conn: psycopg.AsyncConnection) -> None:
        target, admins = await _lock_target(conn, user_id, guard_admins=not active)
        if not active:
            _refuse_last_admin(target, admins, "deactivated")
        after = await db.fetch_one(conn, Q["set_user_active"], {"user_id": user_id, "active": active})
        await audit.record(conn, actor, "user.reactivate" if active else "user.deactivate", user_id,
                           target, after)

    return await _change_user(ctx, user_id, work)


async def change_role(ctx: Context, actor: CurrentUser, user_id: int, *,
                      role: str, customer_id: int | None) -> dict[str, Any]:
    _check_role_and_customer(role, customer_id)

    async def work(conn: psycopg.AsyncConnection) -> None:
        target, admins = await _lock_target(conn, user_id, guard_admins=role != "admin")
        if role != "admin":
            _refuse_last_admin(target, admins, f"made {role}")
        await _ensure_customer(conn, customer_id)
        after = await db.fetch_one(conn, Q["set_user_role"],
                                   {"user_id": user_id, "role": role, "customer_id": customer_id})
        await audit.record(conn, actor, "user.role_change", user_id, target, after)

    return await _change_user(ctx, user_id, work)
