"""Sign-in throttling that can be neither raced nor turned against the user (issue 15):
each of these fails on the per-username lockout that counted failures after the hash."""

from __future__ import annotations

import asyncio
import ipaddress
from contextlib import asynccontextmanager

import httpx

from tests.conftest import serve
from tests.test_auth import PASSWORD, accounts  # noqa: F401 - the fixture

WRONG = "not-the-password"


@asynccontextmanager
async def clients(settings, *addresses: str):
    """One app, seen from several client addresses (each an httpx client on the same app)."""
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


async def test_a_race_of_wrong_passwords_gets_exactly_the_limit_of_guesses(settings, accounts):  # noqa: F811
    async with clients(settings, "127.0.0.2") as (attacker,):
        answers = await asyncio.gather(*(sign_in(attacker, "cust_1", WRONG) for _ in range(40)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(401) == settings.login_user_limit  # each 401 was a real guess
    assert statuses.count(429) == 40 - settings.login_user_limit
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "too_many_requests"


async def test_a_strangers_failures_do_not_lock_the_real_user_out(settings, accounts):  # noqa: F811
    async with clients(settings, "127.0.0.2", "127.0.0.3") as (attacker, owner):
        for _ in range(settings.login_user_limit + 3):
            await sign_in(attacker, "cust_1", WRONG)
        assert (await sign_in(attacker, "cust_1")).status_code == 429  # that address is held back
        assert (await sign_in(owner, "cust_1")).status_code == 200  # the user, from their desk


async def test_one_password_sprayed_over_many_usernames_is_held_back(settings, accounts):  # noqa: F811
    limited = settings.with_overrides(login_client_limit=8)
    async with clients(limited, "127.0.0.4", "127.0.0.5") as (sprayer, other):
        answers = [await sign_in(sprayer, f"user_{n}", WRONG) for n in range(12)]
        assert [a.status_code for a in answers] == [401] * 8 + [429] * 4
        assert answers[-1].json()["error"]["details"]["limit"] == "client"
        assert (await sign_in(other, "cust_1")).status_code == 200


async def test_the_global_ceiling_holds_back_a_distributed_attack(settings, accounts):  # noqa: F811
    limited = settings.with_overrides(login_global_limit=6)
    addresses = [f"127.0.1.{n}" for n in range(1, 9)]
    async with clients(limited, *addresses) as attackers:
        answers = [await sign_in(client, "cust_1", WRONG) for client in attackers]
    assert [a.status_code for a in answers] == [401] * 6 + [429] * 2
    assert answers[-1].json()["error"]["details"]["limit"] == "global"


async def test_a_success_gives_its_attempt_back(settings, accounts):  # noqa: F811
    """A shared address full of real users (a hospital's NAT) is never throttled."""
    limited = settings.with_overrides(login_client_limit=3, login_user_limit=3)
    async with clients(limited, "127.0.0.6") as (ward,):
        for _ in range(10):
            assert (await sign_in(ward, "cust_1")).status_code == 200
            assert (await sign_in(ward, "staffer")).status_code == 200


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(settings, accounts):  # noqa: F811
    forged = {"X-Forwarded-For": "10.9.8.7"}
    async with clients(settings, "127.0.0.7") as (untrusted,):
        for _ in range(settings.login_user_limit):
            await sign_in(untrusted, "cust_1", WRONG, headers=forged)
        # a forged header changes nothing: the peer's own address is the one held back
        assert (await sign_in(untrusted, "cust_1", headers={"X-Forwarded-For": "10.1.1.1"})).status_code == 429
    proxied = settings.with_overrides(trusted_proxies=(ipaddress.ip_network("127.0.0.8/32"),))
    async with clients(proxied, "127.0.0.8") as (proxy,):
        for _ in range(settings.login_user_limit):
            await sign_in(proxy, "staffer", WRONG, headers={"X-Forwarded-For": "10.0.0.1"})
        assert (await sign_in(proxy, "staffer", headers={"X-Forwarded-For": "10.0.0.1"})).status_code == 429
        assert (await sign_in(proxy, "staffer", headers={"X-Forwarded-For": "10.0.0.2"})).status_code == 200


async def test_wrong_old_passwords_count_like_failed_sign_ins(settings, accounts):  # noqa: F811
    async with clients(settings, "127.0.0.9") as (browser,):
        token = (await sign_in(browser, "cust_1")).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        answers = [await browser.post("/api/me/password", headers=headers,
                                      json={"old_password": f"guess-{n}-x", "new_password": "Another@Pass1"})
                   for n in range(settings.login_user_limit + 2)]
    assert [a.status_code for a in answers] == [403] * settings.login_user_limit + [429, 429]


async def test_hashing_is_bounded_per_worker(settings, accounts):  # noqa: F811
    """With every hashing slot taken, a sign-in waits HASH_WAIT_SECONDS at most, then gets
    503 busy_retry with Retry-After; once a slot is free it is answered as usual."""
    tight = settings.with_overrides(hash_concurrency=1, hash_wait_seconds=0.0)
    async with clients(tight, "127.0.2.1") as (client,):
        slots = client._transport.app.state.context.hashing._slots
        await slots.acquire()  # another sign-in is hashing
        busy = await asyncio.gather(*(sign_in(client, "cust_1", WRONG) for _ in range(3)))
        slots.release()
        after = await sign_in(client, "cust_1", WRONG)
    assert [a.status_code for a in busy] == [503] * 3
    assert busy[0].headers["Retry-After"] == "1" and busy[0].json()["error"]["code"] == "busy_retry"
    assert after.status_code == 401
