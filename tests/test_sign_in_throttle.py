"""Password guessing held back without being turned against the user (issue 15). Each of
these failed on the per-username lockout that counted failures after the hash."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx

from tests.conftest import serve
from tests.test_auth import PASSWORD, accounts  # noqa: F401 - the fixture

WRONG = "not-the-password"


@asynccontextmanager
async def clients(settings, *addresses: str):
    """One app, seen from several client addresses (an httpx client each)."""
    async with serve(settings) as first:
        app = first._transport.app
        made = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                                  base_url="http://stockline.test") for address in addresses]
        try:
            yield made
        finally:
            for client in made:
                await client.aclose()


async def sign_in(client, username: str, password: str = PASSWORD, headers=None):
    return await client.post("/api/login", json={"username": username, "password": password},
                             headers=headers)


def statuses(answers) -> list[int]:
    return [answer.status_code for answer in answers]


async def test_a_race_of_wrong_passwords_gets_exactly_the_limit_of_guesses(settings, accounts):  # noqa: F811
    async with clients(settings, "127.0.0.2") as (attacker,):
        answers = await asyncio.gather(*(sign_in(attacker, "cust_1", WRONG) for _ in range(40)))
    assert statuses(answers).count(401) == settings.login_user_limit  # each 401 was a real guess
    assert statuses(answers).count(429) == 40 - settings.login_user_limit
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert 0 < int(refused.headers["Retry-After"]) <= settings.login_window_seconds
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert refused.json()["error"]["details"]["limit"] == "user"


async def test_a_strangers_failures_do_not_lock_the_real_user_out(settings, accounts):  # noqa: F811
    async with clients(settings, "127.0.0.2", "127.0.0.3") as (attacker, owner):
        for _ in range(settings.login_user_limit + 3):
            await sign_in(attacker, "cust_1", WRONG)
        assert (await sign_in(attacker, "cust_1")).status_code == 429  # that address is held back
        assert (await sign_in(owner, "cust_1")).status_code == 200  # the user, from their desk


async def test_one_password_sprayed_over_many_usernames_is_held_back(settings, accounts):  # noqa: F811
    limited = settings.with_overrides(login_client_limit=8)
    async with clients(limited, "127.0.0.4", "127.0.0.5") as (sprayer, other):
        answers = [await sign_in(sprayer, name, WRONG) for name in
                   ["cust_1", "staffer", "boss"] + [f"user_{n}" for n in range(9)]]
        assert statuses(answers) == [401] * 8 + [429] * 4
        assert answers[-1].json()["error"]["details"]["limit"] == "client"
        assert (await sign_in(sprayer, "cust_1")).status_code == 429  # even a right password, from there
        assert (await sign_in(other, "cust_1")).status_code == 200


async def test_a_concurrent_spray_overshoots_by_at_most_the_hashing_slots(settings, accounts):  # noqa: F811
    """The client's failures are read, not locked (no shared row for sign-ins to queue on):
    what can slip through is the failures whose hash was running, one per slot."""
    limited = settings.with_overrides(login_client_limit=8)
    async with clients(limited, "127.0.0.6") as (sprayer,):
        answers = await asyncio.gather(*(sign_in(sprayer, f"user_{n}", WRONG) for n in range(40)))
    guesses = statuses(answers).count(401)
    assert 8 <= guesses <= 8 + limited.hash_concurrency
    assert statuses(answers).count(429) == 40 - guesses


async def test_the_global_ceiling_holds_back_a_distributed_attack(settings, accounts):  # noqa: F811
    limited = settings.with_overrides(login_global_limit=6)
    async with clients(limited, *(f"127.0.1.{n}" for n in range(1, 9))) as attackers:
        answers = [await sign_in(client, "cust_1", WRONG) for client in attackers]
    assert statuses(answers) == [401] * 6 + [429] * 2
    assert answers[-1].json()["error"]["details"]["limit"] == "global"


async def test_a_busy_shared_address_of_real_users_is_never_throttled(settings, accounts):  # noqa: F811
    """A hospital behind one NAT address: successes count against nothing."""
    limited = settings.with_overrides(login_client_limit=3, login_user_limit=3)
    async with clients(limited, "127.0.0.7") as (ward,):
        for _ in range(10):
            assert (await sign_in(ward, "cust_1")).status_code == 200
            assert (await sign_in(ward, "staffer")).status_code == 200
        assert statuses([await sign_in(ward, "cust_1", WRONG) for _ in range(2)]) == [401, 401]
        assert (await sign_in(ward, "cust_1")).status_code == 200  # a success resets the user's count
        assert statuses([await sign_in(ward, "cust_1", WRONG) for _ in range(2)]) == [401, 429]


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(settings, accounts):  # noqa: F811
    async with clients(settings, "127.0.0.8") as (untrusted,):
        for _ in range(settings.login_user_limit):
            await sign_in(untrusted, "cust_1", WRONG, headers={"X-Forwarded-For": "10.9.8.7"})
        # a forged header changes nothing: the peer's own address is the one held back
        assert (await sign_in(untrusted, "cust_1", headers={"X-Forwarded-For": "10.1.1.1"})).status_code == 429
    proxied = settings.with_overrides(trusted_proxies=("127.0.0.9",))
    async with clients(proxied, "127.0.0.9") as (proxy,):
        for _ in range(settings.login_user_limit):
            await sign_in(proxy, "staffer", WRONG, headers={"X-Forwarded-For": "10.0.0.1"})
        assert (await sign_in(proxy, "staffer", headers={"X-Forwarded-For": "10.0.0.1"})).status_code == 429
        assert (await sign_in(proxy, "staffer", headers={"X-Forwarded-For": "10.0.0.2"})).status_code == 200


async def test_wrong_old_passwords_are_throttled_like_failed_sign_ins(settings, accounts):  # noqa: F811
    async with clients(settings, "127.0.0.10") as (browser,):
        token = (await sign_in(browser, "cust_1")).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        answers = await asyncio.gather(*(
            browser.post("/api/me/password", headers=headers,
                         json={"old_password": f"guess-{n}-x", "new_password": "Another@Pass1"})
            for n in range(settings.login_user_limit + 5)))
        assert sorted(statuses(answers)) == [403] * settings.login_user_limit + [429] * 5
        right = await browser.post("/api/me/password", headers=headers,
                                   json={"old_password": PASSWORD, "new_password": "Another@Pass1"})
        assert right.status_code == 429  # held back for the window, even with the right one


async def test_password_checks_are_bounded_per_worker(settings, accounts):  # noqa: F811
    """With every hashing slot taken, a sign-in waits HASH_WAIT_SECONDS at most, then gets
    503 busy_retry with Retry-After; once a slot is free it is answered as usual."""
    tight = settings.with_overrides(hash_concurrency=1, hash_wait_seconds=0)
    async with clients(tight, "127.0.2.1") as (client,):
        async with client._transport.app.state.context.hashing.slot():  # another check is hashing
            busy = await asyncio.gather(*(sign_in(client, "cust_1", WRONG) for _ in range(3)))
        after = await sign_in(client, "cust_1", WRONG)
    assert statuses(busy) == [503] * 3
    assert busy[0].headers["Retry-After"] == "1" and busy[0].json()["error"]["code"] == "busy_retry"
    assert after.status_code == 401
