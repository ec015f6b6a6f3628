"""Web page render time on the seed procedure's default data, against a baseline page
measured in the same run.

    .venv/bin/python bench/pages.py [--rounds 30] [--database-url URL]

Creates a fresh database on the embedded server (or uses --database-url, seeding it when
empty) with the default sizes (500 customers, 1,500 SKUs, 8,000 batches), 200 pricing rules
and 2,000 orders, then VACUUM ANALYZE. The app runs in this process (LOG_TIMING=1) and every
main page of the web UI is fetched round after round, pages interleaved so drift hits all
alike; each sample is the server's own time (Server-Timing app;dur), not the client's. The
baseline is the sign-in page: a template and no query. The catalog cache is off, so
catalog pages are computed every time; the dashboard's figures are cached 5 s as in
production, so most of its samples are cached and its max is a computed one.
The goal is every page under 100 ms at p95; the ratio column says what a page costs over
rendering the layout alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import sys

import httpx
from harness import create_database

from stockline import db
from stockline.app import create_app
from stockline.auth.passwords import hash_password
from stockline.config import SeedSettings, Settings, get_settings
from stockline.seeding.service import run_seed

PASSWORD = "Bench-password-1"
BUDGET_MS = 100.0
HTML = {"Accept": "text/html"}


def prepare_database(url: str | None) -> str:
    if url is None:
        url = create_database(db.start_embedded(get_settings()), "stockline_bench_pages")
    with db.connect(url) as conn:
        db.apply_schema(conn)
        if conn.execute("SELECT count(*) FROM Customers").fetchone()[0] == 0:
            print("seeding the default sizes with 200 pricing rules and 2,000 orders ...", flush=True)
            run_seed(conn, SeedSettings(pricing_rules=200, orders=2000, seed=11), out=sys.stderr)
        busiest = conn.execute("SELECT customer_id FROM Orders GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                               ).fetchone()[0]
        password_hash = hash_password(PASSWORD)
        conn.execute("DELETE FROM Users WHERE username IN ('bench_customer', 'bench_admin')")
        conn.execute("INSERT INTO Users (customer_id, username, password_hash, role) VALUES "
                     "(%s, 'bench_customer', %s, 'customer'), (NULL, 'bench_admin', %s, 'admin')",
                     (busiest, password_hash, password_hash))
        conn.execute("VACUUM ANALYZE")
    return url


def ids(url: str) -> dict[str, int]:
    with db.connect(url) as conn:
        row = conn.execute("""
            SELECT (SELECT customer_id FROM Users WHERE username = 'bench_customer') AS customer_id,
                   (SELECT min(sku_id) FROM Product_SKUs WHERE is_active) AS sku_id,
                   (SELECT product_id FROM Product_SKUs GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
                       AS product_id,
                   (SELECT max(batch_id) FROM Inventory_Batches) AS batch_id,
                   (SELECT max(order_id) FROM Orders) AS any_order_id""").fetchone()
        customer_id, sku_id, product_id, batch_id, any_order_id = row
        own_order = conn.execute("SELECT max(order_id) FROM Orders WHERE customer_id = %s",
                                 (customer_id,)).fetchone()[0]
    return {"customer_id": customer_id, "sku_id": sku_id, "product_id": product_id, "batch_id": batch_id,
            "any_order_id": any_order_id, "own_order_id": own_order}


def pages(k: dict[str, int]) -> dict[str, list[tuple[str, str]]]:
    """Pages per signed-in role: (label, path)."""
    return {
        "customer": [
            ("catalog", "/catalog"), ("catalog search", "/catalog?search=para"),
            ("catalog sorted by price", "/catalog?sort=price&quantity=10"),
            ("product", f"/catalog/{k['sku_id']}"), ("cart", "/cart"), ("my orders", "/orders"),
            ("my order", f"/orders/{k['own_order_id']}"), ("quick order", "/quick-order"),
        ],
        "admin": [
            ("dashboard", "/staff"), ("inventory", "/staff/inventory"),
            ("inventory search", "/staff/inventory?search=amox"),
            ("batch", f"/staff/batches/{k['batch_id']}"), ("stock entry", "/staff/inventory/entry"),
            ("products", "/staff/products"), ("staff product", f"/staff/products/{k['product_id']}"),
            ("reports", "/staff/reports"), ("orders", "/staff/orders"),
            ("order", f"/staff/orders/{k['any_order_id']}"), ("pricing", "/staff/pricing"),
            ("customers", "/staff/customers"), ("customer", f"/staff/customers/{k['customer_id']}"),
            ("users", "/staff/users"),
        ],
    }


def server_timing(response: httpx.Response) -> tuple[float, int]:
    """(server milliseconds, database queries) of one response."""
    match = re.search(r'app;dur=([\d.]+).*desc="(\d+) queries"', response.headers.get("server-timing", ""))
    if response.status_code != 200 or match is None:
        raise SystemExit(f"{response.request.url.path}: HTTP {response.status_code} without a timing")
    return float(match.group(1)), int(match.group(2))


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    login = await client.get("/login", headers=HTML)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    response = await client.post("/login", data={"username": username, "password": PASSWORD,
                                                 "csrf_token": token})
    if response.status_code != 303:
        raise SystemExit(f"sign-in as {username} failed: HTTP {response.status_code}")


async def measure(url: str, rounds: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    settings = Settings(env="production", database_url=url, secret_key=secrets.token_urlsafe(48),
                        log_timing=True, db_pool_min=2, db_pool_max=4,
                        cache_ttl_products=0)  # every catalog page computed, not served from cache
    app = create_app(settings)
    samples: dict[str, list[float]] = {}
    queries: dict[str, int] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        clients = {role: httpx.AsyncClient(transport=transport, base_url="http://bench") for role in
                   ("anonymous", "customer", "admin")}
        await sign_in(clients["customer"], "bench_customer")
        await sign_in(clients["admin"], "bench_admin")
        csrf = clients["customer"].cookies.get("stockline_csrf")
        for sku in range(1, 4):  # a cart of three lines
            await clients["customer"].post("/api/cart", json={"sku_id": sku, "quantity": 1},
                                           headers={"X-CSRF-Token": csrf})
        plan = [("anonymous", "sign-in page (baseline)", "/login")]
        plan += [(role, label, path) for role, entries in pages(ids(url)).items() for label, path in entries]
        for round_no in range(-3, rounds):  # three warm-up rounds
            for role, label, path in plan:
                elapsed, queries[label] = server_timing(await clients[role].get(path, headers=HTML))
                if round_no >= 0:
                    samples.setdefault(label, []).append(elapsed)
            print(f"\rround {max(round_no + 1, 0)}/{rounds}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        for client in clients.values():
            await client.aclose()
    return samples, queries


def report(samples: dict[str, list[float]], queries: dict[str, int]) -> bool:
    baseline = statistics.median(samples["sign-in page (baseline)"])
    print(f"\n| page | p50 ms | p95 ms | max ms | p50 / baseline | queries | p95 < {BUDGET_MS:.0f} ms |")
    print("|---|---:|---:|---:|---:|---:|---|")
    all_met = True
    for label, values in samples.items():
        values = sorted(values)
        p50, p95 = statistics.median(values), values[max(0, round(0.95 * len(values)) - 1)]
        met = p95 < BUDGET_MS
        all_met &= met
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {values[-1]:.1f} | {p50 / baseline:.1f} | "
              f"{queries[label]} | {'yes' if met else 'NO'} |")
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    url = prepare_database(args.database_url)
    return 0 if report(*asyncio.run(measure(url, args.rounds))) else 1


if __name__ == "__main__":
    sys.exit(main())
