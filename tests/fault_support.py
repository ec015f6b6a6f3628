"""What the fault-injection tests are made of:

- `OwnPostgres`: a PostgreSQL cluster of the suite's own (the embedded server's binaries in a
  temporary folder), which a test may stop, start and cut off without touching the
  database the rest of the suite runs on;
- `StallProxy`: a TCP proxy in front of that server's socket, in its own thread, that can
  stall (hold every byte and every new connection: the database stops answering, nothing
  is refused) and cut (close everything held);
- `OrderStream`: customers placing direct orders and checkouts, every one with an
  Idempotency-Key that the client retries until it gets an order or a definite refusal,
  every response recorded;
- `verify_nothing_lost`: after a fault, every order is accounted for, once, and the books
  balance;
- `write_report`: the figures of one fault, in test-output/reliability/<fault>.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from stockline import db
from stockline.accounts.service import create_customer_logins
from stockline.config import Settings
from stockline.kernel.expiry import business_day
from tests.server_support import STOCKLINE

REPORTS = Path(__file__).resolve().parents[1] / "test-output" / "reliability"
PASSWORD = "Customer@123"


# --- a PostgreSQL of the suite's own --------------------------------------------------------

class OwnPostgres:
    """The embedded server's binaries, in a data folder of the test's own."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(env="test", data_dir=data_dir)
        self.url = db.start_embedded(self.settings)

    @property
    def socket_path(self) -> str:
        params = conninfo_to_dict(self.url)
        return f"{params['host']}/.s.PGSQL.{params.get('port') or 5432}"

    def stop(self) -> None:
        """Fast shutdown: open transactions are rolled back, sessions ended."""
        db.stop_embedded(self.settings)

    def start(self) -> None:
        url = db.start_embedded(self.settings)
        assert url == self.url, "the restarted server moved its socket"

    def create_database(self, name: str) -> str:
        with psycopg.connect(db.with_database(self.url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return db.with_database(self.url, name)


# --- the proxy ------------------------------------------------------------------------------

class StallProxy:
    """127.0.0.1:<port> -> a Unix socket. `stall()`: nothing is forwarded any more and new
    connections are accepted but not connected; `release()`: every connection is cut (both
    ends closed) and forwarding resumes for new ones."""

    def __init__(self, target_path: str) -> None:
        self.target_path = target_path
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._open = asyncio.Event()
        self._transports: set[asyncio.BaseTransport] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="stall-proxy", daemon=True)

    def start(self) -> StallProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def close(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def stall(self) -> None:
        self._loop.call_soon_threadsafe(self._open.clear)

    def release(self) -> int:
        """Cut every connection and forward again; how many sockets were cut."""
        return self._call(self._cut_all())

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._open.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        self._server.close()
        await self._cut_all()

    async def _cut_all(self) -> int:
        cut = list(self._transports)
        for transport in cut:
            transport.abort()
        self._transports.clear()
        self._open.set()
        return len(cut)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ends = [writer.transport]
        self._transports.add(writer.transport)
        try:
            await self._open.wait()  # while stalled a new connection hangs here
            if writer.transport.is_closing():
                return
            try:
                up_reader, up_writer = await asyncio.open_unix_connection(self.target_path)
            except OSError:  # the server is down: the client sees its connection closed
                return
            ends.append(up_writer.transport)
            self._transports.add(up_writer.transport)
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            for transport in ends:
                transport.abort()
                self._transports.discard(transport)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                await self._open.wait()  # while stalled, bytes are held here
                if sink.transport.is_closing():
                    break
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            sink.transport.abort()


# --- a world to order from ------------------------------------------------------------------

@dataclass
class World:
    url: str
    customer_ids: list[int]
    sku_ids: list[int]
    received: int


def build_world(url: str, customers: int = 24, skus: int = 8, units_per_batch: int = 50_000) -> World:
    """Customers with logins and SKUs with two batches each (plenty of stock), through the
    same rows receiving writes: each batch with its receipt in the ledger."""
    with db.connect(url) as conn:
        db.apply_schema(conn)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("INSERT INTO Customers (name) SELECT 'Fault pharmacy ' || n FROM generate_series(1, %s) n",
                     (customers,))
        product = conn.execute("INSERT INTO Products (name, manufacturer) VALUES ('Fault test tablets', 'Test') "
                               "RETURNING product_id").fetchone()["product_id"]
        sku_ids = [conn.execute("INSERT INTO Product_SKUs (product_id, sku_code, base_price) "
                                "VALUES (%s, %s, 3.10) RETURNING sku_id", (product, f"FAULT-{n}")).fetchone()["sku_id"]
                   for n in range(skus)]
        for sku_id in sku_ids:
            for days in (90, 400):
                batch = conn.execute(
                    "INSERT INTO Inventory_Batches (sku_id, batch_no, expiry_date, quantity_on_hand, cost_price) "
                    "VALUES (%s, %s, %s, %s, 1.25) RETURNING batch_id",
                    (sku_id, f"F{sku_id}-{days}", business_day() + timedelta(days=days),
                     units_per_batch)).fetchone()["batch_id"]
                conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason) "
                             "VALUES (%s, %s, 'receipt')", (batch, units_per_batch))
    with db.connect(url) as conn:
        create_customer_logins(conn, password=PASSWORD)
        customer_ids = [row[0] for row in conn.execute(
            "SELECT customer_id FROM Users WHERE role = 'customer' ORDER BY customer_id").fetchall()]
    return World(url, customer_ids, sku_ids, received=len(sku_ids) * 2 * units_per_batch)


