"""Sign-in, tokens, revocation, lockout, password change and the role dependencies."""

from __future__ import annotations

import time

import jwt
import pytest
from fastapi import FastAPI

from stockline.auth import passwords, tokens
from stockline.auth.dependencies import AdminUser, AnyUser, CustomerUser, OptionalUser, StaffUser
from stockline.cache import TtlCache
from tests.conftest import TEST_SECRET, serve

PASSWORD = "Customer@123"


@pytest.fixture
def accounts(conn):
    """A customer user, a staff user and an admin, all with PASSWORD."""
    hashed = passwords.hash_password(PASSWORD)
    customer_id = conn.execute("INSERT INTO Customers (name) VALUES ('Central Pharmacy') "
                               "RETURNING customer_id").fetchone()["customer_id"]
    conn.execute("INSERT INTO Customers (name) VALUES ('Other Pharmacy')")
    conn.execute(
        "INSERT INTO Users (customer_id, username, password_hash, role) VALUES (%(c)s, 'cust_1', %(h)s, "
        "'customer'), (NULL, 'staffer', %(h)s, 'staff'), (NULL, 'boss', %(h)s, 'admin')",
        {"c": customer_id, "h": hashed})
    return {"customer_id": customer_id}


async def sign_in(client, username: str, password: str = PASSWORD):
    return await client.post("/api/login", json={"username": username, "password": password})


