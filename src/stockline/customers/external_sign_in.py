"""Who an identity provider's sign-in is (auth.oidc proves the identity; this decides the
user), and the invitations that let a customer's people in that way.

Only a VERIFIED email counts (the provider says `email_verified: true`): the provider
vouches that whoever signed in controls that address. Then, in one transaction:

1. A user linked to that email (`Users.email`), or else one whose username is that email and
   who has no email yet (PharmAssist named its Google users by their email), is that user:
   the link is set, the role and customer stay what they are (role changes are an admin's,
   and audited). A deactivated user stays out (403).
2. No such user: an email on OIDC_ADMIN_EMAILS or in OIDC_ADMIN_DOMAIN becomes a new admin,
   one on OIDC_STAFF_EMAILS or in OIDC_STAFF_DOMAIN a new staff user (admin wins).
3. Else an admin's open invitation of that email to a customer makes that customer's user
   and is used up.
4. Else, only with OIDC_AUTO_CREATE_CUSTOMERS=1 (as PharmAssist did), a new customer named
   after the person, with that email, and its user.
5. Else 403 `oidc_not_invited`.

A user made here is named by the email when it is a valid username (letters, digits and
`_.@-`, at most 64), otherwise by the email with every other character made `_`, cut to 64;
a name already taken gets `-2`, `-3`... It has no password (a marker hash nothing verifies
against) and nothing to change. Its creation is audited with the new user as the actor
(nobody else acted), the invitation or the setting that let it in named in the entry.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import psycopg

from stockline import db
from stockline.accounts.service import USERNAME
from stockline.audit import record as audit
from stockline.auth import service as auth_service
from stockline.auth.oidc import Identity
from stockline.auth.schemas import LoginResponse
from stockline.config import OidcSettings
from stockline.customers.schemas import DEFAULT_PAYMENT_TERMS_DAYS
from stockline.errors import Conflict, Forbidden, NotFound
from stockline.kernel.context import Context
from stockline.kernel.identity import CurrentUser
from stockline.sqlfile import queries_beside

Q = queries_beside(__file__)

NO_PASSWORD = "!no-password:signs-in-with-an-identity-provider"  # noqa: S105 - a marker, no hash


def role_by_setting(settings: OidcSettings, email: str) -> str | None:
    domain = email.rpartition("@")[2]
    if email in settings.admin_emails or domain in settings.admin_domains:
        return "admin"
    if email in settings.staff_emails or domain in settings.staff_domains:
        return "staff"
    return None


def username_candidates(email: str) -> list[str]:
    base = email if USERNAME.match(email) else re.sub(r"[^A-Za-z0-9_.@-]", "_", email)[:64]
    base = base if len(base) >= 3 else f"{base}___"[:3]
    return [base] + [f"{base[:60]}-{n}" for n in range(2, 10)]


async def _free_username(conn: psycopg.AsyncConnection, email: str) -> str:
    candidates = username_candidates(email)
    taken = {row["username"] for row in await db.fetch_all(
        conn, Q["usernames_taken"], {"candidates": [c.lower() for c in candidates]})}
    for candidate in candidates:
        if candidate.lower() not in taken:
            return candidate
    return f"{candidates[0][:55]}-{secrets.token_hex(4)}"


def _as_actor(user: dict[str, Any]) -> CurrentUser:
    return CurrentUser(user["user_id"], user["username"], user["role"], user["customer_id"], False)


def _audited(user: dict[str, Any]) -> dict[str, Any]:
    return {key: user[key] for key in ("user_id", "username", "role", "customer_id", "is_active",
                                       "must_change_password", "email")}


async def _new_user(conn: psycopg.AsyncConnection, email: str, role: str,
                    customer_id: int | None) -> dict[str, Any]:
    return await db.fetch_one(conn, Q["insert_identity_user"], {
        "customer_id": customer_id, "username": await _free_username(conn, email),
        "password_hash": NO_PASSWORD, "role": role, "email": email})


async def _user_for(conn: psycopg.AsyncConnection, settings: OidcSettings, identity: Identity,
                    email: str) -> dict[str, Any]:
    user = await db.fetch_one(conn, Q["user_for_identity"], {"email": email})
    if user is not None:
        if not user["is_active"]:
            raise Forbidden("This account is deactivated; ask an administrator", code="account_inactive")
        await db.execute(conn, Q["link_identity"], {"user_id": user["user_id"], "email": email})
        return user
    how = {"signed_in_with": identity.issuer}
    role = role_by_setting(settings, email)
    if role is not None:
        user = await _new_user(conn, email, role, None)
        how["allowed_by"] = f"OIDC_{role.upper()}_EMAILS/DOMAIN"
    elif (invitation := await db.fetch_one(conn, Q["take_invitation"], {"email": email})) is not None:
        user = await _new_user(conn, email, "customer", invitation["customer_id"])
        how["invitation_id"] = invitation["invitation_id"]
    elif settings.auto_create_customers:
        customer = await db.fetch_one(conn, Q["insert_customer"], {
            "name": (identity.name or "").strip()[:200] or email, "address": None,
            "customer_type": "pharmacy", "email": email, "phone": None, "tax_id": None,
            "payment_terms_days": DEFAULT_PAYMENT_TERMS_DAYS, "credit_limit": None})
        user = await _new_user(conn, email, "customer", customer["customer_id"])
        how["allowed_by"] = "OIDC_AUTO_CREATE_CUSTOMERS"
        await audit.record(conn, _as_actor(user), "customer.create", customer["customer_id"], None,
                           customer | how)
    else:
        raise Forbidden(f"{email} has no Stockline account and has not been invited to one: ask an "
                        "administrator to invite this email address to your customer account",
                        code="oidc_not_invited", details={"email": email})
    await audit.record(conn, _as_actor(user), "user.create", user["user_id"], None, _audited(user) | how)
    return user


async def sign_in(ctx: Context, identity: Identity, *, ttl_seconds: int) -> LoginResponse:
    """A Stockline token for whoever the provider vouched for (see the module's rules)."""
    settings = ctx.settings.oidc
    assert settings is not None
    if identity.email is None or not identity.email_verified:
        raise Forbidden("The identity provider did not confirm an email address for this account "
                        "(email_verified is not true), so it cannot be matched to a Stockline user",
                        code="oidc_email_not_verified")
    email = identity.email

    async def work(conn: psycopg.AsyncConnection) -> dict[str, Any]:
        return await _user_for(conn, settings, identity, email)

    try:
        user = await ctx.transaction(work)
    except Conflict:  # the same person's first sign-in twice at once: the other one made the user
        user = await ctx.transaction(work)
    ctx.user_cache.discard(user["user_id"])
    return auth_service.signed_in(ctx, user, ttl_seconds)


# --- invitations (admin) -----------------------------------------------------------------------

async def invitations(ctx: Context, customer_id: int) -> list[dict[str, Any]]:
    async with ctx.pool.connection() as conn:
        found = await db.fetch_one(conn, Q["customer_exists"], {"customer_id": customer_id})
        if not found["found"]:
            raise NotFound(f"No customer {customer_id}")
        return await db.fetch_all(conn, Q["invitations_of_customer"], {"customer_id": customer_id})


async def invite(ctx: Context, actor: CurrentUser, customer_id: int, email: str) -> dict[str, Any]:
    """Let whoever signs in with an identity provider as `email` (verified) in as a user of
    this customer. 409 when someone already answers to that email or it is invited already."""
    email = email.strip().lower()

    async def work(conn: psycopg.AsyncConnection) -> dict[str, Any]:
        found = await db.fetch_one(conn, Q["customer_exists"], {"customer_id": customer_id})
        if not found["found"]:
            raise NotFound(f"No customer {customer_id}")
        if (await db.fetch_one(conn, Q["email_in_use"], {"email": email}))["found"]:
            raise Conflict(f"A user already signs in as {email}", code="email_in_use",
                           details={"email": email})
        try:
            created = await db.fetch_one(conn, Q["insert_invitation"], {
                "customer_id": customer_id, "email": email, "invited_by": actor.user_id})
        except Conflict:
            raise Conflict(f"{email} is invited already (one invitation per email; revoke it first)",
                           code="invitation_exists", details={"email": email}) from None
        await audit.record(conn, actor, "invitation.create", created["invitation_id"], None, created)
        return created

    return await ctx.transaction(work)


async def revoke(ctx: Context, actor: CurrentUser, customer_id: int, invitation_id: int) -> None:
    async def work(conn: psycopg.AsyncConnection) -> None:
        deleted = await db.fetch_one(conn, Q["delete_invitation"], {
            "customer_id": customer_id, "invitation_id": invitation_id})
        if deleted is None:
            raise NotFound(f"Customer {customer_id} has no open invitation {invitation_id}")
        await audit.record(conn, actor, "invitation.revoke", invitation_id, deleted, None)

    await ctx.transaction(work)
