"""Sign-in with an OpenID Connect provider (issue 16 item 3), against a real provider on
localhost (tests/oidc_support.py): POST /api/oauth/{provider}/exchange as PharmAssist's
frontend calls it, the sign-in page's own code + PKCE + state + nonce flow, the identity to
user rules, and the admins' invitations. Authlib is not mocked: every token request, key
fetch and ID token check really happens."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from stockline.config import OidcSettings, Settings
from tests.conftest import serve
from tests.oidc_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    SPA_REDIRECT_URI,
    approve,
    deny,
    running_provider,
    set_user,
    spa_code,
)
from tests.ordering_world import PASSWORD
from tests.web_support import HTML, sign_in_by_form

STALE = {"Authorization": "Bearer not-a-token-any-more"}
# the test provider (its own thread, but the warning filters are the process's) uses an Authlib
# server API that Authlib deprecates; Stockline's client side must stay free of warnings
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture(scope="module")
def issuer() -> str:
    with running_provider() as url:
        yield url


def oidc_settings(settings: Settings, issuer: str, **changes) -> Settings:
    return settings.with_overrides(oidc=OidcSettings(
        issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=SPA_REDIRECT_URI,
        provider_name="Test IdP", admin_domains=frozenset({"admins.example"}),
        staff_emails=frozenset({"stocker@corp.example"}), **changes))


@pytest.fixture
async def client(settings, issuer):
    async with serve(oidc_settings(settings, issuer)) as http:
        yield http


def verifier() -> str:
    return secrets.token_urlsafe(48)[:64]


def person(issuer: str, email: str, *, verified: bool = True, name: str | None = None) -> str:
    """A provider account with this email; its subject is fresh, so tests do not meet."""
    sub = f"{email}.{secrets.token_hex(4)}"
    claims = {"email": email, "email_verified": verified}
    if name:
        claims["name"] = name
    set_user(issuer, sub, **claims)
    return sub


async def exchange(client, issuer: str, sub: str, *, provider: str = "google"):
    code_verifier = verifier()
    code = spa_code(issuer, sub, code_verifier)
    return await client.post(f"/api/oauth/{provider}/exchange", headers=STALE,
                             json={"code": code, "code_verifier": code_verifier})


async def me(client, token: str) -> dict:
    answer = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def admin_token(client) -> dict:
    answer = await client.post("/api/login", json={"username": "boss", "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


# --- the exchange: PharmAssist's frontend --------------------------------------------------------

async def test_an_admin_domain_email_gets_an_admin_token_like_a_password_sign_in(client, issuer, world, conn):
    answer = await exchange(client, issuer, person(issuer, "Ada@Admins.example"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "role", "customer_id",
                         "must_change_password"}
    assert body["role"] == "admin" and body["customer_id"] is None and body["must_change_password"] is False
    assert (await me(client, body["access_token"]))["username"] == "ada@admins.example"
    row = conn.execute("SELECT role, email, password_hash FROM Users WHERE username = 'ada@admins.example'"
                       ).fetchone()
    assert row["email"] == "ada@admins.example" and row["role"] == "admin"
    # no password signs this user in
    refused = await client.post("/api/login", json={"username": "ada@admins.example",
                                                    "password": row["password_hash"]})
    assert refused.status_code == 401
    # a second sign-in is the same user
    again = await exchange(client, issuer, person(issuer, "ada@admins.example"), provider="oidc")
    assert (await me(client, again.json()["access_token"]))["user_id"] == (
        await me(client, body["access_token"]))["user_id"]


async def test_a_staff_allowlisted_email_gets_a_staff_user(client, issuer, world):
    answer = await exchange(client, issuer, person(issuer, "stocker@corp.example"))
    assert answer.status_code == 200 and answer.json()["role"] == "staff"


async def test_a_code_is_redeemed_once(client, issuer, world):
    code_verifier = verifier()
    code = spa_code(issuer, person(issuer, "once@admins.example"), code_verifier)
    body = {"code": code, "code_verifier": code_verifier}
    assert (await client.post("/api/oauth/google/exchange", json=body)).status_code == 200
    replay = await client.post("/api/oauth/google/exchange", json=body)
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "oidc_code_rejected"


async def test_a_wrong_verifier_is_refused_by_the_provider(client, issuer, world):
    code = spa_code(issuer, person(issuer, "pkce@admins.example"), verifier())
    answer = await client.post("/api/oauth/google/exchange", json={"code": code, "code_verifier": verifier()})
    assert answer.status_code == 400
    assert "invalid_grant" in answer.json()["error"]["message"]


async def test_an_unverified_email_is_refused(client, issuer, world, conn):
    answer = await exchange(client, issuer, person(issuer, "boss2@admins.example", verified=False))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "oidc_email_not_verified"
    assert conn.execute("SELECT count(*) AS n FROM Users WHERE email IS NOT NULL").fetchone()["n"] == 0


async def test_an_uninvited_email_is_refused_with_a_clear_message(client, issuer, world, conn):
    answer = await exchange(client, issuer, person(issuer, "stranger@pharmacy.example"))
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "oidc_not_invited" and "invite" in error["message"]
    assert conn.execute("SELECT count(*) AS n FROM Users").fetchone()["n"] == 5


async def test_an_invited_email_becomes_that_customers_user_once(client, issuer, world, conn):
    admin = await admin_token(client)
    invited = await client.post("/api/admin/customers/2/invitations", headers=admin,
                                json={"email": "Nurse@Second.example"})
    assert invited.status_code == 201, invited.text
    assert invited.json()["email"] == "nurse@second.example"
    listed = await client.get("/api/admin/customers/2/invitations", headers=admin)
    assert [i["email"] for i in listed.json()] == ["nurse@second.example"]
    detail = await client.get("/api/admin/customers/2", headers=admin)
    assert [i["email"] for i in detail.json()["invitations"]] == ["nurse@second.example"]

    answer = await exchange(client, issuer, person(issuer, "nurse@second.example"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "customer" and answer.json()["customer_id"] == 2
    assert (await client.get("/api/admin/customers/2/invitations", headers=admin)).json() == []
    token = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    assert (await client.get("/api/my-orders", headers=token)).status_code == 200
    actions = [(row["action"], row["actor_username"]) for row in conn.execute(
        "SELECT action, actor_username FROM Audit_Log ORDER BY audit_id")]
    assert actions == [("invitation.create", "boss"), ("user.create", "nurse@second.example")]
    # inviting someone who already signs in is refused
    again = await client.post("/api/admin/customers/1/invitations", headers=admin,
                              json={"email": "nurse@second.example"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "email_in_use"


async def test_invitations_are_admin_only_one_per_email_and_revocable(client, issuer, world, conn):
    admin = await admin_token(client)
    staff = await client.post("/api/login", json={"username": "staffer", "password": PASSWORD})
    refused = await client.post("/api/admin/customers/1/invitations", json={"email": "a@b.example"},
                                headers={"Authorization": f"Bearer {staff.json()['access_token']}"})
    assert refused.status_code == 403
    made = await client.post("/api/admin/customers/1/invitations", headers=admin, json={"email": "a@b.example"})
    twice = await client.post("/api/admin/customers/2/invitations", headers=admin, json={"email": "A@b.example"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "invitation_exists"
    assert (await client.post("/api/admin/customers/9/invitations", headers=admin,
                              json={"email": "c@d.example"})).status_code == 404
    assert (await client.post("/api/admin/customers/1/invitations", headers=admin,
                              json={"email": "not an email"})).status_code == 422
    invitation_id = made.json()["invitation_id"]
    assert (await client.delete(f"/api/admin/customers/2/invitations/{invitation_id}",
                                headers=admin)).status_code == 404
    assert (await client.delete(f"/api/admin/customers/1/invitations/{invitation_id}",
                                headers=admin)).status_code == 204
    assert (await exchange(client, issuer, person(issuer, "a@b.example"))).status_code == 403
    assert [row["action"] for row in conn.execute("SELECT action FROM Audit_Log ORDER BY audit_id")] == [
        "invitation.create", "invitation.revoke"]


async def test_an_existing_user_is_linked_by_email_and_keeps_role_and_customer(client, issuer, world, conn):
    # PharmAssist's Google users were named by their email
    conn.execute("INSERT INTO Users (customer_id, username, password_hash, role) "
                 "VALUES (1, 'old@pharm.example', 'x', 'customer')")
    answer = await exchange(client, issuer, person(issuer, "OLD@pharm.example"))
    assert answer.status_code == 200 and answer.json()["customer_id"] == 1
    assert conn.execute("SELECT email FROM Users WHERE username = 'old@pharm.example'").fetchone()["email"] == (
        "old@pharm.example")
    # an admin-domain address that already is a customer's user stays one (no silent promotion)
    conn.execute("UPDATE Users SET email = 'cust@admins.example' WHERE username = 'cust_2'")
    kept = await exchange(client, issuer, person(issuer, "cust@admins.example"))
    assert kept.json()["role"] == "customer" and kept.json()["customer_id"] == 2


async def test_a_username_taken_by_someone_else_gets_a_suffix(client, issuer, world, conn):
    conn.execute("INSERT INTO Users (username, password_hash, role, email) "
                 "VALUES ('dup@admins.example', 'x', 'staff', 'someone.else@corp.example')")
    answer = await exchange(client, issuer, person(issuer, "dup@admins.example"))
    assert answer.status_code == 200 and answer.json()["role"] == "admin"
    assert (await me(client, answer.json()["access_token"]))["username"] == "dup@admins.example-2"


async def test_a_user_who_must_change_a_temporary_password_still_must(client, issuer, world, conn):
    conn.execute("UPDATE Users SET email = 'temp@first.example', must_change_password = true "
                 "WHERE username = 'cust_1'")
    answer = await exchange(client, issuer, person(issuer, "temp@first.example"))
    assert answer.status_code == 200 and answer.json()["must_change_password"] is True
    back = approve(await start(client, "/orders"), person(issuer, "temp@first.example"))
    page = await client.get(callback_path(back), headers=HTML)
    assert page.status_code == 303 and page.headers["location"] == "/account/password"


async def test_a_deactivated_user_stays_out(client, issuer, world, conn):
    conn.execute("UPDATE Users SET email = 'gone@admins.example', is_active = false WHERE username = 'boss'")
    answer = await exchange(client, issuer, person(issuer, "gone@admins.example"))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "account_inactive"


async def test_self_made_customer_accounts_only_when_the_setting_allows(settings, issuer, world, conn):
    async with serve(oidc_settings(settings, issuer, auto_create_customers=True)) as http:
        answer = await exchange(http, issuer, person(issuer, "new+shop@pharmacy.example", name="Corner Shop"))
    assert answer.status_code == 200 and answer.json()["role"] == "customer"
    customer = conn.execute("SELECT c.name, c.email, u.username FROM Users u JOIN Customers c USING "
                            "(customer_id) WHERE u.email = 'new+shop@pharmacy.example'").fetchone()
    assert customer == {"name": "Corner Shop", "email": "new+shop@pharmacy.example",
                        "username": "new_shop@pharmacy.example"}


async def test_not_configured_is_a_400_saying_so(settings, world):
    async with serve(settings) as http:
        answer = await http.post("/api/oauth/google/exchange", headers=STALE,
                                 json={"code": "dummy", "code_verifier": "dummy"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "oidc_not_configured"
    assert "not configured" in answer.json()["error"]["message"]


@pytest.mark.parametrize(("body", "status"), [
    ({"code": "dummy", "code_verifier": "dummy"}, 400),  # PharmAssist's T-OAUTH
    ({"code": "dummy", "code_verifier": "a" * 64}, 400),
    ({"code": "\x00", "code_verifier": "b" * 43}, 400),
    ({"code": "dummy"}, 422),
    ({"code": 1, "code_verifier": None}, 422),
    ([], 422),
])
async def test_a_code_that_cannot_be_redeemed_is_a_400_and_a_malformed_body_422(client, world, body, status):
    answer = await client.post("/api/oauth/google/exchange", json=body, headers=STALE)
    assert answer.status_code == status, answer.text


async def test_codes_that_cannot_be_redeemed_count_against_the_address(settings, issuer, world):
    """Each code costs a request to the provider: a client sending bad ones is held back like
    one spraying passwords, while a good code from elsewhere still signs in."""
    limited = oidc_settings(settings.with_overrides(login_client_limit=3), issuer)
    async with serve(limited) as http:
        bad = {"code": "not-a-code", "code_verifier": verifier()}
        answers = [await http.post("/api/oauth/google/exchange", json=bad) for _ in range(5)]
        assert [a.status_code for a in answers] == [400, 400, 400, 429, 429]
        assert answers[-1].json()["error"]["details"]["limit"] == "client"
        elsewhere = httpx.AsyncClient(transport=httpx.ASGITransport(app=http._transport.app,
                                                                    client=("127.0.0.9", 40000)),
                                      base_url="http://stockline.test")
        async with elsewhere:
            assert (await exchange(elsewhere, issuer, person(issuer, "ada@admins.example"))).status_code == 200


async def test_an_unknown_provider_name_is_a_400(client, world):
    answer = await client.post("/api/oauth/github/exchange", json={"code": "x", "code_verifier": "y" * 43})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "oidc_unknown_provider"
    named = await client.post("/api/oauth/test-idp/exchange", json={"code": "x", "code_verifier": "y" * 43})
    assert named.json()["error"]["code"] == "oidc_code_rejected"


async def test_a_provider_that_does_not_answer_is_a_503_not_a_500(settings, world):
    with running_provider() as gone:
        pass  # stopped: nothing listens there any more
    async with serve(oidc_settings(settings, gone)) as http:
        answer = await http.post("/api/oauth/google/exchange", json={"code": "x", "code_verifier": "y" * 43})
        page = await http.get("/login/oidc", headers=HTML)
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "oidc_provider_unavailable"
    assert page.status_code == 503 and "not answering" in page.text


async def test_an_issuer_without_a_discovery_document_is_a_503(settings, issuer, world):
    async with serve(oidc_settings(settings, f"{issuer}/no-such-tenant")) as http:
        answer = await http.post("/api/oauth/google/exchange", json={"code": "x", "code_verifier": "y" * 43})
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "oidc_provider_unavailable"


# --- the sign-in page's own flow -------------------------------------------------------------------

async def start(client, next_page: str | None = None) -> str:
    """The button: GET /login/oidc; the provider's authorization URL it redirects to."""
    answer = await client.get("/login/oidc" + (f"?{urlencode({'next': next_page})}" if next_page else ""),
                              headers=HTML)
    assert answer.status_code == 303, answer.text
    flow = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("stockline_oidc="))
    assert "HttpOnly" in flow and "SameSite=lax" in flow and "Max-Age=600" in flow
    return answer.headers["location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == "/login/oidc/callback" and parts.netloc == "stockline.test"
    return f"{parts.path}?{parts.query}"


async def test_the_sign_in_page_offers_the_provider_and_signs_in_with_it(client, issuer, world):
    login = await client.get("/login", headers=HTML)
    assert "Sign in with Test IdP" in login.text and 'href="/login/oidc"' in login.text
    authorize = await start(client, "/staff/orders")
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{issuer}/oauth2/authorize?")
    assert query["client_id"] == [CLIENT_ID] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://stockline.test/login/oidc/callback"]
    assert {"state", "nonce", "code_challenge"} <= set(query) and query["scope"] == ["openid email profile"]

    back = approve(authorize, person(issuer, "page@admins.example"))
    answer = await client.get(callback_path(back), headers=HTML)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/orders"
    set_cookies = answer.headers.get_list("set-cookie")
    session = next(h for h in set_cookies if h.startswith("stockline_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert any(h.startswith("stockline_csrf=") for h in set_cookies)  # rotated
    assert any(h.startswith("stockline_oidc=") and "Max-Age=0" in h for h in set_cookies)  # used up
    assert (await client.get("/", headers=HTML)).headers["location"] == "/staff"
    # the flow cookie is gone: the same callback again is refused
    again = await client.get(callback_path(back), headers=HTML)
    assert again.status_code == 400


async def test_a_state_that_does_not_match_is_refused(client, issuer, world):
    back = approve(await start(client), person(issuer, "state@admins.example"))
    forged = back.replace("state=", "state=x")
    answer = await client.get(callback_path(forged), headers=HTML)
    assert answer.status_code == 400 and "state does not match" in answer.text
    assert not any(h.startswith("stockline_session=") for h in answer.headers.get_list("set-cookie"))
    assert (await client.get("/", headers=HTML)).headers["location"] == "/login"


async def test_a_callback_in_a_browser_that_did_not_start_the_flow_is_refused(client, settings, issuer, world):
    back = approve(await start(client), person(issuer, "csrf@admins.example"))
    async with serve(oidc_settings(settings, issuer)) as victim:  # another browser, no flow cookie
        answer = await victim.get(callback_path(back), headers=HTML)
    assert answer.status_code == 400 and "not started from this browser" in answer.text


async def test_an_id_token_with_another_nonce_is_refused(client, issuer, world):
    authorize = await start(client)
    swapped = authorize.replace("nonce=", "nonce=replayed")  # the provider signs this nonce in
    back = approve(swapped, person(issuer, "nonce@admins.example"))
    answer = await client.get(callback_path(back), headers=HTML)
    assert answer.status_code == 400 and "ID token did not check out" in answer.text
    assert (await client.get("/", headers=HTML)).headers["location"] == "/login"


async def test_the_page_flow_refuses_the_uninvited_and_never_redirects_off_site(client, issuer, world):
    back = approve(await start(client, "//evil.example/x"), person(issuer, "nobody@pharmacy.example"))
    answer = await client.get(callback_path(back), headers=HTML)
    assert answer.status_code == 403 and "has not been invited" in answer.text
    back = approve(await start(client, "//evil.example/x"), person(issuer, "home@admins.example"))
    answer = await client.get(callback_path(back), headers=HTML)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff"


async def test_the_provider_saying_no_is_shown_on_the_sign_in_page(client, issuer, world):
    authorize = await start(client)
    answer = await client.get(callback_path(deny(authorize)), headers=HTML)
    assert answer.status_code == 400 and "did not sign you in (access_denied)" in answer.text


async def test_without_a_provider_the_page_has_no_button_and_the_flow_says_why(settings, world):
    async with serve(settings) as http:
        assert "Sign in with" not in (await http.get("/login", headers=HTML)).text
        answer = await http.get("/login/oidc", headers=HTML)
    assert answer.status_code == 400 and "not configured" in answer.text


def test_settings_accept_pharmassists_google_names_and_refuse_half_a_configuration():
    google = Settings.from_env({"GOOGLE_OAUTH_CLIENT_ID": "id", "GOOGLE_OAUTH_CLIENT_SECRET": "secret",
                                "GOOGLE_OAUTH_REDIRECT_URI": "http://localhost:3000/login/google/callback",
                                "ADMIN_EMAILS": "Boss@Pharm.example", "ADMIN_EMAIL_DOMAIN": "@corp.example"})
    assert google.oidc is not None
    assert google.oidc.issuer == "https://accounts.google.com" and google.oidc.provider_name == "Google"
    assert google.oidc.admin_emails == {"boss@pharm.example"} and google.oidc.admin_domains == {"corp.example"}
    assert google.oidc.auto_create_customers is False
    assert "secret" not in repr(google.oidc)
    assert Settings.from_env({}).oidc is None
    from stockline.errors import ConfigError

    with pytest.raises(ConfigError, match="missing: OIDC_CLIENT_SECRET"):
        Settings.from_env({"OIDC_ISSUER": "https://id.example", "OIDC_CLIENT_ID": "x"})


async def test_under_pharmassist_compat_the_exchange_errors_are_its_error_strings(settings, world):
    async with serve(settings.with_overrides(pharmassist_compat=True)) as http:
        answer = await http.post("/api/oauth/google/exchange", headers=STALE,
                                 json={"code": "dummy", "code_verifier": "dummy"})  # T-OAUTH
    assert answer.status_code == 400
    assert isinstance(answer.json()["error"], str) and "not configured" in answer.json()["error"]


# --- the staff customer page's invitations, and the whole thing in a browser --------------------

async def test_an_admin_invites_on_the_customer_page_and_the_invited_person_signs_in(client, issuer, world):
    csrf = await sign_in_by_form(client, "boss", PASSWORD)
    page = await client.get("/staff/customers/1", headers=HTML)
    assert page.status_code == 200 and "Email to invite" in page.text and "Test IdP" in page.text
    bad = await client.post("/staff/customers/1/invitations", data={"email": "nobody", "csrf_token": csrf})
    assert bad.status_code == 422 and "Enter the email address to invite" in bad.text
    made = await client.post("/staff/customers/1/invitations", data={"email": "Pharmacist@First.example",
                                                                     "csrf_token": csrf})
    assert made.status_code == 303
    page = await client.get("/staff/customers/1", headers=HTML)
    assert "pharmacist@first.example" in page.text and "Revoke" in page.text
    twice = await client.post("/staff/customers/2/invitations", data={"email": "pharmacist@first.example",
                                                                      "csrf_token": csrf})
    assert twice.status_code == 409 and "invited already" in twice.text
    await client.post("/logout", data={"csrf_token": csrf})

    back = approve(await start(client), person(issuer, "pharmacist@first.example"))
    answer = await client.get(callback_path(back), headers=HTML)
    assert answer.status_code == 303 and answer.headers["location"] == "/catalog"
    assert (await client.get("/catalog", headers=HTML)).status_code == 200


def test_sign_in_with_the_provider_in_a_browser(settings, issuer, world, page):
    from tests.web_support import live_server, screenshot

    sub = person(issuer, "browser@admins.example")
    with live_server(oidc_settings(settings, issuer)) as url:
        page.goto(f"{url}/login")
        page.get_by_role("link", name="Sign in with Test IdP").click()
        page.wait_for_load_state("domcontentloaded")
        assert page.url.startswith(f"{issuer}/oauth2/authorize?")
        page.get_by_placeholder("sub").fill(sub)
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{url}/staff")
        screenshot(page, "oidc-signed-in")
        assert page.get_by_role("button", name="Sign out").is_visible()
