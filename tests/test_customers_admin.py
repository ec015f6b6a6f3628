"""Customers and users in the back office, through the real ASGI app: CRUD, filters, role
checks, revocation (password reset, deactivation, role change), and that the last active admin
can never be removed, even by two requests at once."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg.rows import dict_row

from stockline.auth.service import USER_STATE_TTL_SECONDS
from tests.conftest import serve
from tests.ordering_world import PASSWORD, bearer, password_hash
from tests.races import wait_until_blocked

NEW_PASSWORD = "Fresh-Password-42"


@pytest.fixture
async def admin(client, world):
    return await bearer(client, "boss")


@pytest.fixture
def second_admin(conn, world) -> int:
    return conn.execute("INSERT INTO Users (username, password_hash, role) VALUES ('chief', %s, 'admin') "
                        "RETURNING user_id", (password_hash(),)).fetchone()["user_id"]


def count(conn, query: str, *params) -> int:
    return len(conn.execute(query, params).fetchall())


def active_admins(conn) -> list[int]:
    return [r["user_id"] for r in conn.execute(
        "SELECT user_id FROM Users WHERE role = 'admin' AND is_active ORDER BY user_id").fetchall()]


async def login(client, username: str, password: str = PASSWORD):
    return await client.post("/api/login", json={"username": username, "password": password})


# --- role checks ---------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("GET", "/api/admin/customers", None),
    ("POST", "/api/admin/customers", {"name": "Nope"}),
    ("GET", "/api/admin/customers/1", None),
    ("PATCH", "/api/admin/customers/1", {"name": "Nope"}),
    ("DELETE", "/api/admin/customers/2", None),
    ("GET", "/api/admin/users", None),
    ("POST", "/api/admin/users", {"username": "nope", "password": NEW_PASSWORD, "role": "staff"}),
    ("GET", "/api/admin/users/1", None),
    ("POST", "/api/admin/users/1/password", {"new_password": NEW_PASSWORD}),
    ("POST", "/api/admin/users/1/deactivate", None),
    ("POST", "/api/admin/users/1/reactivate", None),
    ("PUT", "/api/admin/users/1/role", {"role": "staff"}),
]


async def test_every_customer_and_user_route_is_for_admins_only(client, world, conn):
    callers = {"anonymous": ({}, 401), "customer": (await bearer(client, "cust_1"), 403),
               "staff": (await bearer(client, "staffer"), 403)}
    before = conn.execute("SELECT * FROM Users ORDER BY user_id").fetchall()
    for method, path, body in ADMIN_ROUTES:
        for who, (headers, status) in callers.items():
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == status, (method, path, who, response.text)
            assert response.json()["error"]["code"] == ("unauthorized" if status == 401 else "forbidden")
    assert conn.execute("SELECT * FROM Users ORDER BY user_id").fetchall() == before
    assert count(conn, "SELECT * FROM Customers") == 2


# --- customers -----------------------------------------------------------------------------

async def test_customers_list_paginates_by_name_with_user_and_order_counts(client, admin, conn):
    conn.execute("INSERT INTO Customers (name, email) VALUES ('Alpha Clinic', 'desk@alpha.example'), "
                 "('Zulu Hospital', 'ward@zulu.example')")
    conn.execute("INSERT INTO Orders (customer_id, user_id, total_amount) VALUES (1, 1, 10)")
    first = (await client.get("/api/admin/customers", params={"limit": 2}, headers=admin)).json()
    assert [c["name"] for c in first["items"]] == ["Alpha Clinic", "First Pharmacy"]
    assert (first["total_items"], first["total_pages"], first["current_page"], first["page_size"]) == (4, 2, 1, 2)
    assert (first["items"][1]["user_count"], first["items"][1]["order_count"]) == (2, 1)
    second = (await client.get("/api/admin/customers", params={"limit": 2, "page": 2}, headers=admin)).json()
    assert [c["name"] for c in second["items"]] == ["Second Pharmacy", "Zulu Hospital"]
    past_the_end = (await client.get("/api/admin/customers", params={"page": 9}, headers=admin)).json()
    assert past_the_end["items"] == [] and past_the_end["total_items"] == 4


@pytest.mark.parametrize(("search", "names"), [
    ("pharm", ["First Pharmacy", "Second Pharmacy"]), ("ZULU.example", ["Zulu Hospital"]),
    ("100%", []), ("  ", ["Alpha Clinic", "First Pharmacy", "Second Pharmacy", "Zulu Hospital"]),
])
async def test_customer_search_matches_name_or_email(client, admin, conn, search, names):
    conn.execute("INSERT INTO Customers (name, email) VALUES ('Alpha Clinic', 'desk@alpha.example'), "
                 "('Zulu Hospital', 'ward@zulu.example')")
    page = (await client.get("/api/admin/customers", params={"search": search}, headers=admin)).json()
    assert [c["name"] for c in page["items"]] == names
    assert page["total_items"] == len(names)


async def test_an_admin_adds_a_customer_and_reads_it_back(client, admin):
    body = {"name": "  Harbour Hospital ", "address": "1 Quay St", "customer_type": "hospital",
            "email": "buyer@harbour.example", "phone": "+1-555-200-3000"}
    created = await client.post("/api/admin/customers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["name"] == "Harbour Hospital" and customer["customer_type"] == "hospital"
    assert (customer["users"], customer["user_count"], customer["order_count"]) == ([], 0, 0)
    read = (await client.get(f"/api/admin/customers/{customer['customer_id']}", headers=admin)).json()
    assert read == customer


@pytest.mark.parametrize("body", [
    {}, {"name": "   "}, {"name": "X", "customer_type": "vet"}, {"name": "X", "email": "not-an-email"},
    {"name": "X", "phone": "call me"}, {"name": "X", "customer_id": 9}, {"name": "x" * 201},
])
async def test_invalid_customers_are_422_and_nothing_is_added(client, admin, conn, body):
    response = await client.post("/api/admin/customers", json=body, headers=admin)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert count(conn, "SELECT * FROM Customers") == 2


async def test_a_customer_is_read_with_its_users_and_never_a_password_hash(client, admin):
    response = await client.get("/api/admin/customers/1", headers=admin)
    customer = response.json()
    assert customer["name"] == "First Pharmacy"
    assert [(u["username"], u["role"], u["customer_name"]) for u in customer["users"]] == [
        ("cust_1", "customer", "First Pharmacy"), ("cust_1b", "customer", "First Pharmacy")]
    assert "password_hash" not in response.text and "$argon2" not in response.text
    missing = await client.get("/api/admin/customers/99", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No customer 99"
    assert (await client.get("/api/admin/customers/0", headers=admin)).status_code == 422


async def test_patch_changes_only_the_fields_sent_and_null_clears_optional_ones(client, admin, conn):
    conn.execute("UPDATE Customers SET email = 'old@first.example', phone = '555 0100' WHERE customer_id = 1")
    changed = await client.patch("/api/admin/customers/1", json={"customer_type": "clinic", "email": None},
                                 headers=admin)
    assert changed.status_code == 200, changed.text
    customer = changed.json()
    assert (customer["name"], customer["customer_type"], customer["email"], customer["phone"]) == \
        ("First Pharmacy", "clinic", None, "555 0100")


@pytest.mark.parametrize("body", [{"name": None}, {"customer_type": None}, {"customer_type": "shop"},
                                  {"email": "nope"}, {"name": ""}, {"created_at": "2020-01-01"}])
async def test_invalid_patches_are_422_and_change_nothing(client, admin, conn, body):
    before = conn.execute("SELECT * FROM Customers WHERE customer_id = 1").fetchone()
    response = await client.patch("/api/admin/customers/1", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert conn.execute("SELECT * FROM Customers WHERE customer_id = 1").fetchone() == before


async def test_patching_an_unknown_customer_is_404(client, admin):
    response = await client.patch("/api/admin/customers/99", json={"name": "Ghost"}, headers=admin)
    assert response.status_code == 404


async def test_a_customer_with_users_or_orders_cannot_be_deleted(client, admin, conn):
    with_users = await client.delete("/api/admin/customers/1", headers=admin)
    assert with_users.status_code == 409
    error = with_users.json()["error"]
    assert error["code"] == "customer_in_use" and error["details"] == {"order_count": 0, "user_count": 2}
    assert "2 users" in error["message"]
    orphan = conn.execute("INSERT INTO Customers (name) VALUES ('Old Account') RETURNING customer_id"
                          ).fetchone()["customer_id"]
    conn.execute("INSERT INTO Orders (customer_id, total_amount) VALUES (%s, 5)", (orphan,))
    with_orders = await client.delete(f"/api/admin/customers/{orphan}", headers=admin)
    assert with_orders.status_code == 409 and "1 order" in with_orders.json()["error"]["message"]
    assert count(conn, "SELECT * FROM Customers") == 3


async def test_deleting_a_customer_without_users_or_orders_takes_its_rules_too(client, admin, conn):
    gone = conn.execute("INSERT INTO Customers (name) VALUES ('Short Lived') RETURNING customer_id"
                        ).fetchone()["customer_id"]
    conn.execute("INSERT INTO Pricing_Rules (sku_id, customer_id, min_quantity, discount_percentage) "
                 "VALUES (1, %s, 1, 50)", (gone,))
    response = await client.delete(f"/api/admin/customers/{gone}", headers=admin)
    assert response.status_code == 204
    assert count(conn, "SELECT * FROM Customers WHERE customer_id = %s", gone) == 0
    assert count(conn, "SELECT * FROM Pricing_Rules WHERE customer_id = %s", gone) == 0
    assert count(conn, "SELECT * FROM Pricing_Rules") == 2  # the others stay
    assert (await client.delete(f"/api/admin/customers/{gone}", headers=admin)).status_code == 404


# --- users: reading ------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "usernames"), [
    ({}, ["boss", "cust_1", "cust_1b", "cust_2", "staffer"]),
    ({"role": "customer"}, ["cust_1", "cust_1b", "cust_2"]),
    ({"customer_id": 1}, ["cust_1", "cust_1b"]),
    ({"active": "false"}, ["cust_1b"]),
    ({"active": "true", "role": "customer"}, ["cust_1", "cust_2"]),
    ({"search": "CUST_1"}, ["cust_1", "cust_1b"]),
    ({"search": "_"}, ["cust_1", "cust_1b", "cust_2"]),  # wildcards are literal
])
async def test_users_list_filters(client, admin, conn, params, usernames):
    conn.execute("UPDATE Users SET is_active = false WHERE username = 'cust_1b'")
    page = (await client.get("/api/admin/users", params=params, headers=admin)).json()
    assert [u["username"] for u in page["items"]] == usernames
    assert page["total_items"] == len(usernames)


async def test_users_list_paginates_and_never_shows_password_hashes(client, admin):
    response = await client.get("/api/admin/users", params={"limit": 2, "page": 2}, headers=admin)
    page = response.json()
    assert [u["username"] for u in page["items"]] == ["cust_1b", "cust_2"]
    assert (page["total_items"], page["total_pages"], page["current_page"]) == (5, 3, 2)
    assert set(page["items"][0]) == {"user_id", "username", "role", "customer_id", "customer_name", "is_active",
                                     "must_change_password", "created_at", "last_login_at", "password_changed_at"}
    assert "$argon2" not in response.text


@pytest.mark.parametrize("params", [{"role": "root"}, {"active": "maybe"}, {"customer_id": 0}, {"limit": 0},
                                    {"page": 0}, {"limit": 201}])
async def test_bad_user_list_filters_are_422(client, admin, params):
    response = await client.get("/api/admin/users", params=params, headers=admin)
    assert response.status_code == 422


async def test_one_user_is_read_by_id(client, admin):
    user = (await client.get("/api/admin/users/1", headers=admin)).json()
    assert (user["username"], user["role"], user["customer_id"], user["customer_name"]) == \
        ("cust_1", "customer", 1, "First Pharmacy")
    assert (await client.get("/api/admin/users/99", headers=admin)).status_code == 404


# --- users: creating -----------------------------------------------------------------------

async def test_an_admin_creates_a_customer_user_who_must_choose_a_password(client, admin, conn):
    created = await client.post("/api/admin/users", headers=admin, json={
        "username": "ward.7@harbour", "password": NEW_PASSWORD, "role": "customer", "customer_id": 2})
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["username"], user["role"], user["customer_id"], user["must_change_password"]) == \
        ("ward.7@harbour", "customer", 2, True)
    assert "$argon2" not in created.text and NEW_PASSWORD not in created.text
    signed_in = await login(client, "WARD.7@harbour", NEW_PASSWORD)
    assert signed_in.status_code == 200 and signed_in.json()["must_change_password"] is True
    stored = conn.execute("SELECT password_hash FROM Users WHERE user_id = %s", (user["user_id"],)).fetchone()
    assert stored["password_hash"].startswith("$argon2id$")


async def test_an_admin_creates_staff_and_admins_without_a_customer(client, admin):
    for role in ("staff", "admin"):
        created = await client.post("/api/admin/users", headers=admin, json={
            "username": f"new_{role}", "password": NEW_PASSWORD, "role": role, "must_change_password": False})
        assert created.status_code == 201, created.text
        assert (created.json()["role"], created.json()["customer_id"]) == (role, None)
        assert (await login(client, f"new_{role}", NEW_PASSWORD)).json()["role"] == role


@pytest.mark.parametrize(("body", "code"), [
    ({"username": "lonely", "role": "customer"}, "customer_required"),
    ({"username": "lonely"}, "customer_required"),  # the default role is customer
    ({"username": "mixed", "role": "staff", "customer_id": 1}, "customer_not_allowed"),
    ({"username": "ghost", "role": "customer", "customer_id": 99}, "unknown_customer"),
    ({"username": "ab", "role": "staff"}, "invalid_username"),
    ({"username": "has space", "role": "staff"}, "invalid_username"),
    ({"username": "x" * 65, "role": "staff"}, "invalid_username"),
    ({"username": "okname", "role": "staff", "password": "short"}, "validation_error"),
    ({"username": "okname", "role": "root"}, "validation_error"),
    ({"username": "okname", "role": "staff", "is_active": False}, "validation_error"),
])
async def test_invalid_users_are_422_with_a_clear_code_and_nothing_is_created(client, admin, conn, body, code):
    response = await client.post("/api/admin/users", headers=admin, json={"password": NEW_PASSWORD} | body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert count(conn, "SELECT * FROM Users") == 5


async def test_a_taken_username_is_409_whatever_its_case(client, admin, conn):
    response = await client.post("/api/admin/users", headers=admin,
                                 json={"username": "Cust_1", "password": NEW_PASSWORD, "role": "staff"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "username_taken" and error["details"] == {"username": "Cust_1"}
    assert "Cust_1" in error["message"]
    assert count(conn, "SELECT * FROM Users") == 5


# --- users: password reset, deactivation, roles --------------------------------------------

async def test_a_password_reset_revokes_tokens_and_forces_a_change(client, admin):
    old_token = await bearer(client, "cust_1")
    reset = await client.post("/api/admin/users/1/password", json={"new_password": NEW_PASSWORD}, headers=admin)
    assert reset.status_code == 200 and reset.json()["must_change_password"] is True
    refused = await client.get("/api/me", headers=old_token)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
    assert (await login(client, "cust_1")).status_code == 401
    fresh = await login(client, "cust_1", NEW_PASSWORD)
    assert fresh.status_code == 200 and fresh.json()["must_change_password"] is True
    headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    blocked = await client.get("/api/cart", headers=headers)
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "password_change_required"


async def test_a_weak_reset_password_is_422_and_changes_nothing(client, admin, conn):
    before = conn.execute("SELECT * FROM Users WHERE user_id = 1").fetchone()
    for body in ({"new_password": "short"}, {"new_password": "        "}, {}):
        response = await client.post("/api/admin/users/1/password", json=body, headers=admin)
        assert response.status_code == 422
    assert conn.execute("SELECT * FROM Users WHERE user_id = 1").fetchone() == before
    missing = await client.post("/api/admin/users/99/password", json={"new_password": NEW_PASSWORD}, headers=admin)
    assert missing.status_code == 404


async def test_deactivation_stops_sign_in_and_the_token_at_once_in_this_worker(client, admin, conn):
    token = await bearer(client, "cust_1")
    assert (await client.get("/api/me", headers=token)).status_code == 200  # cached as active
    deactivated = await client.post("/api/admin/users/1/deactivate", headers=admin)
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    refused = await client.get("/api/cart", headers=token)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
    assert (await login(client, "cust_1")).status_code == 401
    again = await client.post("/api/admin/users/1/deactivate", headers=admin)  # idempotent
    assert again.status_code == 200
    assert conn.execute("SELECT token_version FROM Users WHERE user_id = 1").fetchone()["token_version"] == 1


async def _refused_within(client, token: dict[str, str], seconds: float) -> float:
    """Polls GET /api/me with `token` until it is refused; how long that took (bounded)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while (await client.get("/api/me", headers=token)).status_code != 401:
        assert loop.time() - started < seconds, f"the token still worked after {seconds:g} s"
        await asyncio.sleep(0.02)
    return loop.time() - started