# --- the order stream -----------------------------------------------------------------------

@dataclass
class Response:
    """One HTTP exchange of the stream (or a transport failure: status 0)."""

    kind: str
    key: str
    started: float
    seconds: float
    status: int
    code: str | None = None
    retry_after: str | None = None
    failure: str | None = None
    order_id: int | None = None  # the order placed or replayed


@dataclass
class Attempt:
    """One order a client wants: its key, and how it ended."""

    key: str
    kind: str
    customer_id: int
    lines: dict[int, int]
    outcome: str = "open"  # order | refused | open (no definite answer yet)
    order_id: int | None = None
    tries: int = 0


DEFINITE_REFUSALS = {("insufficient_stock", 409), ("validation_error", 422)}
RETRYABLE_CODES = {"database_unavailable", "busy_retry", "database_timeout"}


@dataclass
class OrderStream:
    base_url: str
    world: World
    tag: str
    clients: int = 12
    hot_sku: int | None = None  # when set, the first `hot_clients` order only it, the others never
    hot_clients: int = 0
    responses: list[Response] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    async def login(self, http: httpx.AsyncClient) -> dict[int, dict[str, str]]:
        tokens = {}
        for customer_id in self.world.customer_ids[: self.clients]:
            response = await http.post("/api/login", json={"username": f"cust_{customer_id}", "password": PASSWORD})
            assert response.status_code == 200, response.text
            tokens[customer_id] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return tokens

    def client(self, timeout: float = 60.0) -> httpx.AsyncClient:
        # idle connections expire on the client's side first (the server keeps them 75 s)
        limits = httpx.Limits(max_connections=self.clients * 2, keepalive_expiry=30)
        return httpx.AsyncClient(base_url=self.base_url, timeout=timeout, limits=limits)

    async def run(self, stop: asyncio.Event, tokens: dict[int, dict[str, str]], *, finish_within: float = 90.0,
                  ) -> None:
        """Every client orders until `stop`; the order in hand is then retried until it is
        definite or `finish_within` seconds have passed."""
        async with self.client() as http:
            await asyncio.gather(*(self._customer(http, stop, cid, headers, finish_within)
                                   for cid, headers in tokens.items()))

    async def _customer(self, http, stop: asyncio.Event, customer_id: int, headers, finish_within: float) -> None:
        rng = random.Random(f"{self.tag}-{customer_id}")
        hot = self.world.customer_ids.index(customer_id) < self.hot_clients
        choices = [sku for sku in self.world.sku_ids if sku != self.hot_sku]
        number = 0
        while not stop.is_set():
            number += 1
            kind = "checkout" if number % 2 else "direct"
            skus = [self.hot_sku] if hot else rng.sample(choices, 1 if kind == "direct" else rng.randint(1, 3))
            attempt = Attempt(f"{self.tag}-{customer_id}-{number}", kind, customer_id,
                              {sku: rng.randint(1, 3) for sku in skus})
            self.attempts.append(attempt)
            await self.settle(http, attempt, headers, deadline=None, stop=stop, finish_within=finish_within)

    async def settle(self, http, attempt: Attempt, headers, *, deadline: float | None,
                     stop: asyncio.Event | None = None, finish_within: float = 90.0) -> None:
        """Retry the attempt's key until an order or a definite refusal (or the deadline)."""
        if attempt.kind == "checkout" and attempt.tries == 0:
            for sku_id, quantity in attempt.lines.items():  # the cart: set each line until it sticks
                while True:
                    response = await self._send(http, "cart", attempt.key, "POST", "/api/cart", headers,
                                                json={"sku_id": sku_id, "quantity": quantity})
                    if response.status == 200:
                        break
                    if not await self._pause(response):
                        attempt.outcome = "refused"
                        return
        while attempt.outcome == "open":
            if stop is not None and stop.is_set() and deadline is None:
                deadline = time.monotonic() + finish_within
            if deadline is not None and time.monotonic() > deadline:
                return
            attempt.tries += 1
            key_header = headers | {"Idempotency-Key": attempt.key}
            if attempt.kind == "checkout":
                response = await self._send(http, "checkout", attempt.key, "POST", "/api/checkout", key_header)
            else:
                (sku_id, quantity), = attempt.lines.items()
                response = await self._send(http, "direct", attempt.key, "POST", "/api/orders", key_header,
                                            json={"sku_id": sku_id, "quantity": quantity})
            if response.status in (200, 201):
                attempt.outcome, attempt.order_id = "order", response.order_id
            elif (response.code, response.status) in DEFINITE_REFUSALS or not await self._pause(response):
                attempt.outcome = "refused"

    async def _send(self, http, kind: str, key: str, method: str, path: str, headers, **kwargs) -> Response:
        started = time.monotonic()
        try:
            raw = await http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            seen = Response(kind, key, started, time.monotonic() - started, 0, failure=type(exc).__name__)
            self.responses.append(seen)
            return seen
        seen = Response(kind, key, started, time.monotonic() - started, raw.status_code,
                        retry_after=raw.headers.get("retry-after"))
        body = raw.json() if raw.headers.get("content-type", "").startswith("application/json") else None
        if raw.status_code >= 400:
            error = (body or {}).get("error") if isinstance(body, dict) else None
            if not (isinstance(error, dict) and {"code", "message", "details"} <= set(error)):
                self.unexpected.append(f"{raw.status_code} not in the error shape: {raw.text[:200]}")
            else:
                seen.code = error["code"]
            if raw.status_code >= 500 and (raw.status_code != 503 or seen.code not in RETRYABLE_CODES
                                           or not seen.retry_after):
                self.unexpected.append(f"{raw.status_code} {seen.code} on {path}: {raw.text[:200]}")
        elif kind in ("checkout", "direct"):
            seen.order_id = body["order_id"]
        self.responses.append(seen)
        return seen

    async def _pause(self, response: Response) -> bool:
        """Wait before retrying a 503 or a lost connection (True); anything else is no
        reason to retry and is recorded as unexpected (False)."""
        if response.status not in (0, 503):
            self.unexpected.append(f"{response.kind} answered {response.status} {response.code}")
            return False
        retry_after = float(response.retry_after or 0.2)
        await asyncio.sleep(min(retry_after, 0.5))
        return True

    async def sweep(self, tokens, within: float = 60.0) -> None:
        """Retry every key still without a definite answer (as its client would)."""
        deadline = time.monotonic() + within
        async with self.client() as http:
            for attempt in [a for a in self.attempts if a.outcome == "open"]:
                await self.settle(http, attempt, tokens[attempt.customer_id], deadline=deadline)