async def token_of(client, username: str) -> dict[str, str]:
    response = await sign_in(client, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_login_returns_a_bearer_token_with_the_claims(client, accounts, settings):
    response = await sign_in(client, "CUST_1")  # usernames are case-insensitive
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["role"] == "customer"
    assert body["customer_id"] == accounts["customer_id"] and body["must_change_password"] is False
    assert body["expires_in"] == settings.token_ttl_seconds == 3600
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "1" and claims["role"] == "customer"
    assert claims["customer_id"] == accounts["customer_id"]
    assert claims["exp"] - claims["iat"] == 3600


async def test_wrong_password_and_unknown_user_get_the_same_answer(client, accounts):
    wrong = await sign_in(client, "cust_1", "not-the-password")
    unknown = await sign_in(client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


def test_the_dummy_hash_costs_what_a_real_one_costs():
    """Unknown usernames are verified against a hash made with the same parameters."""
    real = passwords.hash_password("whatever-it-is")
    assert passwords._DUMMY_HASH.split("$")[3] == real.split("$")[3]  # m=…,t=…,p=…
    assert passwords._DUMMY_HASH.split("$")[1] == "argon2id"


@pytest.mark.parametrize("body", [{}, {"username": "cust_1"}, {"username": "", "password": "hunter2-secret"},
                                  {"username": "x" * 65, "password": "hunter2-secret"},
                                  {"username": 5, "password": ["hunter2-secret"]}])
async def test_malformed_login_bodies_are_422_and_never_echo_the_password(client, body):
    response = await client.post("/api/login", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert "hunter2-secret" not in response.text


async def test_five_failures_lock_the_username_for_the_window(client, accounts, conn):
    for _ in range(5):
        assert (await sign_in(client, "cust_1", "wrong-password")).status_code == 401
    locked = await sign_in(client, "cust_1")  # even the right password
    assert locked.status_code == 429
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    assert locked.json()["error"]["code"] == "too_many_requests"
    assert (await sign_in(client, "staffer")).status_code == 200  # other usernames unaffected
    conn.execute("UPDATE Sign_In_Attempts SET window_start = window_start - interval '16 minutes'")
    assert (await sign_in(client, "cust_1")).status_code == 200  # the window has passed


async def test_a_successful_login_clears_earlier_failures(client, accounts, conn):
    for _ in range(4):
        await sign_in(client, "cust_1", "wrong-password")
    assert (await sign_in(client, "cust_1")).status_code == 200
    for _ in range(4):
        await sign_in(client, "cust_1", "wrong-password")
    assert (await sign_in(client, "cust_1")).status_code == 200


async def test_me_describes_the_signed_in_user(client, accounts):
    response = await client.get("/api/me", headers=await token_of(client, "cust_1"))
    assert response.json() == {"user_id": 1, "username": "cust_1", "role": "customer",
                               "customer_id": accounts["customer_id"], "must_change_password": False}


@pytest.mark.parametrize(("header", "code"), [
    (None, "unauthorized"), ("Basic Y3VzdF8xOng=", "invalid_token"), ("Bearer not.a.jwt", "invalid_token"),
])
async def test_missing_or_malformed_tokens_are_401(client, header, code):
    response = await client.get("/api/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_expired_and_forged_tokens_are_refused(client, accounts):
    expired = tokens.issue_token(TEST_SECRET, user_id=1, role="customer", customer_id=1, version=0,
                                 ttl_seconds=60, now=time.time() - 3600)
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_expired"
    forged = tokens.issue_token("another-secret-that-is-long-enough-000000", user_id=3, role="admin",
                                customer_id=None, version=0, ttl_seconds=60)
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_a_remembered_token_still_expires_on_time_and_only_its_own_text_is_remembered():
    now = time.time()
    token = tokens.issue_token(TEST_SECRET, user_id=7, role="customer", customer_id=3, version=2,
                               ttl_seconds=60, now=now - 59)  # exp: about a second from now
    claims = tokens.decode_token(TEST_SECRET, token)
    assert (claims.user_id, claims.customer_id, claims.version) == (7, 3, 2)
    assert tokens.decode_token(TEST_SECRET, token) == claims  # remembered
    with pytest.raises(tokens.Unauthorized, match="not valid"):  # the same token under another key
        tokens.decode_token("another-secret-that-is-long-enough-000000", token)
    head, payload, signature = token.split(".")
    with pytest.raises(tokens.Unauthorized, match="not valid"):  # another signature on the same claims
        tokens.decode_token(TEST_SECRET, f"{head}.{payload}.{signature[::-1]}")
    time.sleep(max(0.0, int(now - 59) + 60 - time.time()) + 0.05)
    with pytest.raises(tokens.Unauthorized) as expired:
        tokens.decode_token(TEST_SECRET, token)
    assert expired.value.code == "token_expired"


async def test_deactivation_revokes_tokens_within_the_cache_window(settings, accounts, conn):
    async with serve(settings) as first_worker:
        headers = await token_of(first_worker, "cust_1")
        assert (await first_worker.get("/api/me", headers=headers)).status_code == 200
        conn.execute("UPDATE Users SET is_active = false, token_version = token_version + 1 "
                     "WHERE username = 'cust_1'")
        async with serve(settings) as second_worker:  # a worker that has not cached the user yet
            revoked = await second_worker.get("/api/me", headers=headers)
            assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "token_revoked"
        assert (await sign_in(first_worker, "cust_1")).status_code == 401


def test_user_state_cache_forgets_after_its_ttl():
    cache: TtlCache[str] = TtlCache(ttl_seconds=0.05)
    cache.set(1, "active")
    assert cache.get(1) == "active"
    time.sleep(0.06)
    assert cache.get(1) is None


async def test_password_change_revokes_old_tokens_and_clears_must_change(client, accounts, conn):
    conn.execute("UPDATE Users SET must_change_password = true WHERE username = 'cust_1'")
    login = (await sign_in(client, "cust_1")).json()
    assert login["must_change_password"] is True
    old = {"Authorization": f"Bearer {login['access_token']}"}
    changed = await client.post("/api/me/password", headers=old,
                                json={"old_password": PASSWORD, "new_password": "a-new-long-password"})
    assert changed.status_code == 204
    assert (await client.get("/api/me", headers=old)).status_code == 401
    assert (await sign_in(client, "cust_1")).status_code == 401
    fresh = await sign_in(client, "cust_1", "a-new-long-password")
    assert fresh.status_code == 200 and fresh.json()["must_change_password"] is False


async def test_password_change_refuses_a_wrong_old_or_weak_new_password(client, accounts):
    headers = await token_of(client, "cust_1")
    wrong = await client.post("/api/me/password", headers=headers,
                              json={"old_password": "nope-nope", "new_password": "a-new-long-password"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
    weak = await client.post("/api/me/password", headers=headers,
                             json={"old_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422
    assert (await client.get("/api/me", headers=headers)).status_code == 200  # nothing changed


def _role_probes(app: FastAPI) -> None:
    @app.get("/_probe/public")
    async def public(user: OptionalUser) -> dict:
        return {"user": user.username if user else None}

    @app.get("/_probe/any")
    async def anyone(user: AnyUser) -> dict:
        return {"user": user.username}

    @app.get("/_probe/customer")
    async def customer(user: CustomerUser) -> dict:
        return {"customer_id": user.customer_id}

    @app.get("/_probe/staff")
    async def staff(user: StaffUser) -> dict:
        return {"user": user.username}

    @app.get("/_probe/admin")
    async def admin(user: AdminUser) -> dict:
        return {"user": user.username}


async def test_each_role_reaches_exactly_its_routes(settings, accounts):
    expected = {  # route -> status for (anonymous, customer, staff, admin)
        "/_probe/public": (200, 200, 200, 200),
        "/_probe/any": (401, 200, 200, 200),
        "/_probe/customer": (401, 200, 403, 403),
        "/_probe/staff": (401, 403, 200, 200),
        "/_probe/admin": (401, 403, 403, 200),
    }
    async with serve(settings, app_setup=_role_probes) as http:
        callers = [{}] + [await token_of(http, name) for name in ("cust_1", "staffer", "boss")]
        for route, statuses in expected.items():
            got = tuple([(await http.get(route, headers=headers)).status_code for headers in callers])
            assert got == statuses, route


async def test_must_change_password_blocks_everything_but_the_change(settings, accounts, conn):
    conn.execute("UPDATE Users SET must_change_password = true WHERE username = 'staffer'")
    async with serve(settings, app_setup=_role_probes) as http:
        headers = await token_of(http, "staffer")
        blocked = await http.get("/_probe/staff", headers=headers)
        assert blocked.status_code == 403
        assert blocked.json()["error"]["code"] == "password_change_required"
        assert (await http.get("/api/me", headers=headers)).status_code == 200


async def test_a_user_who_must_change_their_password_gets_no_customer_prices(client, accounts, conn):
    conn.execute("UPDATE Users SET must_change_password = true WHERE username = 'cust_1'")
    headers = await token_of(client, "cust_1")
    for path in ("/api/products", "/api/products/1"):
        refused = await client.get(path, headers=headers)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "password_change_required"
    assert (await client.get("/api/products")).status_code == 200  # anonymous callers: list prices


async def test_sign_out_revokes_just_that_token(client, accounts):
    first, second = await token_of(client, "cust_1"), await token_of(client, "cust_1")
    assert (await client.post("/api/logout", headers=first)).status_code == 204
    revoked = await client.get("/api/me", headers=first)
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "token_revoked"
    assert (await client.post("/api/logout", headers=first)).status_code == 401
    assert (await client.get("/api/me", headers=second)).status_code == 200  # the other session goes on
    assert (await client.post("/api/logout")).status_code == 401


async def test_an_admin_made_on_the_command_line_can_sign_in(client, clean_db, monkeypatch):
    from stockline.cli import main

    monkeypatch.setenv("DATABASE_URL", clean_db)
    assert main(["users", "create-admin", "ops", "--password", "a-long-admin-password"]) == 0
    response = await sign_in(client, "ops", "a-long-admin-password")
    assert response.status_code == 200 and response.json()["role"] == "admin"