async def test_a_deactivation_reaches_every_worker_at_once_not_at_the_end_of_their_cache(settings, world):
    """The user's row changing announces it (a trigger's NOTIFY); every worker's listener drops
    the user's cached state, so the old token is refused there long before the cache's TTL."""
    async with serve(settings) as admin_worker, serve(settings) as user_worker:
        token = await bearer(user_worker, "cust_1")
        assert (await user_worker.get("/api/me", headers=token)).status_code == 200  # now cached there
        admin = await bearer(admin_worker, "boss")
        assert (await admin_worker.post("/api/admin/users/1/deactivate", headers=admin)).status_code == 200
        assert (await admin_worker.get("/api/me", headers=token)).status_code == 401
        assert await _refused_within(user_worker, token, USER_STATE_TTL_SECONDS / 3) < USER_STATE_TTL_SECONDS
        refused = await user_worker.get("/api/me", headers=token)
        assert refused.json()["error"]["code"] == "token_revoked"
        assert (await login(user_worker, "cust_1")).status_code == 401


async def test_a_sign_out_on_one_worker_revokes_the_token_on_the_others(settings, world):
    async with serve(settings) as one, serve(settings) as other:
        token = await bearer(one, "cust_2")
        assert (await other.get("/api/me", headers=token)).status_code == 200  # cached there
        assert (await one.post("/api/logout", headers=token)).status_code == 204
        await _refused_within(other, token, USER_STATE_TTL_SECONDS / 3)