# --- after the fault ------------------------------------------------------------------------

def verify_nothing_lost(stream: OrderStream) -> dict[str, Any]:
    """Every key that got an order maps to exactly that order; every order in the database
    was seen by its client; no refusal left an order; the books balance; `stockline check`
    is clean. Returns the figures."""
    assert [a.key for a in stream.attempts if a.outcome == "open"] == [], "keys still without an answer"
    assert stream.unexpected == [], stream.unexpected[:10]
    with psycopg.connect(stream.world.url, autocommit=True, row_factory=dict_row) as conn:
        placed = {r["idempotency_key"]: r["order_id"] for r in conn.execute(
            "SELECT idempotency_key, order_id FROM Orders WHERE idempotency_key LIKE %s", (f"{stream.tag}-%",))}
        orders_without_key = conn.execute(
            "SELECT count(*) AS n FROM Orders WHERE idempotency_key IS NULL").fetchone()["n"]
        books = conn.execute("""
            SELECT (SELECT sum(quantity_on_hand) FROM Inventory_Batches) AS on_hand,
                   (SELECT coalesce(sum(oi.quantity_ordered), 0) FROM Order_Items AS oi
                    JOIN Orders AS o USING (order_id) WHERE o.status <> 'cancelled') AS sold,
                   (SELECT coalesce(sum(quantity), 0) FROM Cart_Items) AS in_carts""").fetchone()
    seen = {a.key: a.order_id for a in stream.attempts if a.outcome == "order"}
    assert seen == placed  # each answered key is its one order, and no order went unseen
    assert orders_without_key == 0
    assert [a.key for a in stream.attempts if a.outcome == "refused" and a.key in placed] == []
    assert books["on_hand"] + books["sold"] == stream.world.received
    checked = subprocess.run([STOCKLINE, "check"], env=os.environ | {"DATABASE_URL": stream.world.url},
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return {"orders": len(placed), "units_sold": books["sold"], "units_on_hand": books["on_hand"],
            "units_received": stream.world.received, "stockline_check": "clean"}


def summarize(stream: OrderStream, fault_start: float, fault_end: float) -> dict[str, Any]:
    """What clients saw around one fault (times relative to the fault's start)."""
    during = [r for r in stream.responses if fault_start <= r.started < fault_end]
    after = sorted((r for r in stream.responses if r.started >= fault_end
                    and r.kind in ("checkout", "direct") and r.status in (200, 201)), key=lambda r: r.started)
    first_order_after = after[0].started + after[0].seconds - fault_end if after else None
    refused = Counter(f"{r.status} {r.code}" for r in stream.responses if r.status == 503)
    failures = Counter(r.failure for r in stream.responses if r.status == 0)
    return {
        "fault_seconds": round(fault_end - fault_start, 2),
        "requests": len(stream.responses),
        "requests_during_fault": len(during),
        "answered_2xx": sum(1 for r in stream.responses if 200 <= r.status < 300),
        "refused_503": dict(refused),
        "transport_failures": dict(failures),
        "slowest_answer_seconds": round(max(r.seconds for r in stream.responses), 2),
        "slowest_answer_during_fault_seconds": round(max((r.seconds for r in during), default=0), 2),
        "recovered_seconds_after_fault": None if first_order_after is None else round(first_order_after, 2),
        "keys": len(stream.attempts),
        "retried_keys": sum(1 for a in stream.attempts if a.tries > 1),
    }


def write_report(name: str, figures: dict[str, Any]) -> Path:
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return path


def hold_lock(url: str, sku_id: int, seconds: float, taken: Future[int] | None = None,
              release: threading.Event | None = None) -> None:
    """Another session holds SKU `sku_id`'s row lock (the one every stock change takes) for
    `seconds`, or until `release` is set, as a long report or a stuck admin session would.
    Once it holds the lock, `taken` is given that session's backend pid (for
    tests.races.wait_until_blocked)."""
    with psycopg.connect(url) as rival:
        rival.execute("SELECT 1 FROM Product_SKUs WHERE sku_id = %s FOR NO KEY UPDATE", (sku_id,))
        if taken is not None:
            taken.set_result(rival.info.backend_pid)
        if release is not None:
            release.wait(seconds)
        else:
            time.sleep(seconds)
        rival.commit()
