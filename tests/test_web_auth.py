"""The web UI's sign-in, session cookie, CSRF, redirects and error pages, over HTTP; and the
sign-in page in a real browser."""

from __future__ import annotations

from tests.ordering_world import PASSWORD
from tests.web_support import HTML, csrf_of, screenshot, sign_in, sign_in_by_form


async def test_anonymous_pages_redirect_to_sign_in_and_back(client, world):
    response = await client.get("/account/password?x=1", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%2Fpassword%3Fx%3D1"
    assert (await client.get("/", headers=HTML)).headers["location"] == "/login"


async def test_sign_in_sets_an_httponly_lax_cookie_and_goes_home(client, world):
    login = await client.get("/login", headers=HTML)
    assert login.status_code == 200 and 'name="csrf_token"' in login.text
    response = await client.post("/login", data={"username": "cust_1", "password": PASSWORD,
                                                 "csrf_token": csrf_of(login.text), "next": "/orders"})
    assert response.status_code == 303 and response.headers["location"] == "/orders"
    session = next(h for h in response.headers.get_list("set-cookie") if h.startswith("stockline_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    assert (await client.get("/", headers=HTML)).headers["location"] == "/catalog"


async def test_sign_in_refuses_a_foreign_next_target(client, world):
    login = await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"username": "staffer", "password": PASSWORD,
                                                 "csrf_token": csrf_of(login.text),
                                                 "next": "//evil.example/steal"})
    assert response.headers["location"] == "/staff"


async def test_wrong_password_shows_the_form_again_with_a_message(client, world):
    login = await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"username": "cust_1", "password": "nope",
                                                 "csrf_token": csrf_of(login.text)})
    assert response.status_code == 401
    assert "Invalid username or password" in response.text and 'value="cust_1"' in response.text
    assert "stockline_session" not in response.headers.get("set-cookie", "")


async def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(client, world):
    await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"username": "cust_1", "password": PASSWORD}, headers=HTML)
    assert response.status_code == 403 and "did not come from Stockline" in response.text
    assert "stockline_session" not in response.headers.get("set-cookie", "")
    response = await client.post("/login", data={"username": "cust_1", "password": PASSWORD,
                                                 "csrf_token": "forged"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"


async def test_csrf_token_is_rotated_at_sign_in(client, world):
    login = await client.get("/login", headers=HTML)
    before = csrf_of(login.text)
    after = await sign_in_by_form(client, "cust_1", PASSWORD)
    assert before != after


async def test_the_api_accepts_the_session_cookie_but_unsafe_calls_need_the_csrf_header(client, world):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    assert (await client.get("/api/me")).json()["username"] == "cust_1"
    refused = await client.post("/api/cart", json={"sku_id": 3, "quantity": 1})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert (await client.get("/api/cart")).json()["items"] == []
    accepted = await client.post("/api/cart", json={"sku_id": 3, "quantity": 1}, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 200 and len(accepted.json()["items"]) == 1


async def test_sign_out_ends_the_session(client, world):
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    response = await client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await client.get("/orders", headers=HTML)).status_code == 303
    assert (await client.get("/api/me")).status_code == 401


async def test_sign_out_revokes_the_token_the_cookie_carried(client, world):
    """A copy of the cookie (a shared computer's browser profile, a stolen cookie) is dead too."""
    csrf = await sign_in_by_form(client, "cust_1", PASSWORD)
    token = next(cookie.value for cookie in client.cookies.jar if cookie.name.endswith("stockline_session"))
    copied = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/me", headers=copied)).status_code == 200
    await client.post("/logout", data={"csrf_token": csrf})
    after = await client.get("/api/me", headers=copied)
    assert after.status_code == 401 and after.json()["error"]["code"] == "token_revoked"


async def test_a_revoked_session_is_sent_back_to_sign_in(client, world, conn):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    conn.execute("UPDATE Users SET token_version = token_version + 1 WHERE username = 'cust_1'")
    client._transport.app.state.context.user_cache.discard(1)
    response = await client.get("/catalog", headers=HTML)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    assert 'stockline_session=""' in response.headers["set-cookie"]


async def test_forced_password_change(client, world, conn):
    conn.execute("UPDATE Users SET must_change_password = true WHERE username = 'cust_2'")
    login = await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"username": "cust_2", "password": PASSWORD,
                                                 "csrf_token": csrf_of(login.text)})
    assert response.headers["location"] == "/account/password"
    assert (await client.get("/orders", headers=HTML)).headers["location"] == "/account/password"
    page = await client.get("/account/password", headers=HTML)
    csrf = csrf_of(page.text)
    mismatch = await client.post("/account/password", data={
        "csrf_token": csrf, "old_password": PASSWORD, "new_password": "a-new-secret-1",
        "repeat_password": "another-one-2"})
    assert mismatch.status_code == 400 and "differ" in mismatch.text
    changed = await client.post("/account/password", data={
        "csrf_token": csrf, "old_password": PASSWORD, "new_password": "a-new-secret-1",
        "repeat_password": "a-new-secret-1"})
    assert changed.status_code == 303 and changed.headers["location"] == "/catalog"
    assert (await client.get("/api/me")).json()["must_change_password"] is False
    row = conn.execute("SELECT must_change_password FROM Users WHERE username = 'cust_2'").fetchone()
    assert row["must_change_password"] is False


async def test_pages_answer_html_errors_and_the_api_keeps_json(client, world):
    await sign_in_by_form(client, "cust_1", PASSWORD)
    forbidden = await client.get("/staff", headers=HTML)
    assert forbidden.status_code == 403 and "text/html" in forbidden.headers["content-type"]
    assert "Not allowed" in forbidden.text
    missing = await client.get("/no-such-page", headers=HTML)
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert (await client.get("/api/nothing-here", headers=HTML)).json()["error"]["code"] == "not_found"


def test_sign_in_in_a_browser(world, live_url, page):
    page.goto(f"{live_url}/login")
    screenshot(page, "sign-in")
    page.get_by_label("Username").fill("cust_1")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Invalid username or password"
    sign_in(page, live_url, "cust_1", PASSWORD)
    assert page.url.endswith("/catalog")
    page.get_by_role("button", name="Sign out").click()
    assert "/login" in page.url and page.get_by_role("status").inner_text() == "You are signed out."


async def test_the_cookies_are_secure_when_served_over_https(settings, world):
    from tests.conftest import serve

    async with serve(settings) as client:
        client.base_url = "https://stockline.test"
        login = await client.get("/login", headers=HTML)
        assert "Secure" in login.headers["set-cookie"]  # the CSRF cookie
        response = await client.post("/login", data={"username": "cust_1", "password": PASSWORD,
                                                     "csrf_token": csrf_of(login.text)})
        cookies = response.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("__Host-stockline_session="))
        assert "Secure" in session and "HttpOnly" in session


async def test_repeated_failures_lock_the_sign_in_form_too(client, world):
    login = await client.get("/login", headers=HTML)
    form = {"username": "cust_1", "password": "wrong", "csrf_token": csrf_of(login.text)}
    for _ in range(5):
        assert (await client.post("/login", data=form)).status_code == 401
    locked = await client.post("/login", data=form | {"password": PASSWORD})
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    assert "stockline_session" not in locked.headers.get("set-cookie", "")