async def test_without_the_listener_a_worker_still_drops_a_users_state_within_its_ttl(settings, world):
    """The fallback when notifications cannot arrive: another worker may hold the user as active
    for at most USER_STATE_TTL_SECONDS (well under a minute)."""
    assert USER_STATE_TTL_SECONDS <= 60
    other_worker = []
    async with serve(settings) as admin_worker, \
            serve(settings, app_setup=other_worker.append) as user_worker:
        await other_worker[0].state.context.versions.stop()  # no listener there
        token = await bearer(user_worker, "cust_1")
        assert (await user_worker.get("/api/me", headers=token)).status_code == 200  # now cached there
        admin = await bearer(admin_worker, "boss")
        assert (await admin_worker.post("/api/admin/users/1/deactivate", headers=admin)).status_code == 200
        assert (await user_worker.get("/api/me", headers=token)).status_code == 200  # its cache, for now
        other_worker[0].state.context.user_cache.discard(1)  # what the TTL does at the latest
        refused = await user_worker.get("/api/me", headers=token)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"


async def test_reactivation_lets_them_sign_in_again_but_old_tokens_stay_dead(client, admin):
    token = await bearer(client, "cust_2")
    await client.post("/api/admin/users/3/deactivate", headers=admin)
    reactivated = await client.post("/api/admin/users/3/reactivate", headers=admin)
    assert reactivated.status_code == 200 and reactivated.json()["is_active"] is True
    assert (await client.get("/api/me", headers=token)).status_code == 401
    assert (await login(client, "cust_2")).status_code == 200
    assert (await client.post("/api/admin/users/99/reactivate", headers=admin)).status_code == 404
    assert (await client.post("/api/admin/users/99/deactivate", headers=admin)).status_code == 404


