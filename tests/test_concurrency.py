"""The concurrency proof, through real HTTP: `stockline serve` with 2 workers on a database
seeded with 500 customers and their logins. Every customer logs in; then, all at once, most
check out against 5 hot SKUs whose stock is far below demand (some double-submitting with
one Idempotency-Key), others order quiet SKUs directly or cancel earlier orders. After
every round: no unit oversold, lost or counted twice, every 409 a true shortage, no 5xx,
no duplicate orders, and `stockline check` clean."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
from collections import Counter, defaultdict
from datetime import timedelta

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from stockline import db
from stockline.accounts.service import create_customer_logins
from stockline.config import SeedSettings
from stockline.kernel.expiry import business_day
from stockline.seeding.service import run_seed
from tests.conftest import create_database, drop_database
from tests.server_support import STOCKLINE, ServerProcess

pytestmark = pytest.mark.slow

CUSTOMERS = 500
PASSWORD = "Customer@123"
ROUNDS = 3
HOT_SKUS = 5
QUIET_ORDERS = 100      # direct orders on quiet SKUs per round
CANCELLATIONS = 100     # earlier orders cancelled per round
DOUBLE_SUBMITS = 60     # hot checkouts sent twice with one key per round
RNG = random.Random(20261125)


def _receive(conn, sku_id: int, batch_no: str, days: int, quantity: int) -> None:
    batch_id = conn.execute(
        "INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price) "
        "VALUES (%s, %s, %s, %s, 3.00) RETURNING batch_id",
        (sku_id, batch_no, business_day() + timedelta(days=days), quantity)).fetchone()["batch_id"]
    conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) VALUES (%s, %s, 'receipt')",
                 (batch_id, quantity))


def _new_skus(conn, count: int, code: str) -> list[int]:
    product_id = conn.execute("INSERT INTO Products (name, manufacturer) VALUES (%s, 'Loadtest Pharma') "
                              "RETURNING product_id", (f"{code} test product",)).fetchone()["product_id"]
    return [conn.execute("INSERT INTO Product_SKUs (product_id, sku_code, base_price) VALUES (%s, %s, 4.20) "
                         "RETURNING sku_id", (product_id, f"{code}-{n}")).fetchone()["sku_id"]
            for n in range(count)]


@pytest.fixture(scope="module")
def seeded(server_url):
    url = create_database(server_url, prefix="stockline_burst")
    with db.connect(url) as conn, open(os.devnull, "w") as quiet:
        db.apply_schema(conn)
        run_seed(conn, SeedSettings(customers=CUSTOMERS, products=40, skus=120, batches=400, seed=5), out=quiet)
        create_customer_logins(conn, password=PASSWORD)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        hot = _new_skus(conn, HOT_SKUS, "HOT")
        quiet_skus = _new_skus(conn, CUSTOMERS, "QUIET")
        for sku_id in hot:  # an expired batch with plenty of stock must never be touched
            _receive(conn, sku_id, f"EXP-{sku_id}", -2, 1000)
        for sku_id in quiet_skus:
            _receive(conn, sku_id, f"Q-{sku_id}", 300, 10 * ROUNDS)
    yield {"url": url, "hot": hot, "quiet": quiet_skus}
    drop_database(url)


@pytest.fixture(scope="module")
def server(seeded, tmp_path_factory):
    served = ServerProcess(seeded["url"], tmp_path_factory.mktemp("data"),
                           tmp_path_factory.mktemp("log") / "serve.log", env={"DB_POOL_MAX": "12"}).start()
    try:
        yield served.base_url
    finally:
        served.stop()
    assert "Traceback" not in served.log(), served.log()[-5000:]


def _hot_stock(conn, hot: list[int]) -> dict[int, int]:
    rows = conn.execute("SELECT sku_id, coalesce(sum(quantity_on_hand) FILTER (WHERE expiry_date > %s), 0) "
                        "AS available FROM Inventory_Batches WHERE sku_id = ANY(%s) GROUP BY sku_id",
                        (business_day(), hot)).fetchall()
    return {r["sku_id"]: r["available"] for r in rows}


def _assert_books_balance(conn) -> None:
    """Per batch: received = on hand + units in live orders (+ other movements, none here)."""
    unbalanced = conn.execute("""
        SELECT b.batch_id, b.quantity_on_hand, r.received, coalesce(s.sold, 0) AS sold
        FROM Inventory_Batches AS b
        JOIN (SELECT batch_id, sum(quantity_delta) AS received FROM Stock_Movements
              WHERE reason = 'receipt' GROUP BY batch_id) AS r USING (batch_id)
        LEFT JOIN (SELECT oi.batch_id, sum(oi.quantity_ordered) AS sold FROM Order_Items AS oi
                   JOIN Orders AS o USING (order_id) WHERE o.status <> 'cancelled' GROUP BY oi.batch_id) AS s
             USING (batch_id)
        WHERE r.received <> b.quantity_on_hand + coalesce(s.sold, 0) OR b.quantity_on_hand < 0""").fetchall()
    assert unbalanced == []
    totals = conn.execute("""
        SELECT (SELECT sum(quantity_delta) FROM Stock_Movements WHERE reason = 'receipt') AS received,
               (SELECT sum(quantity_on_hand) FROM Inventory_Batches) AS on_hand,
               (SELECT coalesce(sum(oi.quantity_ordered), 0) FROM Order_Items AS oi JOIN Orders AS o USING (order_id)
                WHERE o.status <> 'cancelled') AS sold""").fetchone()
    assert totals["received"] == totals["on_hand"] + totals["sold"]


async def _login_all(client: httpx.AsyncClient, customer_ids: list[int]) -> dict[int, dict[str, str]]:
    gate = asyncio.Semaphore(64)

    async def login(customer_id: int) -> tuple[int, dict[str, str]]:
        async with gate:
            response = await client.post("/api/login", json={"username": f"cust_{customer_id}", "password": PASSWORD})
        assert response.status_code == 200, response.text
        return customer_id, {"Authorization": f"Bearer {response.json()['access_token']}"}

    return dict(await asyncio.gather(*(login(c) for c in customer_ids)))


async def _prepare_round(client, conn, seeded, tokens, round_no: int) -> dict:
    """Restock the hot SKUs a little, fill the hot buyers' carts and place the orders that
    the round will cancel; nothing here is contended."""
    customers = sorted(tokens)
    RNG.shuffle(customers)
    cancellers = customers[:CANCELLATIONS]
    quiet_buyers = customers[CANCELLATIONS:CANCELLATIONS + QUIET_ORDERS]
    hot_buyers = customers[CANCELLATIONS + QUIET_ORDERS:]
    for index, sku_id in enumerate(seeded["hot"]):  # two batches, the later-expiring received first
        _receive(conn, sku_id, f"H{round_no}-LATE-{sku_id}", 200 + index, 60)
        _receive(conn, sku_id, f"H{round_no}-SOON-{sku_id}", 20 + index, 40)
    gate = asyncio.Semaphore(64)

    async def call(method: str, path: str, customer_id: int, **kwargs) -> httpx.Response:
        async with gate:
            return await client.request(method, path, headers=tokens[customer_id], **kwargs)

    carts = {c: {sku: RNG.randint(1, 4) for sku in RNG.sample(seeded["hot"], RNG.randint(1, 2))} for c in hot_buyers}
    fills = await asyncio.gather(*(call("POST", "/api/cart", c, json={"sku_id": sku, "quantity": q})
                                   for c, lines in carts.items() for sku, q in lines.items()))
    assert {r.status_code for r in fills} == {200}
    placed = await asyncio.gather(*(call("POST", "/api/orders", c, json={"sku_id": seeded["quiet"][c - 1], "quantity": 2})
                                    for c in cancellers))
    assert {r.status_code for r in placed} == {201}
    return {"carts": carts, "quiet_buyers": quiet_buyers,
            "to_cancel": {c: r.json()["order_id"] for c, r in zip(cancellers, placed, strict=True)}}


async def _burst(client, seeded, tokens, plan, round_no: int) -> list[tuple[str, int, httpx.Response]]:
    start = asyncio.Event()
    double = set(list(plan["carts"])[:DOUBLE_SUBMITS])

    async def act(kind: str, customer_id: int, method: str, path: str, **kwargs):
        await start.wait()
        response = await client.request(method, path, headers=tokens[customer_id] | kwargs.pop("headers", {}),
                                        **kwargs)
        return kind, customer_id, response

    tasks = []
    for customer_id in plan["carts"]:
        key = {"Idempotency-Key": f"burst-{round_no}-{customer_id}"}
        for _ in range(2 if customer_id in double else 1):
            tasks.append(act("checkout", customer_id, "POST", "/api/checkout", headers=key))
    for customer_id in plan["quiet_buyers"]:
        tasks.append(act("direct", customer_id, "POST", "/api/orders",
                         json={"sku_id": seeded["quiet"][customer_id - 1], "quantity": 1}))
    for customer_id, order_id in plan["to_cancel"].items():
        tasks.append(act("cancel", customer_id, "POST", f"/api/my-orders/{order_id}/cancel"))
    RNG.shuffle(tasks)
    running = [asyncio.create_task(t) for t in tasks]
    await asyncio.sleep(0)
    start.set()
    return await asyncio.gather(*running)


async def test_hundreds_of_customers_checking_out_at_once_never_oversell(seeded, server):
    with psycopg.connect(seeded["url"], autocommit=True, row_factory=dict_row) as conn:
        customer_ids = [r["customer_id"] for r in conn.execute(
            "SELECT customer_id FROM Users WHERE role = 'customer' ORDER BY customer_id").fetchall()]
        assert len(customer_ids) == CUSTOMERS
        # idle connections expire on the client's side first (the server keeps them 75 s)
        limits = httpx.Limits(max_connections=CUSTOMERS + 100, max_keepalive_connections=CUSTOMERS + 100,
                              keepalive_expiry=30)
        async with httpx.AsyncClient(base_url=server, timeout=120, limits=limits) as client:
            tokens = await _login_all(client, customer_ids)
            for round_no in range(1, ROUNDS + 1):
                plan = await _prepare_round(client, conn, seeded, tokens, round_no)
                results = await _burst(client, seeded, tokens, plan, round_no)
                after = _hot_stock(conn, seeded["hot"])
                statuses = Counter((kind, r.status_code) for kind, _, r in results)
                assert not [s for (_, s) in statuses if s >= 500], statuses
                assert set(statuses) <= {("checkout", 201), ("checkout", 200), ("checkout", 409),
                                         ("direct", 201), ("cancel", 200)}, statuses
                assert statuses[("checkout", 201)] > 0 and statuses[("checkout", 409)] > 0, statuses
                by_customer = defaultdict(list)
                for kind, customer_id, response in results:
                    body = response.json()
                    if kind == "checkout":
                        by_customer[customer_id].append(response)
                    if response.status_code == 409:  # a true shortage: still short after the burst
                        for line in body["error"]["details"]["lines"]:
                            assert line["requested"] > line["available"] >= after[line["sku_id"]], line
                for responses in by_customer.values():
                    placed = {r.json()["order_id"] for r in responses if r.status_code in (200, 201)}
                    assert len(placed) <= 1  # a double submit is one order
                    assert [r.status_code for r in responses].count(201) <= 1
                keys = conn.execute("SELECT idempotency_key, count(*) AS n FROM Orders WHERE idempotency_key LIKE %s "
                                    "GROUP BY 1 HAVING count(*) > 1", (f"burst-{round_no}-%",)).fetchall()
                assert keys == []
                expired_sold = conn.execute(
                    "SELECT count(*) AS n FROM Order_Items AS oi JOIN Inventory_Batches AS b USING (batch_id) "
                    "WHERE b.batch_no LIKE 'EXP-%'").fetchone()["n"]
                assert expired_sold == 0
                _assert_books_balance(conn)
    done = await asyncio.to_thread(
        subprocess.run, [STOCKLINE, "check"],
        env=os.environ | {"DATABASE_URL": seeded["url"]}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
