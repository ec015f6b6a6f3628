"""Password guessing against `stockline serve --workers 2` in production mode: the abuse
cases of issue 15, each as counts and times.

    .venv/bin/python bench/sign_in.py [--server-url URL] [--customers 500]

A fresh database on the embedded server (or the server of --server-url) gets an admin and
`--customers` customers with logins; the server runs with its default limits. Clients come
from distinct loopback addresses (127.0.0.0/8 is all loopback), so the per-address limits
see different callers.

1. race: 60 concurrent wrong passwords for `admin` from one address: how many were checked
   (401) and how many refused (429); the limit is LOGIN_USER_LIMIT (5).
2. weapon: then the right password from another address: the admin must get in.
3. spray: one address tries one password on 100 usernames: checks before 429
   (LOGIN_CLIENT_LIMIT, 30; the overshoot is at most the hashing slots).
4. flood: 200 wrong sign-ins at once, each from its own address: statuses, how long the
   server took, a real sign-in's time during it, and the catalog's (bounded hashing leaves
   the rest of the app its cores).
5. morning: every customer signs in at once (64 in flight) from one address: all 200?
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from harness import create_database, drop_database, say, start_server, stop_server

from stockline import db
from stockline.accounts.service import create_customer_logins
from stockline.auth.passwords import hash_password
from stockline.config import SeedSettings, Settings
from stockline.seeding.service import run_seed

PASSWORD = "Customer@123"
ADMIN_PASSWORD = "Bench-admin-password-1"


def _client(base: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=60)


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post("/api/login", json={"username": username, "password": password})
    return response.status_code, time.perf_counter() - started


async def _fetch(client: httpx.AsyncClient, path: str) -> float:
    started = time.perf_counter()
    response = await client.get(path)
    response.raise_for_status()
    return time.perf_counter() - started


def _p95(times: list[float]) -> float:
    return sorted(times)[int(0.95 * (len(times) - 1))]


def _counts(results) -> str:
    statuses = Counter(status for status, _ in results)
    return ", ".join(f"{count} × {status}" for status, count in sorted(statuses.items()))


async def run(base: str, customers: int) -> None:
    async with _client(base, "127.0.0.2") as attacker:
        race = await asyncio.gather(*(_sign_in(attacker, "admin", f"guess-{n}") for n in range(60)))
    say(f"1. race, 60 concurrent wrong passwords for admin from one address: {_counts(race)}")
    async with _client(base, "127.0.0.3") as desk:
        status, _ = await _sign_in(desk, "admin", ADMIN_PASSWORD)
    say(f"2. weapon, the admin from their own address right after: {status}")
    async with _client(base, "127.0.0.4") as sprayer:
        spray = [await _sign_in(sprayer, f"cust_{n}", "Summer2026!") for n in range(1, 101)]
    checked = next((n for n, (s, _) in enumerate(spray) if s == 429), len(spray))
    say(f"3. spray, one password over 100 usernames from one address: {checked} checked, then 429 "
        f"({_counts(spray)})")
    async with _client(base, "127.0.0.5") as quiet:
        before = [(await _sign_in(quiet, "cust_1", PASSWORD))[1] for _ in range(5)]
        catalog_before = [await _fetch(quiet, "/api/products?limit=20") for _ in range(5)]
        flooders = [_client(base, f"127.0.{2 + n // 250}.{1 + n % 250}") for n in range(200)]
        started = time.perf_counter()
        flood_task = asyncio.gather(*(_sign_in(client, f"nobody_{n}", "wrong-password")
                                      for n, client in enumerate(flooders)))
        await asyncio.sleep(0.2)
        catalog_during = [await _fetch(quiet, "/api/products?limit=20") for _ in range(5)]
        during = await _sign_in(quiet, "cust_2", PASSWORD)
        flood = await flood_task
        took = time.perf_counter() - started
        for client in flooders:
            await client.aclose()
    say(f"4. flood, 200 wrong sign-ins at once from 200 addresses: {_counts(flood)} in {took:.1f} s; "
        f"a real sign-in took {statistics.median(before) * 1000:.0f} ms before, "
        f"{during[1] * 1000:.0f} ms during it (status {during[0]}); the catalog took "
        f"{statistics.median(catalog_before) * 1000:.0f} ms before, "
        f"{statistics.median(catalog_during) * 1000:.0f} ms during it")
    gate = asyncio.Semaphore(64)

    async def one(client, customer_id: int):
        async with gate:
            return await _sign_in(client, f"cust_{customer_id}", PASSWORD)

    async with _client(base, "127.0.0.6") as clinic:
        started = time.perf_counter()
        morning = await asyncio.gather(*(one(clinic, n) for n in range(1, customers + 1)))
        took = time.perf_counter() - started
    say(f"5. morning, {customers} customers sign in at once (64 in flight) from one address: "
        f"{_counts(morning)} in {took:.1f} s, p95 {_p95([t for _, t in morning]) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", help="a PostgreSQL server URL (default: the embedded server)")
    parser.add_argument("--customers", type=int, default=500)
    args = parser.parse_args()
    server_url = args.server_url or db.start_embedded(Settings(env="test",
                                                               data_dir=Path(".stockline").resolve()))
    url = create_database(server_url, "stockline_bench_sign_in")
    server = None
    try:
        with db.connect(url) as conn, open(os.devnull, "w") as quiet:
            db.apply_schema(conn)
            run_seed(conn, SeedSettings(customers=args.customers, products=10, skus=20, batches=40,
                                        pricing_rules=0, orders=0), out=quiet)
            create_customer_logins(conn, password=PASSWORD)
            conn.execute("INSERT INTO Users (username, password_hash, role) VALUES ('admin', %s, 'admin')",
                         (hash_password(ADMIN_PASSWORD),))
        say(f"{args.customers} customers and an admin; serving with 2 workers in production mode")
        log_path = Path(tempfile.gettempdir()) / "stockline-bench-sign-in.log"
        server, base = start_server(url, 2, log_path, {"STOCKLINE_ENV": "production"})
        asyncio.run(run(base, args.customers))
    finally:
        if server is not None:
            stop_server(server)
        drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