async def test_role_changes_move_users_between_customers_and_staff_and_revoke_tokens(client, admin):
    token = await bearer(client, "cust_1b")
    to_staff = await client.put("/api/admin/users/2/role", json={"role": "staff"}, headers=admin)
    assert to_staff.status_code == 200, to_staff.text
    assert (to_staff.json()["role"], to_staff.json()["customer_id"]) == ("staff", None)
    assert (await client.get("/api/me", headers=token)).status_code == 401
    back = await client.put("/api/admin/users/2/role", json={"role": "customer", "customer_id": 2}, headers=admin)
    assert (back.json()["role"], back.json()["customer_id"], back.json()["customer_name"]) == \
        ("customer", 2, "Second Pharmacy")
    me = await client.get("/api/me", headers=await bearer(client, "cust_1b"))
    assert me.json()["customer_id"] == 2


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"role": "customer"}, 422, "customer_required"),
    ({"role": "admin", "customer_id": 1}, 422, "customer_not_allowed"),
    ({"role": "customer", "customer_id": 99}, 422, "unknown_customer"),
    ({"role": "owner"}, 422, "validation_error"),
    ({}, 422, "validation_error"),
])
async def test_invalid_role_changes_are_refused_and_change_nothing(client, admin, conn, body, status, code):
    before = conn.execute("SELECT * FROM Users WHERE user_id = 4").fetchone()
    response = await client.put("/api/admin/users/4/role", json=body, headers=admin)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert conn.execute("SELECT * FROM Users WHERE user_id = 4").fetchone() == before
    missing = await client.put("/api/admin/users/99/role", json={"role": "staff"}, headers=admin)
    assert missing.status_code == 404


# --- the last active admin -----------------------------------------------------------------

async def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(client, admin, conn):
    for method, path, body in (("POST", "/api/admin/users/5/deactivate", None),
                               ("PUT", "/api/admin/users/5/role", {"role": "staff"}),
                               ("PUT", "/api/admin/users/5/role", {"role": "customer", "customer_id": 1})):
        response = await client.request(method, path, json=body, headers=admin)
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "last_admin" and error["details"] == {"user_id": 5}
        assert "last active admin" in error["message"]
    assert active_admins(conn) == [5]
    assert (await client.get("/api/me", headers=admin)).status_code == 200  # still signed in


async def test_an_admin_may_be_removed_while_another_active_one_remains(client, admin, conn, second_admin):
    conn.execute("INSERT INTO Users (username, password_hash, role, is_active) VALUES ('sleeper', %s, 'admin', false)",
                 (password_hash(),))
    demoted = await client.put(f"/api/admin/users/{second_admin}/role", json={"role": "staff"}, headers=admin)
    assert demoted.status_code == 200 and demoted.json()["role"] == "staff"
    # an inactive admin does not count: boss is now the last active one
    last = await client.post("/api/admin/users/5/deactivate", headers=admin)
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_admin"
    promoted = await client.put(f"/api/admin/users/{second_admin}/role", json={"role": "admin"}, headers=admin)
    assert promoted.status_code == 200
    assert (await client.post("/api/admin/users/5/deactivate", headers=admin)).status_code == 200
    assert active_admins(conn) == [second_admin]


async def test_two_admins_demoting_each_other_at_once_leave_one(client, admin, conn, second_admin):
    chief = await bearer(client, "chief")
    for headers in (admin, chief):  # both signed in and cached before either demotion lands
        assert (await client.get("/api/me", headers=headers)).status_code == 200
    responses = await asyncio.gather(
        client.put(f"/api/admin/users/{second_admin}/role", json={"role": "staff"}, headers=admin),
        client.put("/api/admin/users/5/role", json={"role": "staff"}, headers=chief))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    assert len(active_admins(conn)) == 1


async def test_concurrent_deactivations_of_every_admin_leave_one(client, admin, conn, second_admin):
    third = conn.execute("INSERT INTO Users (username, password_hash, role) VALUES ('head', %s, 'admin') "
                         "RETURNING user_id", (password_hash(),)).fetchone()["user_id"]
    assert (await client.get("/api/me", headers=admin)).status_code == 200
    responses = await asyncio.gather(*(client.post(f"/api/admin/users/{user_id}/deactivate", headers=admin)
                                       for user_id in (5, second_admin, third)))
    assert sorted(r.status_code for r in responses) == [200, 200, 409]
    assert len(active_admins(conn)) == 1


async def test_a_demotion_waits_for_one_in_flight_and_then_sees_it(client, admin, conn, clean_db, second_admin):
    """Deterministic form of the race: another transaction has demoted admin 5 but not yet
    committed. Demoting the other admin must wait for it, then see one admin left, and refuse."""
    with psycopg.connect(clean_db, autocommit=True, row_factory=dict_row) as rival:
        with rival.transaction():
            rival.execute("SELECT user_id FROM Users WHERE role = 'admin' AND is_active ORDER BY user_id FOR UPDATE")
            rival.execute("UPDATE Users SET role = 'staff' WHERE user_id = 5")
            demotion = asyncio.create_task(client.put(f"/api/admin/users/{second_admin}/role",
                                                      json={"role": "staff"}, headers=admin))
            await wait_until_blocked(clean_db, rival.info.backend_pid, demotion)
        response = await demotion
    assert response.status_code == 409 and response.json()["error"]["code"] == "last_admin"
    assert active_admins(conn) == [second_admin]
